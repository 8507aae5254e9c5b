"""Building an index (incremental, atomic) and opening one to search: the one "build if
missing, load, check the manifest" path every front end uses.

A build copies the live generation into a staged one, applies the changes there (only new and
changed documents are chunked and embedded), and publishes it (``retrieval.generations``).

A build first checks the live generation's files against their recorded checksums, and rebuilds
what is damaged without being asked, as cheaply as the damage allows: BM25 files are tokenised
again from SQLite (no embedding); lost vectors are embedded again from SQLite's chunks (same chunk
ids, so feedback keeps pointing at the right passages); a damaged SQLite store loses documents,
spans and ids, so the whole index is built again from the corpus. ``IndexSummary.repaired`` names
the damaged files. Every build, even one with nothing to change, also clears leftovers (stale
``*.tmp`` folders, superseded generations).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .chunking import Chunk, chunk_document, embedding_text
from .config import Config, IndexConfig, LexicalConfig
from .dense import DenseIndex, needs_refit
from .embedder import PASSAGE, Embedder
from .errors import IndexDamaged
from .generations import CHECKSUMS, BuildLock, clean_leftovers, damaged_files, live_generation, publish, stage, write_checksums
from .index import CHECKSUMS_KEY, DENSE_FILE, LEXICAL_DIR, META_FILE, LocalIndex, check_parts, load_index
from .ingest import Document, FileProblem, load_corpus
from .lexical import LexicalIndex, TokenRowsMissing
from .manifest import LEXICAL
from .manifest import check_manifest, manifest_for, vector_settings
from .search import Searcher
from .store import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class IndexSummary:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[FileProblem] = field(default_factory=list)  # files or lines that could not be read
    skipped: list[FileProblem] = field(default_factory=list)  # files of a type we do not read
    uncertain: list[FileProblem] = field(default_factory=list)  # pages indexed from a best guess
    chunks_embedded: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    generation: str | None = None
    # Files of the live generation found damaged (relative to it: "dense.faiss", "lexical/ids.npy")
    # and rebuilt by this build; the documents counts above are against what survived.
    repaired: list[str] = field(default_factory=list)


@dataclass
class _Health:
    """What a build found wrong with the live generation."""

    damaged: list[str]  # files, relative to the generation
    parts: set[str]  # what to rebuild: META_FILE, DENSE_FILE and/or LEXICAL_DIR
    record: bool  # no trustworthy checksums: record them (in place if nothing else is written)


@dataclass
class _Changes:
    """What a build writes: the live generation (if any), minus ``removed``, plus ``new``."""

    live: Path | None
    removed: list[str]  # doc ids whose chunks go: deleted and changed documents
    new: list[tuple[Document, list[Chunk]]]
    texts: list[str]  # embedding text of every new chunk, in order
    vectors: np.ndarray  # one row per text
    manifest: dict
    lexical: LexicalConfig
    retokenize: bool  # BM25 settings changed or files damaged: every chunk is tokenised again
    # Vectors were lost (dense.faiss damaged): (ids, vectors) of every kept chunk, embedded again.
    reembedded: tuple[np.ndarray, np.ndarray] | None = None
    index: IndexConfig = field(default_factory=IndexConfig)  # the dense index's kind (flat / IVF)


def build_index(
    documents: Iterable[Document],
    cfg: Config,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: bool = False,
    on_embedded: Progress | None = None,
) -> IndexSummary:
    """Make the index at ``cfg.index.path`` hold exactly ``documents``, embedding only new and
    changed ones (all of them with ``rebuild``). ``progress`` shows a bar on stderr;
    ``on_embedded`` is told after every batch."""
    t0 = time.monotonic()
    root = cfg.index.path
    docs = {d.doc_id: d for d in documents}
    with BuildLock(root):
        clean_leftovers(root)
        wanted = manifest_for(cfg, embedder)
        summary = IndexSummary()
        live = None if rebuild else live_generation(root)
        health = _health(live) if live is not None else None
        if health is not None and health.damaged:
            summary.repaired = health.damaged
            log.warning(
                "index generation %s is damaged (%s): rebuilding %s",
                live.name, ", ".join(health.damaged), ", ".join(sorted(health.parts)) or "its checksums",
            )
        if health is not None and META_FILE in health.parts:
            live = None  # documents, spans and chunk ids went with it: build anew from the corpus
        old_hashes: dict[str, str] = {}
        retokenize = refit = False
        if live is not None:
            old = Store(live / META_FILE, readonly=True)
            try:
                found = old.manifest()
                check_manifest(found, vector_settings(wanted), root)
                old_hashes = old.hashes()
                retokenize = found.get(LEXICAL) != wanted[LEXICAL] or LEXICAL_DIR in health.parts
                # The configured dense kind (flat / IVF) changed: re-made from the stored vectors.
                refit = needs_refit(live / DENSE_FILE, old.counts()[1], cfg.index)
            finally:
                old.close()
        reembed = live is not None and DENSE_FILE in health.parts

        summary.added = sorted(set(docs) - set(old_hashes))
        summary.removed = sorted(set(old_hashes) - set(docs))
        summary.changed = sorted(i for i in set(docs) & set(old_hashes) if docs[i].content_hash != old_hashes[i])
        summary.unchanged = len(set(docs) & set(old_hashes)) - len(summary.changed)
        if live is not None and not (summary.added or summary.removed or summary.changed or retokenize or reembed or refit):
            if health.record:
                # Its files all opened and agree: what a reader would accept, now recorded so the
                # next load checks them cheaply (nothing else is ever written into a live one).
                write_checksums(live)
                log.info("recorded the checksums of index generation %s", live.name)
            store = Store(live / META_FILE, readonly=True)
            summary.documents, summary.chunks = store.counts()
            store.close()
            summary.generation = live.name
            summary.seconds = time.monotonic() - t0
            return summary

        # The expensive part first, before anything is written: chunk and embed new text.
        new = [
            (doc, chunk_document(doc.doc_id, doc.text, embedder.count_tokens, cfg.chunking.max_tokens, cfg.chunking.overlap_tokens))
            for doc in (docs[i] for i in summary.added + summary.changed)
        ]
        texts = [embedding_text(doc.title, doc.text[c.start : c.end]) for doc, chunks in new for c in chunks]
        kept = _kept_chunks(live, summary.removed + summary.changed) if reembed else []
        vectors = _embed(embedder, [text for _, text in kept] + texts, progress, on_embedded)
        summary.chunks_embedded = len(kept) + len(texts)
        reembedded = (np.asarray([i for i, _ in kept], dtype=np.int64), vectors[: len(kept)]) if reembed else None

        changes = _Changes(
            live, summary.removed + summary.changed, new, texts, vectors[len(kept) :], wanted, cfg.lexical, retokenize, reembedded, cfg.index
        )
        tmp = stage(root)
        try:
            summary.documents, summary.chunks = _write_generation(tmp, changes, embedder.dim)
            final = publish(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        summary.generation = final.name
        summary.seconds = time.monotonic() - t0
        log.info("index generation %s is live", final.name)
        return summary


def _part(file: str) -> str | None:
    """The part of a generation a file belongs to (None: not one of ours)."""
    if file in (META_FILE, DENSE_FILE):
        return file
    if file == LEXICAL_DIR or file.startswith(LEXICAL_DIR + "/"):
        return LEXICAL_DIR
    return None


def _health(gen: Path) -> _Health:
    """The live generation's damaged files and the parts to rebuild: from its checksums, or,
    without a usable record (written before checksums existed, or ``files.json`` itself
    damaged), by opening every part as a reader would, with SQLite's own check."""
    bad = damaged_files(gen)
    if bad is not None and CHECKSUMS not in bad:
        parts = {_part(f) for f in bad} - {None}
        return _Health(bad, parts, record=False)
    found = (bad or []) + _open_each_part(gen, expect_checksums=bad is None)
    return _Health(found, {_part(f) for f in found} - {None}, record=True)


