"""Incremental, atomic index builds, and loading the index a searcher serves from.

On disk (``index.path``)::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    gen-<n>/           meta.sqlite (documents, chunks, manifest), dense.faiss, lexical/
    .lock              held while a build runs

A build copies the live generation into a fresh folder, applies the changes there, and only then
points ``CURRENT`` at it. A crash or Ctrl-C at any moment leaves the previous generation live and
intact; readers never see a half-written index. Only new and changed documents are embedded.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .chunking import chunk_document
from .config import Config
from .dense import DenseIndex
from .embedder import PASSAGE, Embedder
from .ingest import FileProblem, load_corpus
from .lexical import LexicalIndex
from .store import Store
from .text import TOKENS_VERSION, normalize_marks

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CURRENT = "CURRENT"


class IndexProblem(Exception):
    """Base for index problems the CLI and bot turn into messages."""


class IndexMissing(IndexProblem):
    """No index has been built at this path yet."""


class IndexMismatch(IndexProblem):
    """The index on disk was built with other settings than the configuration asks for."""


class IndexBusy(IndexProblem):
    """Another build holds the lock."""


@dataclass
class IndexSummary:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[FileProblem] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)
    chunks_embedded: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    generation: str | None = None


def manifest_for(cfg: Config, embedder: Embedder) -> dict:
    """What must match between an index and the configuration that searches it."""
    return {
        "schema": SCHEMA_VERSION,
        "model": embedder.name,
        "dim": embedder.dim,
        "chunking": {"max_tokens": cfg.chunking.max_tokens, "overlap_tokens": cfg.chunking.overlap_tokens},
        "lexical": {"bigrams": cfg.lexical.bigrams, "k1": cfg.lexical.k1, "b": cfg.lexical.b, "tokens": TOKENS_VERSION},
    }


def check_manifest(found: dict, wanted: dict, where: Path) -> None:
    diffs = [
        f"{key}: index has {found.get(key)!r}, config asks for {value!r}"
        for key, value in wanted.items()
        if found.get(key) != value
    ]
    if diffs:
        raise IndexMismatch(
            f"the index in {where} was built with other settings ({'; '.join(diffs)}). "
            "Re-index with: qabot index --rebuild"
        )


def embedding_text(title: str, chunk: str) -> str:
    """The title travels with every chunk into embedding and BM25, never into the quote."""
    return normalize_marks(f"{title}\n{chunk}")


def live_generation(root: Path) -> Path | None:
    try:
        name = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    gen = root / name
    return gen if gen.is_dir() else None


@dataclass
class LoadedIndex:
    """Everything a searcher reads, loaded from one generation."""

    path: Path
    store: Store
    dense: DenseIndex
    lexical: LexicalIndex
    manifest: dict


def load_index(root: Path, wanted: dict | None = None) -> LoadedIndex:
    gen = live_generation(root)
    if gen is None:
        raise IndexMissing(f"no index at {root}; build it with: qabot index")
    store = Store(gen / "meta.sqlite", readonly=True)
    manifest = store.manifest()
    if wanted is not None:
        try:
            check_manifest(manifest, wanted, root)
        except IndexMismatch:
            store.close()
            raise
    return LoadedIndex(gen, store, DenseIndex.load(gen / "dense.faiss"), LexicalIndex.load(gen / "lexical"), manifest)


class _Lock:
    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.file = open(root / ".lock", "w")

    def __enter__(self):
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise IndexBusy("another index build is running on this index") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
        else:
            _fsync_dir(p)
    _fsync_dir(path)


def build_index(
    cfg: Config,
    embedder: Embedder,
    rebuild: bool = False,
    progress: bool = False,
    on_embedded: Callable[[int, int], None] | None = None,
) -> IndexSummary:
    """Bring the index in line with the corpus folder, embedding only what changed."""
    t0 = time.monotonic()
    root = cfg.index.path
    with _Lock(root):
        for stale in root.glob("*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        corpus = load_corpus(cfg.corpus.path)
        summary = IndexSummary(failed=corpus.failed, skipped=corpus.skipped)
        wanted = manifest_for(cfg, embedder)
        live = None if rebuild else live_generation(root)
        old_hashes: dict[str, str] = {}
        lexical_changed = False
        if live is not None:
            old = Store(live / "meta.sqlite", readonly=True)
            try:
                # BM25 is rebuilt from stored text on every build, so only settings that shape
                # the vectors and spans force a full re-embed.
                shaping = {k: v for k, v in wanted.items() if k != "lexical"}
                check_manifest(old.manifest(), shaping, root)
                old_hashes = old.hashes()
                lexical_changed = old.manifest().get("lexical") != wanted["lexical"]
            finally:
                old.close()

        docs = {d.doc_id: d for d in corpus.documents}
        summary.added = sorted(set(docs) - set(old_hashes))
        summary.removed = sorted(set(old_hashes) - set(docs))
        summary.changed = sorted(i for i in set(docs) & set(old_hashes) if docs[i].content_hash != old_hashes[i])
        summary.unchanged = len(set(docs) & set(old_hashes)) - len(summary.changed)
        if live is not None and not (summary.added or summary.removed or summary.changed or lexical_changed):
            store = Store(live / "meta.sqlite", readonly=True)
            summary.documents, summary.chunks = store.counts()
            store.close()
            summary.generation = live.name
            summary.seconds = time.monotonic() - t0
            return summary

        # The expensive part first, before anything is written: chunk and embed new text.
        todo = [docs[i] for i in summary.added + summary.changed]
        chunked = [
            (doc, chunk_document(doc.doc_id, doc.text, embedder.count_tokens, cfg.chunking.max_tokens, cfg.chunking.overlap_tokens))
            for doc in todo
        ]
        texts = [embedding_text(doc.title, doc.text[c.start : c.end]) for doc, chunks in chunked for c in chunks]
        vectors = _embed(embedder, texts, progress, on_embedded)
        summary.chunks_embedded = len(texts)

        tmp = root / f"gen-{time.time_ns()}.tmp"
        tmp.mkdir(parents=True)
        try:
            _write_generation(tmp, live, cfg, embedder, wanted, summary, chunked, vectors, texts, lexical_changed)
            final = tmp.with_suffix("")
            tmp.rename(final)
            _fsync_dir(root)
            pointer = root / (CURRENT + ".new")
            pointer.write_text(final.name)
            with open(pointer, "rb") as f:
                os.fsync(f.fileno())
            os.replace(pointer, root / CURRENT)
            _fsync_dir(root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for gen in root.glob("gen-*"):
            if gen.name != final.name and not gen.name.endswith(".tmp"):
                shutil.rmtree(gen, ignore_errors=True)
        summary.generation = final.name
        summary.seconds = time.monotonic() - t0
        log.info("index generation %s is live", final.name)
        return summary


def _embed(embedder: Embedder, texts: list[str], progress: bool, on_embedded) -> np.ndarray:
    if on_embedded is None:
        return embedder.embed(texts, PASSAGE, progress=progress)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    step = max(embedder.batch_size, 1)
    for i in range(0, len(texts), step):
        out[i : i + step] = embedder.embed(texts[i : i + step], PASSAGE)
        on_embedded(min(i + step, len(texts)), len(texts))
    return out


def _write_generation(tmp, live, cfg, embedder, wanted, summary, chunked, vectors, texts, lexical_changed) -> None:
    if live is not None:
        Store(live / "meta.sqlite", readonly=True).backup_to(tmp / "meta.sqlite")
        dense = DenseIndex.load(live / "dense.faiss")
    else:
        dense = DenseIndex(embedder.dim)
    store = Store(tmp / "meta.sqlite")
    removed_ids: list[int] = []
    for doc_id in summary.removed + summary.changed:
        ids = store.remove_document(doc_id)
        dense.remove(ids)
        removed_ids += ids
    row, new_ids = 0, []
    for doc, chunks in chunked:
        ids = store.add_document(doc, chunks)
        dense.add(np.asarray(ids, dtype=np.int64), vectors[row : row + len(ids)])
        row += len(ids)
        new_ids += ids
    summary.documents, summary.chunks = store.counts()
    store.set_manifest(
        {
            **wanted,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "documents": summary.documents,
            "chunks": summary.chunks,
        }
    )
    store.commit()
    # Unchanged chunks keep their stored tokens: only the new ones are tokenised. A full pass
    # when BM25 settings changed, or for an index saved before tokens were kept.
    lexical = None
    if live is not None and not lexical_changed:
        lexical = LexicalIndex.load(live / "lexical")
        if not lexical.update(removed_ids, new_ids, texts):
            lexical = None
    if lexical is None:
        lexical = LexicalIndex(cfg.lexical.bigrams, cfg.lexical.k1, cfg.lexical.b)
        if live is None:  # every chunk is new, and its text is at hand
            lexical.index(new_ids, texts)
        else:
            rows = list(store.iter_chunks())
            lexical.index([r[0] for r in rows], [embedding_text(r[1], r[2]) for r in rows])
    store.close()
    if len(dense) != summary.chunks or len(lexical) != summary.chunks:
        raise RuntimeError(f"dense / lexical index have {len(dense)} / {len(lexical)} entries for {summary.chunks} chunks")
    dense.save(tmp / "dense.faiss")
    lexical.save(tmp / "lexical")
    _fsync_tree(tmp)
