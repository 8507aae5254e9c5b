from retrieval.query import ACCENTED, FOLDED, MAX_QUESTION_CHARS, parse_query, strip_question_words
from retrieval.text import fold, syllables


def test_question_words_are_dropped_from_queries_only():
    toks = syllables("Hội nghị được tổ chức ở đâu, bao nhiêu người?")
    assert strip_question_words(toks) == ["hội", "nghị", "được", "tổ", "chức", "người"]
    assert strip_question_words([fold(t) for t in toks], folded=True) == ["hoi", "nghi", "duoc", "to", "chuc", "nguoi"]
    assert parse_query("ở đâu", bigrams=False).tokens == ()


def test_a_question_with_diacritics_searches_the_accented_stream():
    q = parse_query("  Hội nghị báo cáo viên\n tổ chức ở đâu?  ")
    assert q.text == "Hội nghị báo cáo viên tổ chức ở đâu?"
    assert q.accented and q.stream == ACCENTED
    assert q.tokens[:6] == ("hội", "nghị", "báo", "cáo", "viên", "tổ")
    assert "hội_nghị" in q.tokens and "đâu" not in q.tokens and "ở" not in q.tokens
    # Topic syllables are folded, once each, without question and function words ("hội" folds
    # to "hoi" as "hỏi" does, "báo" to "bao" as in "bao nhiêu").
    assert q.topic == ("nghi", "cao", "vien", "to", "chuc")


def test_a_question_without_diacritics_searches_the_folded_stream():
    q = parse_query("hoi nghi bao cao vien to chuc o dau", bigrams=False)
    assert not q.accented and q.stream == FOLDED
    assert q.tokens == ("hoi", "nghi", "bao", "cao", "vien", "to", "chuc")
    assert q.embedding_text == q.text


def test_embedding_text_has_one_tone_convention():
    assert parse_query("Thuỷ điện Hoà Bình ở đâu?").embedding_text == "Thủy điện Hòa Bình ở đâu?"


def test_long_pasted_text_is_cut():
    q = parse_query("Hội nghị " * 2000)
    assert len(q.text) == MAX_QUESTION_CHARS


def test_a_restored_question_searches_the_accented_stream_and_keeps_the_folded_one():
    asked = []

    def restore(text):
        asked.append(text)
        return "Hội nghị báo cáo viên tổ chức ở đâu?"

    q = parse_query("Hoi nghi bao cao vien to chuc o dau?", bigrams=False, restore=restore)
    assert asked == ["Hoi nghi bao cao vien to chuc o dau?"]
    assert q.text == "Hoi nghi bao cao vien to chuc o dau?" and not q.accented
    assert q.restored == "Hội nghị báo cáo viên tổ chức ở đâu?" and q.stream == ACCENTED
    assert q.tokens == ("hội", "nghị", "báo", "cáo", "viên", "tổ", "chức")
    assert q.folded_tokens == ("hoi", "nghi", "bao", "cao", "vien", "to", "chuc")
    assert q.embedding_text == "Hội nghị báo cáo viên tổ chức ở đâu?"
    assert q.topic == parse_query("hoi nghi bao cao vien to chuc o dau").topic


def test_restoration_is_for_unmarked_questions_only_and_may_find_nothing():
    def refuse(text):
        raise AssertionError("a marked question is searched as typed")

    assert parse_query("Hội nghị ở đâu?", restore=refuse).restored is None
    q = parse_query("covid o dau", bigrams=False, restore=lambda text: None)
    assert q.restored is None and q.stream == FOLDED and q.tokens == ("covid",)
