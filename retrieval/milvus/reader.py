"""``MilvusIndex``: the ``Index`` search reads, served by Milvus.

The engine does the two scans that grow with the archive (dense top-k, sparse top-k per BM25
stream); everything else search asks is answered here from the generation's ``CorpusStats`` (idf,
known words, the restoration model) or by fetching the few rows a question needs (exact scores
of given chunks, their texts). Fusion, grouping, the answer decision and quotes stay in
``retrieval.search``, so both backends give the same answers.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..index import Index, IndexStats
from ..ingest import Document
from ..query import ACCENTED, QUESTION_SYLLABLES, RESTORED_PHRASES
from ..restore import Restorer, vocabulary_forms
from ..store import StoredChunk
from .db import IN_BATCH, WINDOW, MilvusDb, engine_errors, id_list, visible
from .terms import CorpusStats, question_vector

log = logging.getLogger(__name__)

DOC_CACHE = 4096  # documents kept in memory (a version is never changed: a new one gets a new row)
ROW_CACHE = 20_000  # chunks' places and vectors kept in memory (~1.6 KB each at 384 dimensions)


@dataclass(frozen=True)
class _Row:
    """What search reads of a chunk's row: its document version, offsets and vector."""

    doc_row: int
    start: int
    end: int
    dense: np.ndarray


def _none() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


