"""Diacritics restored to questions typed without them, from the corpus's own statistics."""

import json
import shutil
from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from retrieval.chunking import embedding_text
from retrieval.config import load_config
from retrieval.generations import live_generation, verify_generation
from retrieval.index import load_index
from retrieval.indexer import index_corpus
from retrieval.lexical import LexicalIndex
from retrieval.query import ACCENTED, FOLDED, QUESTION_SYLLABLES, RESTORED_PHRASES
from retrieval.restore import (
    Restorer,
    local_counts,
    restoration_accuracy,
    syllable_forms,
)
from retrieval.search import Searcher

from .conftest import REPO, SAMPLE, SHARED_DATA, articles, make_config

WHERE = "hội nghị báo cáo viên tổ chức ở đâu"


def restorer_of(texts: list[str], preferred: frozenset[str] = frozenset()) -> Restorer:
    lex = LexicalIndex()
    lex.add(range(1, len(texts) + 1), texts)
    forms, total = lex.syllable_forms()
    return Restorer(forms, partial(lex.freqs, stream=ACCENTED), total, RESTORED_PHRASES, preferred)


@pytest.fixture(scope="module")
def sample() -> Restorer:
    return restorer_of([SAMPLE.read_text(encoding="utf-8")])


def test_the_staff_question_gets_its_marks_back(sample):
    assert sample.restore_text("hoi nghi bao cao vien to chuc o dau") == WHERE


def test_case_punctuation_and_numbers_are_kept(sample):
    assert (
        sample.restore_text("Hoi nghi bao cao vien thang 12/2023 duoc to chuc o dau?")
        == "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
    )


def test_a_word_the_corpus_does_not_know_stays_as_typed(sample):
    assert sample.restore_text("hoi nghi bao cao vien zalopay") == "hội nghị báo cáo viên zalopay"


def test_marked_or_unrestorable_questions_are_left_alone(sample):
    assert sample.restore_text(WHERE) is None  # already marked
    assert sample.restore_text("zalopay covid") is None  # nothing the corpus writes with marks
    assert sample.restore_text("") is None


def test_interrogatives_are_restored_as_such():
    # A corpus where "ở đầu" (at the head) is common and "ở đâu" never written: the question
    # still asks "where", and the interrogative is then dropped from the BM25 query.
    r = restorer_of(["Anh ấy đứng ở đầu hàng, ở đầu làng, ở đầu cầu."])
    assert r.restore_text("anh ay dung o dau") == "anh ấy đứng ở đâu"


def test_the_word_before_an_interrogative_phrase_is_chosen_without_the_pair():
    # News rarely asks: here no chunk holds "có bao" and one holds "co bao" (bao tử), which alone
    # made "co bao nhieu" "co bao nhiêu" though "có" is twenty times as frequent.
    r = restorer_of(["Tôi có nhà mới."] * 20 + ["Bệnh co bao tử."] + ["Trời mưa to lắm."] * 200)
    assert r.restore_text("co bao nhieu nha moi?") == "có bao nhiêu nhà mới?"


def test_a_question_mark_asks_for_an_interrogative():
    # The corpus writes "thuốc não" (for the brain) and never "thuốc nào" (which medicine).
    texts = ["Loại thuốc não này tốt nhất cho trí nhớ."] * 10 + ["Không nơi nào đẹp bằng."] + ["Trời mưa to lắm."] * 50
    r = restorer_of(texts, QUESTION_SYLLABLES)
    assert r.restore_text("Loai thuoc nao tot nhat?") == "Loại thuốc nào tốt nhất?"
    # Without "?" the words may be searched, not asked: the counts decide.
    assert r.restore_text("loai thuoc nao tot nhat") == "loại thuốc não tốt nhất"
    # A question that already asks keeps what the counts say of its other syllables.
    assert r.restore_text("loai thuoc nao tot nhat o dau?") == "loại thuốc não tốt nhất ở đâu?"


