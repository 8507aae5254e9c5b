"""BM25 built from kept token rows: the same scores as bm25s's own builder, and edits that
tokenise only new chunks give the index a fresh build would."""

import bm25s
import numpy as np
import pytest

from retrieval.chunking import embedding_text
from retrieval.generations import live_generation
from retrieval.index import load_index
from retrieval.indexer import build_index
from retrieval.ingest import document_from_record
from retrieval.lexical import STREAMS, LexicalIndex, TokenRowsMissing
import retrieval.query
from retrieval.store import Store
from retrieval.text import syllables

from .conftest import articles, make_config

TEXTS = [
    "Giá lúa tại Cần Thơ tăng 5% trong tuần qua do nhu cầu xuất khẩu.",
    "Cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre được khánh thành sáng 5/3.",
    "Hà Nội: lễ hội hoa xuân thu hút hàng nghìn người, giá hoa tăng.",
    "Bác sỹ khuyên người dân uống đủ nước khi trời nắng nóng ở Hà Nội.",
    "Ở Đà Nẵng, mưa lớn gây ngập nhiều tuyến phố; giá rau tăng mạnh.",
    "Học sinh Huế thi tốt nghiệp, nhiều em đạt điểm cao môn toán.",
]
QUESTIONS = ["Giá lúa ở Cần Thơ tăng bao nhiêu?", "cau Rach Mieu 2 noi tinh nao", "Hà Nội nắng nóng", "giá tăng"]


def query_tokens(question: str, stream: str) -> list[str]:
    """The question's BM25 tokens in ``stream``, whatever marks it was typed with."""
    return retrieval.query.query_tokens(syllables(question), folded=stream == "folded")


def scores(lex: LexicalIndex, question: str) -> dict[str, np.ndarray]:
    """Every chunk's score, in id order, for the question in each stream."""
    return {s: lex.scores(query_tokens(question, s), lex.ids, s) for s in STREAMS}


def test_scores_are_those_of_bm25s_own_builder():
    lex = LexicalIndex(k1=1.2, b=0.75)
    lex.add(range(1, len(TEXTS) + 1), TEXTS)
    for stream in STREAMS:
        reference = bm25s.BM25(k1=1.2, b=0.75)
        reference.index([lex.tokens(t, stream) for t in TEXTS], show_progress=False)
        for q in QUESTIONS:
            toks = [t for t in query_tokens(q, stream) if t in reference.vocab_dict]
            want = np.asarray(reference.get_scores(toks) if toks else np.zeros(len(TEXTS)), dtype=np.float32)
            assert np.array_equal(lex.scores(query_tokens(q, stream), lex.ids, stream), want), (stream, q)
            ids, got = lex.search(query_tokens(q, stream), 3, stream)
            assert len(ids) == min(3, int((want > 0).sum()))
            assert np.array_equal(got, want[ids - 1]) and set(got) <= set(np.sort(want)[-3:])
            for tok in toks:
                df = int(reference.scores["indptr"][reference.vocab_dict[tok] + 1] - reference.scores["indptr"][reference.vocab_dict[tok]])
                assert lex.idf(tok, stream) == pytest.approx(np.log(1 + (len(TEXTS) - df + 0.5) / (df + 0.5)))


def test_scores_of_some_chunks_equal_the_full_scoring():
    lex = LexicalIndex()
    lex.add([3, 5, 8, 13, 21, 34], TEXTS)
    for q in QUESTIONS:
        for stream, every in scores(lex, q).items():
            some = np.array([34, 5, 99, 3])  # any order, and an id the index does not have
            assert np.array_equal(lex.scores(query_tokens(q, stream), some, stream), [every[5], every[1], 0, every[0]])


