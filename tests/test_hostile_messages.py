"""Every message the bot can send fits Telegram's limit, counted as Telegram counts it (UTF-16
code units after entity parsing), and parses as Telegram HTML, whatever the articles, the corpus
folder or the users put into it (issue 11, item 2).

The sweep runs hostile titles, sources, dates, ids, paths, reasons and names through every message
kind of ``bot.render`` and ``bot.render_admin``; the end-to-end tests run the real bot against the
fake Bot API, which refuses what Telegram refuses (a message over 4,096 units, HTML it cannot
parse). The index is built once for the module; every bot test gets its own copy of it."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest

import bot.admin as admin_module
from bot import render, render_admin
from bot.fake_bot_api import MESSAGE_LIMIT, FakeTelegram, parse_html, utf16_len
from bot.limits import plain
from bot.service import ReloadReport, StatusFacts
from bot.uploads import NOT_TEXT, TOO_LARGE, WRONG_TYPE
from retrieval.index import IndexStats
from retrieval.indexer import IndexSummary
from retrieval.ingest import SUFFIXES, Document, FileProblem, FileReading
from retrieval.ingest.records import PageReading
from retrieval.query import parse_query
from retrieval.search import Answer, Hit
from retrieval.store import StoredChunk

from .bot_env import build_corpus, running_bot
from .conftest import SAMPLE

ALERT_LIMIT = 200  # answerCallbackQuery text
ADMIN, USER = 100, 200

DATELINE = "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên cấp Đảng ủy Khối tháng 12/2023."
WORDS = "Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tổng kết công tác tuyên truyền miệng năm 2023 "
EMOJI = "😀" * 3000  # 6,000 UTF-16 units in 3,000 characters
LONG_TITLE = (WORDS * 60)[:6000]
FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 7 characters, 11 UTF-16 units
RLO = "\u202e"
HOSTILE = {
    "3,000 emoji": EMOJI,
    "6,000-character Vietnamese": LONG_TITLE,
    "markup": "<b>&amp;</b> <script>alert('Hà Nội')</script> </code></blockquote> &lt; & \" ' " * 60,
    "RTL override": (RLO + "Tin tức Hà Nội gpj.txt ") * 300,
    "zero-width joiners": FAMILY * 600,
    "combining marks": unicodedata.normalize("NFD", WORDS) * 50 + "a" + "\u0301" * 2000,
    "CJK extension B": "".join(chr(0x20000 + i) for i in range(2500)),
    "line breaks": "Dòng một\nDòng hai\r\n\t<i>nghiêng</i>\x00" * 300,
}
# Twelve document ids of 400 characters (the reload summary of issue 11).
LONG_IDS = [f"tin-dai-{i:02d}.jsonl#" + (f"bài-viết-số-{i}-về-hội-nghị-báo-cáo-viên-" * 20)[:400] for i in range(12)]


# --- records -----------------------------------------------------------------------------------


def doc(title: str = "Hội nghị báo cáo viên tháng 12/2023", **kw) -> Document:
    fields = dict(doc_id="bai.txt", text=DATELINE, path="bai.txt", date="2023-12-28", source="TTXVN")
    fields.update(kw)
    return Document(title=title, **fields)


def hit(rank: int = 1, quote: str = DATELINE, highlight: tuple[int, int] | None = None, **kw) -> Hit:
    d = doc(**kw)
    return Hit(rank, 1.0, StoredChunk(rank, d.doc_id, 0, len(quote), d), highlight or (0, len(quote)))


def answer(*hits: Hit) -> Answer:
    return Answer(query=parse_query("Hội nghị tổ chức ở đâu?"), answered=True, hits=list(hits))


def summary(value: str) -> IndexSummary:
    ids = [f"{value[:50]}-{i}{value}" for i in range(12)]
    problems = [FileProblem(f"{i}{value}", value) for i in range(40)]
    return IndexSummary(
        added=ids, changed=ids, removed=ids, unchanged=3, failed=problems, skipped=problems, uncertain=problems,
        chunks_embedded=7, documents=15, chunks=40, seconds=2.5,
    )


def reading(value: str) -> FileReading:
    docs = [doc(title=value, date=value, doc_id=f"{i}{value}") for i in range(12)]
    problems = [FileProblem(value, value) for _ in range(5)]
    return FileReading(value, PageReading(docs, uncertain=value), problems)


def stats(value: str) -> IndexStats:
    return IndexStats(12, 340, value, value, value, value)


# --- every message kind ------------------------------------------------------------------------


def every_message(value: str) -> list[tuple[str, callable]]:
    """(kind, a function making the message) for every message the bot sends, ``value`` put into
    every field that comes from an article, the corpus, a user or the config."""
    now = datetime.now(timezone.utc)
    ok = ReloadReport(now, summary=summary(value))
    failed = ReloadReport(now, error=value)
    unexpected = ReloadReport(now, error=value, unexpected=True)

    def facts(last):
        return StatusFacts(stats(value), value, 3725, 12, 9, last, True)

    kinds = [
        ("answer: hostile title, source, date", lambda: render.answer_messages(answer(hit(title=value, source=value, date=value)))),
        ("answer: hostile title and url", lambda: render.answer_messages(answer(hit(title=value, url="https://vnexpress.net/" + value)))),
        ("answer: hostile quote", lambda: render.answer_messages(answer(hit(quote=value, highlight=(len(value) // 3, len(value) // 2))))),
        ("answer: three hostile passages", lambda: render.answer_messages(answer(*[hit(r, quote=value, title=value, source=value) for r in (1, 2, 3)]))),
        ("no answer", lambda: [render.no_answer_message(True), render.no_answer_message(False)]),
        ("help", lambda: [render.help_message(stats(value), value, admin) for admin in (True, False)]),
        ("refusal", lambda: [render.refusal_message(-(10**18)), render.refusal_message(None)]),
        ("admin only", lambda: [render.admin_only_message(value)]),
        ("rate limited", lambda: [render.rate_limited_message(10**9, 10**9)]),
        ("fixed notices", lambda: [render.ask_usage_message(), render.apology_message(), render.not_ready_message()]),
        ("reload running", lambda: [render_admin.reload_running_message()]),
        ("reload progress", lambda: [render_admin.reload_progress_message(s, 10**9, 10**9) for s in ("reading", "embedding", "loading", value)]),
        ("reload summary", lambda: [render_admin.reload_summary_message(ok)]),
        ("reload failed", lambda: [render_admin.reload_summary_message(failed), render_admin.reload_summary_message(unexpected)]),
        ("status", lambda: [render_admin.status_message(facts(r)) for r in (None, ok, failed, unexpected)]),
        ("upload saved", lambda: [render_admin.upload_saved_message(value, value, None, False, reading(value))]),
        ("upload saved, name clash", lambda: [render_admin.upload_saved_message(value, value, value, False, None)]),
        ("upload already there", lambda: [render_admin.upload_saved_message(value, value, None, True)]),
        ("upload with copies", lambda: [render_admin.upload_saved_message(value, value, None, False, reading(value), {value: value})]),
        ("upload only copies", lambda: [render_admin.upload_copy_message(value, {f"{value}{i}": f"{value}#{i}" for i in range(12)})]),
        ("upload unreadable", lambda: [render_admin.upload_saved_message(value, value, None, False, FileReading(value, None, [FileProblem(value, value)] * 5))]),
        ("upload refused", lambda: [render_admin.upload_refused_message(r, SUFFIXES) for r in (WRONG_TYPE, TOO_LARGE, NOT_TEXT)]),
    ]
    return kinds


def every_alert(value: str) -> list[tuple[str, callable]]:
    """Button alerts (plain text), as the handlers make them."""
    return [
        ("refusal alert", lambda: [render.refusal_alert(-(10**18)), render.refusal_alert(None)]),
        ("admin only alert", lambda: [plain(render.admin_only_message(value))]),
        ("rate limited alert", lambda: [plain(render.rate_limited_message(10**9, 10**9))]),
        ("apology alert", lambda: [plain(render.apology_message())]),
        ("fixed alerts", lambda: [render.stale_page_alert(), render.stale_feedback_alert(), render.feedback_thanks(), render.no_more_results(), render_admin.reload_running_alert()]),
    ]


def problems_of(kinds, check) -> list[str]:
    out = []
    for kind, make in kinds:
        try:
            for text in make():
                problem = check(text)
                if problem:
                    out.append(f"{kind}: {problem}")
        except Exception as exc:  # a renderer that cannot take the value is a failure too
            out.append(f"{kind}: {type(exc).__name__}: {exc}")
    return out


def message_problem(text: str) -> str | None:
    try:
        shown = parse_html(text)
    except Exception as exc:
        return f"Telegram would refuse the HTML ({exc})"
    if not shown.strip():
        return "empty"
    if utf16_len(shown) > MESSAGE_LIMIT:
        return f"{utf16_len(shown)} UTF-16 units ({len(shown)} characters)"
    return None


def alert_problem(text: str) -> str | None:
    return f"{utf16_len(text)} UTF-16 units" if utf16_len(text) > ALERT_LIMIT else None


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_message_kind_fits_and_parses_whatever_the_fields_hold(name):
    assert problems_of(every_message(HOSTILE[name]), message_problem) == []


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_alert_fits_200_units_whatever_the_fields_hold(name):
    assert problems_of(every_alert(HOSTILE[name]), alert_problem) == []


def test_the_quote_survives_a_6000_character_title():
    [msg] = render.answer_messages(answer(hit(title=LONG_TITLE)))
    shown = parse_html(msg)
    assert DATELINE in shown and f"<b>{DATELINE}</b>" in msg  # the quote, its answering sentence bold
    title = shown.split("\n")[0]
    assert title.startswith("1. Hội nghị báo cáo viên cấp Đảng ủy Khối") and title.endswith("…")
    assert utf16_len(title) <= 320  # shortened to a title, not to the whole message
    assert "28/12/2023 · TTXVN" in shown


def test_an_emoji_title_is_shortened_by_utf16_units_and_keeps_the_quote():
    [msg] = render.answer_messages(answer(hit(title=EMOJI)))
    shown = parse_html(msg)
    title = shown.split("\n")[0].removeprefix("1. ")
    assert set(title) == {"😀", "…"} and title.endswith("…")
    assert 100 < utf16_len(title) <= 320
    assert DATELINE in shown


def test_graphemes_are_never_split_by_shortening():
    # (hostile title, the characters a grapheme of it can start with)
    cases = [(FAMILY * 600, {"👨"}), ("🇻🇳" * 900, {"🇻"}), (("e\u0302\u0301" + "😀") * 900, {"e", "😀"})]
    for value, starts in cases:
        [msg] = render.answer_messages(answer(hit(title=value)))
        title = parse_html(msg).split("\n")[0].removeprefix("1. ")
        kept = title.removesuffix("…")
        assert title.endswith("…") and kept and value.startswith(kept)
        assert value[len(kept)] in starts, repr(title[-12:])  # cut before a grapheme, not inside one


def test_shorten_counts_utf16_units_and_cuts_ids_in_the_middle():
    shorten = render.shorten
    assert shorten("Hội nghị báo cáo viên", 100) == "Hội nghị báo cáo viên"
    cut = shorten(EMOJI, 11)
    assert cut == "😀" * 5 + "…" and utf16_len(cut) == 11
    ext_b = "".join(chr(0x20000 + i) for i in range(50))
    assert utf16_len(shorten(ext_b, 21)) <= 21 and shorten(ext_b, 21).startswith(ext_b[:5])
    middle = shorten(LONG_IDS[0], 60, middle=True)
    assert utf16_len(middle) <= 60 and middle.startswith("tin-dai-00.jsonl#") and middle.endswith(LONG_IDS[0][-20:])
    assert shorten("Tin nóng\nHà Nội\tmưa lớn", 100) == "Tin nóng Hà Nội mưa lớn"


def test_fields_are_shown_as_text_markup_escaped_and_bidi_overrides_dropped():
    # "gpj.txt" after U+202E shows as "txt.jpg": a file name must read as what it is.
    title = "<b>&amp;</b> Giá vàng & <i>đô-la</i> " + RLO + "gpj.txt"
    [msg] = render.answer_messages(answer(hit(title=title, source=RLO + "<Tuổi Trẻ>")))
    saved = render_admin.upload_saved_message("bai.txt", RLO + "gpj.txt", None, False)
    for text in (msg, saved):
        assert RLO not in parse_html(text)
    assert "<b>&amp;</b> Giá vàng & <i>đô-la</i> gpj.txt" in parse_html(msg) and "<Tuổi Trẻ>" in parse_html(msg)
    assert "gpj.txt" in parse_html(saved)


def test_a_reload_summary_of_twelve_400_character_ids_fits_and_says_how_many():
    report = ReloadReport(datetime.now(timezone.utc), summary=IndexSummary(added=LONG_IDS, unchanged=5, documents=17, chunks=60, seconds=4.0))
    msg = render_admin.reload_summary_message(report)
    shown = parse_html(msg)
    assert utf16_len(shown) <= MESSAGE_LIMIT
    assert shown.startswith("✅") and "Thêm mới: 12" in shown and "Chỉ mục hiện có 17 bài" in shown
    line = next(ln for ln in shown.split("\n") if ln.startswith("Thêm mới: tin-dai-00"))
    listed = line.count("tin-dai-")
    assert listed >= 5 and "…" in line  # ids shortened, not dropped
    assert listed == 12 or f"và {12 - listed} tệp khác" in line


def test_the_last_resort_holds_any_markup_under_the_limit():
    huge = "<b>" + render.esc(EMOJI + LONG_TITLE) + "</b>"
    for limit in (MESSAGE_LIMIT, ALERT_LIMIT):
        out = render.fit(huge, limit)
        assert utf16_len(parse_html(out)) <= limit and parse_html(out).endswith("…")
    assert render.fit("<b>Hà Nội</b>") == "<b>Hà Nội</b>"


# --- the real bot on the fake Bot API ------------------------------------------------------------

EMOJI_ARTICLE = {
    "id": "nuoc-song-ba",
    "title": EMOJI,
    "text": "Sáng 12/4/2024, Công ty Cấp nước Phú Yên khánh thành nhà máy nước sạch Sông Ba, công suất "
    "60.000 mét khối mỗi ngày, cung cấp nước cho hơn 200.000 người dân thành phố Tuy Hòa.",
    "date": "2024-04-12",
    "source": "Báo Phú Yên",
}
# With diacritics the embedding takes part in the answer decision: the title that travels with
# each chunk is capped (retrieval.chunking.TITLE_CHARS), or 3,000 emoji would crowd the passage
# out of what is embedded and the bot would decline.
EMOJI_Q = "Nhà máy nước sạch Sông Ba có công suất bao nhiêu?"
EMOJI_QUOTE = "công suất 60.000 mét khối mỗi ngày"
LONG_TITLE_ARTICLE = {
    "id": "tieu-de-dai",
    "title": LONG_TITLE,
    "text": "Ngày 5/6/2024, tỉnh Quảng Trị khánh thành cầu Cửa Việt mới dài 1,2 km bắc qua sông Thạch Hãn, "
    "tổng vốn đầu tư 480 tỷ đồng.",
    "date": "2024-06-05",
    "source": "Báo Quảng Trị",
}
LONG_TITLE_Q = "Cầu Cửa Việt mới dài bao nhiêu km?"


def long_id_articles() -> list[dict]:
    """Twelve articles whose ids are 400 characters long."""
    places = ["Hà Giang", "Cao Bằng", "Lạng Sơn", "Bắc Kạn", "Thái Nguyên", "Tuyên Quang",
              "Phú Thọ", "Hòa Bình", "Sơn La", "Điện Biên", "Lai Châu", "Yên Bái"]
    return [
        {
            "id": (f"bài-viết-{i}-về-lễ-hội-hoa-ban-tỉnh-{p}-" * 20)[:400],
            "title": f"Lễ hội văn hóa tỉnh {p} năm 2024",
            "text": f"Ngày {i + 1}/3/2024, tỉnh {p} khai mạc lễ hội văn hóa lần thứ {i + 3}, thu hút {1000 + 50 * i} "
            "du khách đến tham quan các gian hàng nông sản và trình diễn trang phục dân tộc.",
            "date": f"2024-03-{i + 1:02d}",
            "source": f"Báo {p}",
        }
        for i, p in enumerate(places)
    ]


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> tuple[Path, Path]:
    """The corpus (the sample page, the two hostile-titled articles) and its index, built once."""
    articles = jsonl([EMOJI_ARTICLE, LONG_TITLE_ARTICLE])
    return build_corpus(tmp_path_factory.mktemp("hostile-built"), e5, {SAMPLE.name: SAMPLE, "tieu-de-la.jsonl": articles})


@pytest.fixture
def env(built, tmp_path, e5):
    with running_bot(built, tmp_path, e5, admins=[ADMIN], allowed_users=[USER]) as env:
        yield env


def test_an_article_titled_with_3000_emoji_is_answered_with_its_quote_and_buttons(env):
    fake = env.fake
    seq = fake.user_message(USER, EMOJI_Q)
    reply = fake.wait_reply(seq, USER)
    assert EMOJI_QUOTE in reply[0].text
    assert "😀😀😀" in reply[0].text and "…" in reply[0].text  # the title, shortened
    assert [b[0] for b in reply[-1].buttons()] == ["Thêm kết quả", "👍", "👎"]
    assert all(utf16_len(m.text) <= MESSAGE_LIMIT for m in reply)
    assert fake.rejected(seq) == []


def test_an_article_with_a_6000_character_title_is_answered_with_its_quote(env):
    fake = env.fake
    seq = fake.user_message(USER, LONG_TITLE_Q)
    reply = fake.wait_reply(seq, USER)
    assert "cầu Cửa Việt mới dài 1,2 km" in reply[0].text
    assert reply[0].text.startswith("1. Hội nghị báo cáo viên")
    assert fake.rejected(seq) == []


def reload_outcome(fake: FakeTelegram, seq: int, timeout: float = 120.0):
    """The admin's messages once the reload summary (✅/❌) or an apology has reached them."""

    def done():
        msgs = fake.messages_since(seq, ADMIN)
        finished = [m for m in msgs if m.text.startswith(("✅", "❌")) or "Xin lỗi" in m.text]
        return msgs if finished else None

    return fake.wait(done, timeout)


