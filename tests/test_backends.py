"""The index-backend contract, over both backends: local files and Milvus (Milvus Lite here, the
engine's C++ build in a wheel). Builds, searches and statistics must agree between them, and a
build must be atomic on both: readers keep their build until the next is whole."""

from __future__ import annotations

import asyncio
import json
from contextlib import contextmanager

import numpy as np
import pytest

from bot.service import QAService
from retrieval.chunking import embedding_text
from retrieval.indexer import build_index, open_index, open_searcher
from retrieval.ingest import document_from_record
from retrieval.milvus.db import visible
from retrieval.query import ACCENTED, FOLDED
from retrieval.text import lexical_tokens

from .conftest import FailingEmbedder, articles, make_config

BACKENDS = ["local", "milvus"]

BRIDGE = {
    "id": "cau-rach-mieu",
    "title": "Khánh thành cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre",
    "text": "Sáng 5/3/2024, tại Bến Tre, cầu Rạch Miễu 2 được khánh thành sau ba năm thi công. "
    "Cây cầu dài 17 km, tổng vốn đầu tư hơn 5.000 tỷ đồng.",
    "date": "2024-03-05",
    "source": "TTXVN",
}


def docs(records):
    return [document_from_record(r, "tin.jsonl", n) for n, r in enumerate(records, 1)]


def corpus(n: int = 8):
    return docs(articles(n) + [BRIDGE])


def config(tmp_path, backend: str, lexical: dict | None = None):
    # Small chunks: an article is several, so removing one takes several rows with it.
    chunking = {"max_tokens": 40, "overlap_tokens": 8}
    return make_config(tmp_path, tmp_path / "corpus", index={"backend": backend}, chunking=chunking, lexical=lexical or {})


@contextmanager
def opened(cfg, embedder):
    """The published index, closed after."""
    index, _ = open_index(cfg, embedder, build_if_missing=False)
    try:
        yield index
    finally:
        index.close()


def every_chunk(index):
    """Every chunk the index serves (ids are handed out from 1 up; these corpora make < 1,000)."""
    return index.chunks(range(1, 10_000))


def chunk_ids(index, doc_id: str | None = None) -> set[int]:
    return {c.chunk_id for c in every_chunk(index) if doc_id is None or c.doc_id == doc_id}


def top_docs(cfg, embedder, question: str, k: int = 3) -> list[str]:
    searcher, _ = open_searcher(cfg, embedder, build_if_missing=False)
    try:
        return [h.chunk.doc_id for h in searcher.search(question, top_k=k).hits]
    finally:
        searcher.index.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_add_remove_readd(tmp_path, backend, stand_in_embedder):
    cfg = config(tmp_path, backend)
    first = build_index(corpus(), cfg, stand_in_embedder)
    assert (first.documents, len(first.added)) == (9, 9) and first.chunks_embedded == first.chunks > 9
    assert top_docs(cfg, stand_in_embedder, "cầu Rạch Miễu 2 dài bao nhiêu km?")[0] == "tin.jsonl#cau-rach-mieu"
    with opened(cfg, stand_in_embedder) as index:
        bridge_ids = chunk_ids(index, "tin.jsonl#cau-rach-mieu")

    removed = build_index(corpus()[:-1], cfg, stand_in_embedder)
    assert (removed.removed, removed.chunks_embedded, removed.documents) == (["tin.jsonl#cau-rach-mieu"], 0, 8)
    with opened(cfg, stand_in_embedder) as index:
        assert not index.knows("miễu", ACCENTED) and not index.knows("mieu", FOLDED)
        assert index.chunks(sorted(bridge_ids)) == []
        assert "tin.jsonl#cau-rach-mieu" not in {c.doc_id for c in every_chunk(index)}
    assert "tin.jsonl#cau-rach-mieu" not in top_docs(cfg, stand_in_embedder, "cầu Rạch Miễu 2 dài bao nhiêu km?")

    again = build_index(corpus(), cfg, stand_in_embedder)
    assert again.added == ["tin.jsonl#cau-rach-mieu"] and again.chunks_embedded == len(bridge_ids)
    with opened(cfg, stand_in_embedder) as index:
        new_ids = chunk_ids(index, "tin.jsonl#cau-rach-mieu")
        assert new_ids and not new_ids & bridge_ids  # chunk ids are never reused
        assert index.stats().documents == 9 and index.stats().last_date == "2024-03-05"
    assert top_docs(cfg, stand_in_embedder, "cầu Rạch Miễu 2 dài bao nhiêu km?")[0] == "tin.jsonl#cau-rach-mieu"


