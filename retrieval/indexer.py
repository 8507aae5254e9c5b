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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .chunking import Chunk, chunk_document, embedding_text
from .config import Config, IndexConfig, LexicalConfig
from .dense import DenseIndex, needs_refit
from .embedder import Embedder
from .errors import IndexDamaged
from .generations import (
    CHECKSUMS,
    BuildLock,
    clean_leftovers,
    damaged_files,
    live_generation,
    publish,
    stage,
    write_checksums,
)
from .index import (
    CHECKSUMS_KEY,
    DENSE_FILE,
    LEXICAL_DIR,
    META_FILE,
    Index,
    check_parts,
    load_index,
)
from .ingest import Document, FileProblem, load_corpus
from .lexical import LexicalIndex
from .lexical_writer import write_lexical
from .manifest import LEXICAL, check_manifest, manifest_for, vector_settings
from .search import Searcher
from .store import Store
from .vector_writer import Progress, VectorWriter

log = logging.getLogger(__name__)


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
    new: list[tuple[Document, list[Chunk]]]  # the documents are the caller's; chunks are spans
    manifest: dict
    lexical: LexicalConfig
    retokenize: bool  # BM25 settings changed or files damaged: every chunk is tokenised again
    reembed: bool  # vectors were lost (dense.faiss damaged): every kept chunk is embedded again
    to_embed: int  # chunks embedded: kept ones when re-embedding, and new ones
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
    if cfg.index.backend == "milvus":
        from .milvus import build_in_milvus

        return build_in_milvus(documents, cfg, embedder, rebuild=rebuild, progress=progress, on_embedded=on_embedded)
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

        # Chunked first, before anything is written: spans only (a few MB at 1e5 chunks), so
        # the number of chunks to embed is known before the first is embedded. Texts are made
        # and embedded batch by batch while the generation is written (``VectorWriter``).
        new = [
            (doc, chunk_document(doc.doc_id, doc.text, embedder.count_tokens, cfg.chunking.max_tokens, cfg.chunking.overlap_tokens))
            for doc in (docs[i] for i in summary.added + summary.changed)
        ]
        gone = summary.removed + summary.changed
        kept = _count_kept(live, gone) if reembed else 0
        summary.chunks_embedded = kept + sum(len(chunks) for _, chunks in new)
        changes = _Changes(live, gone, new, wanted, cfg.lexical, retokenize, reembed, summary.chunks_embedded, cfg.index)
        tmp = stage(root)
        try:
            summary.documents, summary.chunks = _write_generation(tmp, changes, embedder, progress, on_embedded)
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


def _count_kept(live: Path, gone_docs: list[str]) -> int:
    """Chunks of the live store a build keeps: what is embedded again when the vectors were lost."""
    store = Store(live / META_FILE, readonly=True)
    try:
        return store.count_chunks(skip_docs=gone_docs)
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


def open_index(cfg: Config, embedder: Embedder, *, build_if_missing: bool = True, progress: bool = False) -> tuple[Index, IndexSummary | None]:
    """The live index checked against ``cfg`` (``index.backend``); built from the corpus folder
    first when there is none yet and ``build_if_missing``. Also returns that build's summary
    (None: no build)."""
    built = None
    if build_if_missing and not index_built(cfg):
        log.info("no index at %s yet: building it from %s", _where(cfg), cfg.corpus.path)
        built = index_corpus(cfg, embedder, progress=progress)
    if cfg.index.backend == "milvus":
        from .milvus import open_milvus

        return open_milvus(cfg.index, manifest_for(cfg, embedder)), built
    index = load_index(cfg.index.path, manifest_for(cfg, embedder))
    index.dense.probe_share = cfg.index.ivf_probe_share  # the configured value, not the one saved at build
    return index, built


def index_built(cfg: Config) -> bool:
    """Whether the configured backend has a published index."""
    if cfg.index.backend == "milvus":
        from .milvus import milvus_built

        return milvus_built(cfg.index)
    return live_generation(cfg.index.path) is not None


def _where(cfg: Config) -> str:
    return f"{cfg.index.shown_uri} ({cfg.index.collection})" if cfg.index.backend == "milvus" else str(cfg.index.path)


def open_searcher(cfg: Config, embedder: Embedder, *, build_if_missing: bool = True, progress: bool = False) -> tuple[Searcher, IndexSummary | None]:
    """``open_index``, ready to answer questions with ``cfg.retrieval``."""
    index, built = open_index(cfg, embedder, build_if_missing=build_if_missing, progress=progress)
    return Searcher(index, embedder, cfg.retrieval), built


def _write_generation(folder: Path, changes: _Changes, embedder: Embedder, progress: bool, on_embedded: Progress | None) -> tuple[int, int]:
    """Write the changed index into ``folder``; returns its (documents, chunks).

    One part at a time, each dropped before the next: SQLite and the vectors while chunks are
    embedded in batches, then the vectors saved and freed, then BM25 stream by stream from the
    written store (``write_lexical``). Holding them all at once was the 3 GB peak of a 1e5-chunk
    build."""
    if changes.live is not None:
        source = Store(changes.live / META_FILE, readonly=True)
        source.backup_to(folder / META_FILE)
        source.close()
    if changes.live is not None and not changes.reembed:
        dense = DenseIndex.load(changes.live / DENSE_FILE)
    else:
        dense = DenseIndex(embedder.dim)
    store = Store(folder / META_FILE)
    vectors = VectorWriter(embedder, dense, changes.to_embed, progress, on_embedded)
    if changes.reembed:
        for chunk_id, title, text in store.iter_chunks(skip_docs=changes.removed):
            vectors.add([chunk_id], [embedding_text(title, text)])
    removed_ids: list[int] = []
    for doc_id in changes.removed:
        removed_ids += store.remove_document(doc_id)
    dense.remove(removed_ids)  # once: each call scans every stored id
    for doc, chunks in changes.new:
        ids = store.add_document(doc, chunks)
        vectors.add(ids, [embedding_text(doc.title, doc.text[c.start : c.end]) for c in chunks])
    vectors.finish()
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
    if len(dense) != chunks:
        raise RuntimeError(f"dense index has {len(dense)} entries for {chunks} chunks")
    dense.save(folder / DENSE_FILE)
    del dense, vectors
    try:
        live_lexical = changes.live / LEXICAL_DIR if changes.live is not None else None
        rows = write_lexical(folder / LEXICAL_DIR, changes.lexical, store, live_lexical, removed_ids, changes.retokenize)
    finally:
        store.close()
    if rows != chunks:
        raise RuntimeError(f"lexical index has {rows} entries for {chunks} chunks")
    return documents, chunks