def test_the_text_a_question_finds_chooses_its_names():
    # The corpus writes "hiệu" (hiệu quả) far more often than the name "Hiếu"; the chunks the
    # folded question finds first are about him.
    others = ["Ông Hiếu về hưu.", "Vì sao trời mưa?", "Tôi thích chạy bộ."] + ["Trời mưa to lắm."] * 50
    r = restorer_of(["Thuốc có hiệu quả cao."] * 30 + others)
    about = local_counts(["Anh Hiếu chạy bộ mỗi tối. Hiếu thích chạy bộ vì anh ngủ ngon."])
    question = ["vi", "sao", "hieu", "thich", "chay", "bo"]
    assert r.restore(question) == ["vì", "sao", "hiệu", "thích", "chạy", "bộ"]
    assert r.restore(question, local=about) == ["vì", "sao", "hiếu", "thích", "chạy", "bộ"]
    assert about["hiếu"] == 2 and about["chạy_bộ"] == 2


def test_bigrams_choose_between_forms():
    # "bao" alone is mostly "báo" (newspaper) here, and "cao" mostly "cao" (tall); each choice
    # follows the syllable before it: "bao báp" (baobab), "báo cáo viên" (reporter).
    r = restorer_of(
        ["Tờ báo đăng tin."] * 100 + ["Cây bao báp ở Tây Ninh."] * 40 + ["Báo cáo viên đọc báo cáo."] * 5 + ["Nhà cao tầng."] * 50
    )
    assert r.restore(["bao"]) == ["báo"] and r.restore(["cao"]) == ["cao"]
    assert r.restore(["bao", "bap"]) == ["bao", "báp"]
    assert r.restore(["bao", "cao", "vien"]) == ["báo", "cáo", "viên"]


def test_accuracy_is_per_syllable_against_the_originals(sample):
    right, whole = restoration_accuracy([WHERE, "Hội nghị báo cáo viên tháng 12/2023"], sample)
    assert right == 1.0 and whole == 1.0


@pytest.fixture
def built(tmp_path, corpus_dir, stand_in_embedder):
    (corpus_dir / "extra.jsonl").write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles(12)), encoding="utf-8")
    cfg = make_config(tmp_path, corpus_dir)
    index_corpus(cfg, stand_in_embedder)
    return cfg


def _model(index) -> tuple[dict, float, list[int]]:
    r = index.restorer()
    probe = ["hội", "nghị", "hội_nghị", "báo_cáo", "hà", "nội", "hà_nội", "lễ_hội", "hoãn"]
    return r.forms, r.total, r.freqs(probe).tolist()


def test_a_loaded_index_restores_like_the_one_just_built(built):
    index = load_index(built.index.path)
    try:
        built_lex = LexicalIndex.load(index.path / "lexical")
        built_lex.load_rows()
        built_lex._stale = True  # refit from the rows: a build's dict vocabulary, not hashes
        forms, total = built_lex.syllable_forms()
        assert (forms, total) == (index.restorer().forms, index.restorer().total)
        probe = ["hội_nghị", "báo_cáo", "zalopay"]
        assert built_lex.freqs(probe, ACCENTED).tolist() == index.restorer().freqs(probe).tolist()
        assert index.restorer().restore_text("hoi nghi bao cao vien to chuc o dau") == WHERE
    finally:
        index.close()


def test_the_model_follows_incremental_builds_as_a_full_recount(built, tmp_path, corpus_dir, stand_in_embedder):
    # Edit and remove articles, re-index incrementally; then the same corpus built from scratch.
    lines = (corpus_dir / "extra.jsonl").read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[0])
    edited["text"] += "\nMưa lớn gây ngập ở Hà Nội, hội nghị phải hoãn."
    (corpus_dir / "extra.jsonl").write_text("\n".join([json.dumps(edited, ensure_ascii=False)] + lines[3:]), encoding="utf-8")
    index_corpus(built, stand_in_embedder)
    fresh = make_config(tmp_path / "fresh", corpus_dir)
    index_corpus(fresh, stand_in_embedder)
    a, b = load_index(built.index.path), load_index(fresh.index.path)
    try:
        assert _model(a) == _model(b)
        assert _model(a)[2][-1] > 0  # the edit's new syllable is counted
        # The model is the BM25 index's own statistics: nothing added to the generation, and
        # its recorded checksums still verify.
        assert sorted(p.name for p in a.path.iterdir()) == ["dense.faiss", "files.json", "lexical", "meta.sqlite"]
        assert verify_generation(a.path)
    finally:
        a.close()
        b.close()


