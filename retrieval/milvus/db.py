"""An index in Milvus: two collections, the pointer to the live build, and the rows' lifetimes.

::

    <c>_chunks    a row a chunk version: row (key), chunk_id, doc_row, start, end, born, died,
                  dense (FLOAT_VECTOR, inner product), accented / folded (SPARSE_FLOAT_VECTOR,
                  inner product; ``retrieval.milvus.terms``) and their token counts (*_len)
    <c>_records   key-value rows: key, kind, doc_id, row, part, hash, born, died, body (and a
                  2-d placeholder vector: Milvus wants one in every collection)
        "live"               the pointer: the live generation and its manifest (JSON)
        "doc/<row>/<part>"   a document version, its JSON cut into parts the engine can hold
        "stats/<gen>/<part>" the ``CorpusStats`` of a generation

Publishing without aliases (Milvus Lite 2.5.1, the real engine in a wheel, has none): every row
carries the generation it was written in (``born``) and the one that dropped it (``died``,
``ALIVE`` until then), and is visible to generation G when ``born <= G < died``. A build of G+1
writes its new rows with ``born = G+1`` and marks the rows it drops with ``died = G+1``: readers
of G see neither change. Moving the one "live" row to G+1 (a single upsert) publishes it; the
rows only G-1 could see are deleted after, so a replica still serving G keeps working until it
reloads. A build that dies half-way leaves rows of a generation nobody points at: the next
build deletes them and revives what it had marked (``recover``).

Every request is strongly consistent: a replica must see a whole build the moment the pointer
moves, and a build must read back what it wrote.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..config import redact_uri
from ..errors import IndexBusy, IndexProblem, MissingDependency

log = logging.getLogger(__name__)

# Milvus Lite 2.5.1 imports pkg_resources, which warns at every start that it is deprecated:
# known (pyproject pins setuptools < 81 for it), and no news to a user.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

try:
    from pymilvus import DataType, MilvusClient
    from pymilvus.exceptions import MilvusException
except ImportError as exc:  # pragma: no cover - optional backend
    raise MissingDependency("index.backend: milvus needs pymilvus and Milvus Lite: pip install 'qabot[milvus]'") from exc

# Milvus Lite has no server timestamp to give a query iterator, and pymilvus warns so at every
# iterator it opens: true of Lite, and no news. (Set after importing pymilvus: its logging
# configuration resets the levels of its loggers.)
logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)

ALIVE = 2**62  # "died" of a row no build has dropped
BODY_CHARS = 16_000  # a VARCHAR holds 65,535 bytes; a character is at most 4 in UTF-8
IN_BATCH = 1_000  # ids in one "in [...]" filter
WRITE_BATCH = 500  # rows a request
DOCS_BATCH = 100  # documents read a request
WINDOW = 16_384  # most rows one query or search returns
DOC_ID_BYTES = 1_024  # longer document ids are stored as their hash (``doc_key``)
CHUNK_FIELDS = ["row", "chunk_id", "doc_row", "start", "end", "born", "died", "dense", "accented", "folded", "accented_len", "folded_len"]
RECORD_FIELDS = ["key", "kind", "doc_id", "row", "part", "hash", "born", "died", "body", "v"]
STRONG = "Strong"
# A superseded build's rows are kept this long after the next is published (``collect``): the
# bots serving it follow within ``index.follow_seconds``, which config keeps well below this.
GRACE_SECONDS = 600
KEEP_TIMES = 50  # publication times the pointer remembers
LEASE_SECONDS = 1800  # a build lease not renewed for this long is taken to be a dead builder's


class EngineError(IndexProblem):
    """The Milvus engine refused or failed a request (unreachable, out of space, a bad schema)."""


@contextmanager
def engine_errors(uri: str):
    """The engine's failures as ``EngineError`` (the front ends show it as a message)."""
    try:
        yield
    except MilvusException as exc:
        raise EngineError(f"Milvus at {uri} failed: {getattr(exc, 'message', exc)}") from exc


def visible(gen: int) -> str:
    """Filter of the rows generation ``gen`` sees."""
    return f"born <= {int(gen)} and died > {int(gen)}"


