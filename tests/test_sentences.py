from retrieval.sentences import sentence_spans


def sentences(text):
    return [text[a:b] for a, b in sentence_spans(text)]


def test_abbreviations_and_numbers_do_not_break_sentences():
    text = (
        "Chiều 28/12, tại TP.HCM, có 1.000 người dự. Theo Kết luận số 21-KL/TW, "
        "kỷ niệm ngày 3/2/1930 được tổ chức. TS. Nguyễn Văn A phát biểu."
    )
    assert sentences(text) == [
        "Chiều 28/12, tại TP.HCM, có 1.000 người dự.",
        "Theo Kết luận số 21-KL/TW, kỷ niệm ngày 3/2/1930 được tổ chức.",
        "TS. Nguyễn Văn A phát biểu.",
    ]


def test_quoted_title_stays_whole():
    text = "Cuốn sách “Cả nước đồng lòng. Quyết tâm thực hiện thắng lợi” ra mắt. Sự kiện kết thúc."
    assert sentences(text) == ["Cuốn sách “Cả nước đồng lòng. Quyết tâm thực hiện thắng lợi” ra mắt.", "Sự kiện kết thúc."]


def test_sentence_ending_in_a_quote_and_ellipsis_before_lowercase():
    text = 'Ông nói: "Rất tốt." Sau đó… mọi người ra về. Hết'
    assert sentences(text) == ['Ông nói: "Rất tốt."', "Sau đó… mọi người ra về.", "Hết"]


def test_newlines_end_sentences_and_spans_are_exact():
    text = "Tiêu đề không dấu chấm\n\n  Đoạn một. Đoạn hai!"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Tiêu đề không dấu chấm", "Đoạn một.", "Đoạn hai!"]