@pytest.mark.parametrize("backend", BACKENDS)
def test_changed_document_reembeds_only_its_chunks(tmp_path, backend, stand_in_embedder):
    cfg = config(tmp_path, backend)
    build_index(corpus(), cfg, stand_in_embedder)
    edited = corpus()
    edited[-1].text += " Cầu có bốn làn xe và hai làn đường dành cho xe thô sơ."
    summary = build_index(edited, cfg, stand_in_embedder)
    assert summary.changed == ["tin.jsonl#cau-rach-mieu"] and summary.unchanged == 8
    assert 0 < summary.chunks_embedded <= 2
    with opened(cfg, stand_in_embedder) as index:
        texts = dict(index.texts())
        assert texts["tin.jsonl#cau-rach-mieu"].endswith("xe thô sơ.") and len(texts) == 9
    assert build_index(edited, cfg, stand_in_embedder).chunks_embedded == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_scores_of_given_chunks_are_the_searched_ones(tmp_path, backend, stand_in_embedder):
    cfg = config(tmp_path, backend)
    build_index(corpus(), cfg, stand_in_embedder)
    with opened(cfg, stand_in_embedder) as index:
        tokens = ["cầu", "khánh", "thành", "cầu_rạch", "hà", "nội"]
        ids, scores = index.lexical_search(tokens, ACCENTED, 5)
        assert len(ids) == 5 and (scores > 0).all()
        assert np.allclose(index.lexical_scores(tokens, ACCENTED, ids), scores, rtol=1e-5)
        extra = np.array([10**9], dtype=np.int64)  # an id no chunk has: scored 0, kept
        with_extra, with_scores = index.lexical_search(tokens, ACCENTED, 5, include=extra)
        assert 10**9 in with_extra.tolist() and with_scores[with_extra.tolist().index(10**9)] == 0
        vec = stand_in_embedder.encode(["cầu Rạch Miễu"], "query")[0]
        d_ids, d_scores = index.dense_search(vec, 4)
        assert list(d_scores) == sorted(d_scores, reverse=True)
        assert np.allclose(index.dense_scores(vec, d_ids), d_scores, atol=1e-5)
        n = len(index)
        assert index.idf("chưa-từng-có", ACCENTED) == pytest.approx(np.log(1 + (n + 0.5) / 0.5))
        # df counted here from the chunks' own tokens, as BM25 counts them
        texts = [lexical_tokens(embedding_text(c.doc.title, c.text)) for c in every_chunk(index)]
        for word in ("cầu", "miễu", "tại"):
            df = sum(word in t for t in texts)
            assert index.idfs([word], ACCENTED)[0] == pytest.approx(np.log(1 + (n - df + 0.5) / (df + 0.5)), rel=1e-6)


def test_both_backends_give_the_same_answers(tmp_path, e5):
    """Same chunks, same fusion: the same passages in the same order, with the same scores."""
    local, milvus = config(tmp_path / "a", "local"), config(tmp_path / "b", "milvus")
    for cfg in (local, milvus):
        build_index(corpus(12), cfg, e5)
    questions = [
        "Cầu Rạch Miễu 2 dài bao nhiêu km?",
        "cau rach mieu 2 dai bao nhieu",  # typed without marks: restored from the corpus
        "Ở Cần Thơ giá lúa tăng thu hút bao nhiêu người?",
        "Giá vàng hôm nay thế nào?",  # nothing answers it
    ]
    answers = {}
    for name, cfg in (("local", local), ("milvus", milvus)):
        searcher, _ = open_searcher(cfg, e5, build_if_missing=False)
        answers[name] = [searcher.search(q, top_k=3) for q in questions]
        searcher.index.close()
    for a, b in zip(answers["local"], answers["milvus"]):
        assert [h.chunk.chunk_id for h in a.hits] == [h.chunk.chunk_id for h in b.hits]
        assert [h.quote for h in a.hits] == [h.quote for h in b.hits]
        assert np.allclose([h.score for h in a.hits], [h.score for h in b.hits], atol=1e-4)
        assert a.answered == b.answered


