"""Section 1, indexing throughput: what ``qabot index`` costs per chunk, against the embedder's
raw speed on the very same chunk texts (the difference is the pipeline's overhead), and against
the fp32 PyTorch baseline on those texts again (issue 13: the default encoder must be >= 2x it)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..chunking import embedding_text
from ..config import Config, EmbeddingConfig
from ..embedder import PASSAGE, Embedder
from ..generations import live_generation
from ..index import META_FILE
from ..indexer import index_corpus
from ..store import Store
from .data import article_files, bench_config, write_corpus
from .disk import DiskUsage, index_disk_usage
from .embedders import warm_up


@dataclass
class ThroughputResult:
    model: str
    batch_size: int
    articles: int
    chunks: int
    build_seconds: float  # index_corpus: read the folder, chunk, embed, write SQLite / FAISS / BM25
    embed_seconds: float  # embedder.embed alone on the very same chunk texts
    disk: DiskUsage | None = None
    # fp32 PyTorch sentence-transformers of the same model, on the same texts in the same run
    # (timed right after the encoder, so both see the same machine load).
    baseline_model: str | None = None
    baseline_seconds: float | None = None
    baseline_is_encoder: bool = False  # the configured encoder is the baseline: its figure, reused

    @property
    def build_rate(self) -> float:
        return self.chunks / self.build_seconds if self.build_seconds else 0.0

    @property
    def embed_rate(self) -> float:
        return self.chunks / self.embed_seconds if self.embed_seconds else 0.0

    @property
    def baseline_rate(self) -> float | None:
        if self.baseline_seconds is None:
            return None
        return self.chunks / self.baseline_seconds if self.baseline_seconds else 0.0

    @property
    def speedup(self) -> float | None:
        """The encoder's rate over the baseline's: what the ">= 2x" target is about."""
        base = self.baseline_rate
        return self.embed_rate / base if base else None


def baseline_embedding(emb: EmbeddingConfig) -> EmbeddingConfig | None:
    """The fp32 PyTorch sentence-transformers configuration of ``emb``'s model (the encoder the
    faster ones are judged against), or None when ``emb`` already is exactly that."""
    base = replace(emb, backend="sentence-transformers", quantize=None)
    return None if base == emb else base


def bench_throughput(
    cfg: Config,
    embedder: Embedder,
    records: Sequence[dict],
    work: Path,
    progress: bool = False,
    baseline: Embedder | None = None,
) -> ThroughputResult:
    """Index ``records`` from scratch, then embed the chunks it made once more, bare, and once
    more with ``baseline`` (None: ``embedder`` is the baseline itself, its figure is reused).

    The articles are written as one file each and indexed from the folder, as ``qabot index``
    does: reading and parsing the files is part of what indexing costs."""
    corpus, index = work / "corpus", work / "index"
    write_corpus(corpus, article_files(records))
    bcfg = bench_config(cfg, index, corpus)
    warm_up(embedder)
    t0 = time.perf_counter()
    summary = index_corpus(bcfg, embedder, rebuild=True, progress=progress)
    build_seconds = time.perf_counter() - t0
    store = Store(live_generation(index) / META_FILE, readonly=True)
    try:
        texts = [embedding_text(title, text) for _, title, text in store.iter_chunks()]
    finally:
        store.close()
    t0 = time.perf_counter()
    embedder.embed(texts, PASSAGE, progress=progress)
    embed_seconds = time.perf_counter() - t0
    baseline_seconds = embed_seconds
    if baseline is not None:
        warm_up(baseline)
        t0 = time.perf_counter()
        baseline.embed(texts, PASSAGE, progress=progress)
        baseline_seconds = time.perf_counter() - t0
    return ThroughputResult(
        embedder.name,
        embedder.batch_size,
        summary.documents,
        len(texts),
        build_seconds,
        embed_seconds,
        index_disk_usage(index),
        baseline_model=(baseline or embedder).name,
        baseline_seconds=baseline_seconds,
        baseline_is_encoder=baseline is None,
    )
