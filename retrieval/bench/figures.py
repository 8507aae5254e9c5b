"""The bench's results, and the same as one flat dict of named figures (``qabot bench --json``), so
a script can check any of them without reading report lines.

Keys name what was measured and, for the scale sections, the chunk count asked for (``--scales``)
after an ``@``: ``retrieval_p95_ms@100000``. A section that did not run has no keys at all (not
null, not 0), so a missing figure can never pass for a measured one. Times are in seconds or
milliseconds and memory in MB (10^6 bytes for disk, 2^20 for RSS, as the report lines show them),
as each key's suffix says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .incremental import IncrementalResult
from .ivf import IvfResult
from .machine import Machine
from .scale import ScaleResult
from .throughput import ThroughputResult

Figures = dict[str, float | int | str | bool]


@dataclass
class BenchResults:
    """What one ``run`` measured: None (or no scales) for each section it did not run."""

    machine: Machine
    throughput: ThroughputResult | None = None
    incremental: IncrementalResult | None = None
    scales: list[ScaleResult] = field(default_factory=list)
    ivf: list[IvfResult] = field(default_factory=list)


def machine_figures(m: Machine) -> Figures:
    # Other work on the machine slows every timing: the load says how far to trust them.
    return {"cores": m.cores, "load_average_1min": round(m.load_average[0], 2)}


def throughput_figures(t: ThroughputResult) -> Figures:
    out: Figures = {
        "encoder": t.model,
        "encoder_chunks_per_s": t.embed_rate,
        "encoder_seconds": t.embed_seconds,
        "throughput_articles": t.articles,
        "throughput_chunks": t.chunks,
        "batch_size": t.batch_size,
        "index_chunks_per_s": t.build_rate,  # index_corpus: reading, chunking, embedding, writing
        "index_seconds": t.build_seconds,
    }
    if t.baseline_seconds is not None:
        out.update(
            {
                "baseline_encoder": t.baseline_model or "",
                "baseline_chunks_per_s": t.baseline_rate or 0.0,
                "baseline_seconds": t.baseline_seconds,
                "baseline_is_encoder": t.baseline_is_encoder,
            }
        )
        if t.speedup is not None:
            out["encoder_speedup"] = t.speedup
    return out


def incremental_figures(r: IncrementalResult) -> Figures:
    out: Figures = {
        "incremental_articles": r.articles,
        "incremental_chunks": r.chunks,
        "incremental_unchanged_seconds": r.unchanged.seconds,
        "incremental_edit_seconds": r.edit.seconds,
        "incremental_edit_chunks_embedded": r.edit.chunks_embedded,
        "incremental_restore_seconds": r.restore.seconds,
    }
    if r.full_build:  # only when this run built the whole index (not reused from the cache)
        out["incremental_full_build_seconds"] = r.full_build.seconds
    return out


def scale_figures(r: ScaleResult) -> Figures:
    at = f"@{r.build.chunks_wanted}"
    b, lat = r.build, r.latency
    out: Figures = {
        f"chunks{at}": lat.chunks,
        f"index_backend{at}": lat.backend,
        f"build_seconds{at}": b.seconds,
        f"build_peak_rss_mb{at}": b.peak_rss_mb,
        f"build_model_rss_mb{at}": b.model_rss_mb,
        # Build figures of a cached index were recorded when it was built (--rebuild remeasures).
        f"build_cached{at}": b.cached,
        f"retrieval_p50_ms{at}": lat.p50_ms,
        f"retrieval_p95_ms{at}": lat.p95_ms,
        f"retrieval_mean_ms{at}": lat.mean_ms,
        f"retrieval_max_ms{at}": lat.max_ms,
        f"serve_index_rss_mb{at}": lat.rss_serving_mb,
        # The serving process's peak with the embedding model loaded (what a bot holds) where the
        # model was loaded (the largest scale), else the index alone: the next key says which.
        f"serve_peak_rss_mb{at}": lat.embedding.rss_with_model_mb if lat.embedding else lat.rss_serving_mb,
        f"serve_peak_rss_with_model{at}": lat.embedding is not None,
    }
    if r.disk is not None:
        out[f"index_disk_mb{at}"] = r.disk.total / 1e6
    if lat.embedding is not None:
        out["query_embedding_p50_ms"] = lat.embedding.p50_ms
        out["query_embedding_p95_ms"] = lat.embedding.p95_ms
    return out


def ivf_figures(r: IvfResult) -> Figures:
    """The sized synthetic sets only (``ivf_fp16_recall@1000000``): the uniform worst case and the
    small real sets are in the report lines, not targets."""
    if not r.data.startswith("clustered"):
        return {}
    at, ivf = f"@{r.vectors}", f"ivf_{r.codes}"
    return {
        f"{ivf}_recall{at}": r.recall,  # of flat's top 100, at the configured share of lists
        f"{ivf}_nprobe{at}": r.nprobe,
        f"{ivf}_p95_ms{at}": r.ivf_ms[1],
        f"{ivf}_mb{at}": r.ivf_bytes / 1e6,
        f"flat_p95_ms{at}": r.flat_ms[1],
        f"flat_mb{at}": r.flat_bytes / 1e6,
    }


def bench_figures(results: BenchResults) -> Figures:
    """Every figure of ``results`` under its key; sections that did not run add none."""
    out = machine_figures(results.machine)
    if results.throughput is not None:
        out.update(throughput_figures(results.throughput))
    if results.incremental is not None:
        out.update(incremental_figures(results.incremental))
    for r in results.scales:
        out.update(scale_figures(r))
    for r in results.ivf:
        out.update(ivf_figures(r))
    return rounded(out)


def rounded(figures: Figures) -> Figures:
    """Floats to 3 decimals: timer noise beyond that is not a figure."""
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
