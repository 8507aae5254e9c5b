"""Flat against IVF-SQ8 dense indexes (``retrieval.dense``): recall@100 of IVF against flat's
exact answer, single-threaded search time, index size, training and adding time.

The vectors. Uniform random unit vectors in 384 dimensions have no structure: every vector is
about as far from a query as every other, so the 100 nearest are a near-random hundred spread over
every IVF list. IVF recall on them says nothing about text; it is reported, with no target, at
100k only. e5 vectors of news are nothing like that: they share a common direction (mean pairwise
cosine 0.82, 0.96 to the nearest passage, 0.86 to the 100th, over 13,660 Dân Trí chunks) and
gather by section, topic, story and article. So the sets held to the target are **clustered
synthetic**: ``v = normalise(0.89 m + 0.2 s + 0.2 t + 0.2 y + 0.28 a + 0.22 e)``, all random unit
vectors: ``m`` shared by all, ``s`` / ``t`` / ``y`` one of ``n`` / 20,000, ``n`` / 1,000,
``n`` / 100 groups (sections, topics, stories: each article drawn into one group of each level),
``a`` the article's (5 chunks), ``e`` noise. The weights were calibrated on real vectors: at
13,460 vectors it has those cosines (0.81 / 0.96 / 0.86) and, with 345 lists and 8-bit codes,
IVF recall@100 scanning 5 / 9 / 19 / 37% of the lists of 0.83 / 0.94 / 0.97 / 0.98, against
0.83 / 0.92 / 0.97 / 0.99 on the Dân Trí vectors; a one-level set (topics of 1,000) was far
easier (0.98 at 9%) and one of topics of 100 far harder, so the levels matter. Queries are vectors held out of the index (a passage it does not
hold, near ones it does, as a question sits near its passage), 200 of them.

Real e5 vectors are measured the same way wherever an index of them is at hand: the eval caches
beside the index folder (``qabot eval``'s default ``.qabot/eval``: a few thousand passages) and the
bench's own full Dân Trí index (13,660 chunks, built by the incremental section). At that size IVF
has few, short lists: they check real geometry, not scale.

Timings are of one thread (``OMP_NUM_THREADS=1``, training included) on a machine that may be
shared: noisy. Recall and bytes are exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import IndexConfig
from ..dense import CODES, DenseIndex, nlist_for
from ..generations import live_generation

TARGET_RECALL = 0.98  # IVF's recall@100 against flat, at the configured share of lists scanned
SIZES = (100_000, 1_000_000)
DIM = 384
QUERIES = 200
K = 100
SWEEP = (0.05, 0.1, 0.2, 0.3, 0.4)  # shares of the lists scanned
CHUNKS_PER_ARTICLE = 5
# The clustered set (see above): group sizes and weights, then the shared, article and noise weights.
GROUPS = ((20_000, 0.2), (1_000, 0.2), (100, 0.2))
SHARED, ARTICLE, NOISE = 0.89, 0.28, 0.22
UNIFORM_SIZE = 100_000  # the structureless worst case, at one size only
GENERATE_STEP = 100_000  # vectors made per step (a multiple of CHUNKS_PER_ARTICLE)


@dataclass
class IvfResult:
    """One set of vectors indexed flat and IVF, and searched by both."""

    data: str  # "clustered", "uniform", "e5 <dataset>"
    codes: str  # IVF codes: "sq8" or "fp16" (``retrieval.dense.CODES``)
    vectors: int
    dim: int
    queries: int
    nlist: int
    nprobe: int  # lists scanned at the configured share
    recall: float  # mean over queries of |IVF top 100 & flat top 100| / |flat top 100|
    recall10: float  # the same for flat's top 10 (found anywhere in IVF's 100): what answers come from
    sweep: dict[float, tuple[float, float]] = field(default_factory=dict)  # share -> (recall, p50 ms)
    flat_ms: tuple[float, float] = (0.0, 0.0)  # p50, p95 of one search, one thread
    ivf_ms: tuple[float, float] = (0.0, 0.0)
    flat_bytes: int = 0  # as saved (FAISS's format)
    ivf_bytes: int = 0
    flat_add_s: float = 0.0
    train_s: float = 0.0
    ivf_add_s: float = 0.0

    @property
    def met(self) -> bool:
        return self.recall >= TARGET_RECALL


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _random_unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return _unit(rng.standard_normal((n, dim), dtype=np.float32))


def clustered_vectors(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors with the shared direction, groups, articles and noise described above."""
    rng = np.random.default_rng(seed)
    shared = _random_unit(rng, 1, dim)[0]
    articles = -(-n // CHUNKS_PER_ARTICLE)
    # Per level: its centres, and the group of each article (drawn independently per level).
    levels = [(_random_unit(rng, max(1, n // size), dim), rng.integers(0, max(1, n // size), articles), w) for size, w in GROUPS]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, GENERATE_STEP):
        rows = np.arange(start, min(n, start + GENERATE_STEP))
        article = rows // CHUNKS_PER_ARTICLE
        first = start // CHUNKS_PER_ARTICLE
        x = SHARED * shared + NOISE * _random_unit(rng, len(rows), dim)
        x += ARTICLE * _random_unit(rng, int(article[-1]) - first + 1, dim)[article - first]
        for centres, group, w in levels:
            x += w * centres[group[article]]
        out[rows] = _unit(x)
    return out


def held_out(vectors: np.ndarray, count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(the rest, ``count`` vectors picked at random to be queries): each query is a passage the
    index does not hold, near the ones it does, as a question is near its passage."""
    picked = np.zeros(len(vectors), dtype=bool)
    picked[np.random.default_rng(seed).choice(len(vectors), count, replace=False)] = True
    return np.flatnonzero(~picked), np.flatnonzero(picked)


def _timed_search(index: DenseIndex, queries: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    found, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        ids, _ = index.search(q, K)
        ms.append((time.perf_counter() - t0) * 1000)
        found.append(ids)
    return found, np.asarray(ms)


def _recall(got: list[np.ndarray], truth: list[np.ndarray], top: int = K) -> float:
    return float(np.mean([len(np.intersect1d(g, t[:top])) / max(len(t[:top]), 1) for g, t in zip(got, truth)]))


def _pct(ms: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def _saved_bytes(index: DenseIndex, folder: Path) -> int:
    path = folder / f"bench-{index.kind}.faiss"
    index.save(path)
    size = path.stat().st_size
    path.unlink()
    return size


def compare(
    data: str, vectors: np.ndarray, queries: np.ndarray, share: float, work: Path, ids: np.ndarray | None = None
) -> list[IvfResult]:
    """``vectors`` (under ``ids``, default 0..n-1) indexed flat and IVF, once with each kind of
    codes, through ``DenseIndex`` exactly as a build makes them, then searched by ``queries``."""
    n, dim = vectors.shape
    ids = np.arange(n, dtype=np.int64) if ids is None else ids
    flat = DenseIndex(dim)
    t0 = time.perf_counter()
    flat.add(ids, vectors)
    flat_add = time.perf_counter() - t0
    truth, flat_ms = _timed_search(flat, queries)
    work.mkdir(parents=True, exist_ok=True)
    flat_bytes = _saved_bytes(flat, work)
    results = []
    for codes in CODES:
        t0 = time.perf_counter()
        # Trained as ``DenseIndex.fitted`` trains it: on a sample, with the calling thread's threads.
        ivf = flat._trained_ivf(nlist_for(n), share, codes)
        train = time.perf_counter() - t0
        t0 = time.perf_counter()
        ivf.add(ids, vectors)
        ivf_add = time.perf_counter() - t0
        got, ivf_ms = _timed_search(ivf, queries)
        result = IvfResult(
            data, codes, n, dim, len(queries), ivf.nlist, ivf.nprobe, _recall(got, truth), _recall(got, truth, 10),
            flat_ms=_pct(flat_ms), ivf_ms=_pct(ivf_ms), flat_bytes=flat_bytes, ivf_bytes=_saved_bytes(ivf, work),
            flat_add_s=flat_add, train_s=train, ivf_add_s=ivf_add,
        )
        for swept_share in SWEEP:
            ivf.probe_share = swept_share
            swept, ms = _timed_search(ivf, queries)
            result.sweep[swept_share] = (_recall(swept, truth), _pct(ms)[0])
        results.append(result)
        del ivf
    return results


def real_vectors(folders: Sequence[Path]) -> list[tuple[str, Path]]:
    """(name, dense file) of the live index of every index folder one or two levels under each of
    ``folders`` (``<eval cache>/<dataset>/<key>``, ``<bench cache>/dantri/<key>``), named after
    its first level or, one level down, after the folder given. Read, never written."""
    found = []
    for folder in folders:
        for current in sorted([*folder.glob("*/CURRENT"), *folder.glob("*/*/CURRENT")]):
            gen = live_generation(current.parent)
            parts = current.parent.relative_to(folder).parts
            if gen is not None and (gen / "dense.faiss").is_file():
                found.append((parts[0] if len(parts) == 2 else folder.name, gen / "dense.faiss"))
    return found


def bench_ivf(
    work: Path, cfg: IndexConfig, *, sizes: Sequence[int] = SIZES, queries: int = QUERIES,
    real: Sequence[Path] = (), stage: Callable[[str], None] = lambda _: None,
) -> list[IvfResult]:
    """Clustered sets of ``sizes`` vectors, the uniform worst case, and the real e5 vectors of any
    index under ``real`` (``real_vectors``), each compared at ``cfg.ivf_probe_share``."""
    results = []
    sets: list[tuple[str, Callable[[], tuple[np.ndarray, np.ndarray | None]]]] = [
        *((f"clustered {n:,}", lambda n=n: (clustered_vectors(n + queries), None)) for n in sizes),
        ("uniform", lambda: (_random_unit(np.random.default_rng(2), UNIFORM_SIZE + queries, DIM), None)),
        *((f"e5 {name}", lambda path=path: _stored(path)) for name, path in real_vectors(real)),
    ]
    for label, make in sets:
        stage(f"dense index: {label} vectors, flat and IVF")
        vectors, ids = make()
        if len(vectors) < 2 * queries:
            continue
        keep, held = held_out(vectors, queries)
        name = label.split(" ")[0] if label.startswith("clustered") else label
        results += compare(name, vectors[keep], vectors[held], cfg.ivf_probe_share, work, None if ids is None else ids[keep])
        del vectors
    return results


def _stored(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, ids) of a saved dense index."""
    ids, vectors = (np.concatenate(p) for p in zip(*DenseIndex.load(path).batches()))
    return vectors, ids


def ivf_lines(results: Sequence[IvfResult]) -> list[str]:
    """The comparison as report lines, the target beside each row measured against it."""
    lines = [
        (
            f"4b. Dense index, flat vs IVF with 8- and 16-bit codes (inner product, nlist ~sqrt(n), {K} nearest): "
            "recall@100 of IVF against flat's exact top 100, and the share of flat's top 10 within IVF's 100; "
            "search p50/p95 ms of one query on one thread; size as saved; training and adding on one thread."
        ),
        (
            "   Clustered: synthetic, shaped like e5 news vectors (shared direction, sections, topics, stories, "
            "articles; calibrated on Dân Trí's). Uniform: no structure, IVF's worst case, no target. e5: real "
            "passages. Queries: 200 vectors held out of each index."
        ),
        (
            "   | vectors | data | codes | nlist | nprobe | recall@100 | top 10 found | flat p50/p95 ms | IVF p50/p95 ms "
            "| flat MB | IVF MB | train s | IVF add s |"
        ),
        "   |---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        verdict = "" if r.data == "uniform" else f" (target ≥ {TARGET_RECALL:g}: {'met' if r.met else 'MISSED'})"
        lines.append(
            f"   | {r.vectors:,} | {r.data} | {r.codes} | {r.nlist:,} | {r.nprobe} | {r.recall:.4f}{verdict} | {r.recall10:.4f} "
            f"| {r.flat_ms[0]:.2f} / {r.flat_ms[1]:.2f} | {r.ivf_ms[0]:.2f} / {r.ivf_ms[1]:.2f} "
            f"| {r.flat_bytes / 1e6:,.1f} | {r.ivf_bytes / 1e6:,.1f} | {r.train_s:.1f} | {r.ivf_add_s:.1f} |"
        )
    lines.append("   share of the lists scanned: recall@100 (IVF p50 ms)")
    for r in results:
        sweep = ", ".join(f"{p:g}: {rec:.4f} ({ms:.2f})" for p, (rec, ms) in r.sweep.items())
        lines.append(f"   {r.vectors:,} {r.data} {r.codes}: {sweep}")
    return lines