def id_list(values: Sequence[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


class MilvusDb:
    """A connection to one index's collections (``index.uri`` and ``index.collection``)."""

    def __init__(self, uri: str, collection: str, token: str | None = None):
        self.name = collection
        self.uri = redact_uri(uri)  # for messages: a user:password in the URL stays out
        self.chunks, self.records = f"{collection}_chunks", f"{collection}_records"
        self._lease_owner: str | None = None
        self._lease_since, self._renewed = "", 0.0
        try:
            self.client = MilvusClient(uri=uri, token=token or "")
        except MilvusException as exc:
            lite = "" if "://" in uri else " (Milvus Lite: one process at a time; is another qabot using this file?)"
            raise EngineError(f"cannot open Milvus at {self.uri}{lite}: {getattr(exc, 'message', exc)}") from exc

    def close(self) -> None:
        self.client.close()

    def exists(self) -> bool:
        return self.client.has_collection(self.chunks) and self.client.has_collection(self.records)

    def create(self, dim: int, dense_index: str = "FLAT") -> None:
        """Make the two collections when they are missing (a vector size of ``dim``)."""
        if not self.client.has_collection(self.chunks):
            s = self.client.create_schema(auto_id=False)
            s.add_field("row", DataType.INT64, is_primary=True)
            for name in ("chunk_id", "doc_row", "born", "died"):
                s.add_field(name, DataType.INT64)
            for name in ("start", "end", "accented_len", "folded_len"):  # lengths: BM25 token counts
                s.add_field(name, DataType.INT32)
            s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
            s.add_field("accented", DataType.SPARSE_FLOAT_VECTOR)
            s.add_field("folded", DataType.SPARSE_FLOAT_VECTOR)
            ip = self.client.prepare_index_params()
            ip.add_index("dense", index_type=dense_index, metric_type="IP")
            for stream in ("accented", "folded"):
                ip.add_index(stream, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            self.client.create_collection(self.chunks, schema=s, index_params=ip, consistency_level=STRONG)
        if not self.client.has_collection(self.records):
            s = self.client.create_schema(auto_id=False)
            s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
            s.add_field("kind", DataType.VARCHAR, max_length=16)
            s.add_field("doc_id", DataType.VARCHAR, max_length=DOC_ID_BYTES)
            s.add_field("hash", DataType.VARCHAR, max_length=128)
            for name in ("row", "part", "born", "died"):
                s.add_field(name, DataType.INT64)
            s.add_field("body", DataType.VARCHAR, max_length=65_535)
            s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
            ip = self.client.prepare_index_params()
            ip.add_index("v", index_type="FLAT", metric_type="L2")
            self.client.create_collection(self.records, schema=s, index_params=ip, consistency_level=STRONG)

    def dim(self) -> int | None:
        """The vector size of the chunks collection (None: no collection yet)."""
        if not self.client.has_collection(self.chunks):
            return None
        for f in self.client.describe_collection(self.chunks)["fields"]:
            if f["name"] == "dense":
                return int(f["params"]["dim"])
        return None

    # --- the pointer ------------------------------------------------------------------------------

    def live(self) -> tuple[int, dict] | None:
        """(generation, manifest) of the published build; None before the first."""
        body = self._pointer()
        return (int(body["generation"]), body["manifest"]) if body else None

    def _pointer(self) -> dict | None:
        rows = self.client.query(self.records, filter='key == "live"', output_fields=["body"], consistency_level=STRONG)
        return json.loads(rows[0]["body"]) if rows else None

    def set_live(self, gen: int, manifest: dict) -> None:
        """Publish ``gen``, noting when (``collect`` keeps a superseded build for a while)."""
        published = (self._pointer() or {}).get("published", {})
        published = {g: t for g, t in published.items() if int(g) > gen - KEEP_TIMES} | {str(gen): time.time()}
        body = json.dumps({"generation": gen, "manifest": manifest, "published": published}, ensure_ascii=False)
        self.client.upsert(self.records, [record("live", "pointer", body, born=0)])

    # --- one build at a time ------------------------------------------------------------------

    def lock(self, owner: str) -> None:
        """Take the build lease (``IndexBusy`` while another builder holds one that has not
        expired). Milvus has no compare-and-set: the lease is written, then read back, which
        keeps two builders apart unless they start within the same moment."""
        held = self._lease()
        if held and held["owner"] != owner and held["expires"] > time.time():
            raise IndexBusy(f"another index build is writing to this Milvus index (since {held['since']})")
        self._write_lease(owner, since=time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        held = self._lease()
        if not held or held["owner"] != owner:
            raise IndexBusy("another index build took this Milvus index at the same moment")
        self._lease_owner, self._lease_since, self._renewed = owner, held["since"], time.monotonic()

    def unlock(self) -> None:
        held = self._lease()
        if held and held["owner"] == self._lease_owner:
            self.delete(self.records, 'key == "lock"')
        self._lease_owner = None

    def _lease(self) -> dict | None:
        rows = self.client.query(self.records, filter='key == "lock"', output_fields=["body"], consistency_level=STRONG)
        return json.loads(rows[0]["body"]) if rows else None

    def _write_lease(self, owner: str, since: str) -> None:
        body = json.dumps({"owner": owner, "since": since, "expires": time.time() + LEASE_SECONDS})
        self.client.upsert(self.records, [record("lock", "lock", body, born=0)])

    def _renew(self) -> None:
        """Extend a held lease, at most once a minute: called as a build writes."""
        if self._lease_owner and time.monotonic() - self._renewed > 60:
            self._write_lease(self._lease_owner, self._lease_since)
            self._renewed = time.monotonic()

    # --- reading ----------------------------------------------------------------------------------

    def chunk_rows(self, gen: int, chunk_ids: Sequence[int], fields: Sequence[str]) -> list[dict]:
        """Rows of these chunk ids visible to ``gen`` (any order)."""
        out: list[dict] = []
        for a in range(0, len(chunk_ids), IN_BATCH):
            part = chunk_ids[a : a + IN_BATCH]
            flt = f"chunk_id in {id_list(part)} and {visible(gen)}"
            with self._never_written(self.chunks):
                out += self.client.query(self.chunks, filter=flt, output_fields=list(fields), limit=len(part))
        return out

    def iterate(self, collection: str, flt: str, fields: Sequence[str], batch: int = 1000) -> Iterator[dict]:
        """Every row matching ``flt``, ``batch`` at a time (no result window limit)."""
        if collection == self.chunks and not self.client.get_collection_stats(collection)["row_count"]:
            return  # see _never_written; asked first here, so the engine logs no error
        it = self.client.query_iterator(collection, batch_size=batch, filter=flt, output_fields=list(fields))
        try:
            while rows := it.next():
                yield from rows
        finally:
            it.close()

    @contextmanager
    def _never_written(self, collection: str):
        """Milvus Lite 2.5.1 fails a query asking for a sparse vector field of a collection
        nothing was ever written to ("Growing segment loss raw data"): no rows is the answer."""
        try:
            yield
        except MilvusException as exc:
            if "HasRawData" not in str(exc) or self.client.get_collection_stats(collection)["row_count"]:
                raise

    def documents(self, gen: int, rows: Sequence[int] | None = None) -> dict[int, dict]:
        """Document row -> its JSON record (the parts joined), for the rows ``gen`` sees (all of
        them with ``rows`` None)."""
        fields = ["row", "part", "body"]
        parts: dict[int, dict[int, str]] = {}
        if rows is None:
            found = self.iterate(self.records, f'kind == "doc" and {visible(gen)}', fields)
        else:
            found = (r for a in range(0, len(rows), DOCS_BATCH) for r in self._documents_among(gen, rows[a : a + DOCS_BATCH]))
        for r in found:
            parts.setdefault(int(r["row"]), {})[int(r["part"])] = r["body"]
        return {row: json.loads("".join(p[i] for i in sorted(p))) for row, p in parts.items()}

    def _documents_among(self, gen: int, rows: Sequence[int]) -> list[dict] | Iterator[dict]:
        flt = f'kind == "doc" and row in {id_list(rows)} and {visible(gen)}'
        # One request (an iterator costs several), unless the parts fill the result window.
        found = self.client.query(self.records, filter=flt, output_fields=["row", "part", "body"], limit=WINDOW)
        return self.iterate(self.records, flt, ["row", "part", "body"]) if len(found) >= WINDOW else found

    def read_stats(self, gen: int) -> str | None:
        """The text of generation ``gen``'s statistics (None when they are missing)."""
        flt = f'kind == "stats" and row == {int(gen)}'
        rows = list(self.iterate(self.records, flt, ["part", "body"], batch=64))
        return "".join(r["body"] for r in sorted(rows, key=lambda r: r["part"])) if rows else None

    # --- writing ----------------------------------------------------------------------------------

    def insert(self, collection: str, rows: list[dict]) -> None:
        self._renew()
        for a in range(0, len(rows), WRITE_BATCH):
            self.client.insert(collection, rows[a : a + WRITE_BATCH])

    def write_stats(self, gen: int, text: str) -> None:
        parts = [text[a : a + 60_000] for a in range(0, len(text), 60_000)] or [""]
        self.insert(self.records, [record(f"stats/{gen}/{i}", "stats", p, row=gen, part=i, born=gen) for i, p in enumerate(parts)])

    def mark_died(self, collection: str, flt: str, gen: int) -> int:
        """Give every row matching ``flt`` ``died = gen`` (whole rows rewritten: Milvus 2.5 has
        no partial update). Returns how many."""
        fields = CHUNK_FIELDS if collection == self.chunks else RECORD_FIELDS
        rows = [{**r, "died": gen} for r in self.iterate(collection, flt, fields)]
        self._renew()
        for a in range(0, len(rows), WRITE_BATCH):
            self.client.upsert(collection, rows[a : a + WRITE_BATCH])
        return len(rows)

    def delete(self, collection: str, flt: str) -> None:
        self.client.delete(collection, filter=flt)

    def recover(self, live: int) -> None:
        """Undo what a build of a generation after ``live`` left behind (it never published)."""
        for collection in (self.chunks, self.records):
            self.delete(collection, f"born > {int(live)}")
            revived = self.mark_died(collection, f"died > {int(live)} and died < {ALIVE}", ALIVE)
            if revived:
                log.info("revived %d rows of %s that an unfinished build had dropped", revived, collection)

    def collect(self, live: int) -> None:
        """Delete the rows no servable build can see. A superseded build stays servable for
        ``GRACE_SECONDS`` after its successor was published (the one before ``live`` always):
        a replica on it keeps answering whole until it follows (``index.follow_seconds``)."""
        published = {int(g): t for g, t in ((self._pointer() or {}).get("published", {})).items()}
        now = time.time()
        servable = [g for g in published if g < live and now - published.get(g + 1, now) < GRACE_SECONDS]
        oldest = min([live - 1, *servable])
        for collection in (self.chunks, self.records):
            self.delete(collection, f"died <= {int(oldest)}")
        self.delete(self.records, f'kind == "stats" and row < {int(oldest)}')


def record(key: str, kind: str, body: str, *, doc_id: str = "", row: int = 0, part: int = 0, hash: str = "", born: int, died: int = ALIVE) -> dict:
    """A row of the records collection."""
    return {"key": key, "kind": kind, "doc_id": doc_id, "row": row, "part": part, "hash": hash, "born": born, "died": died, "body": body, "v": [0.0, 0.0]}


def doc_key(doc_id: str) -> str:
    """What the ``doc_id`` field holds: the id, or for one too long for the field (a JSONL id
    field can be anything) its SHA-256; the whole id is in the document's JSON either way."""
    if len(doc_id.encode("utf-8")) <= DOC_ID_BYTES:
        return doc_id
    return "sha256:" + hashlib.sha256(doc_id.encode("utf-8")).hexdigest()


def document_records(doc_row: int, doc: dict, content_hash: str, born: int) -> list[dict]:
    """A document's JSON as records of at most ``BODY_CHARS`` characters each."""
    text = json.dumps(doc, ensure_ascii=False)
    parts = [text[a : a + BODY_CHARS] for a in range(0, len(text), BODY_CHARS)]
    return [
        record(f"doc/{doc_row}/{i}", "doc", p, doc_id=doc_key(doc["doc_id"]), row=doc_row, part=i, hash=content_hash if i == 0 else "", born=born)
        for i, p in enumerate(parts)
    ]
