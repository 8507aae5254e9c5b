"""``qabot bench``: how fast the product indexes and answers, and what it costs in memory and disk,
on the shared Vietnamese news data (``../shared/data``, never copied into the repository).

- throughput: a sample of Dân Trí articles, one file each, through ``index_corpus`` (what
  ``qabot index`` runs) with the configured embedder, against the same embedder's raw speed on
  exactly the same chunk texts;
- incremental: the full Dân Trí corpus (one file per article, cached under the bench folder),
  one article edited, re-indexed, restored;
- latency: Báo Mới articles chunked by the product's chunker into indexes of 10k / 100k chunks
  with random unit vectors on the dense side, queried through the bot's own ``Searcher``; each
  scale is built and served in fresh processes so their memory peaks do not mix.

The sections return dataclasses and ``report`` turns them into lines; ``run`` runs the chosen
sections, hands those lines to its caller's ``show`` (the engine never prints) and returns the
results, which ``figures`` flattens into the named figures of ``qabot bench --json``. The bot's
own benchmark (the fourth section, ``bot``) lives in ``bot.bench``: the engine never imports the
bot.

One job a module: ``data`` (the shared files, corpus folders), ``machine`` (the machine, memory
peaks, fresh processes), ``disk`` (index size), ``embedders`` (the random-vector stand-in, model
warm-up), ``throughput``, ``incremental`` and ``scale`` (one section each), ``report`` (lines),
``figures`` (flat dict).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import Config
from ..embedder import load_embedder
from .data import (
    BAOMOI_FILE,
    DANTRI_FILE,
    QUESTIONS_FILE,
    BenchDataMissing,
    article_files,
    bench_config,
    check_data,
    jsonl_line,
    read_baomoi,
    read_dantri,
    read_questions,
    spread_sample,
    write_corpus,
)
from .disk import DiskUsage, index_disk_usage
from .embedders import RandomVectorEmbedder, warm_up
from .figures import BenchResults, Figures, bench_figures, machine_figures, rounded
from .incremental import BuildStep, IncrementalResult, bench_incremental
from .ivf import bench_ivf, ivf_lines
from .machine import Machine, in_fresh_process, machine_info, peak_rss_mb
from .report import (
    TARGET_INCREMENTAL_S,
    TARGET_P95_MS,
    TARGET_RSS_MB,
    TARGET_SCALE,
    TARGET_SPEEDUP,
    disk_lines,
    incremental_lines,
    latency_lines,
    machine_lines,
    memory_lines,
    throughput_lines,
    verdict,
)
from .scale import (
    WARMUP_QUESTIONS,
    LatencyResult,
    QueryEmbedding,
    ScaleBuild,
    ScaleResult,
    bench_query_embedding,
    bench_scale,
    build_scale,
    scale_documents,
    serve_scale,
)
from .throughput import ThroughputResult, baseline_embedding, bench_throughput

SECTIONS = ("throughput", "incremental", "latency")  # in the order they run and report
DEFAULT_SAMPLE = 200  # Dân Trí articles indexed for throughput
DEFAULT_QUERIES = 300  # questions timed at each scale
DEFAULT_SCALES = "10000,100000"  # chunk counts for latency and memory
# Questions the real model embeds one at a time, beside the largest index only.
QUERY_EMBEDDING_QUESTIONS = 20

Show = Callable[[list[str]], None]  # one block of report lines
Stage = Callable[[str], None]  # what runs next, while it runs


def parse_sections(values: Sequence[str] | None, known: Sequence[str] = SECTIONS) -> list[str]:
    """``--only`` values (repeatable, each possibly a comma list) in the order of ``known``; all
    of ``known`` if none. ``qabot bench`` passes the engine's sections and the bot's."""
    chosen = {v.strip() for value in values or [] for v in value.split(",") if v.strip()}
    unknown = chosen - set(known)
    if unknown:
        raise ValueError(f"unknown bench section(s) {', '.join(sorted(unknown))}; choose from {', '.join(known)}")
    return [s for s in known if s in chosen] if chosen else list(known)


def parse_scales(value: str) -> list[int]:
    try:
        scales = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--scales wants chunk counts like 10000,100000, got {value!r}") from None
    if not scales or min(scales) <= 0:
        raise ValueError(f"--scales wants positive chunk counts, got {value!r}")
    return sorted(set(scales))


def run(
    cfg: Config,
    *,
    data: Path,
    cache: Path,
    show: Show,
    stage: Stage,
    only: Sequence[str] = (),
    sample: int = DEFAULT_SAMPLE,
    queries: int = DEFAULT_QUERIES,
    scales: str = DEFAULT_SCALES,
    rebuild: bool = False,
    progress: bool = False,
) -> BenchResults:
    """The bench: the sections ``only`` names (``--only`` values; all by default) on the shared
    data in ``data``, with corpora and indexes cached under ``cache``.

    ``show`` gets each block of report lines as soon as it is ready, ``stage`` a short note of
    what runs next; ``progress`` shows the indexer's progress bars on stderr. Bad arguments are
    ``ValueError``s and missing data ``BenchDataMissing``, raised before anything runs.
    ``sample`` Dân Trí articles are indexed for throughput, ``queries`` questions timed at each
    scale of ``scales`` (chunk counts, ``--scales``), whose cached indexes ``rebuild`` builds again.
    Returns what was measured (``bench_figures`` flattens it)."""
    sections = parse_sections(only)
    chunk_counts = parse_scales(scales)
    if sample < 1 or queries < 1:
        raise ValueError("--sample and --queries must be at least 1")
    data = check_data(Path(data), sections)
    work = Path(cache).resolve()

    results = BenchResults(machine_info())
    show(machine_lines(results.machine, data))
    disk: list[tuple[str, DiskUsage]] = []
    if "throughput" in sections or "incremental" in sections:
        embedder = load_embedder(cfg.embedding, install=True)
        dantri = read_dantri(data)
    if "throughput" in sections:
        base_cfg = baseline_embedding(cfg.embedding)
        # The baseline the default encoder is judged against (issue 13: >= 2x fp32 PyTorch).
        baseline = None if base_cfg is None else load_embedder(base_cfg, install=True)
        stage(
            f"indexing {min(sample, len(dantri))} Dân Trí articles, then embedding their chunks bare"
            + (", then again with the fp32 PyTorch baseline" if baseline is not None else "")
        )
        results.throughput = bench_throughput(
            cfg, embedder, spread_sample(dantri, sample), work / "throughput", progress=progress, baseline=baseline
        )
        del baseline  # its memory is not the other sections'
        show(throughput_lines(results.throughput))
    if "incremental" in sections:
        stage("full Dân Trí index (built once, then cached), then one article edited and restored")
        incremental = results.incremental = bench_incremental(cfg, embedder, dantri, work / "dantri", progress=progress)
        show(incremental_lines(incremental))
        if incremental.disk:
            disk.append((f"Dân Trí, {incremental.chunks:,} chunks", incremental.disk))
    if "latency" in sections:
        questions = read_questions(data, queries + WARMUP_QUESTIONS)
        measured = results.scales
        for n in chunk_counts:
            stage(f"{n:,} chunks: building (or reusing) the index, then querying it, each in a fresh process")
            # The real model is loaded for query embedding once, beside the largest index.
            embed_queries = QUERY_EMBEDDING_QUESTIONS if n == chunk_counts[-1] else 0
            measured.append(bench_scale(cfg, data, work, n, questions, embed_queries, rebuild))
        timed = measured[0].latency.queries if measured else 0
        dim = measured[0].latency.dim if measured else None
        show(latency_lines(measured, timed, cfg.telegram.passages_per_reply, dim))
        show(memory_lines(measured))
        disk += [(f"Báo Mới, {r.latency.chunks:,} chunks", r.disk) for r in measured if r.disk]
        # Dense index kinds: flat against IVF at 100k and 1M vectors (``ivf``), nothing cached;
        # real e5 vectors from the eval caches beside the index and the Dân Trí bench index, if built.
        real = (cfg.index.path.parent / "eval", work / "dantri")
        if cfg.index.backend == "local":  # FAISS's kinds: nothing the Milvus backend uses
            results.ivf = bench_ivf(work / "ivf", cfg.index, real=real, stage=stage)
            show(ivf_lines(results.ivf))
    if disk:
        show(disk_lines(disk))
    return results


__all__ = [
    "BAOMOI_FILE",
    "DANTRI_FILE",
    "DEFAULT_QUERIES",
    "DEFAULT_SAMPLE",
    "DEFAULT_SCALES",
    "QUERY_EMBEDDING_QUESTIONS",
    "QUESTIONS_FILE",
    "SECTIONS",
    "TARGET_INCREMENTAL_S",
    "TARGET_P95_MS",
    "TARGET_RSS_MB",
    "TARGET_SCALE",
    "TARGET_SPEEDUP",
    "WARMUP_QUESTIONS",
    "BenchDataMissing",
    "BenchResults",
    "BuildStep",
    "DiskUsage",
    "Figures",
    "IncrementalResult",
    "LatencyResult",
    "Machine",
    "QueryEmbedding",
    "RandomVectorEmbedder",
    "ScaleBuild",
    "ScaleResult",
    "Show",
    "Stage",
    "ThroughputResult",
    "article_files",
    "baseline_embedding",
    "bench_config",
    "bench_figures",
    "bench_incremental",
    "bench_query_embedding",
    "bench_scale",
    "bench_throughput",
    "build_scale",
    "check_data",
    "disk_lines",
    "in_fresh_process",
    "incremental_lines",
    "index_disk_usage",
    "jsonl_line",
    "latency_lines",
    "machine_figures",
    "machine_info",
    "machine_lines",
    "memory_lines",
    "parse_scales",
    "parse_sections",
    "peak_rss_mb",
    "read_baomoi",
    "read_dantri",
    "read_questions",
    "rounded",
    "run",
    "scale_documents",
    "serve_scale",
    "spread_sample",
    "throughput_lines",
    "verdict",
    "warm_up",
    "write_corpus",
]