def test_edits_after_load_equal_a_fresh_build(tmp_path, monkeypatch):
    lex = LexicalIndex()
    lex.add([1, 2, 3, 4], TEXTS[:4])
    lex.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")

    tokenised = []
    real_tokens = LexicalIndex.tokens
    monkeypatch.setattr(LexicalIndex, "tokens", lambda self, text, *a, **k: tokenised.append(text) or real_tokens(self, text, *a, **k))
    loaded.remove([2, 3])
    loaded.add([7, 9], TEXTS[4:6])
    assert set(tokenised) == set(TEXTS[4:6])  # the kept chunks came from the stored rows
    monkeypatch.undo()

    fresh = LexicalIndex()
    fresh.add([1, 4, 7, 9], [TEXTS[0], TEXTS[3], TEXTS[4], TEXTS[5]])
    assert loaded.ids.tolist() == [1, 4, 7, 9]
    # Tokens only the removed chunks had are gone, as in a fresh build.
    assert loaded.knows("giá", "accented") and not loaded.knows("rạch", "accented")
    loaded.save(tmp_path / "edited")
    for stream in STREAMS:
        words = set((tmp_path / "edited" / stream / "vocab.txt").read_text(encoding="utf-8").split("\n"))
        assert all(fresh.knows(w, stream) for w in words) and len(words) == len(fresh.models[stream].vocab_dict)
    for q in QUESTIONS:
        for stream, got in scores(loaded, q).items():
            assert np.array_equal(got, scores(fresh, q)[stream])
    loaded.save(tmp_path / "again")
    reloaded = LexicalIndex.load(tmp_path / "again")
    assert np.array_equal(scores(reloaded, QUESTIONS[0])["accented"], scores(fresh, QUESTIONS[0])["accented"])


def test_edits_refuse_what_they_cannot_do(tmp_path):
    lex = LexicalIndex()
    lex.add([5, 6], TEXTS[:2])
    with pytest.raises(ValueError, match="ascending"):
        lex.add([4], TEXTS[2:3])  # ids must follow the kept ones
    assert lex.ids.tolist() == [5, 6]
    lex.save(tmp_path / "lexical")
    for stream in STREAMS:  # an index saved before token rows were kept
        (tmp_path / "lexical" / stream / "tokens.npy").unlink()
    with pytest.raises(TokenRowsMissing):
        LexicalIndex.load(tmp_path / "lexical").add([7], TEXTS[2:3])


def test_incremental_build_keeps_bm25_equal_to_a_full_pass(tmp_path, monkeypatch, stand_in_embedder):
    cfg = make_config(tmp_path, tmp_path / "corpus", chunking={"max_tokens": 40, "overlap_tokens": 10})
    records = articles(10)
    documents = lambda recs: [document_from_record(r, "tin.jsonl", n) for n, r in enumerate(recs, 1)]  # noqa: E731
    build_index(documents(records), cfg, stand_in_embedder)
    records[3] = dict(records[3], text=records[3]["text"] + "\nGiá vé tàu Tết tăng mạnh.")
    tokenised = []
    real_tokens = LexicalIndex.tokens
    monkeypatch.setattr(LexicalIndex, "tokens", lambda self, text, *a: tokenised.append(text) or real_tokens(self, text, *a))
    summary = build_index(documents(records[:8] + records[9:]), cfg, stand_in_embedder)
    assert (len(summary.changed), len(summary.removed)) == (1, 1)
    # Only the changed article's chunks were tokenised (in both streams), not a full pass.
    assert len(tokenised) == 2 * summary.chunks_embedded and all("Giá vé tàu Tết" in t for t in tokenised[-1:])
    monkeypatch.undo()

    served = load_index(cfg.index.path).lexical
    store = Store(live_generation(cfg.index.path) / "meta.sqlite", readonly=True)
    rows = list(store.iter_chunks())
    store.close()
    full = LexicalIndex()
    full.add([r[0] for r in rows], [embedding_text(r[1], r[2]) for r in rows])
    assert served.ids.tolist() == full.ids.tolist()
    for q in ["Giá vé tàu Tết", "le hoi hoa xuan o Hue", "Cần Thơ giá lúa tăng"]:
        for stream, got in scores(served, q).items():
            assert np.array_equal(got, scores(full, q)[stream])


