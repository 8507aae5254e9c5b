"""``qabot bench``: how fast the product indexes and answers, and what it costs in memory and disk,
on the shared Vietnamese news data (``../shared/data``, never copied into the repository).

- throughput: a sample of Dân Trí articles through ``build_index`` with the configured embedder,
  against the same embedder's raw speed on exactly the same chunk texts;
- incremental: the full Dân Trí corpus (one file per article, cached under the bench folder),
  one article edited, re-indexed, restored;
- latency: Báo Mới articles chunked by the product's chunker into indexes of 10k / 100k chunks
  with random unit vectors on the dense side, queried through the bot's own ``Searcher``; each
  scale is built and served in fresh processes so their memory peaks do not mix.

Everything here returns dataclasses; ``cli.cmd_bench`` prints them.
"""

from __future__ import annotations

import gzip
import json
import logging
import multiprocessing
import os
import platform
import resource
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .chunking import chunk_document
from .config import Config
from .embedder import PASSAGE, QUERY, Embedder
from .indexer import (
    IndexMismatch,
    IndexSummary,
    build_index,
    check_manifest,
    embedding_text,
    live_generation,
    load_index,
    manifest_for,
)
from .ingest import parse_jsonl
from .store import Store
from .text import normalize_marks

log = logging.getLogger(__name__)

DANTRI_FILE = Path("dantri-news/uvn_dantri_2653.jsonl.gz")
BAOMOI_FILE = Path("baomoi-news/baomoi_35k.jsonl.gz")
QUESTIONS_FILE = Path("vinewsqa-dev/queries.jsonl")
SECTIONS = ("throughput", "incremental", "latency")
# Questions searched before timing starts (and never timed): first-call costs are not latency.
WARMUP_QUESTIONS = 20
# Báo Mới articles per corpus file: the scale corpora are about search, not file handling.
ARTICLES_PER_SHARD = 1000
EDIT_SENTENCE = "Bài viết này vừa được biên tập viên cập nhật thêm một câu để đo thời gian lập chỉ mục lại."


class BenchDataMissing(FileNotFoundError):
    """The shared benchmark data folder (or a file in it) is not there."""


def check_data(root: Path, sections: Sequence[str] = SECTIONS) -> Path:
    """``root`` resolved, once every file the chosen sections read is known to exist."""
    root = Path(root).resolve()
    needed = {
        "throughput": [DANTRI_FILE],
        "incremental": [DANTRI_FILE],
        "latency": [BAOMOI_FILE, QUESTIONS_FILE],
    }
    if not root.is_dir():
        raise BenchDataMissing(
            f"benchmark data folder not found: {root} (the shared data, ../shared/data from the "
            "project root; pass --data DIR)"
        )
    missing = sorted({str(f) for s in sections for f in needed[s] if not (root / f).is_file()})
    if missing:
        raise BenchDataMissing(f"benchmark data folder {root} lacks: {', '.join(missing)}")
    return root