def _open_each_part(gen: Path, expect_checksums: bool) -> list[str]:
    """The files that fail to open (each part is tried, so every damaged part is found)."""
    bad: list[str] = []
    store = dense = lexical = None
    try:
        store = Store(gen / META_FILE, readonly=True)
        store.check()
        if expect_checksums and store.manifest().get(CHECKSUMS_KEY):
            bad.append(CHECKSUMS)  # deleted: the manifest says the build wrote it
    except IndexDamaged as exc:
        bad.append(exc.file)
        store = None
    try:
        dense = DenseIndex.load(gen / DENSE_FILE)
    except IndexDamaged as exc:
        bad.append(exc.file)
    try:
        lexical = LexicalIndex.load(gen / LEXICAL_DIR, restoring=False)
        lexical.load_rows()
    except IndexDamaged as exc:
        bad.append(exc.file)
        lexical = None
    try:
        if store is not None and dense is not None and lexical is not None:
            check_parts(gen, store, dense, lexical)
    except IndexDamaged as exc:
        bad.append(exc.file)
    finally:
        if store is not None:
            store.close()
    return bad


def _kept_chunks(live: Path, gone_docs: list[str]) -> list[tuple[int, str]]:
    """(chunk id, embedding text) of every chunk of the live store a build keeps: what is
    embedded again when the vectors were lost."""
    store = Store(live / META_FILE, readonly=True)
    try:
        return [(cid, embedding_text(title, text)) for cid, title, text in store.iter_chunks(skip_docs=gone_docs)]
    finally:
        store.close()


