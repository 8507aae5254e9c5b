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
    sentence_metrics,
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


def test_sentence_level_metric_counts_the_highlight_and_its_share_of_right_quotes():
    quote = (
        "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên. "
        "Đồng chí Nguyễn Long Hải dự và chỉ đạo hội nghị."
    )
    where = quote.index("Đồng chí")
    # q1: right quote, the highlight is the dateline; q2: right quote, wrong sentence lit;
    # q3: wrong quote altogether (its highlight cannot hold the answer either).
    found = {"q1": [True], "q2": [True, False], "q3": [False, True]}
    lit = {
        "q1": contains_answer(quote[:where], ["tại Hà Nội"]),
        "q2": contains_answer(quote[where:], ["tại Hà Nội"]),
        "q3": False,
    }
    assert lit == {"q1": True, "q2": False, "q3": False}
    m = sentence_metrics(found, lit)
    assert m["sentence@1"] == 1 / 3
    assert m["sentence_of_quote@1"] == 1 / 2
    assert sentence_metrics({}, {}) == {}


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


# --- follow-ups (issue 12): each question after the previous one of its article, and after another article's


CHAT_DOCS = {
    **DOCS,
    "d3": ("Ghép gan thành công cho bé 2 tuổi tại Bệnh viện Chợ Rẫy", "Bệnh nhân bị teo đường mật bẩm sinh. Ca phẫu thuật kết thúc sau 10 giờ."),
}
CHAT_QUERIES = {  # grouped by article, in order, as vinewsqa's are
    "q1": ("Cầu Rạch Miễu 2 nối những tỉnh nào?", "d1"),
    "q2": ("Cầu được khánh thành khi nào?", "d1"),
    "q3": ("Giá lúa ở Cần Thơ tăng bao nhiêu?", "d2"),
    "q4": ("Vì sao giá tăng?", "d2"),
    "q5": ("Bé ghép gan ở Chợ Rẫy bị bệnh gì?", "d3"),
    "q6": ("Ca phẫu thuật kết thúc sau bao lâu?", "d3"),
}


def chat_folder(folder, order=CHAT_QUERIES):
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}, ensure_ascii=False) + "\n" for k, (t, x) in CHAT_DOCS.items()),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": order[k][0]}, ensure_ascii=False) + "\n" for k in order), encoding="utf-8"
    )
    (folder / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{k}\t{d}\t1\n" for k, (_, d) in order.items()), encoding="utf-8"
    )
    return folder


def test_followups_add_two_rows_with_the_default_rows_keys(tmp_path, e5, monkeypatch):
    from retrieval.evaluation import result_json, runner

    data = load_beir(chat_folder(tmp_path / "chat"))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"corpus": {"path": str(tmp_path / "unused")}}), encoding="utf-8")
    monkeypatch.setattr(runner, "load_embedder", lambda cfg, install=False: e5)
    asked = []
    real = runner.search_in_context
    monkeypatch.setattr(runner, "search_in_context", lambda s, q, prev, *a, **k: asked.append((q, prev and prev.question)) or real(s, q, prev, *a, **k))
    results = compare(data, config, {}, [("default", {})], tmp_path / "cache", followups=True)
    assert [r.name for r in results] == ["default", "follow-up", "topic-switch"]
    keys = list(result_json(results[0]))
    assert all(list(result_json(r)) == keys for r in results)
    follow, switch = asked[: len(CHAT_QUERIES)], asked[len(CHAT_QUERIES) :]
    # A chat per article: its first question alone, each next one after the one before it.
    assert follow[:2] == [("Cầu Rạch Miễu 2 nối những tỉnh nào?", None), ("Cầu được khánh thành khi nào?", "Cầu Rạch Miễu 2 nối những tỉnh nào?")]
    assert [prev is None for _, prev in follow] == [True, False, True, False, True, False]
    # The control: every question after one of another article, the same ones every run.
    article = {t: d for t, d in CHAT_QUERIES.values()}
    assert all(prev is not None and article[prev] != article[q] for q, prev in switch)
    again = []
    monkeypatch.setattr(runner, "search_in_context", lambda s, q, prev, *a, **k: again.append((q, prev and prev.question)) or real(s, q, prev, *a, **k))
    compare(data, config, {}, [("default", {})], tmp_path / "cache", followups=True)
    assert again == asked


def test_followups_need_questions_grouped_by_article(tmp_path, e5, monkeypatch):
    from retrieval.evaluation import runner

    scrambled = {k: CHAT_QUERIES[k] for k in ("q1", "q3", "q2", "q4", "q5", "q6")}
    data = load_beir(chat_folder(tmp_path / "chat", scrambled))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"corpus": {"path": str(tmp_path / "unused")}}), encoding="utf-8")
    monkeypatch.setattr(runner, "load_embedder", lambda cfg, install=False: e5)
    with pytest.raises(DatasetError, match="not grouped by article"):
        compare(data, config, {}, [("default", {})], tmp_path / "cache", followups=True)
