from retrieval.text import (
    clean_whitespace,
    fold,
    has_diacritics,
    lexical_tokens,
    normalize_marks,
    syllables,
)


def test_old_and_new_tone_placement_meet():
    for old, new in [("hoà", "hòa"), ("thuỷ", "thủy"), ("uỷ", "ủy"), ("Khoẻ", "Khỏe"), ("UỶ BAN", "ỦY BAN")]:
        assert normalize_marks(old) == normalize_marks(new) == new


def test_marks_left_alone_where_placement_is_not_ambiguous():
    for word in ["quý", "quỳ", "hoàng", "hoặc", "thuyền", "Đảng"]:
        assert normalize_marks(word) == word


def test_normalize_keeps_length_so_spans_stay_valid():
    text = "Đảng uỷ Khối tổ chức hội nghị hoà bình, thuỷ lợi."
    assert len(normalize_marks(text)) == len(text)


def test_decomposed_input_is_composed():
    decomposed = "Ho\u0300a Bi\u0300nh"
    assert normalize_marks(decomposed) == "Hòa Bình"


def test_fold_removes_marks_and_d_stroke():
    assert fold("Hội nghị báo cáo viên ĐẢNG ủy") == "hoi nghi bao cao vien dang uy"
    assert not has_diacritics("hoi nghi bao cao vien")
    assert has_diacritics("Hội nghị")


def test_one_letter_syllables_and_numbers_survive():
    assert syllables("Hội nghị ở TP.HCM ngày 28/12") == ["hội", "nghị", "ở", "tp", "hcm", "ngày", "28", "12"]


def test_i_and_y_spellings_of_one_syllable_meet():
    assert syllables("Bác sỹ Mỹ kỹ thuật lý do") == syllables("bác sĩ Mĩ kĩ thuật lí do")
    assert syllables("y tế quý Thúy") == ["y", "tế", "quý", "thúy"]


def test_tokens_have_bigrams_and_a_folded_stream():
    toks = lexical_tokens("Báo cáo viên", folded=True)
    assert toks == ["bao", "cao", "vien", "bao_cao", "cao_vien"]


def test_clean_whitespace():
    assert clean_whitespace("\ufeff  Tiêu đề \r\n\r\n\r\n Thân\u00a0 bài  ") == "Tiêu đề\n\nThân bài"


def test_controls_and_bidi_overrides_are_stripped_joiners_and_marks_kept():
    from retrieval.text import strip_controls

    hostile = "Giá\x1b[31m lúa\x07 tăng\x00\u202e\u2066 mạnh\x7f\x9b\u200f\tở\u2028Cần\x0cThơ\r\n👨\u200d👩\u200d👧"
    assert strip_controls(hostile) == "Giá[31m lúa tăng mạnh ở\nCần\nThơ\n👨\u200d👩\u200d👧"
    # A mark cut from its letter by a control composes with it once the control is gone.
    assert clean_whitespace("Ho\x1b\u0300a\tBi\u0300nh\x85Huế") == "Hòa Bình\nHuế"
    plain = "Hội nghị báo cáo viên\nChiều 28/12, tại Hà Nội."
    assert strip_controls(plain) is plain