def index_corpus(
    cfg: Config, embedder: Embedder, *, rebuild: bool = False, progress: bool = False, on_embedded: Progress | None = None
) -> IndexSummary:
    """Bring the index in line with the corpus folder; unreadable files are in the summary, and
    its time includes reading the folder."""
    t0 = time.monotonic()
    corpus = load_corpus(cfg.corpus.path)
    summary = build_index(corpus.documents, cfg, embedder, rebuild=rebuild, progress=progress, on_embedded=on_embedded)
    summary.failed, summary.skipped, summary.uncertain = corpus.failed, corpus.skipped, corpus.uncertain
    summary.seconds = time.monotonic() - t0
    return summary


def open_index(cfg: Config, embedder: Embedder, *, build_if_missing: bool = True, progress: bool = False) -> tuple[LocalIndex, IndexSummary | None]:
    """The live index checked against ``cfg``; built from the corpus folder first when there is
    none yet and ``build_if_missing``. Also returns that build's summary (None: no build)."""
    built = None
    if build_if_missing and live_generation(cfg.index.path) is None:
        log.info("no index at %s yet: building it from %s", cfg.index.path, cfg.corpus.path)
        built = index_corpus(cfg, embedder, progress=progress)
    index = load_index(cfg.index.path, manifest_for(cfg, embedder))
    index.dense.probe_share = cfg.index.ivf_probe_share  # the configured value, not the one saved at build
    return index, built


def open_searcher(cfg: Config, embedder: Embedder, *, build_if_missing: bool = True, progress: bool = False) -> tuple[Searcher, IndexSummary | None]:
    """``open_index``, ready to answer questions with ``cfg.retrieval``."""
    index, built = open_index(cfg, embedder, build_if_missing=build_if_missing, progress=progress)
    return Searcher(index, embedder, cfg.retrieval), built


def _embed(embedder: Embedder, texts: list[str], progress: bool, on_embedded: Progress | None) -> np.ndarray:
    if on_embedded is None:
        return embedder.embed(texts, PASSAGE, progress=progress)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    step = max(embedder.batch_size, 1)
    for i in range(0, len(texts), step):
        out[i : i + step] = embedder.embed(texts[i : i + step], PASSAGE)
        on_embedded(min(i + step, len(texts)), len(texts))
    return out


def _write_generation(folder: Path, changes: _Changes, dim: int) -> tuple[int, int]:
    """Write the changed index into ``folder``; returns its (documents, chunks)."""
    if changes.live is not None:
        source = Store(changes.live / META_FILE, readonly=True)
        source.backup_to(folder / META_FILE)
        source.close()
    if changes.live is not None and changes.reembedded is None:
        dense = DenseIndex.load(changes.live / DENSE_FILE)
    else:
        dense = DenseIndex(dim)
        if changes.reembedded is not None:
            dense.add(*changes.reembedded)
    store = Store(folder / META_FILE)
    removed_ids: list[int] = []
    for doc_id in changes.removed:
        ids = store.remove_document(doc_id)
        dense.remove(ids)
        removed_ids += ids
    row, new_ids = 0, []
    for doc, chunks in changes.new:
        ids = store.add_document(doc, chunks)
        dense.add(np.asarray(ids, dtype=np.int64), changes.vectors[row : row + len(ids)])
        row += len(ids)
        new_ids += ids
    dense = dense.fitted(changes.index)  # flat or IVF, as the configuration and the size ask
    documents, chunks = store.counts()
    store.set_manifest(
        {
            **changes.manifest,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "documents": documents,
            "chunks": chunks,
            CHECKSUMS_KEY: True,  # publish() records them: a missing files.json is then damage
        }
    )
    store.commit()
    lexical = _updated_lexical(changes, store, removed_ids, new_ids)
    store.close()
    if len(dense) != chunks or len(lexical) != chunks:
        raise RuntimeError(f"dense / lexical index have {len(dense)} / {len(lexical)} entries for {chunks} chunks")
    dense.save(folder / DENSE_FILE)
    lexical.save(folder / LEXICAL_DIR)
    return documents, chunks


def _updated_lexical(changes: _Changes, store: Store, removed_ids: list[int], new_ids: list[int]) -> LexicalIndex:
    """The live BM25 index with the changes applied: unchanged chunks keep their stored tokens and
    only new ones are tokenised. Every chunk is tokenised again when BM25 settings changed, or
    when the live index was saved before tokens were kept."""
    if changes.live is not None and not changes.retokenize:
        lexical = LexicalIndex.load(changes.live / LEXICAL_DIR, restoring=False)
        try:
            lexical.remove(removed_ids)
            lexical.add(new_ids, changes.texts)
            return lexical
        except TokenRowsMissing:
            log.info("BM25 index without token rows: tokenising every chunk once")
    cfg = changes.lexical
    lexical = LexicalIndex(cfg.bigrams, cfg.k1, cfg.b)
    if changes.live is None:  # every chunk is new, and its text is at hand
        lexical.add(new_ids, changes.texts)
    else:
        rows = list(store.iter_chunks())
        lexical.add([r[0] for r in rows], [embedding_text(r[1], r[2]) for r in rows])
    return lexical