def test_a_generation_written_before_restoration_restores_without_a_rebuild(built, tmp_path):
    # Any generation restores from its BM25 files: this one loses its files.json and token rows
    # (as indexes written by older versions lack them) and is still read as it is.
    old = tmp_path / "old"
    shutil.copytree(built.index.path, old)
    gen = live_generation(old)
    (gen / "files.json").unlink()
    for stream in (ACCENTED, FOLDED):
        (gen / "lexical" / stream / "tokens.npy").unlink()
        (gen / "lexical" / stream / "offsets.npy").unlink()
    from retrieval.store import Store

    store = Store(gen / "meta.sqlite")
    store.db.execute("DELETE FROM manifest WHERE key = 'checksums'")
    store.commit()
    store.close()
    index = load_index(old)
    try:
        assert index.restorer().restore_text("hoi nghi bao cao vien to chuc o dau") == WHERE
    finally:
        index.close()


def test_searching_an_unmarked_question_uses_the_restored_one(built):
    index = load_index(built.index.path)
    try:
        cfg = load_config(REPO / "config.yaml").retrieval
        # The sample is a few chunks: too few for restoration by default...
        assert Searcher(index, None, cfg).parse("Hoi nghi bao cao vien to chuc o dau?").restored is None
        cfg.restore_min_chunks = 0  # ...so it is switched on here.
        q = Searcher(index, None, cfg).parse("Hoi nghi bao cao vien to chuc o dau?")
        assert q.restored == "Hội nghị báo cáo viên tổ chức ở đâu?"
        assert q.text == "Hoi nghi bao cao vien to chuc o dau?" and not q.accented
        assert q.stream == ACCENTED and "báo_cáo" in q.tokens and "đâu" not in q.tokens
        assert "bao_cao" in q.folded_tokens and "dau" not in q.folded_tokens
        assert q.embedding_text == "Hội nghị báo cáo viên tổ chức ở đâu?"
        # The folded stream was searched while restoring; the search takes its chunks from there
        # and finds what searching the folded stream again finds.
        searcher = Searcher(index, None, cfg)
        assert q.folded_ids
        again = searcher.search(replace(q, folded_ids=()), top_k=5)
        hits = [(h.doc_id, h.score) for h in searcher.search(q, top_k=5).hits]
        assert hits == [(h.doc_id, h.score) for h in again.hits]
        assert Searcher(index, None, cfg).parse(WHERE).restored is None
        cfg.restore_diacritics = False
        off = Searcher(index, None, cfg).parse("hoi nghi bao cao vien to chuc o dau")
        assert off.restored is None and off.stream == FOLDED
    finally:
        index.close()


@pytest.mark.slow
def test_restoration_accuracy_on_vinewsqa_questions():
    folder = SHARED_DATA / "vinewsqa-dev"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing: the eval data lives beside the repo in shared/data")
    docs = [json.loads(line) for line in (folder / "corpus.jsonl").open(encoding="utf-8")]
    questions = [json.loads(line)["text"] for line in (folder / "queries.jsonl").open(encoding="utf-8")]
    # One "chunk" an article: what matters here is the corpus's text, not its chunking.
    r = restorer_of([embedding_text(d["title"], d["text"]) for d in docs])
    per_syllable, per_question = restoration_accuracy(questions, r)
    print(f"vinewsqa-dev restoration: {per_syllable:.4f} of syllables, {per_question:.4f} of questions")
    assert per_syllable >= 0.96


def test_forms_keep_the_unmarked_spelling_only_beside_marked_ones():
    forms = syllable_forms([("hội", 5), ("hỏi", 3), ("hoi", 1), ("covid", 9), ("hội_nghị", 4)])
    assert forms == {"hoi": ("hội", "hỏi", "hoi")}
    assert np.isclose(restorer_of(["Hội nghị hỏi."]).total, 3.0)
