"""``qabot bench`` at a tiny scale: real ingestion, chunking, indexing and search, with the
random-vector stand-in embedder and whitespace token counts so that nothing waits on a model."""

import json

import numpy as np
import pytest

from retrieval import bench
from retrieval.generations import live_generation
from retrieval.indexer import index_corpus
from retrieval.ingest import load_corpus

from .conftest import PLACES, TOPICS, articles, make_config, whitespace_tokens


@pytest.fixture
def small_index(tmp_path):
    cfg = make_config(tmp_path, tmp_path / "corpus", chunking={"max_tokens": 40, "overlap_tokens": 10})
    bench.write_corpus(cfg.corpus.path, bench.article_files(articles(40)))
    embedder = bench.RandomVectorEmbedder(384, "test", whitespace_tokens)
    summary = index_corpus(cfg, embedder)
    return cfg, summary


def test_sections_and_scales_are_parsed_and_checked():
    assert bench.parse_sections([]) == list(bench.SECTIONS)
    assert bench.parse_sections(["latency,throughput"]) == ["throughput", "latency"]
    assert bench.parse_sections(["incremental", "latency"]) == ["incremental", "latency"]
    with pytest.raises(ValueError, match="speed"):
        bench.parse_sections(["speed"])
    assert bench.parse_scales("100000,10_000") == [10_000, 100_000]
    with pytest.raises(ValueError):
        bench.parse_scales("10k")


def test_missing_data_folder_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "shared" / "data"
    with pytest.raises(bench.BenchDataMissing, match=str(missing)):
        bench.check_data(missing)
    (missing / "dantri-news").mkdir(parents=True)
    with pytest.raises(bench.BenchDataMissing, match="uvn_dantri_2653"):
        bench.check_data(missing, ["incremental"])
    shown = []
    cfg = make_config(tmp_path, tmp_path / "corpus")
    with pytest.raises(bench.BenchDataMissing, match=str(tmp_path / "nope")):
        bench.run(cfg, data=tmp_path / "nope", cache=tmp_path / "cache", show=shown.append, stage=shown.append)
    assert shown == []  # nothing ran


def test_bad_arguments_are_refused_before_anything_runs(tmp_path):
    cfg = make_config(tmp_path, tmp_path / "corpus")
    shown = []
    run = {"data": tmp_path / "nope", "cache": tmp_path / "cache", "show": shown.append, "stage": shown.append}
    with pytest.raises(ValueError, match="unknown bench section"):
        bench.run(cfg, only=["speed"], **run)
    with pytest.raises(ValueError, match="--scales"):
        bench.run(cfg, scales="10k", **run)
    with pytest.raises(ValueError, match="--sample and --queries must be at least 1"):
        bench.run(cfg, sample=0, **run)
    assert shown == [] and not (tmp_path / "cache").exists()


def test_random_vectors_are_unit_stable_and_distinct():
    emb = bench.RandomVectorEmbedder(384, "test")
    a, b = emb.encode(["Giá lúa tăng?", "Cầu mới ở Huế?"], "query")
    assert np.linalg.norm(a) == pytest.approx(1, abs=1e-5) and a.shape == (384,)
    assert np.array_equal(a, emb.encode(["Giá lúa tăng?"], "query")[0])
    assert abs(float(a @ b)) < 0.3
    with pytest.raises(RuntimeError):
        emb.count_tokens(["x"])


def test_latency_bench_searches_the_index_through_the_searcher(small_index, monkeypatch):
    cfg, summary = small_index
    assert summary.chunks > summary.documents == 40  # several chunks per article
    questions = [f"{topic} ở {place} thu hút bao nhiêu người?" for place in PLACES for topic in TOPICS]
    searched = []
    search = bench.scale.Searcher.search
    monkeypatch.setattr(bench.scale.Searcher, "search", lambda self, q, **kw: searched.append(q) or search(self, q, **kw))
    result = bench.serve_scale(cfg, cfg.index.path, questions)
    # Every question went through the searcher over this index; those after the warm-up were timed.
    assert searched == questions
    assert result.chunks == summary.chunks and result.dim == 384
    assert result.queries == len(questions) - bench.WARMUP_QUESTIONS
    assert result.with_hits == 1.0
    assert result.p50_ms > 0 and result.mean_ms > 0
    assert result.rss_loaded_mb > 0  # a peak was read (VmHWM, or ru_maxrss without /proc)

    disk = bench.index_disk_usage(cfg.index.path)
    assert disk.sqlite and disk.faiss and disk.bm25 and disk.bm25_rows
    files = [p for p in live_generation(cfg.index.path).rglob("*") if p.is_file()]
    assert disk.total == sum(p.stat().st_size for p in files)


