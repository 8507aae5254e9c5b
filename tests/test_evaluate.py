import json
from dataclasses import asdict

import pytest
import yaml

from retrieval.evaluation import (
    CORPUS_FILE,
    DatasetError,
    article_metrics,
    compare,
    contains_answer,
    dataset_corpus,
    hit_at,
    load_beir,
    load_dataset,
    mrr_at,
    ndcg_at,
    prepare_index,
    quote_metrics,
    run_queries,
)
from retrieval.indexer import open_searcher
from retrieval.ingest import FileProblem, parse_jsonl

from .conftest import make_config

DOCS = {
    "d1": ("Khánh thành cầu Rạch Miễu 2", "Sáng 5/3, cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre được khánh thành."),
    "d2": ("Giá lúa tăng mạnh", "Giá lúa tại Cần Thơ tăng 5% trong tuần qua do nhu cầu xuất khẩu."),
}
QUERIES = {"q1": "Cầu Rạch Miễu 2 nối những tỉnh nào?", "q2": "Giá lúa ở Cần Thơ tăng bao nhiêu?"}


def beir_folder(folder, docs=DOCS):
    """A small BEIR folder of Vietnamese news: corpus, queries (with answers) and qrels."""
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}, ensure_ascii=False) + "\n" for k, (t, x) in docs.items()),
        encoding="utf-8",
    )
    answers = {"q1": ["Tiền Giang và Bến Tre"], "q2": ["5%"]}
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": t, "answers": answers[k]}, ensure_ascii=False) + "\n" for k, t in QUERIES.items()),
        encoding="utf-8",
    )
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    return folder


def test_metrics_on_a_ranked_list():
    ranked, rel = ["b", "a", "c"], {"a"}
    assert hit_at(ranked, rel, 1) == 0 and hit_at(ranked, rel, 3) == 1
    assert mrr_at(ranked, rel, 10) == 0.5
    assert ndcg_at(ranked, rel, 10) == pytest.approx(1 / 1.5849625)
    m = article_metrics({"q1": ranked, "q2": ["a"]}, {"q1": rel, "q2": rel})
    assert m["hit@1"] == 0.5 and m["mrr@10"] == 0.75


def test_eval_on_a_small_beir_folder(tmp_path, e5):
    data = beir_folder(tmp_path / "mini")
    dataset = load_beir(data)
    cfg = make_config(tmp_path, tmp_path / "unused")
    run_cfg, summary = prepare_index(dataset, cfg, e5, tmp_path / "cache", progress=False)
    assert summary.documents == 2
    _, again = prepare_index(dataset, cfg, e5, tmp_path / "cache", progress=False)
    assert again.chunks_embedded == 0  # cached: a second run embeds nothing
    assert [p.name for p in (tmp_path / "cache" / "mini").iterdir()] == [run_cfg.index.path.name]  # no corpus file
    searcher = open_searcher(run_cfg, e5, build_if_missing=False)[0]
    result = run_queries(searcher, dataset)
    assert result.metrics["hit@1"] == 1.0
    folded = run_queries(searcher, dataset, unaccented=True)
    assert folded.metrics["hit@1"] == 1.0


def test_dataset_corpus_is_what_ingesting_its_corpus_file_gives(tmp_path):
    docs = {
        **DOCS,
        "d3": ("Trống", "   "),  # rejected: no text
        "d4": ("  Lũ lụt\nở miền Trung ", "Mưa lớn   kéo dài.\r\nNhiều nơi ở Quảng Bình bị ngập sâu."),
    }
    data = load_beir(beir_folder(tmp_path / "mini", docs))
    corpus = dataset_corpus(data)
    got = corpus.documents
    # The route it replaces: a corpus.jsonl of {"id", "title", "text"} records read back by ingestion.
    lines = [json.dumps({"id": i, "title": d["title"], "text": d["text"]}, ensure_ascii=False) for i, d in data.corpus.items()]
    want, problems = parse_jsonl("\n".join(lines) + "\n", CORPUS_FILE)
    assert [asdict(d) for d in got] == [asdict(d) for d in want]
    assert [d.content_hash for d in got] == [d.content_hash for d in want]
    assert [d.doc_id for d in got] == ["corpus.jsonl#d1", "corpus.jsonl#d2", "corpus.jsonl#d4"]
    assert got[2].title == "Lũ lụt ở miền Trung"
    assert corpus.failed == problems == [FileProblem("corpus.jsonl:3", "empty 'text'")]


