"""SQLite store of documents, chunk spans and the index manifest.

Chunk ids come from ``AUTOINCREMENT``, so an id is never reused: the same 64-bit id names a chunk
in SQLite, in FAISS and in the lexical index, and a deleted chunk can never be confused with a
new one.

A store opened read-only is a published generation's: SQLite reports a damaged file as an
exception (never a crash: it reads with ``read()``, and memory mapping is kept off so a file
truncated under a running process cannot raise SIGBUS), and such a store turns it into
``IndexDamaged`` naming the file, at load and at query time alike.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .chunking import Chunk
from .errors import IndexDamaged
from .ingest import Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    date TEXT, source TEXT, author TEXT, url TEXT, content_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ord INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
"""


# Ids bound per "IN (...)" query: under SQLite's old default limit of 999 host parameters.
_IDS_PER_QUERY = 900


@dataclass
class StoredChunk:
    """A chunk with what a result needs to show it."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    doc: Document

    @property
    def text(self) -> str:
        return self.doc.text[self.start : self.end]


class Store:
    def __init__(self, path: Path, readonly: bool = False):
        self.path, self.readonly = path, readonly
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        with self._reading():
            # The bot searches from worker threads; reads are safe to share, writes happen in one.
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self.db.execute("PRAGMA foreign_keys = ON")
            # Explicitly off (a SQLite built with a default mmap size would map the file).
            self.db.execute("PRAGMA mmap_size = 0")
        if not readonly:
            self.db.executescript(SCHEMA)
        self._docs: dict[str, Document] = {}

    @contextmanager
    def _reading(self):
        """A read-only store's SQLite errors are a damaged file: the only writer is gone."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if not self.readonly:
                raise
            raise IndexDamaged(self.path.name, self.path, f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def check(self) -> None:
        """SQLite's own structural check (``IndexDamaged`` when it fails). It reads every page
        (seconds on a large store), so it is for generations that carry no checksums."""
        with self._reading():
            found = [r[0] for r in self.db.execute("PRAGMA quick_check")]
            self.manifest(), self.counts()
        if found != ["ok"]:
            raise IndexDamaged(self.path.name, self.path, "; ".join(map(str, found[:3])))

    # manifest
    def manifest(self) -> dict:
        with self._reading():
            return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM manifest")}

    def set_manifest(self, values: dict) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)",
            [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
        )

    # documents
    def hashes(self) -> dict[str, str]:
        with self._reading():
            return dict(self.db.execute("SELECT doc_id, content_hash FROM documents"))

    def texts(self) -> Iterator[tuple[str, str]]:
        """(doc_id, text) of every document."""
        with self._reading():
            yield from self.db.execute("SELECT doc_id, text FROM documents")

    def add_document(self, doc: Document, chunks: Iterable[Chunk]) -> list[int]:
        self.db.execute(
            "INSERT INTO documents(doc_id, path, title, text, date, source, author, url, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, doc.path, doc.title, doc.text, doc.date, doc.source, doc.author, doc.url, doc.content_hash),
        )
        ids = []
        for c in chunks:
            cur = self.db.execute(
                'INSERT INTO chunks(doc_id, ord, start, "end") VALUES (?, ?, ?, ?)', (c.doc_id, c.ord, c.start, c.end)
            )
            ids.append(int(cur.lastrowid))
        return ids

    def remove_document(self, doc_id: str) -> list[int]:
        ids = [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        self._docs.pop(doc_id, None)
        return ids

    def commit(self) -> None:
        self.db.commit()

    def document(self, doc_id: str) -> Document:
        doc = self._docs.get(doc_id)
        if doc is None:
            with self._reading():
                row = self.db.execute(
                    "SELECT doc_id, title, text, path, date, source, author, url FROM documents WHERE doc_id = ?",
                    (doc_id,),
                ).fetchone()
            if row is None:
                raise KeyError(doc_id)
            doc = self._docs[doc_id] = Document(*row)
        return doc

    def counts(self) -> tuple[int, int]:
        with self._reading():
            docs = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return docs, chunks

    def date_range(self) -> tuple[str | None, str | None]:
        with self._reading():
            row = self.db.execute("SELECT MIN(date), MAX(date) FROM documents WHERE date GLOB '[0-9]*'").fetchone()
        return row[0], row[1]

    # chunks
    def chunks(self, ids: Iterable[int]) -> list[StoredChunk]:
        ids = [int(i) for i in ids]
        if not ids:
            return []
        rows = {}
        with self._reading():
            for start in range(0, len(ids), _IDS_PER_QUERY):
                part = ids[start : start + _IDS_PER_QUERY]
                q = f'SELECT chunk_id, doc_id, start, "end" FROM chunks WHERE chunk_id IN ({",".join("?" * len(part))})'
                rows.update({r[0]: r for r in self.db.execute(q, part)})
        return [StoredChunk(r[0], r[1], r[2], r[3], self.document(r[1])) for i in ids if (r := rows.get(i))]

    def chunk_ids(self, doc_id: str) -> list[int]:
        """A document's chunk ids, in order."""
        with self._reading():
            return [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY ord", (doc_id,))]

    def iter_chunks(self, skip_docs: Iterable[str] = (), after: int | None = None) -> Iterator[tuple[int, str, str]]:
        """(chunk_id, title, chunk text) for every chunk, in id order, but those of ``skip_docs``;
        with ``after``, only chunks of higher ids (those a build added)."""
        skip = set(skip_docs)
        q = (
            'SELECT c.chunk_id, d.title, substr(d.text, c.start + 1, c."end" - c.start), c.doc_id '
            "FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id > ? ORDER BY c.chunk_id"
        )
        with self._reading():
            for chunk_id, title, text, doc_id in self.db.execute(q, (-1 if after is None else after,)):
                if doc_id not in skip:
                    yield chunk_id, title, text

    def count_chunks(self, skip_docs: Iterable[str] = ()) -> int:
        """Chunks but those of ``skip_docs``."""
        skip = set(skip_docs)
        with self._reading():
            return sum(doc_id not in skip for (doc_id,) in self.db.execute("SELECT doc_id FROM chunks"))

    def backup_to(self, path: Path) -> None:
        """A consistent copy of the whole database at ``path``."""
        dest = sqlite3.connect(path)
        with dest:
            self.db.backup(dest)
        dest.close()