@pytest.mark.parametrize("backend", BACKENDS)
def test_readers_keep_their_build_until_they_reload(tmp_path, backend, stand_in_embedder):
    cfg = config(tmp_path, backend)
    build_index(corpus(), cfg, stand_in_embedder)
    with opened(cfg, stand_in_embedder) as old:
        old_ids = chunk_ids(old)
        # The bridge goes, a new article comes.
        build_index(corpus()[:-1] + docs([{**articles(1)[0], "id": "moi", "text": "Tin mới về cảng Cái Mép."}]), cfg, stand_in_embedder)
        with opened(cfg, stand_in_embedder) as new:
            assert old.stats().documents == 9 and new.stats().documents == 9
            assert old.knows("miễu", ACCENTED) and not new.knows("miễu", ACCENTED)
            assert new.knows("cảng", ACCENTED) and not old.knows("cảng", ACCENTED)
            ids, _ = old.lexical_search(["miễu"], ACCENTED, 10)
            assert {c.doc_id for c in old.chunks(ids)} == {"tin.jsonl#cau-rach-mieu"}
            assert new.lexical_search(["miễu"], ACCENTED, 10)[0].size == 0
            # Whatever it searches, the old reader finds only what its build held.
            vec = stand_in_embedder.encode(["Tin mới về cảng Cái Mép."], "query")[0]
            assert set(old.dense_search(vec, 1000)[0].tolist()) == old_ids
            assert set(old.lexical_search(["tại"], ACCENTED, 1000)[0].tolist()) <= old_ids
            assert set(new.dense_search(vec, 1000)[0].tolist()) - old_ids  # the new article's chunk


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_build_dying_half_way_leaves_the_published_one_serving(tmp_path, backend, stand_in_embedder, monkeypatch):
    monkeypatch.setattr("retrieval.vector_writer.EMBED_TEXTS", 2)  # rows are written before it dies
    cfg = config(tmp_path, backend)
    build_index(corpus(), cfg, stand_in_embedder)
    before = top_docs(cfg, stand_in_embedder, "Đà Nẵng lễ hội hoa xuân")
    changed = docs([{**BRIDGE, "text": BRIDGE["text"] + " Bản sửa."}])[0]
    edited = corpus()[:-1] + docs([{**r, "id": f"moi-{r['id']}"} for r in articles(4)]) + [changed]
    with pytest.raises(RuntimeError, match="embedder died"):
        build_index(edited, cfg, FailingEmbedder(stand_in_embedder, after=5, error=RuntimeError))
    with opened(cfg, stand_in_embedder) as index:
        assert index.stats().documents == 9 and len(index) == len(every_chunk(index))
        assert dict(index.texts())["tin.jsonl#cau-rach-mieu"] == BRIDGE["text"]
    assert top_docs(cfg, stand_in_embedder, "Đà Nẵng lễ hội hoa xuân") == before
    # The next build is of another corpus (the new articles were taken back): nothing the dead
    # build wrote may surface in it.
    done = build_index(corpus()[:-1] + [changed], cfg, stand_in_embedder)
    assert (done.added, done.changed, done.documents) == ([], ["tin.jsonl#cau-rach-mieu"], 9)
    with opened(cfg, stand_in_embedder) as index:
        assert len(index) == done.chunks == len(every_chunk(index))
        texts = list(index.texts())
        assert len(texts) == 9 and dict(texts)["tin.jsonl#cau-rach-mieu"].endswith("Bản sửa.")
        if backend == "milvus":  # no row of the dead build is left, none is doubled
            db, gen = index.db, index.generation
            rows = db.client.query(db.chunks, filter=visible(gen), output_fields=["chunk_id"], limit=10_000)
            assert len(rows) == len({r["chunk_id"] for r in rows}) == len(index)
            docs_rows = db.client.query(db.records, filter=f'kind == "doc" and {visible(gen)}', output_fields=["key"], limit=10_000)
            assert len(docs_rows) == len({r["key"] for r in docs_rows}) == 9


def test_milvus_rows_of_dropped_builds_are_deleted(tmp_path, stand_in_embedder, monkeypatch):
    """Rows that only builds superseded more than ``GRACE_SECONDS`` ago could see go once a build
    is published: the collections do not grow with every reload."""
    from retrieval.milvus import connect

    monkeypatch.setattr("retrieval.milvus.db.GRACE_SECONDS", 0)
    cfg = config(tmp_path, "milvus")
    build_index(corpus(), cfg, stand_in_embedder)
    for n in (7, 8, 6):
        build_index(corpus()[:n], cfg, stand_in_embedder)
    db = connect(cfg.index)
    try:
        gen = db.live()[0]
        rows = db.client.query(db.chunks, filter="row >= 0", output_fields=["born", "died"], limit=10_000)
        assert all(r["died"] >= gen for r in rows)  # visible to this build or the one before
        stats = db.client.query(db.records, filter='kind == "stats"', output_fields=["row"], limit=100)
        assert sorted(r["row"] for r in stats) == [gen - 1, gen]
    finally:
        db.close()


