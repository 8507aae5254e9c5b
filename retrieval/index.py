"""The index a searcher reads: a small interface, and the local implementation of it.

``Index`` is everything search asks of an index: BM25 and dense candidates, exact scores of given
chunks, the chunks themselves, and corpus statistics. ``LocalIndex`` serves one generation of
files on this machine (``retrieval.generations``)::

    gen-<n>/meta.sqlite   documents, chunk spans and the manifest (``retrieval.store``)
    gen-<n>/dense.faiss   vectors (``retrieval.dense``)
    gen-<n>/lexical/      BM25 streams (``retrieval.lexical``); the accented one is also the
                          model that restores an unmarked question's marks (``retrieval.restore``)
    gen-<n>/files.json    size and SHA-256 of each of those files (``retrieval.generations``)

The Milvus backend (``retrieval.milvus``: several bot processes on one index, archives past one
machine) implements ``Index`` too and leaves fusion, grouping, the answer decision and the
quotes to ``retrieval.search``; ``indexer.build_index`` and ``open_index`` pick the backend
(``index.backend``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .dense import DenseIndex
from .errors import IndexDamaged, IndexMissing
from .generations import CHECKSUMS, live_generation, verify_generation
from .lexical import LexicalIndex
from .manifest import check_manifest
from .query import ACCENTED, QUESTION_SYLLABLES, RESTORED_PHRASES
from .restore import Restorer
from .store import Store, StoredChunk

META_FILE, DENSE_FILE, LEXICAL_DIR = "meta.sqlite", "dense.faiss", "lexical"
# Manifest key of a generation whose checksums were recorded: without it a deleted files.json
# would pass the generation off as one written before checksums existed.
CHECKSUMS_KEY = "checksums"


@dataclass(frozen=True)
class IndexStats:
    """What an index holds, for people: the bot's /help and /status."""

    documents: int
    chunks: int
    first_date: str | None
    last_date: str | None
    model: str | None
    built_at: str | None
    # Which backend serves it: "local", or "milvus" with the collection (never the URI: it can
    # carry a user and password, and /status is read in a chat).
    backend: str = "local"
    collection: str | None = None


