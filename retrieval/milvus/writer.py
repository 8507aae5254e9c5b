"""Building an index in Milvus: the same incremental, atomic build as the local backend's.

Only new and changed documents are chunked and embedded; their rows are written with the next
generation's number and the rows of removed and changed documents are marked as dropped by it,
then one upsert of the pointer publishes the build (``retrieval.milvus.db``). A build that fails
at any point leaves the published one serving, and the next build clears what it left.

``migrate`` copies a local index (documents, chunk ids, spans and vectors) into Milvus without
embedding anything again: ``qabot index --backend milvus``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import numpy as np

from ..chunking import Chunk, chunk_document, embedding_text
from ..config import Config, LexicalConfig
from ..embedder import Embedder
from ..errors import IndexMismatch
from ..index import CHECKSUMS_KEY, LocalIndex
from ..indexer import IndexSummary
from ..ingest import Document
from ..lexical import STREAMS
from ..manifest import LEXICAL, check_manifest, manifest_for, vector_settings
from ..query import FOLDED
from ..store import StoredChunk
from ..text import lexical_tokens
from ..vector_writer import Progress, VectorWriter
from .db import ALIVE, CHUNK_FIELDS, IN_BATCH, MilvusDb, doc_key, document_records, id_list, visible
from .terms import CorpusStats, tf_parts

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    """A chunk waiting for its vector."""

    row: int
    doc_row: int
    start: int
    end: int
    weights: dict[str, dict[int, float]] = field(default_factory=dict)


class _RowWriter:
    """Where ``VectorWriter`` puts vectors: each becomes a chunk row of generation ``born``."""

    def __init__(self, db: MilvusDb, born: int):
        self.db, self.born = db, born
        self.pending: dict[int, _Pending] = {}

    def expect(self, chunk_id: int, pending: _Pending) -> None:
        self.pending[chunk_id] = pending

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        rows = []
        for chunk_id, vector in zip(ids.tolist(), vectors):
            p = self.pending.pop(chunk_id)
            rows.append({
                "row": p.row, "chunk_id": chunk_id, "doc_row": p.doc_row, "start": p.start, "end": p.end,
                "born": self.born, "died": ALIVE, "dense": vector.tolist(), **p.weights,
            })
        self.db.insert(self.db.chunks, rows)


class _Tokens:
    """A corpus's BM25 tokens per stream, as the local index makes them."""

    def __init__(self, lexical: LexicalConfig):
        self.lexical = lexical

    def of(self, text: str) -> dict[str, list[str]]:
        return {s: lexical_tokens(text, folded=s == FOLDED, bigrams=self.lexical.bigrams) for s in STREAMS}

    def of_new(self, new: list[tuple[Document, list[Chunk]]]) -> Iterator[dict[str, list[str]]]:
        """The tokens of every chunk of these new documents (texts as they are indexed)."""
        return (self.of(embedding_text(doc.title, doc.text[c.start : c.end])) for doc, chunks in new for c in chunks)


def build_milvus(
    documents: Iterable[Document], cfg: Config, embedder: Embedder, db: MilvusDb, *,
    rebuild: bool = False, progress: bool = False, on_embedded: Progress | None = None,
) -> IndexSummary:
    """``_build`` holding the build lease (one builder at a time on an index)."""
    db.create(embedder.dim, cfg.index.milvus_dense.upper())
    db.lock(builder_id())
    try:
        return _build(documents, cfg, embedder, db, rebuild=rebuild, progress=progress, on_embedded=on_embedded)
    finally:
        db.unlock()


