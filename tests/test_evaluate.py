import json

import pytest

from retrieval.evaluate import (
    DatasetError,
    article_metrics,
    contains_answer,
    hit_at,
    load_beir,
    load_dataset,
    mrr_at,
    ndcg_at,
    prepare_index,
    quote_metrics,
    run_queries,
)
from retrieval.indexer import load_index, manifest_for
from retrieval.search import Searcher

from .conftest import make_config


def test_metrics_on_a_ranked_list():
    ranked, rel = ["b", "a", "c"], {"a"}
    assert hit_at(ranked, rel, 1) == 0 and hit_at(ranked, rel, 3) == 1
    assert mrr_at(ranked, rel, 10) == 0.5
    assert ndcg_at(ranked, rel, 10) == pytest.approx(1 / 1.5849625)
    m = article_metrics({"q1": ranked, "q2": ["a"]}, {"q1": rel, "q2": rel})
    assert m["hit@1"] == 0.5 and m["mrr@10"] == 0.75


def test_eval_on_a_small_beir_folder(tmp_path, e5):
    data = tmp_path / "mini"
    data.mkdir()
    docs = {
        "d1": ("Khánh thành cầu Rạch Miễu 2", "Sáng 5/3, cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre được khánh thành."),
        "d2": ("Giá lúa tăng mạnh", "Giá lúa tại Cần Thơ tăng 5% trong tuần qua do nhu cầu xuất khẩu."),
    }
    (data / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}, ensure_ascii=False) + "\n" for k, (t, x) in docs.items()),
        encoding="utf-8",
    )
    queries = {"q1": "Cầu Rạch Miễu 2 nối những tỉnh nào?", "q2": "Giá lúa ở Cần Thơ tăng bao nhiêu?"}
    (data / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": t}, ensure_ascii=False) + "\n" for k, t in queries.items()), encoding="utf-8"
    )
    (data / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    dataset = load_beir(data)
    cfg = make_config(tmp_path, tmp_path / "unused")
    run_cfg, summary = prepare_index(dataset, cfg, e5, tmp_path / "cache", progress=False)
    assert summary.documents == 2
    _, again = prepare_index(dataset, cfg, e5, tmp_path / "cache", progress=False)
    assert again.chunks_embedded == 0  # cached: a second run embeds nothing
    searcher = Searcher(load_index(run_cfg.index.path, manifest_for(run_cfg, e5)), e5, run_cfg.retrieval)
    result = run_queries(searcher, dataset)
    assert result.metrics["hit@1"] == 1.0
    folded = run_queries(searcher, dataset, unaccented=True)
    assert folded.metrics["hit@1"] == 1.0


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
