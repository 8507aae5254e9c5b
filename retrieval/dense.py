"""Dense vectors in FAISS under stable 64-bit chunk ids: flat, or IVF with scalar-quantised codes
(16 or 8 bits a dimension) past a configured size.

**Flat** (``IndexIDMap2(IndexFlatIP)``, the default below ``index.ivf_min_vectors``): exact
inner-product search over unit vectors, no training; at 1e5 chunks a scan costs ~17 ms on one
thread. ``IndexIDMap2`` lets a changed article's chunks be removed and re-added without touching
the rest, and hands back a stored vector, so fusion can score every candidate exactly.

**IVF** (``IndexIVFScalarQuantizer``, inner product): ``nlist_for(n)`` k-means lists, of which a
search scans a share (``index.ivf_probe_share``: recall follows the share, whatever the list
count). Codes (``index.ivf_codes``) are fp16, 768 bytes a vector against flat's 1,536, or 8 bits
a dimension, 384 bytes; 8 bits cost recall@100 on dense neighbourhoods (near-ties reordered:
~0.97 of flat's at 1M e5-like vectors, README "Dense index: flat or IVF"). Ids go in with
``add_with_ids`` and a hash-table direct map keeps id -> code, so ``remove`` works and ``scores``
reconstructs a stored vector by id (its list's centre plus the decoded residual: within ~1e-4 of
the exact cosine for fp16, ~1e-3 for 8 bits, and the value ``search`` gives it). HNSW was not an
option: it cannot remove ids.

**When the kind changes** (``DenseIndex.fitted``, once a build, after its vectors are added):
``index.dense: auto`` makes an index IVF when it reaches ``ivf_min_vectors`` and flat again only
below half of that (a corpus hovering at the threshold would otherwise be re-made at every
build); ``flat`` / ``ivf`` force a kind (an empty index stays flat: there is nothing to train
on). IVF is trained on the vectors at hand (a sample of ``TRAIN_POINTS_PER_LIST`` a list) with
``nlist_for(n)`` lists; new vectors then go into the trained lists, and the index is re-made
from all its vectors when it has grown so that its size calls for twice the lists (~4x the
vectors it was trained for: lists grow long, so scans slow down, and the centres describe older
news). Re-making or going back to flat re-uses the decoded vectors, one more rounding (~1e-4 of a
cosine for fp16, ~1e-3 for 8 bits) each time; ``qabot index --rebuild`` embeds exact ones again.
A change of kind or codes in the configuration needs no re-embedding either: a build re-makes the
dense part (``needs_refit``), which is why the manifest does not record them.

``load`` reads the whole file into memory (no memory mapping): a file truncated or replaced
under a running bot cannot take it down, and a file FAISS cannot parse, or that holds any other
kind of index, is ``IndexDamaged``, never FAISS's own error (which quotes the server's path).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .config import IndexConfig
from .errors import IndexDamaged, MissingDependency

try:
    import faiss
except ImportError as exc:  # pragma: no cover - declared dependency
    raise MissingDependency("dense search needs faiss: pip install faiss-cpu") from exc

log = logging.getLogger(__name__)

# Multi-threaded flat search is slower on these memory-bound 2-core machines (17 ms vs 56 ms).
SEARCH_THREADS = 1

AUTO, FLAT, IVF = "auto", "flat", "ivf"  # index.dense (config.py checks it: it must not import FAISS)
# FAISS's k-means warns below 39 training points a centre: fewer lists than that allows.
MIN_POINTS_PER_LIST = 39
# Lists per square root of the size (1,000 lists at 1M vectors). Recall depends on the share of
# the lists a search scans, hardly on how many there are (1, 2 and 4 per sqrt(n) measured within
# 0.01 of each other at every share, README "Dense index: flat or IVF"), while training costs
# grow with their square: so few, long lists.
LISTS_PER_SQRT = 1
# k-means is trained on a sample of this many vectors a list: enough for stable centres (FAISS
# itself caps at 256), and 4x cheaper than 256.
TRAIN_POINTS_PER_LIST = 64
# Vectors decoded and added per step when an index is re-made: bounds the extra memory.
BATCH = 65_536
# The first four bytes of what ``save`` writes, by kind (FAISS's own tags).
FOURCC = {b"IxM2": FLAT, b"IwSq": IVF}
# IVF codes (``index.ivf_codes``): 8 bits a dimension (384 bytes a vector) or 16 (768 bytes).
CODES = {"sq8": faiss.ScalarQuantizer.QT_8bit, "fp16": faiss.ScalarQuantizer.QT_fp16}


def nlist_for(n: int) -> int:
    """The number of IVF lists for ``n`` vectors."""
    return max(1, min(int(LISTS_PER_SQRT * math.sqrt(n)), n // MIN_POINTS_PER_LIST))


def wanted_kind(current: str, n: int, cfg: IndexConfig) -> str:
    """The kind an index of kind ``current`` holding ``n`` vectors should have under ``cfg``."""
    if n == 0 and current == FLAT:
        return FLAT  # nothing to train an IVF on
    if cfg.dense != AUTO:
        return cfg.dense
    if current == IVF:
        return IVF if n >= cfg.ivf_min_vectors // 2 else FLAT
    return IVF if n >= cfg.ivf_min_vectors else FLAT


def file_kind(path: Path) -> str | None:
    """The kind of index saved at ``path`` from its first bytes (None: unreadable or not ours)."""
    try:
        with open(path, "rb") as f:
            return FOURCC.get(f.read(4))
    except OSError:
        return None


def needs_refit(path: Path, n: int, cfg: IndexConfig) -> bool:
    """Whether the index saved at ``path``, holding ``n`` vectors, is of another kind (or IVF
    codes) than ``cfg`` asks for: a build with nothing else to do must still re-make it. Reads 4
    bytes, and an IVF index whole when IVF is still wanted (its codes are deep in the file)."""
    kind = file_kind(path)
    if kind is None:
        return False
    if wanted_kind(kind, n, cfg) != kind:
        return True
    if kind == IVF:
        try:
            return DenseIndex.load(path).codes != cfg.ivf_codes
        except IndexDamaged:
            return False  # found and repaired by the build's own checks
    return False


class DenseIndex:
    """Unit vectors under chunk ids, with the verbs every part of an index has: ``add``,
    ``remove``, ``search``, ``scores``, ``save``, ``load``."""

    def __init__(self, dim: int, index: faiss.Index | None = None, probe_share: float | None = None):
        self.dim = dim
        self.index = index or faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        # Share of the IVF lists a search scans: given, else what the file was saved with (the
        # build's ``index.ivf_probe_share``); ``indexer.open_index`` sets the configured one.
        saved = self.index.nprobe / self.index.nlist if self.kind == IVF else None
        self.probe_share = probe_share or saved or IndexConfig.ivf_probe_share

    @classmethod
    def ivf(
        cls, dim: int, sample: np.ndarray, nlist: int, probe_share: float = IndexConfig.ivf_probe_share, codes: str = IndexConfig.ivf_codes
    ) -> DenseIndex:
        """An empty IVF index with ``nlist`` lists and ``codes`` trained on ``sample`` (unit vectors)."""
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, CODES[codes], faiss.METRIC_INNER_PRODUCT)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        made = cls(dim, index, probe_share)
        index.nprobe = made.nprobe  # saved with the file: what a reader without a config scans
        return made

    @property
    def kind(self) -> str:
        return IVF if isinstance(self.index, faiss.IndexIVF) else FLAT

    @property
    def nlist(self) -> int:
        """IVF lists (0 for a flat index)."""
        return int(self.index.nlist) if self.kind == IVF else 0

    @property
    def codes(self) -> str | None:
        """The IVF codes, a key of ``CODES`` (None for a flat index)."""
        if self.kind == FLAT:
            return None
        return next(name for name, qtype in CODES.items() if qtype == self.index.sq.qtype)

    @property
    def nprobe(self) -> int:
        """IVF lists a search scans (0 for a flat index)."""
        return min(self.nlist, max(1, math.ceil(self.probe_share * self.nlist))) if self.kind == IVF else 0

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
        # for the importing thread, not for the bot's search workers), so it is set where we
        # search; nprobe likewise travels with each call, never set on the shared index.
        faiss.omp_set_num_threads(SEARCH_THREADS)
        params = faiss.SearchParametersIVF(nprobe=self.nprobe) if self.kind == IVF else None
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k, params=params)
        keep = ids[0] >= 0  # an IVF's probed lists may hold fewer than k
        return ids[0][keep], scores[0][keep]

    def scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Similarity of ``query`` to the given stored chunks (exact for flat, of the decoded
        8-bit vectors for IVF: the scores its search gives)."""
        if len(ids) == 0:
            return np.zeros(0, dtype=np.float32)
        return self.vectors(ids) @ query.astype(np.float32)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these ids (IVF: decoded), one row each."""
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        """Every stored id (flat: in storage order; IVF: list by list)."""
        if self.kind == FLAT:
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        invlists = self.index.invlists
        parts = [
            faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
            for i in range(self.index.nlist)
            if invlists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def batches(self, size: int = BATCH) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of everything stored, ``size`` at a time (IVF: decoded)."""
        ids = self.ids()
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            yield part, self.index.reconstruct_batch(part)

    def fitted(self, cfg: IndexConfig) -> DenseIndex:
        """This index as ``cfg`` wants it for its size: itself, or a new one of the right kind
        holding the same ids (see the module's notes for when)."""
        n = len(self)
        kind = wanted_kind(self.kind, n, cfg)
        if kind == FLAT and self.kind == FLAT:
            return self
        if kind == IVF and self.kind == IVF:
            self.probe_share = cfg.ivf_probe_share
            self.index.nprobe = self.nprobe
            if nlist_for(n) < 2 * self.nlist and self.codes == cfg.ivf_codes:
                return self
        if kind == FLAT:
            log.info("dense index: %s vectors, making it flat (from IVF with %d lists)", f"{n:,}", self.nlist)
            made = DenseIndex(self.dim)
        else:
            made = self._trained_ivf(nlist_for(n), cfg.ivf_probe_share, cfg.ivf_codes)
        for ids, vectors in self.batches():
            made.add(ids, vectors)
        return made

    def _trained_ivf(self, nlist: int, probe_share: float, codes: str) -> DenseIndex:
        n = len(self)
        log.info("dense index: %s vectors, training IVF-%s with %d lists (was %s)", f"{n:,}", codes, nlist, self.nlist or self.kind)
        ids = self.ids()
        take = min(n, nlist * TRAIN_POINTS_PER_LIST)
        # A fixed seed: the same vectors give the same lists, build after build.
        picked = np.sort(np.random.default_rng(0).choice(len(ids), take, replace=False)) if take < n else np.arange(n)
        sample = np.vstack([self.index.reconstruct_batch(ids[picked[i : i + BATCH]]) for i in range(0, take, BATCH)])
        return DenseIndex.ivf(self.dim, sample, nlist, probe_share, codes)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        """The index saved at ``path``; ``IndexDamaged`` (naming the file) when it cannot be read
        or is not one of the two kinds we write."""
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, MemoryError) as exc:  # FAISS raises RuntimeError for every read error
            raise IndexDamaged(path.name, path, f"{type(exc).__name__}: {exc}") from exc
        if isinstance(index, faiss.IndexIDMap2):
            return cls(index.d, index)
        if not isinstance(index, faiss.IndexIVFScalarQuantizer):
            raise IndexDamaged(path.name, path, f"holds a {type(index).__name__}, not an IndexIDMap2 or IndexIVFScalarQuantizer")
        if (
            index.direct_map.type != faiss.DirectMap.Hashtable
            or index.metric_type != faiss.METRIC_INNER_PRODUCT
            or index.sq.qtype not in CODES.values()
        ):
            raise IndexDamaged(path.name, path, "an IVF index without an id hash table, not by inner product or of other codes")
        return cls(index.d, index)