def test_scale_documents_are_what_the_ingester_reads_from_shard_files(tmp_path):
    records = articles(12)
    # Into the second file: an id seen just before (the ingester keeps the first) and no text.
    records[7:7] = [dict(records[6], title="Bài trùng mã"), {"id": "trong", "title": "Không có bài", "text": "  "}]
    per_file = 5
    shards = {
        f"baomoi-{i // per_file:04d}.jsonl": "".join(bench.jsonl_line(r) for r in records[i : i + per_file])
        for i in range(0, len(records), per_file)
    }
    bench.write_corpus(tmp_path / "corpus", shards)
    from_files = load_corpus(tmp_path / "corpus").documents
    docs = list(bench.scale_documents(records, per_file))
    assert sorted(docs, key=lambda d: d.doc_id) == sorted(from_files, key=lambda d: d.doc_id)
    assert len(docs) == 12 and docs[0].doc_id == "baomoi-0000.jsonl#bai-000"
    assert next(d for d in docs if d.doc_id == "baomoi-0001.jsonl#bai-006").title == records[6]["title"]


def test_incremental_bench_edits_one_article_and_puts_it_back(tmp_path):
    cfg = make_config(tmp_path, tmp_path / "unused", chunking={"max_tokens": 40, "overlap_tokens": 10})
    embedder = bench.RandomVectorEmbedder(384, "test", whitespace_tokens)
    records = articles(12)
    first = bench.bench_incremental(cfg, embedder, records, tmp_path / "work")
    assert first.full_build and first.full_build.added == 12
    assert first.unchanged.chunks_embedded == 0
    assert first.edit.changed == 1 and first.edit.chunks_embedded > 0
    # The edit appends a sentence: the article's chunks are embedded again, one more of them.
    assert first.restore.changed == 1 and 0 < first.restore.chunks_embedded <= first.edit.chunks_embedded
    assert first.edited.endswith("#bai-006")
    corpus = tmp_path / "work" / "corpus"
    assert json.loads((corpus / "bai-006.jsonl").read_text(encoding="utf-8")) == records[6]

    again = bench.bench_incremental(cfg, embedder, records, tmp_path / "work")
    assert again.full_build is None and again.full_build_cached == first.full_build
    assert again.chunks == first.chunks and again.disk.total > 0


def test_report_lines_name_the_targets(small_index):
    cfg, _ = small_index
    lat = bench.serve_scale(cfg, cfg.index.path, ["Giá lúa ở Cần Thơ tăng bao nhiêu?"] * 25)
    lat.chunks = 100_000  # as if at the target scale
    lat.rss_serving_mb = 900.0  # the report's wording is under test, not this test process's memory
    build = bench.ScaleBuild(100_000, 1, 100_000, 1.0, 700.0, 2000.0, "2026-01-01T00:00:00+00:00")
    lines = "\n".join(bench.latency_lines([bench.ScaleResult(build, lat, None)], 5, 3, 384))
    assert "random unit vectors of dimension 384" in lines and "target ≤ 50 ms p95: met" in lines
    memory = "\n".join(bench.memory_lines([bench.ScaleResult(build, lat, None)]))
    assert f"serving (index alone) {lat.rss_serving_mb:,.0f} MB, target ≤ 1300 MB: met" in memory
    assert "build of 100,000 chunks: 2,000 MB, target ≤ 1536 MB: MISSED" in memory