def test_compare_runs_each_variant_over_one_shared_index(tmp_path, e5, monkeypatch):
    from retrieval.evaluation import runner

    data = load_beir(beir_folder(tmp_path / "mini", {**DOCS, "d3": ("Trống", "")}))
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({"corpus": {"path": str(tmp_path / "unused")}, "index": {"path": str(tmp_path / "index")}}),
        encoding="utf-8",
    )
    loaded, skipped, done = [], [], []
    monkeypatch.setattr(runner, "load_embedder", lambda cfg, install=False: loaded.append(install) or e5)
    results = compare(
        data,
        config,
        {"retrieval.top_k": 5},
        [("default", {}), ("lexical", {"retrieval.fusion": "lexical"})],
        tmp_path / "cache",
        on_skipped=lambda name, problem: skipped.append((name, problem)),
        on_done=done.append,
    )
    assert [r.name for r in results] == done == ["default", "lexical"]
    assert loaded == [True]  # one embedder for both: same embedding settings
    assert len(list((tmp_path / "cache" / "mini").iterdir())) == 1  # BM25-only change: same index
    assert not (tmp_path / "index").exists()  # the configured index is never touched
    problem = FileProblem("corpus.jsonl:3", "empty 'text'")
    assert skipped == [("default", problem), ("lexical", problem)]
    for r in results:
        assert r.metrics["hit@1"] == 1.0 and r.metrics["quote@1"] == 1.0 and r.answered_rate == 1.0, r.misses


def test_quote_level_metrics():
    assert contains_answer("Chiều 28/12,  tại\nHà Nội, Đảng ủy Khối", ["tại Hà Nội"])
    assert contains_answer("Hoà Bình", ["hòa bình"])  # tone placement and case aside
    assert not contains_answer("Hà Nội", ["Ha Noi"])
    m = quote_metrics({"q1": [False, True], "q2": [True], "q3": [False, False]})
    assert m["quote@1"] == 1 / 3 and m["quote@3"] == 2 / 3 and m["quote_mrr@10"] == 0.5


def test_own_case_files_are_checked_line_by_line(tmp_path):
    good = tmp_path / "cases.jsonl"
    good.write_text(
        '{"question": "Ai tổ chức hội nghị?", "answer": "Đảng ủy Khối", "doc_id": "a.txt"}\n'
        '{"question": "Giá vàng hôm nay?", "answer": null}\n'
        '{"question": "Cầu nối tỉnh nào?", "answer": ["Tiền Giang", "Bến Tre"]}\n',
        encoding="utf-8",
    )
    data = load_dataset(good)
    assert data.corpus is None and data.no_answer == {"2"}
    assert data.relevant_docs == {"1": {"a.txt"}} and data.answers["3"] == ["Tiền Giang", "Bến Tre"]
    for bad, message in (
        ('{"question": "Ai?"}', "needs \"answer\""),
        ('{"answer": "x"}', "non-empty \"question\""),
        ('{"question": "Ai?", "answer": ""}', "must be text"),
        ("{not json", "not JSON"),
    ):
        (tmp_path / "bad.jsonl").write_text(good.read_text(encoding="utf-8") + bad + "\n", encoding="utf-8")
        with pytest.raises(DatasetError, match=f"bad.jsonl:4: .*{message}"):
            load_dataset(tmp_path / "bad.jsonl")
    with pytest.raises(DatasetError, match="not a BEIR folder: corpus.jsonl is missing"):
        load_dataset(tmp_path)