def test_an_index_saved_by_bm25s_still_loads_and_cannot_be_edited(tmp_path):
    # The layout before token rows were kept: bm25s's own files in each stream folder.
    lex = LexicalIndex()
    lex.add([1, 2, 3], TEXTS[:3])
    folder = tmp_path / "lexical"
    lex.save(folder)
    for stream in STREAMS:
        for f in (folder / stream).iterdir():
            f.unlink()
        old = bm25s.BM25(k1=lex.k1, b=lex.b)
        old.index([lex.tokens(t, stream) for t in TEXTS[:3]], show_progress=False)
        old.save(folder / stream, show_progress=False)
    loaded = LexicalIndex.load(folder)
    for q in QUESTIONS:
        for stream, got in scores(loaded, q).items():
            assert np.array_equal(got, scores(lex, q)[stream])
    with pytest.raises(TokenRowsMissing):  # the next build tokenises every chunk again
        loaded.add([4], TEXTS[3:4])


def test_a_loaded_index_searches_with_hashed_vocab_and_the_same_scores(tmp_path):
    from retrieval.hashed_vocab import HashedVocab

    lex = LexicalIndex()
    lex.add(range(1, len(TEXTS) + 1), TEXTS)
    lex.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    for stream in STREAMS:
        assert isinstance(loaded.models[stream].vocab_dict, HashedVocab)
        assert len(loaded.models[stream].vocab_dict) == len(lex.models[stream].vocab_dict)
    for q in QUESTIONS:
        for stream, want in scores(lex, q).items():
            assert np.array_equal(scores(loaded, q)[stream], want), (stream, q)
    for tok in ("giá", "cần_thơ", "ở", "không-có-đâu"):
        assert loaded.idf(tok, "accented") == lex.idf(tok, "accented")
    assert loaded.knows("rach", "folded") and not loaded.knows("rạch", "folded")
    assert not loaded.knows("xyzzy", "folded")


def test_search_can_score_extra_chunks_in_the_same_pass():
    lex = LexicalIndex()
    lex.add([3, 5, 8, 13, 21, 34], TEXTS)
    for q in QUESTIONS:
        for stream, every in scores(lex, q).items():
            top, _ = lex.search(query_tokens(q, stream), 2, stream)
            ids, got = lex.search(query_tokens(q, stream), 2, stream, include=np.array([34, 3, 99]))
            assert ids.tolist() == sorted(set(top.tolist()) | {3, 34, 99})
            assert np.array_equal(got, lex.scores(query_tokens(q, stream), ids, stream))


@pytest.mark.parametrize("file", ["ids.npy", "params.json", "accented/data.npy", "folded/indptr.npy", "folded/vocab.txt"])
def test_a_cut_file_is_index_damaged_naming_it(tmp_path, file):
    from retrieval.errors import IndexDamaged

    lex = LexicalIndex()
    lex.add(range(1, len(TEXTS) + 1), TEXTS)
    lex.save(tmp_path / "lexical")
    path = tmp_path / "lexical" / file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexDamaged, match=f"^index damaged: lexical/{file}; run qabot index --rebuild$"):
        LexicalIndex.load(tmp_path / "lexical")


def test_a_loaded_index_saved_without_edits_is_written_whole(tmp_path):
    lex = LexicalIndex()
    lex.add(range(1, len(TEXTS) + 1), TEXTS)
    lex.save(tmp_path / "lexical")
    LexicalIndex.load(tmp_path / "lexical").save(tmp_path / "again")
    again = LexicalIndex.load(tmp_path / "again")
    for q in QUESTIONS:
        for stream, got in scores(again, q).items():
            assert np.array_equal(got, scores(lex, q)[stream])
