"""Dense vectors in FAISS under stable 64-bit chunk ids.

Exact inner-product search (``IndexFlatIP``) over unit vectors: at our sizes (1e5 chunks) a flat
scan costs ~17 ms on one thread, and needs no training. ``IndexIDMap2`` lets a changed article's
chunks be removed and re-added without touching the rest, and can hand back a stored vector, so
fusion can score every candidate exactly.

``load`` reads the whole file into memory (no memory mapping): a file truncated or replaced
under a running bot cannot take it down, and a file FAISS cannot parse is ``IndexDamaged``,
never FAISS's own error (which quotes the server's absolute path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import IndexDamaged, MissingDependency

try:
    import faiss
except ImportError as exc:  # pragma: no cover - declared dependency
    raise MissingDependency("dense search needs faiss: pip install faiss-cpu") from exc

# Multi-threaded flat search is slower on these memory-bound 2-core machines (17 ms vs 56 ms).
SEARCH_THREADS = 1


class DenseIndex:
    """Unit vectors under chunk ids, with the verbs every part of an index has: ``add``,
    ``remove``, ``search``, ``scores``, ``save``, ``load``."""

    def __init__(self, dim: int, index: "faiss.IndexIDMap2 | None" = None):
        self.dim = dim
        self.index = index or faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        if ids:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the ``k`` nearest chunks, best first."""
        k = min(k, len(self))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # OpenMP's thread count is per calling thread (a setting made at import would only hold
        # for the importing thread, not for the bot's search workers), so it is set where we search.
        faiss.omp_set_num_threads(SEARCH_THREADS)
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Exact similarity of ``query`` to the given stored chunks."""
        if len(ids) == 0:
            return np.zeros(0, dtype=np.float32)
        vecs = np.vstack([self.index.reconstruct(int(i)) for i in ids])
        return vecs @ query.astype(np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        """The index saved at ``path``; ``IndexDamaged`` (naming the file) when it cannot be read."""
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, MemoryError) as exc:  # FAISS raises RuntimeError for every read error
            raise IndexDamaged(path.name, path, f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            raise IndexDamaged(path.name, path, f"holds a {type(index).__name__}, not an IndexIDMap2")
        return cls(index.d, index)