def test_milvus_statistics_record_round_trips():
    from retrieval.milvus.terms import CorpusStats

    stats = CorpusStats(chunks=3, documents=2, dates={"2024-03-05": 1}, next_token=4)
    s = stats.stream(ACCENTED)
    s.ids, s.df, s.total_length, s.avgdl = {"cầu": 0, "rạch_miễu": 3}, {0: 2, 3: 1}, 42, 14.0
    again = CorpusStats.loads(stats.dumps())
    assert again == stats
    with pytest.raises(ValueError):
        CorpusStats.loads(json.dumps({"version": 1}))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_serving_bot_follows_the_builds_an_indexer_publishes(tmp_path, backend, stand_in_embedder):
    """Replicas on one index: the indexer publishes (here through a connection of its own, as
    another process would), and every serving bot swaps the new build in by itself."""
    cfg = config(tmp_path, backend)
    build_index(corpus()[:-1], cfg, stand_in_embedder)
    service = QAService(cfg, stand_in_embedder, workers=1)
    service.open(build_if_missing=False)

    async def follow_until_swapped():
        follower = asyncio.create_task(service.follow_builds(0.05))
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if service.stats.documents == 9:
                    return await service.ask("Cầu Rạch Miễu 2 dài bao nhiêu km?")
            raise AssertionError("the new build was not served")
        finally:
            follower.cancel()

    try:
        assert service.stats.documents == 8
        build_index(corpus(), cfg, stand_in_embedder)
        answer = asyncio.run(follow_until_swapped())
        assert answer.hits[0].chunk.doc_id == "tin.jsonl#cau-rach-mieu"
    finally:
        service.close()