@pytest.mark.slow
def test_fresh_process_peak_is_its_own():
    # ru_maxrss would report this (large) process's peak in the child; VmHWM does not.
    ballast = np.ones(400 * 1024 * 1024 // 8)
    child = bench.in_fresh_process(bench.peak_rss_mb)
    assert child < bench.peak_rss_mb() - 300
    del ballast


# --- qabot bench --json: the flat figures -------------------------------------------------------


def _machine():
    return bench.Machine("test cpu", 2, 8.0, "3.11", None, (1.5, 1.0, 0.5))


def _throughput(baseline_seconds=30.0, baseline_is_encoder=False):
    return bench.ThroughputResult(
        "e5+onnx-int8", 16, 20, 120, build_seconds=12.0, embed_seconds=10.0,
        baseline_model="e5", baseline_seconds=baseline_seconds, baseline_is_encoder=baseline_is_encoder,
    )


def _incremental(full_build=None):
    step = bench.BuildStep
    return bench.IncrementalResult(
        articles=2653, chunks=13660, edited="x.jsonl#1", full_build=full_build, full_build_cached=None,
        unchanged=step(2.3, 0), edit=step(4.5, 6, changed=1), restore=step(4.4, 6, changed=1),
    )


def _scale(n, chunks, p95, with_model):
    build = bench.ScaleBuild(n, 100, chunks, 60.0, 700.0, 3100.0 if n > 10_000 else 1200.0, "2026-01-01T00:00:00+00:00", cached=True)
    embedding = bench.QueryEmbedding("e5", 20, 14.0, 16.0, 1428.0) if with_model else None
    lat = bench.LatencyResult(chunks, 384, 300, p95 / 2, p95, p95 / 2, p95 * 2, 1.0, 600.0, 731.0, embedding)
    return bench.ScaleResult(build, lat, bench.DiskUsage(105_000_000, 154_000_000, 409_000_000, 237_000_000, 1_000_000))


def test_figures_name_every_measure_under_a_flat_key():
    results = bench.BenchResults(
        _machine(), _throughput(), _incremental(), [_scale(10_000, 10_001, 4.7, False), _scale(100_000, 100_000, 11.4, True)]
    )
    figures = bench.bench_figures(results)
    # The keys issue 13 is judged by, numbers all.
    for key in ("encoder_chunks_per_s", "baseline_chunks_per_s", "build_peak_rss_mb@10000", "build_peak_rss_mb@100000",
                "serve_peak_rss_mb@100000", "retrieval_p95_ms@100000"):
        assert isinstance(figures[key], (int, float)) and not isinstance(figures[key], bool), key
    assert figures["encoder"] == "e5+onnx-int8" and figures["baseline_encoder"] == "e5"
    assert figures["encoder_chunks_per_s"] == 12.0 and figures["baseline_chunks_per_s"] == 4.0
    assert figures["encoder_speedup"] == 3.0
    # Scale keys carry the chunk count asked for, not the count built (10,001).
    assert figures["chunks@10000"] == 10_001 and "chunks@10001" not in figures
    assert figures["build_peak_rss_mb@100000"] == 3100.0 and figures["build_peak_rss_mb@10000"] == 1200.0
    assert figures["retrieval_p95_ms@100000"] == 11.4 and figures["retrieval_p50_ms@100000"] == 5.7
    # Serving with the model where it was loaded; the index alone elsewhere, and a key says which.
    assert figures["serve_peak_rss_mb@100000"] == 1428.0 and figures["serve_peak_rss_with_model@100000"] is True
    assert figures["serve_peak_rss_mb@10000"] == 731.0 and figures["serve_peak_rss_with_model@10000"] is False
    assert figures["index_disk_mb@100000"] == 906.0
    assert figures["incremental_edit_seconds"] == 4.5 and "incremental_full_build_seconds" not in figures
    assert figures["load_average_1min"] == 1.5
    json.dumps(figures)  # one JSON object, as printed


def test_figures_of_sections_not_run_are_absent_not_null():
    figures = bench.bench_figures(bench.BenchResults(_machine(), incremental=_incremental(bench.BuildStep(900.0, 13660))))
    assert figures["incremental_full_build_seconds"] == 900.0
    assert not [k for k in figures if k.startswith(("encoder", "baseline", "retrieval", "build", "serve", "chunks@"))]
    assert None not in figures.values()
    only_latency = bench.bench_figures(bench.BenchResults(_machine(), scales=[_scale(2000, 2003, 3.0, True)]))
    assert "retrieval_p95_ms@2000" in only_latency and "serve_peak_rss_mb@100000" not in only_latency
    assert "encoder_chunks_per_s" not in only_latency and "incremental_edit_seconds" not in only_latency


def test_ivf_figures_come_from_the_sized_synthetic_sets_only():
    from retrieval.bench.ivf import IvfResult

    sized = IvfResult("clustered 1,000,000", "fp16", 1_000_000, 384, 200, 1000, 300, 0.9876, 0.9985,
                      flat_ms=(200.0, 290.0), ivf_ms=(50.0, 80.0), flat_bytes=1_544_000_000, ivf_bytes=794_000_000)
    real = IvfResult("e5 vinewsqa-dev", "fp16", 1295, 384, 200, 33, 10, 0.875, 0.97)
    figures = bench.bench_figures(bench.BenchResults(_machine(), ivf=[sized, real]))
    assert figures["ivf_fp16_recall@1000000"] == 0.988 and figures["ivf_fp16_nprobe@1000000"] == 300
    assert figures["ivf_fp16_p95_ms@1000000"] == 80.0 and figures["flat_p95_ms@1000000"] == 290.0
    assert figures["flat_mb@1000000"] == 1544.0 and figures["ivf_fp16_mb@1000000"] == 794.0
    assert not [k for k in figures if k.endswith("@1295")]


def test_baseline_is_fp32_torch_of_the_same_model_and_reused_when_it_is_the_encoder():
    from dataclasses import replace

    from retrieval.config import EmbeddingConfig

    onnx = EmbeddingConfig(backend="onnx", quantize="int8", batch_size=8)
    base = bench.baseline_embedding(onnx)
    assert (base.backend, base.quantize, base.model, base.batch_size) == ("sentence-transformers", None, onnx.model, 8)
    assert bench.baseline_embedding(EmbeddingConfig()) == replace(EmbeddingConfig(), backend="sentence-transformers", quantize=None)
    fp32 = EmbeddingConfig(backend="sentence-transformers", quantize=None)
    assert bench.baseline_embedding(fp32) is None  # already the baseline: no second model

    lines = "\n".join(bench.throughput_lines(_throughput()))
    assert "fp32 PyTorch baseline (e5)" in lines and "4.0 chunks/s" in lines
    assert "encoder vs fp32 PyTorch: 3.00x  (target ≥ 2x: met)" in lines
    same = "\n".join(bench.throughput_lines(_throughput(baseline_seconds=10.0, baseline_is_encoder=True)))
    assert "the configured encoder itself" in same and "1.00x  (target ≥ 2x: MISSED)" in same


def test_only_takes_the_bot_section_beside_the_engines():
    from bot.bench import BOT_SECTION
    from bot.cli import build_parser

    known = (*bench.SECTIONS, BOT_SECTION)
    assert bench.parse_sections([], known) == ["throughput", "incremental", "latency", "bot"]
    assert bench.parse_sections(["bot,latency"], known) == ["latency", "bot"]
    with pytest.raises(ValueError, match="unknown bench section"):
        bench.parse_sections(["bot"])  # the engine alone does not know the bot
    args = build_parser().parse_args(["bench", "--only", "bot", "--json", "--set", "embedding.query_batch_ms=0"])
    assert (args.only, args.json, args.set) == (["bot"], True, ["embedding.query_batch_ms=0"])


def test_cli_refuses_an_unknown_section(capsys):
    from bot.cli import main

    assert main(["bench", "--only", "bots"]) == 2
    assert "unknown bench section(s) bots; choose from throughput, incremental, latency, bot" in capsys.readouterr().err