def parse_sections(values: Sequence[str] | None) -> list[str]:
    """``--only`` values (repeatable, each possibly a comma list) in canonical order; all if none."""
    chosen = {v.strip() for value in values or [] for v in value.split(",") if v.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown bench section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return [s for s in SECTIONS if s in chosen] if chosen else list(SECTIONS)


def parse_scales(value: str) -> list[int]:
    try:
        scales = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--scales wants chunk counts like 10000,100000, got {value!r}") from None
    if not scales or min(scales) <= 0:
        raise ValueError(f"--scales wants positive chunk counts, got {value!r}")
    return sorted(set(scales))


# --- the machine ---------------------------------------------------------------------------------


@dataclass
class Machine:
    cpu: str
    cores: int
    ram_gb: float
    python: str
    torch: str | None
    load_average: tuple[float, float, float]  # other work on the machine makes timings noisy


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> Machine:
    cpu, ram_kb = platform.processor() or platform.machine(), 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kb = int(line.split()[1])
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return Machine(cpu, os.cpu_count() or 0, ram_kb / 1024 / 1024, platform.python_version(), _package_version("torch"), load)


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` across exec, so a
    fresh child started from a parent that holds the model reports the parent's peak (measured:
    a child of a 1.5 GB parent reports 1.5 GB, VmHWM 16 MB). ``ru_maxrss`` where there is no
    ``/proc``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def in_fresh_process(fn: Callable, *args):
    """``fn(*args)`` in a new interpreter (spawn, not fork): its memory peak is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# --- data ----------------------------------------------------------------------------------------


def read_dantri(root: Path, limit: int | None = None) -> list[dict]:
    """Dân Trí articles as records of the ingester's ``.jsonl`` fields."""
    out = []
    with gzip.open(root / DANTRI_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out.append(
                {
                    "id": rec["doc_id"],
                    "title": rec["title"],
                    "text": rec["text"],
                    "url": rec.get("url"),
                    "date": rec.get("date"),
                    "source": "Dân Trí",
                }
            )
            if limit is not None and len(out) >= limit:
                break
    return out


def read_baomoi(root: Path) -> Iterator[dict]:
    """Báo Mới articles as ingester records: the lead (sapo) opens the text."""
    with gzip.open(root / BAOMOI_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            text = "\n".join(p for p in (rec.get("sapo"), rec.get("body")) if p and p.strip())
            if rec.get("title") and text:
                yield {"id": str(rec["id"]), "title": rec["title"], "text": text, "source": "Báo Mới"}


def read_questions(root: Path, n: int) -> list[str]:
    """The first ``n`` distinct questions of ViNewsQA dev: real questions people wrote."""
    seen: dict[str, None] = {}
    with open(root / QUESTIONS_FILE, encoding="utf-8") as f:
        for line in f:
            seen.setdefault(json.loads(line)["text"].strip(), None)
            if len(seen) >= n:
                break
    return list(seen)


def spread_sample(items: Sequence, n: int) -> list:
    """``n`` items evenly spaced over ``items``: the Dân Trí file is grouped by topic."""
    if n >= len(items):
        return list(items)
    return [items[int(i * len(items) / n)] for i in range(n)]


def jsonl_line(rec: dict) -> str:
    return json.dumps({k: v for k, v in rec.items() if v is not None}, ensure_ascii=False) + "\n"


def write_corpus(folder: Path, files: dict[str, str]) -> int:
    """Make ``folder`` hold exactly ``files`` (name -> text); only differing files are written, so
    an unchanged corpus keeps its timestamps and a cached index stays valid. Returns files written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file() and old.name not in files:
            old.unlink()
    written = 0
    for name, text in files.items():
        path = folder / name
        try:
            if path.read_text(encoding="utf-8") == text:
                continue
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        path.write_text(text, encoding="utf-8")
        written += 1
    return written


def article_files(records: Sequence[dict]) -> dict[str, str]:
    """One ``.jsonl`` file per article, as an admin would drop them into the corpus folder."""
    return {f"{rec['id']}.jsonl": jsonl_line(rec) for rec in records}


def bench_config(cfg: Config, corpus: Path, index: Path) -> Config:
    return replace(cfg, corpus=replace(cfg.corpus, path=corpus), index=replace(cfg.index, path=index))


# --- index size ----------------------------------------------------------------------------------


@dataclass
class DiskUsage:
    sqlite: int = 0
    faiss: int = 0
    bm25: int = 0  # score matrix and vocabulary: what search reads
    bm25_rows: int = 0  # every chunk's token ids, kept so a build tokenises only new chunks
    other: int = 0

    @property
    def total(self) -> int:
        return self.sqlite + self.faiss + self.bm25 + self.bm25_rows + self.other


def index_disk_usage(index_root: Path) -> DiskUsage | None:
    """Bytes of the live generation by kind; None when there is no index."""
    gen = live_generation(index_root)
    if gen is None:
        return None
    usage = DiskUsage()
    for p in gen.rglob("*"):
        if not p.is_file():
            continue
        size = p.stat().st_size
        rel = p.relative_to(gen)
        if rel.parts[0] == "lexical" and p.name in ("tokens.npy", "offsets.npy"):
            usage.bm25_rows += size
        elif rel.parts[0] == "lexical":
            usage.bm25 += size
        elif p.name.startswith("meta.sqlite"):
            usage.sqlite += size
        elif p.suffix == ".faiss":
            usage.faiss += size
        else:
            usage.other += size
    return usage


# --- a stand-in embedder for the scale benchmark -------------------------------------------------


class RandomVectorEmbedder(Embedder):
    """Bench only: random unit vectors in place of the model's, and the model's token counts.

    A flat FAISS scan, the stored-vector lookups and fusion cost the same whatever the vectors
    hold, so 100k chunks can be indexed and searched without hours of embedding. Vectors are a
    function of the text (seeded by its CRC), so a query always gets the same one, and are cached,
    so once a question has been seen its "embedding" costs a dict lookup.
    """

    def __init__(self, dim: int, name: str, count_tokens: Callable[[Sequence[str]], list[int]] | None = None, batch_size: int = 256):
        self.dim, self.batch_size = dim, batch_size
        self.name = f"random-unit-{dim} (bench stand-in for {name})"
        self._count = count_tokens
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def vector(self, text: str, kind: str) -> np.ndarray:
        key = (kind, text)
        vec = self._cache.get(key)
        if vec is None:
            rng = np.random.default_rng(zlib.crc32(f"{kind}\n{text}".encode("utf-8")))
            vec = rng.standard_normal(self.dim).astype(np.float32)
            vec /= np.linalg.norm(vec)
            if kind == QUERY:  # passages are seen once; only queries repeat
                self._cache[key] = vec
        return vec

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        return np.vstack([self.vector(t, kind) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._count is None:
            raise RuntimeError("this bench embedder was made for searching only; it cannot count tokens")
        return self._count(texts)


# --- 1. indexing throughput ----------------------------------------------------------------------


@dataclass
class ThroughputResult:
    model: str
    batch_size: int
    articles: int
    chunks: int
    build_seconds: float  # build_index: ingest, chunk, embed, write SQLite / FAISS / BM25
    embed_seconds: float  # embedder.embed alone on the very same chunk texts
    disk: DiskUsage | None = None

    @property
    def build_rate(self) -> float:
        return self.chunks / self.build_seconds if self.build_seconds else 0.0

    @property
    def embed_rate(self) -> float:
        return self.chunks / self.embed_seconds if self.embed_seconds else 0.0


def warm_up(embedder: Embedder) -> None:
    """The first calls into a model allocate and pick kernels (~1 s); that is not throughput."""
    embedder.embed(["Khởi động mô hình."] * 2, PASSAGE)
    embedder.embed(["Câu hỏi khởi động?"], QUERY)


def bench_throughput(cfg: Config, embedder: Embedder, records: Sequence[dict], work: Path, progress: bool = False) -> ThroughputResult:
    """Index ``records`` from scratch, then embed the chunks it made once more, bare."""
    corpus, index = work / "corpus", work / "index"
    write_corpus(corpus, article_files(records))
    bcfg = bench_config(cfg, corpus, index)
    warm_up(embedder)
    t0 = time.perf_counter()
    summary = build_index(bcfg, embedder, rebuild=True, progress=progress)
    build_seconds = time.perf_counter() - t0
    store = Store(live_generation(index) / "meta.sqlite", readonly=True)
    try:
        texts = [embedding_text(title, text) for _, title, text in store.iter_chunks()]
    finally:
        store.close()
    t0 = time.perf_counter()
    embedder.embed(texts, PASSAGE, progress=progress)
    embed_seconds = time.perf_counter() - t0
    return ThroughputResult(
        embedder.name, embedder.batch_size, summary.documents, len(texts), build_seconds, embed_seconds, index_disk_usage(index)
    )


# --- 2. incremental re-index ---------------------------------------------------------------------


@dataclass
class BuildStep:
    seconds: float
    chunks_embedded: int
    added: int = 0
    changed: int = 0
    removed: int = 0

    @classmethod
    def of(cls, summary: IndexSummary) -> "BuildStep":
        return cls(summary.seconds, summary.chunks_embedded, len(summary.added), len(summary.changed), len(summary.removed))


@dataclass
class IncrementalResult:
    articles: int
    chunks: int
    edited: str  # doc_id of the article edited and restored
    full_build: BuildStep | None  # None when the full index came from the cache
    full_build_cached: BuildStep | None  # the build that made the cached index, when recorded
    unchanged: BuildStep  # build_index on an unchanged corpus: the cost of finding no change
    edit: BuildStep
    restore: BuildStep
    disk: DiskUsage | None = None


def _load_step(path: Path) -> BuildStep | None:
    try:
        return BuildStep(**json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def bench_incremental(
    cfg: Config, embedder: Embedder, records: Sequence[dict], work: Path, progress: bool = False, edit_index: int | None = None
) -> IncrementalResult:
    """Build (or reuse) the index of every article in ``records``, then edit one article, re-index,
    put it back and re-index again. The corpus is always left as ``records`` say."""
    from .evaluate import index_key

    corpus = work / "corpus"
    # One index per vector-shaping configuration, as qabot eval does: a model or chunking change
    # builds beside the old one instead of failing on it.
    index = work / index_key(cfg, embedder)
    files = article_files(records)
    write_corpus(corpus, files)  # also undoes an edit left behind by an interrupted run
    bcfg = bench_config(cfg, corpus, index)
    first = build_index(bcfg, embedder, progress=progress)
    record = index / "full_build.json"
    full = None
    if first.chunks_embedded:
        full = BuildStep.of(first)
        record.write_text(json.dumps(asdict(full)), encoding="utf-8")
    unchanged = BuildStep.of(build_index(bcfg, embedder))

    rec = records[len(records) // 2 if edit_index is None else edit_index]
    name = f"{rec['id']}.jsonl"
    edited = dict(rec, text=rec["text"].rstrip() + "\n" + EDIT_SENTENCE)
    try:
        (corpus / name).write_text(jsonl_line(edited), encoding="utf-8")
        edit = build_index(bcfg, embedder)
    finally:
        (corpus / name).write_text(files[name], encoding="utf-8")
    restore = build_index(bcfg, embedder)
    return IncrementalResult(
        articles=restore.documents,
        chunks=restore.chunks,
        edited=edit.changed[0] if edit.changed else name,
        full_build=full,
        full_build_cached=None if full else _load_step(record),
        unchanged=unchanged,
        edit=BuildStep.of(edit),
        restore=BuildStep.of(restore),
        disk=index_disk_usage(index),
    )


# --- 3-5. query latency, memory and size at scale ------------------------------------------------


@dataclass
class ScaleBuild:
    chunks_wanted: int
    articles: int
    chunks: int
    seconds: float  # build_index from scratch (no embedding: random vectors)
    model_rss_mb: float  # peak after loading the embedding model, before the build
    peak_rss_mb: float  # peak of the whole build process, model included (as in qabot index)
    built_at: str
    cached: bool = False  # figures recorded when the cached index was built


@dataclass
class QueryEmbedding:
    model: str
    queries: int
    p50_ms: float
    p95_ms: float
    rss_with_model_mb: float  # serving process peak once the model is loaded too: the bot's


@dataclass
class LatencyResult:
    chunks: int
    dim: int
    queries: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    with_hits: float  # share of questions that got at least one passage: a sanity check
    rss_loaded_mb: float  # peak after loading the index
    rss_serving_mb: float  # peak after the queries (index only, no model)
    embedding: QueryEmbedding | None = None


@dataclass
class ScaleResult:
    build: ScaleBuild
    latency: LatencyResult
    disk: DiskUsage | None


def select_for_chunks(records: Iterator[dict], n_chunks: int, count_tokens, cfg: Config) -> list[dict]:
    """Leading articles that the product's ingester and chunker turn into at least ``n_chunks``."""
    chosen, total = [], 0
    for rec in records:
        docs, _ = parse_jsonl(jsonl_line(rec), "x.jsonl")
        for doc in docs:
            total += len(chunk_document(doc.doc_id, doc.text, count_tokens, cfg.chunking.max_tokens, cfg.chunking.overlap_tokens))
        chosen.append(rec)
        if total >= n_chunks:
            break
    return chosen


def scale_dir(work: Path, n_chunks: int) -> Path:
    return work / f"scale-{n_chunks}"


def build_scale(cfg: Config, data_root: Path, work: Path, n_chunks: int, rebuild: bool = False) -> ScaleBuild:
    """The index of ~``n_chunks`` Báo Mới chunks (random vectors), built once and cached.

    Meant for a fresh process: its peak memory is the build's. The real model is loaded, as
    ``qabot index`` does, because chunks are sized in its tokens."""
    from .embedder import load_embedder

    real = load_embedder(cfg.embedding)
    model_rss = peak_rss_mb()
    embedder = RandomVectorEmbedder(real.dim, real.name, real.count_tokens)
    folder = scale_dir(work, n_chunks)
    corpus, index, record = folder / "corpus", folder / "index", folder / "build.json"
    # Which articles make n chunks depends on the chunker and the model's tokens.
    chunking = {**manifest_for(cfg, embedder)["chunking"], "model": real.name}
    selection_file = folder / "selection.json"
    try:
        selection = json.loads(selection_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        selection = {}
    if selection.get("chunking") == chunking and selection.get("chunks_wanted") == n_chunks:
        records = [r for _, r in zip(range(selection["articles"]), read_baomoi(data_root))]
    else:
        log.info("choosing Báo Mới articles for %d chunks", n_chunks)
        records = select_for_chunks(read_baomoi(data_root), n_chunks, real.count_tokens, cfg)
        folder.mkdir(parents=True, exist_ok=True)
        selection_file.write_text(json.dumps({"chunks_wanted": n_chunks, "articles": len(records), "chunking": chunking}), encoding="utf-8")
    shards = {
        f"baomoi-{i // ARTICLES_PER_SHARD:04d}.jsonl": "".join(jsonl_line(r) for r in records[i : i + ARTICLES_PER_SHARD])
        for i in range(0, len(records), ARTICLES_PER_SHARD)
    }
    write_corpus(corpus, shards)
    bcfg = bench_config(cfg, corpus, index)
    cached = _scale_build_record(record, n_chunks)
    if cached is not None and not rebuild and _index_matches(bcfg, embedder):
        summary = build_index(bcfg, embedder)  # a no-op unless the corpus changed
        if not summary.chunks_embedded:
            return replace(cached, cached=True)
    summary = build_index(bcfg, embedder, rebuild=True)
    result = ScaleBuild(
        chunks_wanted=n_chunks,
        articles=summary.documents,
        chunks=summary.chunks,
        seconds=summary.seconds,
        model_rss_mb=model_rss,
        peak_rss_mb=peak_rss_mb(),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    record.write_text(json.dumps(asdict(result)), encoding="utf-8")
    return result


def _scale_build_record(path: Path, n_chunks: int) -> ScaleBuild | None:
    try:
        build = ScaleBuild(**json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    return build if build.chunks_wanted == n_chunks else None


def _index_matches(cfg: Config, embedder: Embedder) -> bool:
    gen = live_generation(cfg.index.path)
    if gen is None:
        return False
    store = Store(gen / "meta.sqlite", readonly=True)
    try:
        check_manifest(store.manifest(), manifest_for(cfg, embedder), gen)
    except IndexMismatch:
        return False
    finally:
        store.close()
    return True


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000, q)) if len(seconds) else 0.0


def serve_scale(cfg: Config, index_root: Path, questions: Sequence[str], embed_queries: int = 0) -> LatencyResult:
    """Time ``Searcher.search`` (the bot's code path: BM25, FAISS, fusion, grouping, SQLite,
    highlighting) per question, with query vectors that cost nothing to make.

    Meant for a fresh process that loads only the index, like a bot process before its model.
    With ``embed_queries``, the real model is then loaded and that many questions are embedded
    one at a time, so query embedding is reported on its own."""
    from .search import Searcher

    index = load_index(index_root)
    rss_loaded = peak_rss_mb()
    embedder = RandomVectorEmbedder(index.dense.dim, index.manifest.get("model", "?"))
    searcher = Searcher(index, embedder, cfg.retrieval)
    top_k = cfg.telegram.passages_per_reply  # what the bot asks for
    warm, timed = list(questions[:WARMUP_QUESTIONS]), list(questions[WARMUP_QUESTIONS:]) or list(questions)
    # Vectors made up front, under the key the searcher will ask for, so no embedding is timed.
    embedder.encode([normalize_marks(q) for q in timed], QUERY)
    for q in warm:
        searcher.search(q, top_k=top_k)
    times, with_hits = [], 0
    for q in timed:
        t0 = time.perf_counter()
        answer = searcher.search(q, top_k=top_k)
        times.append(time.perf_counter() - t0)
        with_hits += bool(answer.hits)
    result = LatencyResult(
        chunks=len(index.dense),
        dim=index.dense.dim,
        queries=len(times),
        p50_ms=percentile_ms(times, 50),
        p95_ms=percentile_ms(times, 95),
        mean_ms=float(np.mean(times)) * 1000 if times else 0.0,
        max_ms=max(times) * 1000 if times else 0.0,
        with_hits=with_hits / max(len(times), 1),
        rss_loaded_mb=rss_loaded,
        rss_serving_mb=peak_rss_mb(),
    )
    if embed_queries:
        result.embedding = bench_query_embedding(cfg, timed[:embed_queries])
    index.store.close()
    return result


def bench_query_embedding(cfg: Config, questions: Sequence[str]) -> QueryEmbedding:
    """Latency of embedding one question with the configured model, as the bot does per question."""
    from .embedder import load_embedder

    embedder = load_embedder(cfg.embedding)
    warm_up(embedder)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        embedder.embed([normalize_marks(q)], QUERY)
        times.append(time.perf_counter() - t0)
    return QueryEmbedding(embedder.name, len(times), percentile_ms(times, 50), percentile_ms(times, 95), peak_rss_mb())


def bench_scale(
    cfg: Config, data_root: Path, work: Path, n_chunks: int, questions: Sequence[str], embed_queries: int = 0, rebuild: bool = False
) -> ScaleResult:
    """Build (or reuse) one scale's index in a fresh process, then serve it in another."""
    build = in_fresh_process(build_scale, cfg, data_root, work, n_chunks, rebuild)
    index = scale_dir(work, n_chunks) / "index"
    latency = in_fresh_process(serve_scale, cfg, index, list(questions), embed_queries)
    return ScaleResult(build, latency, index_disk_usage(index))



# --- targets and report lines (cli.cmd_bench prints them) ----------------------------------------

TARGET_INCREMENTAL_S = 5.0
TARGET_P95_MS = 50.0
TARGET_RSS_MB = 1536.0
TARGET_SCALE = 100_000  # the latency and memory targets are stated at this many chunks


def _verdict(value: float, limit: float, unit: str) -> str:
    return f"target ≤ {limit:g} {unit}: {'met' if value <= limit else 'MISSED'}"


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f}"


def machine_lines(m: Machine, data: Path) -> list[str]:
    return [
        f"machine: {m.cpu}; {m.cores} cores; {m.ram_gb:.1f} GB RAM; Python {m.python}; torch {m.torch or 'not installed'}",
        f"load average at start: {m.load_average[0]:.2f} / {m.load_average[1]:.2f} / {m.load_average[2]:.2f} "
        "(1/5/15 min; other work on the machine slows every timing below)",
        f"data: {data}",
    ]


def throughput_lines(r: ThroughputResult) -> list[str]:
    overhead = r.build_seconds - r.embed_seconds
    return [
        f"1. Indexing throughput: {r.articles:,} Dân Trí articles -> {r.chunks:,} chunks; model {r.model}, batch {r.batch_size}",
        f"   build_index (ingest, chunk, embed, write SQLite/FAISS/BM25): {r.build_seconds:7.1f} s  {r.build_rate:6.1f} chunks/s",
        f"   embedder.embed alone, the same {r.chunks:,} chunk texts:       {r.embed_seconds:7.1f} s  {r.embed_rate:6.1f} chunks/s",
        f"   pipeline overhead: {overhead:.1f} s ({overhead / r.build_seconds:.0%} of the build)" if r.build_seconds else "",
    ]


def _step(label: str, s: BuildStep) -> str:
    return f"   {label:<22}{s.seconds:6.2f} s, {s.chunks_embedded:,} chunks embedded"


def incremental_lines(r: IncrementalResult) -> list[str]:
    lines = [f"2. Incremental re-index: {r.articles:,} Dân Trí articles (one .jsonl file each), {r.chunks:,} chunks"]
    if r.full_build:
        rate = r.full_build.chunks_embedded / r.full_build.seconds if r.full_build.seconds else 0.0
        lines.append(_step("full build (this run)", r.full_build) + f" ({rate:.1f} chunks/s)")
    elif r.full_build_cached:
        lines.append(_step("full build (cached)", r.full_build_cached) + " (when the cached index was built)")
    else:
        lines.append("   full build: reused from the cache")
    lines += [
        _step("nothing changed", r.unchanged),
        _step("1 article edited", r.edit) + f"  ({_verdict(r.edit.seconds, TARGET_INCREMENTAL_S, 's')})",
        _step("article restored", r.restore),
        f"   edited: {r.edited}",
    ]
    return lines


def latency_lines(results: Sequence[ScaleResult], questions: int, top_k: int, dim: int | None) -> list[str]:
    lines = [
        f"3. Query latency: Searcher.search (BM25, FAISS, fusion, grouping, SQLite, highlighting), "
        f"{questions} ViNewsQA questions, top_k {top_k}, one thread of queries",
        f"   Báo Mới articles chunked by the product's chunker. Dense side: random unit vectors of dimension "
        f"{dim or '?'} (search cost does not depend on their values); query vectors random unit too, made before "
        "timing, so query embedding is excluded.",
        "   | chunks | articles | p50 ms | p95 ms | mean ms | max ms | with passages |",
        "   |---|---|---|---|---|---|---|",
    ]
    for r in results:
        lat = r.latency
        lines.append(
            f"   | {lat.chunks:,} | {r.build.articles:,} | {lat.p50_ms:.1f} | {lat.p95_ms:.1f} | {lat.mean_ms:.1f} "
            f"| {lat.max_ms:.1f} | {lat.with_hits:.0%} |"
        )
    at_target = [r for r in results if r.latency.chunks >= TARGET_SCALE]
    if at_target:
        lines.append(f"   at {at_target[0].latency.chunks:,} chunks: {_verdict(at_target[0].latency.p95_ms, TARGET_P95_MS, 'ms p95')}")
    for r in results:
        e = r.latency.embedding
        if e:
            lines.append(
                f"   query embedding ({e.model}, one question at a time, {e.queries} questions): "
                f"p50 {e.p50_ms:.1f} ms, p95 {e.p95_ms:.1f} ms"
            )
            lines.append(
                f"   end to end at {r.latency.chunks:,} chunks (embedding + search): "
                f"p50 ≈ {e.p50_ms + r.latency.p50_ms:.0f} ms, p95 ≤ {e.p95_ms + r.latency.p95_ms:.0f} ms"
            )
    return lines


def memory_lines(results: Sequence[ScaleResult]) -> list[str]:
    lines = [
        "4. Peak RSS (VmHWM), each scale built and served in its own fresh process, in MB",
        "   | chunks | build: model loaded | build: peak | serve: index loaded | serve: after queries | serve + model |",
        "   |---|---|---|---|---|---|",
    ]
    for r in results:
        b, lat = r.build, r.latency
        e = f"{lat.embedding.rss_with_model_mb:,.0f}" if lat.embedding else "-"
        built = " (cached build)" if b.cached else ""
        lines.append(
            f"   | {lat.chunks:,} | {b.model_rss_mb:,.0f} | {b.peak_rss_mb:,.0f}{built} | {lat.rss_loaded_mb:,.0f} "
            f"| {lat.rss_serving_mb:,.0f} | {e} |"
        )
    lines.append(
        "   build: as qabot index, the embedding model is loaded (chunks are sized in its tokens), vectors random. "
        "serve: the index alone, then the model loaded for query embedding (what a bot process holds)."
    )
    for r in results:
        if r.latency.chunks >= TARGET_SCALE:
            lat = r.latency
            serving = lat.embedding.rss_with_model_mb if lat.embedding else lat.rss_serving_mb
            what = "index + model" if lat.embedding else "index alone"
            lines.append(
                f"   at {lat.chunks:,} chunks: serving ({what}) {serving:,.0f} MB, {_verdict(serving, TARGET_RSS_MB, 'MB')}; "
                f"build {r.build.peak_rss_mb:,.0f} MB, {_verdict(r.build.peak_rss_mb, TARGET_RSS_MB, 'MB')}"
            )
            break
    for r in results:
        if r.build.cached:
            lines.append(f"   build figures of {r.build.chunks:,} chunks recorded when that cached index was built ({r.build.built_at}, "
                         f"{r.build.seconds:.0f} s); --rebuild measures them again")
    return lines


def disk_lines(rows: Sequence[tuple[str, DiskUsage]]) -> list[str]:
    lines = [
        "5. Index size on disk, MB",
        "   | index | SQLite | FAISS | BM25 | BM25 token rows | other | total |",
        "   |---|---|---|---|---|---|---|",
    ]
    for name, d in rows:
        lines.append(
            f"   | {name} | {_mb(d.sqlite)} | {_mb(d.faiss)} | {_mb(d.bm25)} | {_mb(d.bm25_rows)} | {_mb(d.other)} | {_mb(d.total)} |"
        )
    lines.append("   BM25: score matrix and vocabulary (what search reads); token rows: kept so a build tokenises only new chunks.")
    return lines