def test_a_reload_listing_twelve_400_character_ids_shows_its_summary(env):
    fake = env.fake
    (env.corpus / "tin-dai.jsonl").write_text(jsonl(long_id_articles()), encoding="utf-8")
    seq = fake.user_message(ADMIN, "/reload")
    msgs = reload_outcome(fake, seq)
    assert not any("Xin lỗi" in m.text for m in msgs)
    [progress] = [m for m in msgs if m.history and m.history[0].startswith("⏳")]
    assert progress.text.startswith("✅"), progress.text  # the progress message became the summary
    assert "Thêm mới: 12" in progress.text and "tin-dai.jsonl#bài-viết-0-về-lễ-hội" in progress.text
    assert fake.rejected(seq) == []


def test_when_the_progress_message_is_gone_the_summary_still_arrives(env, monkeypatch):
    monkeypatch.setattr(admin_module, "PROGRESS_EVERY", 600)  # no progress edits: the only edit is the summary's
    fake = env.fake
    (env.corpus / "tin-dai.jsonl").write_text(jsonl(long_id_articles()), encoding="utf-8")
    fake.inject("editMessageText", 400, "Bad Request: message to edit not found")
    seq = fake.user_message(ADMIN, "/reload")
    msgs = reload_outcome(fake, seq)
    assert not any("Xin lỗi" in m.text for m in msgs)
    [summary] = [m for m in msgs if m.text.startswith("✅")]
    assert "Thêm mới: 12" in summary.text and "tin-dai.jsonl#bài-viết-0-về-lễ-hội" in summary.text
    assert [c.error for c in fake.calls_of("editMessageText", seq) if not c.ok] == ["Bad Request: message to edit not found"]
    assert fake.calls_of("sendMessage", seq)[-1].params["parse_mode"] == "HTML"


def test_without_a_progress_message_and_with_its_html_refused_the_summary_still_arrives(env):
    fake = env.fake
    before = env.service.stats.documents
    (env.corpus / "tin-dai.jsonl").write_text(jsonl(long_id_articles()), encoding="utf-8")
    # The progress message cannot be sent, then Telegram refuses the summary's HTML: the reload
    # still runs, and its summary comes as plain text (what failed once is not tried again).
    fake.inject("sendMessage", 400, "Bad Request: chat not found")
    entities = "Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 0"
    fake.inject("sendMessage", 400, entities)
    seq = fake.user_message(ADMIN, "/reload")
    msgs = reload_outcome(fake, seq, timeout=60)
    assert not any("Xin lỗi" in m.text for m in msgs)
    [summary] = msgs
    assert summary.text.startswith("✅") and "Thêm mới: 12" in summary.text
    sends = fake.calls_of("sendMessage", seq)
    assert [c.error for c in sends] == ["Bad Request: chat not found", entities, None]
    assert "parse_mode" not in sends[-1].params  # sent as plain text
    assert env.service.stats.documents == before + 12  # and the reload did happen
