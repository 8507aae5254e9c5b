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
    run = dict(data=tmp_path / "nope", cache=tmp_path / "cache", show=shown.append, stage=shown.append)
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
    assert f"serving (index alone) {lat.rss_serving_mb:,.0f} MB, target ≤ 1536 MB: met" in memory
    assert "build 2,000 MB, target ≤ 1536 MB: MISSED" in memory


@pytest.mark.slow
def test_fresh_process_peak_is_its_own():
    # ru_maxrss would report this (large) process's peak in the child; VmHWM does not.
    ballast = np.ones(400 * 1024 * 1024 // 8)
    child = bench.in_fresh_process(bench.peak_rss_mb)
    assert child < bench.peak_rss_mb() - 300
    del ballast
