"""The bench's targets, and its results as report lines (the caller shows them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .disk import DiskUsage
from .incremental import BuildStep, IncrementalResult
from .machine import Machine
from .scale import ScaleResult
from .throughput import ThroughputResult

TARGET_INCREMENTAL_S = 5.0
TARGET_P95_MS = 50.0
TARGET_RSS_MB = 1536.0  # a whole build at TARGET_SCALE chunks
# Issue 13: a build's peak by scale (a /reload must not take a small server down), and a serving
# bot's (index + model) at TARGET_SCALE.
TARGET_BUILD_RSS_MB = {10_000: 800.0, 100_000: TARGET_RSS_MB}
TARGET_SERVE_RSS_MB = 1300.0
TARGET_SCALE = 100_000  # the latency and memory targets are stated at this many chunks
TARGET_SPEEDUP = 2.0  # the default encoder against fp32 PyTorch on the same texts (issue 13)


def verdict(value: float, limit: float, unit: str) -> str:
    """``target ≤ limit unit: met`` (or ``MISSED``), to stand beside a figure."""
    return f"target ≤ {limit:g} {unit}: {'met' if value <= limit else 'MISSED'}"


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f}"


def machine_lines(m: Machine, data: Path | None) -> list[str]:
    """The machine, its load, and the data folder (None: no section read it)."""
    lines = [
        f"machine: {m.cpu}; {m.cores} cores; {m.ram_gb:.1f} GB RAM; Python {m.python}; torch {m.torch or 'not installed'}",
        (
            f"load average at start: {m.load_average[0]:.2f} / {m.load_average[1]:.2f} / {m.load_average[2]:.2f} "
            "(1/5/15 min; other work on the machine slows every timing below)"
        ),
    ]
    return lines if data is None else [*lines, f"data: {data}"]


def throughput_lines(r: ThroughputResult) -> list[str]:
    lines = [
        f"1. Indexing throughput: {r.articles:,} Dân Trí articles -> {r.chunks:,} chunks; model {r.model}, batch {r.batch_size}",
        f"   index_corpus (ingest, chunk, embed, write SQLite/FAISS/BM25): {r.build_seconds:7.1f} s  {r.build_rate:6.1f} chunks/s",
        f"   embedder.embed alone, the same {r.chunks:,} chunk texts:        {r.embed_seconds:7.1f} s  {r.embed_rate:6.1f} chunks/s",
    ]
    if r.build_seconds:
        overhead = r.build_seconds - r.embed_seconds
        lines.append(f"   pipeline overhead: {overhead:.1f} s ({overhead / r.build_seconds:.0%} of the build)")
    if r.baseline_seconds is not None:
        if r.baseline_is_encoder:
            lines.append(f"   fp32 PyTorch baseline: the configured encoder itself ({r.baseline_model}), same figure")
        else:
            lines.append(
                f"   fp32 PyTorch baseline ({r.baseline_model}), the same texts: {r.baseline_seconds:7.1f} s  "
                f"{r.baseline_rate or 0.0:6.1f} chunks/s"
            )
        speedup = r.speedup or 0.0
        lines.append(
            f"   encoder vs fp32 PyTorch: {speedup:.2f}x  "
            f"(target ≥ {TARGET_SPEEDUP:g}x: {'met' if speedup >= TARGET_SPEEDUP else 'MISSED'})"
        )
    return lines


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
        _step("1 article edited", r.edit) + f"  ({verdict(r.edit.seconds, TARGET_INCREMENTAL_S, 's')})",
        _step("article restored", r.restore),
        f"   edited: {r.edited}",
    ]
    return lines


def latency_lines(results: Sequence[ScaleResult], questions: int, top_k: int, dim: int | None) -> list[str]:
    lines = [
        (
            f"3. Query latency: Searcher.search (BM25, FAISS, fusion, grouping, SQLite, highlighting), "
            f"{questions} ViNewsQA questions, top_k {top_k}, one thread of queries"
            if not results or results[0].latency.backend == "local"
            else f"3. Query latency: Searcher.search over index.backend {results[0].latency.backend} (the engine's dense "
            f"and sparse top-k and row fetches; fusion, grouping, highlighting here), {questions} ViNewsQA questions, "
            f"top_k {top_k}, one thread of queries"
        ),
        (
            f"   Báo Mới articles chunked by the product's chunker. Dense side: random unit vectors of dimension "
            f"{dim or '?'} (search cost does not depend on their values); query vectors random unit too, made before "
            "timing, so query embedding is excluded."
        ),
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
        lines.append(f"   at {at_target[0].latency.chunks:,} chunks: {verdict(at_target[0].latency.p95_ms, TARGET_P95_MS, 'ms p95')}")
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
        "   build: as qabot index, the embedding model is loaded (chunks are sized in its tokens), vectors random; "
        "the articles come from the data file, not from corpus files. "
        "serve: the index alone, then the model loaded for query embedding (what a bot process holds)."
    )
    for r in results:
        build_target = TARGET_BUILD_RSS_MB.get(r.build.chunks_wanted)
        if build_target is not None:
            lines.append(f"   build of {r.build.chunks_wanted:,} chunks: {r.build.peak_rss_mb:,.0f} MB, {verdict(r.build.peak_rss_mb, build_target, 'MB')}")
    for r in results:
        if r.latency.chunks >= TARGET_SCALE:
            lat = r.latency
            serving = lat.embedding.rss_with_model_mb if lat.embedding else lat.rss_serving_mb
            what = "index + model" if lat.embedding else "index alone"
            lines.append(f"   at {lat.chunks:,} chunks: serving ({what}) {serving:,.0f} MB, {verdict(serving, TARGET_SERVE_RSS_MB, 'MB')}")
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
