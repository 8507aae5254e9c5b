"""Section 2, incremental re-index: a whole corpus indexed (or reused), then one article edited,
re-indexed and restored, as an admin's reload of the corpus folder does it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import Config
from ..embedder import Embedder
from ..evaluation import index_key
from ..indexer import IndexSummary, index_corpus
from .data import article_files, bench_config, jsonl_line, write_corpus
from .disk import DiskUsage, index_disk_usage

EDIT_SENTENCE = "Bài viết này vừa được biên tập viên cập nhật thêm một câu để đo thời gian lập chỉ mục lại."


@dataclass
class BuildStep:
    seconds: float  # the whole re-index (index_corpus): reading the corpus folder, then the build
    chunks_embedded: int
    added: int = 0
    changed: int = 0
    removed: int = 0

    @classmethod
    def of(cls, summary: IndexSummary) -> "BuildStep":
        return cls(summary.seconds, summary.chunks_embedded, len(summary.added), len(summary.changed), len(summary.removed))


@dataclass
class IncrementalResult:
    articles: int
    chunks: int
    edited: str  # doc_id of the article edited and restored
    full_build: BuildStep | None  # None when the full index came from the cache
    full_build_cached: BuildStep | None  # the build that made the cached index, when recorded
    unchanged: BuildStep  # a re-index of the unchanged corpus: the cost of finding no change
    edit: BuildStep
    restore: BuildStep
    disk: DiskUsage | None = None


def _load_step(path: Path) -> BuildStep | None:
    try:
        return BuildStep(**json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def bench_incremental(
    cfg: Config, embedder: Embedder, records: Sequence[dict], work: Path, progress: bool = False, edit_index: int | None = None
) -> IncrementalResult:
    """Build (or reuse) the index of every article in ``records``, then edit one article, re-index,
    put it back and re-index again. The corpus is always left as ``records`` say.

    Every step re-reads the corpus folder (one ``.jsonl`` file per article), as a reload does:
    finding what changed among thousands of files is part of the cost measured."""
    corpus = work / "corpus"
    # One index per vector-shaping configuration, as qabot eval does: a model or chunking change
    # builds beside the old one instead of failing on it.
    index = work / index_key(cfg, embedder)
    files = article_files(records)
    write_corpus(corpus, files)  # also undoes an edit left behind by an interrupted run
    bcfg = bench_config(cfg, index, corpus)
    first = index_corpus(bcfg, embedder, progress=progress)
    record = index / "full_build.json"
    full = BuildStep.of(first) if first.chunks_embedded else None
    if full:
        record.write_text(json.dumps(asdict(full)), encoding="utf-8")
    unchanged = BuildStep.of(index_corpus(bcfg, embedder))

    rec = records[len(records) // 2 if edit_index is None else edit_index]
    name = f"{rec['id']}.jsonl"
    edited = dict(rec, text=rec["text"].rstrip() + "\n" + EDIT_SENTENCE)
    try:
        (corpus / name).write_text(jsonl_line(edited), encoding="utf-8")
        edit = index_corpus(bcfg, embedder)
    finally:
        (corpus / name).write_text(files[name], encoding="utf-8")
    restore = index_corpus(bcfg, embedder)
    return IncrementalResult(
        articles=restore.documents,
        chunks=restore.chunks,
        edited=edit.changed[0] if edit.changed else name,
        full_build=full,
        full_build_cached=None if full else _load_step(record),
        unchanged=unchanged,
        edit=BuildStep.of(edit),
        restore=BuildStep.of(restore),
        disk=index_disk_usage(index),
    )