def test_milvus_bm25_stays_exact_when_lengths_drift_or_settings_change(tmp_path, stand_in_embedder):
    """The stored weights hold the average chunk length: a build that moves it past the drift
    allowance, or changes the BM25 settings, writes every row's weights again, and the scores are
    then the local backend's exactly."""
    from retrieval.milvus.terms import AVGDL_DRIFT

    long_articles = [{**r, "id": f"dai-{r['id']}", "text": r["text"] * 3} for r in articles(6)]
    tokens = ["cầu", "khánh", "thành", "cầu_rạch", "hà", "nội", "lễ", "hội"]
    steps = [
        (corpus(), {}),
        (corpus() + docs(long_articles), {}),  # longer chunks: the average moves past the allowance
        (corpus() + docs(long_articles), {"k1": 1.5, "b": 0.6}),  # other BM25 settings
    ]
    for n, (documents, lexical) in enumerate(steps):
        local, milvus = config(tmp_path / f"local-{n}", "local", lexical), config(tmp_path / "milvus", "milvus", lexical)
        build_index(documents, local, stand_in_embedder)
        summary = build_index(documents, milvus, stand_in_embedder)
        with opened(local, stand_in_embedder) as a, opened(milvus, stand_in_embedder) as b:
            if n == 1:
                before = b.stats_.streams[ACCENTED]
                assert summary.chunks_embedded < summary.chunks  # kept chunks were not embedded again
                assert abs(before.total_length / b.stats_.chunks / before.avgdl - 1) < 1e-9 < AVGDL_DRIFT
            for stream in (ACCENTED, FOLDED):
                ids, scores = a.lexical_search(tokens, stream, 1000)
                got_ids, got = b.lexical_search(tokens, stream, 1000)
                assert dict(zip(got_ids.tolist(), got.tolist())) == pytest.approx(dict(zip(ids.tolist(), scores.tolist())), rel=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rebuild_embeds_everything_again_while_the_old_build_serves(tmp_path, backend, stand_in_embedder):
    cfg = config(tmp_path, backend)
    build_index(corpus(), cfg, stand_in_embedder)
    with opened(cfg, stand_in_embedder) as old:
        old_ids = chunk_ids(old)
        summary = build_index(corpus(), cfg, stand_in_embedder, rebuild=True)
        assert len(summary.added) == 9 and summary.chunks_embedded == summary.chunks == len(old_ids)
        vec = stand_in_embedder.encode(["cầu Rạch Miễu"], "query")[0]
        assert set(old.dense_search(vec, 1000)[0].tolist()) == old_ids  # the old build still answers
        with opened(cfg, stand_in_embedder) as new:
            new_ids = set(new.dense_search(vec, 1000)[0].tolist())
            assert len(new_ids) == len(old_ids) and (backend == "local" or not new_ids & old_ids)
            assert new.stats().documents == 9 and new.stats().backend == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_very_long_id_and_text_are_stored_whole(tmp_path, backend, stand_in_embedder):
    """A JSONL id field can be anything, an article can be long: neither may fail a build (the
    engine's text fields hold 64 KB at most)."""
    huge = {**BRIDGE, "id": "mã-" * 30_000, "text": BRIDGE["text"] + " Người dân vui mừng." * 4_000}
    cfg = config(tmp_path, backend)
    summary = build_index(corpus()[:-1] + docs([huge]), cfg, stand_in_embedder)
    long_id = f"tin.jsonl#{huge['id']}"
    assert long_id in summary.added and summary.documents == 9
    with opened(cfg, stand_in_embedder) as index:
        assert dict(index.texts())[long_id] == huge["text"]
        ids, _ = index.lexical_search(["miễu"], ACCENTED, 5)
        assert {c.doc_id for c in index.chunks(ids)} == {long_id}
    assert build_index(corpus()[:-1], cfg, stand_in_embedder).documents == 8
    with opened(cfg, stand_in_embedder) as index:
        assert long_id not in dict(index.texts())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_first_build_dying_leaves_nothing_behind(tmp_path, backend, stand_in_embedder, monkeypatch):
    monkeypatch.setattr("retrieval.vector_writer.EMBED_TEXTS", 2)  # rows are written before it dies
    cfg = config(tmp_path, backend)
    with pytest.raises(RuntimeError, match="embedder died"):
        build_index(corpus(), cfg, FailingEmbedder(stand_in_embedder, after=20, error=RuntimeError))
    summary = build_index(docs(articles(3)), cfg, stand_in_embedder)  # a smaller corpus this time
    assert summary.documents == 3
    with opened(cfg, stand_in_embedder) as index:
        assert len(index) == summary.chunks == len(every_chunk(index))
        assert sorted(doc_id for doc_id, _ in index.texts()) == [f"tin.jsonl#bai-00{i}" for i in range(3)]
        ids, _ = index.lexical_search(["tại"], ACCENTED, 1000)
        assert {c.doc_id for c in index.chunks(ids)} == {f"tin.jsonl#bai-00{i}" for i in range(3)}
    assert build_index(docs(articles(2)), cfg, stand_in_embedder).documents == 2  # counts stay true


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reader_two_builds_behind_still_answers_whole(tmp_path, backend, stand_in_embedder):
    """A bot that has not followed yet keeps its whole build while newer ones are published."""
    cfg = config(tmp_path, backend)
    build_index(corpus(), cfg, stand_in_embedder)
    with opened(cfg, stand_in_embedder) as old:
        before = chunk_ids(old)
        build_index(corpus()[:-1], cfg, stand_in_embedder)
        build_index(corpus()[:-2], cfg, stand_in_embedder)
        vec = stand_in_embedder.encode(["cầu Rạch Miễu"], "query")[0]
        assert set(old.dense_search(vec, 1000)[0].tolist()) == before == chunk_ids(old)


def test_milvus_lets_one_builder_in_at_a_time(tmp_path, stand_in_embedder, monkeypatch):
    from retrieval.errors import IndexBusy
    from retrieval.milvus import connect

    cfg = config(tmp_path, "milvus")
    build_index(corpus(), cfg, stand_in_embedder)
    other = connect(cfg.index)  # another builder, elsewhere
    try:
        other.lock("tau-1:4242")
        with pytest.raises(IndexBusy, match="another index build"):
            build_index(corpus()[:-1], cfg, stand_in_embedder)
        monkeypatch.setattr("time.time", lambda: 4e9)  # its lease ran out: a dead builder's
        assert build_index(corpus()[:-1], cfg, stand_in_embedder).documents == 8
    finally:
        other.close()


def test_milvus_messages_leave_the_password_out(tmp_path, stand_in_embedder):
    from retrieval.errors import IndexProblem

    cfg = config(tmp_path, "milvus")
    cfg.index.uri = "http://alice:s3cr3t@127.0.0.1:1"  # nothing listens there
    with pytest.raises(IndexProblem) as failed:
        open_index(cfg, stand_in_embedder, build_if_missing=False)
    assert "127.0.0.1:1" in str(failed.value) and "s3cr3t" not in str(failed.value)
    assert cfg.index.shown_uri == "http://127.0.0.1:1"