class Index(ABC):
    """What search reads. Ids are 64-bit chunk ids; scores are floats, higher is better."""

    manifest: dict

    @abstractmethod
    def __len__(self) -> int:
        """Number of chunks."""

    @abstractmethod
    def lexical_search(
        self, tokens: Sequence[str], stream: str, k: int, include: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of up to ``k`` chunks with a positive BM25 score, in no set order; with
        ``include``, those chunks too (ids ascending), scored in the same pass."""

    @abstractmethod
    def lexical_scores(self, tokens: Sequence[str], stream: str, ids: np.ndarray) -> np.ndarray:
        """BM25 scores of the given chunks (exactly what ``lexical_search`` gives them)."""

    @abstractmethod
    def dense_search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine similarities) of the ``k`` nearest chunks, best first."""

    @abstractmethod
    def dense_scores(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``vector`` to the given chunks."""

    @abstractmethod
    def chunks(self, ids: Sequence[int]) -> list[StoredChunk]:
        """The chunks with these ids that exist, in the order asked, with their documents."""

    @abstractmethod
    def idf(self, token: str, stream: str) -> float:
        """How rare a token is in the corpus (BM25's idf)."""

    def idfs(self, tokens: Sequence[str], stream: str) -> list[float]:
        """``idf`` of each token; a backend that can look them up together overrides this."""
        return [self.idf(t, stream) for t in tokens]

    @abstractmethod
    def knows(self, token: str, stream: str) -> bool:
        """Whether any chunk has this token."""

    @abstractmethod
    def stats(self) -> IndexStats:
        """Counts, date range, model and build time."""

    @abstractmethod
    def texts(self) -> Iterator[tuple[str, str]]:
        """(doc_id, text) of every document: what a new article is checked against for copies."""

    def build_id(self) -> str:
        """Which published build this is."""
        return ""

    def latest_build_id(self) -> str:
        """Which build is published now (another process may have published one since this was
        opened): a server compares the two to follow its indexer."""
        return self.build_id()

    def restorer(self) -> Restorer | None:
        """What restores the marks of a question typed without them, from this corpus's
        statistics; None when the backend has none (questions are then searched as typed)."""
        return None

    def close(self) -> None:
        """Release what the index holds open."""


class LocalIndex(Index):
    """One generation of index files, opened read-only."""

    def __init__(self, path: Path, store: Store, dense: DenseIndex, lexical: LexicalIndex, manifest: dict):
        self.path, self.store, self.dense, self.lexical, self.manifest = path, store, dense, lexical, manifest
        self._restorer: Restorer | None = None

    def __len__(self) -> int:
        return len(self.lexical)

    def build_id(self) -> str:
        return self.path.name

    def latest_build_id(self) -> str:
        live = live_generation(self.path.parent)
        return live.name if live is not None else self.path.name

    def lexical_search(self, tokens, stream, k, include=None):
        return self.lexical.search(tokens, k, stream, include)

    def lexical_scores(self, tokens, stream, ids):
        return self.lexical.scores(tokens, ids, stream)

    def dense_search(self, vector, k):
        return self.dense.search(vector, k)

    def dense_scores(self, vector, ids):
        return self.dense.scores(vector, ids)

    def chunks(self, ids):
        return self.store.chunks(ids)

    def idf(self, token, stream):
        return self.lexical.idf(token, stream)

    def idfs(self, tokens, stream):
        return self.lexical.idfs(tokens, stream)

    def knows(self, token, stream):
        return self.lexical.knows(token, stream)

    def texts(self):
        return self.store.texts()

    def restorer(self) -> Restorer:
        # Made once: the accented BM25 stream's statistics are the model (``retrieval.restore``).
        if self._restorer is None:
            forms, total = self.lexical.syllable_forms()
            self._restorer = Restorer(forms, partial(self.lexical.freqs, stream=ACCENTED), total, RESTORED_PHRASES, QUESTION_SYLLABLES)
        return self._restorer

    def stats(self) -> IndexStats:
        documents, chunks = self.store.counts()
        first, last = self.store.date_range()
        return IndexStats(documents, chunks, first, last, self.manifest.get("model"), self.manifest.get("built_at"))

    def close(self) -> None:
        self.store.close()


def load_index(root: Path, wanted: dict | None = None) -> LocalIndex:
    """The live generation under ``root``, checked against the ``wanted`` manifest if given.

    Every file's size and checksum is verified before anything is opened (~1 s for the 906 MB
    of a 100k-chunk generation), and every part is read into memory: nothing the process serves from
    can change under it. ``IndexDamaged`` names the first damaged file. A generation written
    before checksums existed is accepted on the strength of opening it: each reader checks
    the shapes of what it parses, and the part counts must agree."""
    gen = live_generation(root)
    if gen is None:
        raise IndexMissing(f"no index at {root}; build it with: qabot index")
    return open_generation(gen, root, wanted)


def open_generation(gen: Path, root: Path | None = None, wanted: dict | None = None) -> LocalIndex:
    """One generation folder, verified and opened as ``load_index`` does."""
    recorded = verify_generation(gen)
    store = Store(gen / META_FILE, readonly=True)
    try:
        manifest = store.manifest()
        if not recorded and manifest.get(CHECKSUMS_KEY):
            raise IndexDamaged(CHECKSUMS, gen / CHECKSUMS, "missing, though the manifest says it was written")
        if wanted is not None:
            check_manifest(manifest, wanted, root or gen.parent)
        dense, lexical = DenseIndex.load(gen / DENSE_FILE), LexicalIndex.load(gen / LEXICAL_DIR)
        check_parts(gen, store, dense, lexical)
    except BaseException:
        store.close()
        raise
    return LocalIndex(gen, store, dense, lexical, manifest)


def check_parts(gen: Path, store: Store, dense: DenseIndex, lexical: LexicalIndex) -> None:
    """The three parts hold the same number of chunks (SQLite's count is the reference)."""
    chunks = store.counts()[1]
    if len(dense) != chunks:
        raise IndexDamaged(DENSE_FILE, gen / DENSE_FILE, f"{len(dense)} vectors for {chunks} chunks")
    if len(lexical) != chunks:
        raise IndexDamaged(f"{LEXICAL_DIR}/ids.npy", gen / LEXICAL_DIR / "ids.npy", f"{len(lexical)} rows for {chunks} chunks")