class MilvusIndex(Index):
    """One published generation of an index in Milvus."""

    def __init__(self, db: MilvusDb, generation: int, manifest: dict, stats: CorpusStats):
        self.db, self.generation, self.manifest, self.stats_ = db, generation, manifest, stats
        self._filter = visible(generation)
        self._docs: OrderedDict[int, Document] = OrderedDict()
        self._row_cache: OrderedDict[int, _Row] = OrderedDict()
        self._lock = threading.Lock()
        self._restorer: Restorer | None = None

    def __len__(self) -> int:
        return self.stats_.chunks

    def build_id(self) -> str:
        return str(self.generation)

    def latest_build_id(self) -> str:
        with engine_errors(self.db.uri):
            live = self.db.live()
        return str(live[0]) if live is not None else self.build_id()

    # --- search -----------------------------------------------------------------------------------

    def lexical_search(self, tokens, stream, k, include=None):
        query = question_vector(tokens, self.stats_, stream)
        ids, scores = self._search(stream, query, k) if query and k > 0 else _none()
        if include is None:
            return ids, scores
        union = np.union1d(ids, np.asarray(include, dtype=np.int64))
        have = dict(zip(ids.tolist(), scores.tolist()))
        missing = [i for i in union.tolist() if i not in have]
        have.update(zip(missing, self._scores_of(stream, query, missing).tolist()))
        return union, np.array([have[i] for i in union.tolist()], dtype=np.float32)

    def lexical_scores(self, tokens, stream, ids):
        return self._scores_of(stream, question_vector(tokens, self.stats_, stream), [int(i) for i in ids])

    def dense_search(self, vector, k):
        return self._search("dense", np.asarray(vector, dtype=np.float32).tolist(), k) if k > 0 else _none()

    def dense_scores(self, vector, ids):
        # From the stored vectors, not a search among the chunks: exact whatever the dense
        # index (an HNSW or IVF search may pass a candidate by), and float vectors decode fast.
        ids = [int(i) for i in ids]
        rows = self._rows(ids)
        zero = np.zeros(len(vector), dtype=np.float32)
        vecs = np.array([rows[i].dense if i in rows else zero for i in ids], dtype=np.float32).reshape(len(ids), len(vector))
        return vecs @ np.asarray(vector, dtype=np.float32)

    def _search(self, field: str, query, k: int, among: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, inner products) of the top ``k`` of the build (of ``among`` only, if
        given), best first; a BM25 stream's rows without a token of the question are left out."""
        if not self.stats_.chunks:
            return _none()
        flt = self._filter if among is None else f"chunk_id in {id_list(among)} and {self._filter}"
        with engine_errors(self.db.uri):
            found = self.db.client.search(
                self.db.chunks, data=[query], anns_field=field, limit=min(k, WINDOW), filter=flt,
                output_fields=["chunk_id"], search_params={"metric_type": "IP"},
            )[0]
        if field != "dense":
            found = [h for h in found if h["distance"] > 0]
        ids = np.fromiter((h["entity"]["chunk_id"] for h in found), dtype=np.int64, count=len(found))
        return ids, np.fromiter((h["distance"] for h in found), dtype=np.float32, count=len(found))

    def _scores_of(self, field: str, query, ids: list[int]) -> np.ndarray:
        """The engine's BM25 score of each of these chunks (0 for a chunk it does not have or
        one without a token of the question): a search among them (exact: the sparse index is),
        so no stored sparse vector travels (pymilvus decodes them in Python: fetching a search's
        candidates' cost more than the whole search)."""
        out = np.zeros(len(ids), dtype=np.float32)
        if not ids or not query:
            return out
        found: dict[int, float] = {}
        for a in range(0, len(ids), IN_BATCH):
            part = ids[a : a + IN_BATCH]
            got, scores = self._search(field, query, len(part), among=part)
            found.update(zip(got.tolist(), scores.tolist()))
        return np.array([found.get(i, 0.0) for i in ids], dtype=np.float32)

    def _rows(self, ids: Sequence[int]) -> dict[int, _Row]:
        """These chunks' places and vectors (those that exist), from the cache or one request
        for all that are not there: a generation's rows never change, so caching them is exact,
        and a search reads its candidates two or three times."""
        with self._lock:
            out = {i: row for i in ids if (row := self._row_cache.get(i)) is not None}
            for i in out:
                self._row_cache.move_to_end(i)
        missing = sorted({int(i) for i in ids} - set(out))
        if missing:
            with engine_errors(self.db.uri):
                rows = self.db.chunk_rows(self.generation, missing, ["chunk_id", "doc_row", "start", "end", "dense"])
            fetched = {
                int(r["chunk_id"]): _Row(int(r["doc_row"]), int(r["start"]), int(r["end"]), np.asarray(r["dense"], dtype=np.float32))
                for r in rows
            }
            with self._lock:
                self._row_cache.update(fetched)
                while len(self._row_cache) > ROW_CACHE:
                    self._row_cache.popitem(last=False)
            out.update(fetched)
        return out

    # --- chunks and documents ---------------------------------------------------------------------

    def chunks(self, ids):
        ids = [int(i) for i in ids]
        if not ids:
            return []
        rows = self._rows(ids)
        docs = self._documents({r.doc_row for r in rows.values()})
        out = []
        for i in ids:
            r = rows.get(i)
            doc = docs.get(r.doc_row) if r is not None else None
            if doc is not None:
                out.append(StoredChunk(i, doc.doc_id, r.start, r.end, doc))
        return out

    def _documents(self, rows: set[int]) -> dict[int, Document]:
        with self._lock:
            out = {r: self._docs[r] for r in rows if r in self._docs}
        missing = sorted(rows - set(out))
        if missing:
            with engine_errors(self.db.uri):
                found = self.db.documents(self.generation, missing)
            fetched = {r: document_of(d) for r, d in found.items()}
            with self._lock:
                for r, doc in fetched.items():
                    self._docs[r] = doc
                    self._docs.move_to_end(r)
                while len(self._docs) > DOC_CACHE:
                    self._docs.popitem(last=False)
            out.update(fetched)
        return out

    def texts(self):
        with engine_errors(self.db.uri):
            docs = self.db.documents(self.generation)
        for doc in docs.values():
            yield doc["doc_id"], doc["text"]

    # --- corpus statistics ------------------------------------------------------------------------

    def idf(self, token, stream):
        return self.stats_.idfs([token], stream)[0]

    def idfs(self, tokens, stream):
        return self.stats_.idfs(tokens, stream)

    def knows(self, token, stream):
        return self.stats_.knows(token, stream)

    def freqs(self, tokens: Sequence[str], stream: str) -> np.ndarray:
        s = self.stats_.streams.get(stream)
        if s is None:
            return np.zeros(len(tokens), dtype=np.int64)
        return np.array([s.df.get(s.ids.get(t, -1), 0) for t in tokens], dtype=np.int64)

    def restorer(self) -> Restorer:
        if self._restorer is None:
            s = self.stats_.streams.get(ACCENTED)
            words = [t for t, i in s.ids.items() if s.df.get(i, 0) > 0] if s is not None else []
            counts = [s.df[s.ids[t]] for t in words] if words else []
            indptr = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]) if words else np.zeros(1, dtype=np.int64)
            forms, total = vocabulary_forms(words, indptr)
            self._restorer = Restorer(forms, lambda tokens: self.freqs(tokens, ACCENTED), total, RESTORED_PHRASES, QUESTION_SYLLABLES)
        return self._restorer

    def stats(self) -> IndexStats:
        first, last = self.stats_.date_range()
        return IndexStats(
            self.stats_.documents, self.stats_.chunks, first, last, self.manifest.get("model"), self.manifest.get("built_at"),
            backend="milvus", collection=self.db.name,
        )

    def close(self) -> None:
        self.db.close()


def document_of(record: dict) -> Document:
    return Document(
        record["doc_id"], record["title"], record["text"], record.get("path", ""),
        record.get("date"), record.get("source"), record.get("author"), record.get("url"),
    )
