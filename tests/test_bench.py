"""``qabot bench`` at a tiny scale: real ingestion, chunking, indexing and search, with the
random-vector stand-in embedder and whitespace token counts so that nothing waits on a model."""

import json

import numpy as np
import pytest

from retrieval import bench
from retrieval.cli import main
from retrieval.indexer import build_index, live_generation

from .conftest import REPO, make_config

PLACES = ["Hà Nội", "Đà Nẵng", "Cần Thơ", "Huế", "Hải Phòng", "Nha Trang"]
TOPICS = ["lễ hội hoa xuân", "giá lúa tăng", "cầu mới khánh thành", "học sinh thi tốt nghiệp", "mưa lớn gây ngập"]


def whitespace_tokens(texts):
    return [len(t.split()) for t in texts]


def articles(n: int) -> list[dict]:
    """Short Vietnamese news records in the ingester's .jsonl fields, each several chunks long."""
    out = []
    for i in range(n):
        place, topic = PLACES[i % len(PLACES)], TOPICS[i % len(TOPICS)]
        sentences = [
            f"Sáng {i % 28 + 1}/3, tại {place}, chính quyền thông báo về {topic}.",
            f"Theo sở ngành, sự kiện {topic} ở {place} thu hút {100 + i} người tham gia.",
            f"Người dân {place} cho biết họ đã chờ tin {topic} từ lâu.",
            f"Đây là lần thứ {i + 2} {place} ghi nhận {topic} trong năm nay.",
        ] * 3
        out.append({"id": f"bai-{i:03d}", "title": f"{place}: {topic} ({i})", "text": "\n".join(sentences), "source": "Thử"})
    return out


@pytest.fixture
def small_index(tmp_path):
    cfg = make_config(tmp_path, tmp_path / "corpus", chunking={"max_tokens": 40, "overlap_tokens": 10})
    bench.write_corpus(cfg.corpus.path, bench.article_files(articles(40)))
    embedder = bench.RandomVectorEmbedder(384, "test", whitespace_tokens)
    summary = build_index(cfg, embedder)
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


def test_missing_data_folder_is_an_error_naming_it(tmp_path, capsys):
    missing = tmp_path / "shared" / "data"
    with pytest.raises(bench.BenchDataMissing, match=str(missing)):
        bench.check_data(missing)
    (missing / "dantri-news").mkdir(parents=True)
    with pytest.raises(bench.BenchDataMissing, match="uvn_dantri_2653"):
        bench.check_data(missing, ["incremental"])
    assert main(["bench", "--config", str(REPO / "config.yaml"), "--data", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nope") in err and "Traceback" not in err


def test_random_vectors_are_unit_stable_and_distinct():
    emb = bench.RandomVectorEmbedder(384, "test")
    a, b = emb.encode(["Giá lúa tăng?", "Cầu mới ở Huế?"], "query")
    assert np.linalg.norm(a) == pytest.approx(1, abs=1e-5) and a.shape == (384,)
    assert np.array_equal(a, emb.encode(["Giá lúa tăng?"], "query")[0])
    assert abs(float(a @ b)) < 0.3
    with pytest.raises(RuntimeError):
        emb.count_tokens(["x"])


def test_latency_bench_searches_the_index_through_the_searcher(small_index):
    cfg, summary = small_index
    assert summary.chunks > summary.documents == 40  # several chunks per article
    questions = [f"{topic} ở {place} thu hút bao nhiêu người?" for place in PLACES for topic in TOPICS]
    result = bench.serve_scale(cfg, cfg.index.path, questions)
    assert result.chunks == summary.chunks and result.dim == 384
    assert result.queries == len(questions) - bench.WARMUP_QUESTIONS
    assert 0 < result.p50_ms <= result.p95_ms <= result.max_ms
    assert result.with_hits == 1.0
    assert result.rss_serving_mb >= result.rss_loaded_mb > 0

    disk = bench.index_disk_usage(cfg.index.path)
    assert disk.sqlite and disk.faiss and disk.bm25 and disk.bm25_rows
    files = [p for p in live_generation(cfg.index.path).rglob("*") if p.is_file()]
    assert disk.total == sum(p.stat().st_size for p in files)


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