def _build(
    documents: Iterable[Document], cfg: Config, embedder: Embedder, db: MilvusDb, *,
    rebuild: bool, progress: bool, on_embedded: Progress | None,
) -> IndexSummary:
    """Make the Milvus index hold exactly ``documents`` (see ``indexer.build_index``). With
    ``rebuild`` every document is chunked and embedded again, still as one atomic build: the
    collections are kept, and serving bots answer from the old build until the new one is
    published (a model of another vector size needs other collections: ``index.collection``)."""
    t0 = time.monotonic()
    docs = {doc_key(d.doc_id): d for d in documents}  # as the engine holds their ids
    wanted = manifest_for(cfg, embedder)
    dim = db.dim()
    if dim is not None and dim != embedder.dim:
        raise IndexMismatch(
            f"the Milvus collections {db.name}_* hold vectors of {dim} dimensions, the model makes {embedder.dim}: "
            "build into new ones (another index.collection), then serve from them"
        )
    live = db.live()
    gen = live[0] if live else 0
    summary = IndexSummary()
    if live is not None and not rebuild:
        check_manifest(live[1], vector_settings(wanted), db.uri)
    db.recover(gen)  # a build that died (the very first one too) leaves rows nobody may see
    stats = _stats(db, gen) if live is not None else CorpusStats()
    old = _live_documents(db, gen) if live is not None else {}
    if rebuild:  # every old row goes, every document comes anew; the counters go on (ids are never reused)
        stats = CorpusStats(next_token=stats.next_token, next_row=stats.next_row, next_chunk=stats.next_chunk, next_doc=stats.next_doc)
        added, removed, changed = sorted(docs), [], []
        gone = [row for _, row in old.values()]
    else:
        added, removed = sorted(set(docs) - set(old)), sorted(set(old) - set(docs))
        changed = sorted(i for i in set(docs) & set(old) if docs[i].content_hash != old[i][0])
        summary.unchanged = len(set(docs) & set(old)) - len(changed)
        gone = [old[i][1] for i in removed + changed]
    summary.added, summary.changed = [docs[k].doc_id for k in added], [docs[k].doc_id for k in changed]
    summary.removed = removed  # the ids (a hash for one too long to store: ``doc_key``)
    retokenize = live is not None and live[1].get(LEXICAL) != wanted[LEXICAL]
    if live is not None and not (rebuild or summary.added or summary.removed or summary.changed or retokenize):
        summary.documents, summary.chunks = stats.documents, stats.chunks
        summary.generation, summary.seconds = f"milvus:{gen}", time.monotonic() - t0
        return summary

    new_gen = gen + 1
    tokens = _Tokens(cfg.lexical)
    _drop_documents(db, None if rebuild else stats, gone, gen, new_gen)
    new = [
        (doc, chunk_document(doc.doc_id, doc.text, embedder.count_tokens, cfg.chunking.max_tokens, cfg.chunking.overlap_tokens))
        for doc in (docs[k] for k in added + changed)
    ]
    # First pass: the new chunks' tokens counted (not kept: lists of token strings cost GBs at
    # 1e5 chunks), so the average length is known before any weight is written.
    _count(stats, tokens.of_new(new), +1)
    rewrite = retokenize or any(stats.drifted(s) for s in STREAMS)
    if rewrite:
        _rewrite_kept(db, stats, tokens, gen, new_gen, recount=retokenize, new=new)
    rows = _RowWriter(db, new_gen)
    summary.chunks_embedded = sum(len(chunks) for _, chunks in new)
    vectors = VectorWriter(embedder, rows, summary.chunks_embedded, progress, on_embedded)
    for doc, chunks in new:
        _add_document(db, stats, tokens, rows, vectors, doc, chunks, new_gen)
    vectors.finish()
    manifest = {**wanted, "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "documents": stats.documents, "chunks": stats.chunks}
    db.write_stats(new_gen, stats.dumps())
    db.set_live(new_gen, manifest)  # the build is published here, in one upsert
    db.collect(new_gen)
    summary.documents, summary.chunks = stats.documents, stats.chunks
    summary.generation, summary.seconds = f"milvus:{new_gen}", time.monotonic() - t0
    log.info("Milvus build %d is live (%d documents, %d chunks)", new_gen, stats.documents, stats.chunks)
    return summary


def builder_id() -> str:
    """Who holds the build lease: this machine and process, and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _stats(db: MilvusDb, gen: int) -> CorpusStats:
    text = db.read_stats(gen)
    if text is None:
        raise IndexMismatch(f"the Milvus index at {db.uri} has no statistics for its build {gen}; re-index with: qabot index --rebuild")
    return CorpusStats.loads(text)


def _live_documents(db: MilvusDb, gen: int) -> dict[str, tuple[str, int]]:
    """``doc_key`` -> (content hash, document row) of what generation ``gen`` holds."""
    flt = f'kind == "doc" and part == 0 and {visible(gen)}'
    return {r["doc_id"]: (r["hash"], int(r["row"])) for r in db.iterate(db.records, flt, ["doc_id", "hash", "row"])}


def _count(stats: CorpusStats, token_rows: Iterable[dict[str, list[str]]], sign: int) -> None:
    """Add (``sign`` +1) or take away (-1) chunks' tokens to the statistics."""
    counter = [stats.next_token]
    for row in token_rows:
        stats.chunks += sign
        for stream, toks in row.items():
            s = stats.stream(stream)
            s.total_length += sign * len(toks)
            for t in set(toks):
                tid = s.id_of(t, counter)
                s.df[tid] = s.df.get(tid, 0) + sign
                if s.df[tid] <= 0:
                    del s.df[tid]
    stats.next_token = counter[0]


def _drop_documents(db: MilvusDb, stats: CorpusStats | None, doc_rows: list[int], gen: int, new_gen: int) -> None:
    """Mark these document versions and their chunks dropped by ``new_gen`` and take them out of
    the statistics, if given (a row's tokens are its sparse vectors' keys, its lengths are
    stored)."""
    for a in range(0, len(doc_rows), IN_BATCH):
        part = doc_rows[a : a + IN_BATCH]
        flt = f"doc_row in {id_list(part)} and {visible(gen)}"
        if stats is not None:
            _uncount(db, stats, gen, part, flt)
        db.mark_died(db.chunks, flt, new_gen)
        db.mark_died(db.records, f'kind == "doc" and row in {id_list(part)} and {visible(gen)}', new_gen)


def _uncount(db: MilvusDb, stats: CorpusStats, gen: int, part: list[int], flt: str) -> None:
    """Take these document versions and their chunks out of the statistics."""
    for doc in db.documents(gen, part).values():
        stats.documents -= 1
        if doc.get("date"):
            stats.dates[doc["date"]] = stats.dates.get(doc["date"], 1) - 1
    for r in db.iterate(db.chunks, flt, [*STREAMS, *(f"{s}_len" for s in STREAMS)]):
        stats.chunks -= 1
        for stream in STREAMS:
            s = stats.stream(stream)
            s.total_length -= int(r[f"{stream}_len"])
            for tid in map(int, r[stream]):
                s.df[tid] = s.df.get(tid, 0) - 1
                if s.df[tid] <= 0:
                    del s.df[tid]
    stats.dates = {d: n for d, n in stats.dates.items() if n > 0}


def _weights(stats: CorpusStats, toks: dict[str, list[str]], lexical: LexicalConfig) -> dict:
    """A chunk row's sparse vectors and lengths, with the pinned average lengths."""
    out: dict = {}
    for stream, t in toks.items():
        s = stats.stream(stream)
        out[stream] = tf_parts(t, s.ids, s.avgdl, lexical.k1, lexical.b)
        out[f"{stream}_len"] = len(t)
    return out


def _add_document(
    db: MilvusDb, stats: CorpusStats, tokens: _Tokens, rows: _RowWriter, vectors: VectorWriter, doc: Document, chunks: list[Chunk], new_gen: int
) -> None:
    """A new document version: its records now, its chunk rows as their vectors are made (its
    tokens were counted in the first pass)."""
    doc_row, stats.next_doc = stats.next_doc, stats.next_doc + 1
    db.insert(db.records, document_records(doc_row, asdict(doc), doc.content_hash, new_gen))
    stats.documents += 1
    if doc.date:
        stats.dates[doc.date] = stats.dates.get(doc.date, 0) + 1
    ids, texts = [], []
    for c in chunks:
        text = embedding_text(doc.title, doc.text[c.start : c.end])
        chunk_id, stats.next_chunk = stats.next_chunk, stats.next_chunk + 1
        row, stats.next_row = stats.next_row, stats.next_row + 1
        rows.expect(chunk_id, _Pending(row, doc_row, c.start, c.end, _weights(stats, tokens.of(text), tokens.lexical)))
        ids.append(chunk_id)
        texts.append(text)
    vectors.add(ids, texts)


def _kept(db: MilvusDb, gen: int) -> list[int]:
    """Rows of the documents generation ``gen`` holds that this build keeps."""
    flt = f'kind == "doc" and part == 0 and born <= {gen} and died == {ALIVE}'
    return sorted(int(r["row"]) for r in db.iterate(db.records, flt, ["row"]))


def _kept_chunks(db: MilvusDb, gen: int, tokens: _Tokens, doc_rows: list[int]) -> Iterator[tuple[dict, dict[str, list[str]]]]:
    """(chunk row, its tokens) of every kept chunk of these documents."""
    for a in range(0, len(doc_rows), 200):
        part = doc_rows[a : a + 200]
        docs = db.documents(gen, part)
        flt = f"doc_row in {id_list(part)} and born <= {gen} and died == {ALIVE}"
        for r in db.iterate(db.chunks, flt, CHUNK_FIELDS):
            doc = docs[int(r["doc_row"])]
            yield r, tokens.of(embedding_text(doc["title"], doc["text"][r["start"] : r["end"]]))


def _rewrite_kept(
    db: MilvusDb, stats: CorpusStats, tokens: _Tokens, gen: int, new_gen: int, recount: bool, new: list[tuple[Document, list[Chunk]]]
) -> None:
    """Pin the live average lengths and write every kept chunk's weights with them, as new rows
    of ``new_gen`` (the old ones marked dropped): the BM25 settings changed (``recount``: every
    count is made again from the texts) or the average drifted (``AVGDL_DRIFT``)."""
    kept = _kept(db, gen)
    if recount:
        for s in stats.streams.values():
            s.df, s.total_length = {}, 0
        stats.chunks = 0
        _count(stats, (toks for _, toks in _kept_chunks(db, gen, tokens, kept)), +1)
        _count(stats, tokens.of_new(new), +1)
    for s in stats.streams.values():
        s.avgdl = s.total_length / stats.chunks if stats.chunks else 0.0
    log.info("BM25 weights of %d kept documents written again (average lengths pinned anew)", len(kept))
    batch: list[dict] = []
    for r, toks in _kept_chunks(db, gen, tokens, kept):
        row, stats.next_row = stats.next_row, stats.next_row + 1
        batch.append({**r, "row": row, "born": new_gen, "died": ALIVE, **_weights(stats, toks, tokens.lexical)})
        if len(batch) >= 500:
            db.insert(db.chunks, batch)
            batch = []
    db.insert(db.chunks, batch)
    flt = f"born <= {gen} and died == {ALIVE}"
    db.mark_died(db.chunks, flt, new_gen)


def migrate(local: LocalIndex, cfg: Config, db: MilvusDb) -> IndexSummary:
    """Copy a local index into an empty Milvus one as its first build: documents, chunk ids (so
    feedback keeps pointing at the same passages), spans and vectors as they are (decoded, for
    an IVF index); BM25 weights computed from the texts. Nothing is embedded."""
    t0 = time.monotonic()
    if db.exists() and db.live() is not None:
        raise IndexMismatch(f"the Milvus index at {db.uri} ({db.name}) already has a build: nothing to migrate into")
    db.create(local.dense.dim, cfg.index.milvus_dense.upper())
    db.lock(builder_id())
    try:
        return _migrate(local, cfg, db, t0)
    finally:
        db.unlock()


def _migrate(local: LocalIndex, cfg: Config, db: MilvusDb, t0: float) -> IndexSummary:
    db.recover(0)  # what a copy that died left
    tokens, stats, gen = _Tokens(cfg.lexical), CorpusStats(), 1
    store = local.store
    doc_ids = sorted(store.hashes())
    _count(stats, (toks for _, _, toks in _local_chunks(store, tokens, doc_ids)), +1)
    for s in stats.streams.values():
        s.avgdl = s.total_length / stats.chunks if stats.chunks else 0.0
    doc_rows: dict[str, int] = {}
    batch: list[dict] = []
    for doc, chunk, toks in _local_chunks(store, tokens, doc_ids):
        if doc.doc_id not in doc_rows:
            doc_rows[doc.doc_id], stats.next_doc = stats.next_doc, stats.next_doc + 1
            db.insert(db.records, document_records(doc_rows[doc.doc_id], asdict(doc), doc.content_hash, gen))
            stats.documents += 1
            if doc.date:
                stats.dates[doc.date] = stats.dates.get(doc.date, 0) + 1
        row, stats.next_row = stats.next_row, stats.next_row + 1
        batch.append({
            "row": row, "chunk_id": chunk.chunk_id, "doc_row": doc_rows[doc.doc_id], "start": chunk.start, "end": chunk.end,
            "born": gen, "died": ALIVE, **_weights(stats, toks, tokens.lexical),
        })
        stats.next_chunk = max(stats.next_chunk, chunk.chunk_id + 1)
        if len(batch) >= 256:
            _insert_with_vectors(db, local, batch)
            batch = []
    _insert_with_vectors(db, local, batch)
    db.write_stats(gen, stats.dumps())
    manifest = {k: v for k, v in local.manifest.items() if k != CHECKSUMS_KEY}  # files.json is local
    db.set_live(gen, {**manifest, "migrated_from": str(local.path)})
    log.info("migrated %d documents, %d chunks from %s into Milvus (nothing embedded)", stats.documents, stats.chunks, local.path)
    summary = IndexSummary(added=doc_ids, documents=stats.documents, chunks=stats.chunks, generation=f"milvus:{gen}")
    summary.seconds = time.monotonic() - t0
    return summary


def _local_chunks(store, tokens: _Tokens, doc_ids: list[str]) -> Iterator[tuple[Document, StoredChunk, dict[str, list[str]]]]:
    """(document, chunk, its tokens) of every chunk of a local store, document by document."""
    for doc_id in doc_ids:
        doc = store.document(doc_id)
        for chunk in store.chunks(store.chunk_ids(doc_id)):
            yield doc, chunk, tokens.of(embedding_text(doc.title, chunk.text))


def _insert_with_vectors(db: MilvusDb, local: LocalIndex, rows: list[dict]) -> None:
    if rows:
        vectors = local.dense.vectors(np.array([r["chunk_id"] for r in rows], dtype=np.int64))
        db.insert(db.chunks, [{**r, "dense": v.tolist()} for r, v in zip(rows, vectors)])
