"""The bot's issue-12 behaviour end to end, against the fake Bot API (``tests/bot_env.py``): a
question that names nothing of its own continues the chat's previous question and says so in
one line; a question with a topic of its own is not pulled back; /moi and «Câu hỏi mới» start
over; a question typed without marks is shown back restored ("Đã hiểu: ...")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.fake_bot_api import FakeTelegram
from retrieval.followup import Turn

from .bot_env import build_corpus, running_bot
from .conftest import SAMPLE, TOURISM_NEWS

GROUP = -1009876543210
USERS = list(range(300, 320))

HEALTH_NEWS = [
    {
        "id": "ngo-doc",
        "title": "Bệnh viện Bạch Mai cứu sống 5 người ngộ độc methanol",
        "text": "Ngày 12/4/2024, Trung tâm Chống độc Bệnh viện Bạch Mai tiếp nhận 5 người nhập viện trong tình trạng "
        "hôn mê sau khi uống rượu pha cồn công nghiệp tại một đám cưới ở Hòa Bình.\n"
        "Các bệnh nhân bị ngộ độc methanol, toan chuyển hóa nặng, một người giảm thị lực.\n"
        "Các bác sĩ lọc máu cấp cứu liên tục; sau 3 ngày điều trị, cả 5 người đã qua cơn nguy kịch.",
        "date": "2024-04-14",
        "source": "Sức khỏe và Đời sống",
    },
    {
        "id": "tay-chan-mieng",
        "title": "Số ca bệnh tay chân miệng ở TP.HCM tăng mạnh",
        "text": "Trong tháng 5/2024, TP.HCM ghi nhận hơn 1.300 ca bệnh tay chân miệng, tăng 40% so với tháng trước.\n"
        "Phần lớn bệnh nhân bị bệnh là trẻ dưới 5 tuổi; bệnh nhân nặng được chuyển Bệnh viện Nhi đồng 1.\n"
        "Ngành y tế khuyến cáo phụ huynh rửa tay cho trẻ bằng xà phòng và lau sạch đồ chơi.",
        "date": "2024-06-03",
        "source": "Tuổi Trẻ",
    },
    TOURISM_NEWS,
]
POISON_TITLE = HEALTH_NEWS[0]["title"]
HFMD_TITLE = HEALTH_NEWS[1]["title"]
TOURISM_TITLE = HEALTH_NEWS[2]["title"]
FIRST = "Bệnh viện Bạch Mai cứu sống bao nhiêu người ngộ độc methanol?"
VAGUE = "Bệnh nhân bị bệnh gì?"
TOURISM = "Đà Nẵng đón bao nhiêu lượt khách du lịch năm 2023?"


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> tuple[Path, Path]:
    records = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in HEALTH_NEWS)
    return build_corpus(tmp_path_factory.mktemp("followup-built"), e5, {SAMPLE.name: SAMPLE, "suc-khoe.jsonl": records})


@pytest.fixture
def env(built, tmp_path, e5):
    # The corpus is a few chunks: restoration (off below restore_min_chunks) is switched on.
    with running_bot(built, tmp_path, e5, retrieval={"restore_min_chunks": 0}, allowed_users=USERS, rate_limit_per_minute=30) as env:
        yield env


def ask(fake: FakeTelegram, user: int, text: str, chat: int | None = None):
    seq = fake.user_message(user, text, chat_id=chat)
    return fake.wait_reply(seq, chat or user)


def first_title(reply) -> str:
    """The title of the first passage (the line after "1.")."""
    line = next(ln for m in reply for ln in m.text.split("\n") if ln.startswith("1. "))
    return line[3:]


def test_vague_question_asked_cold_is_not_placed_in_the_article_asked_about(env):
    # The control for the next test: the same question in a new chat lands elsewhere.
    reply = ask(env.fake, 300, VAGUE)
    assert first_title(reply) != POISON_TITLE
    assert "Hỏi tiếp" not in reply[0].text


def test_follow_up_continues_the_previous_article_and_says_so(env):
    fake = env.fake
    first = ask(fake, 301, FIRST)
    assert first_title(first) == POISON_TITLE and "Hỏi tiếp" not in first[0].text
    reply = ask(fake, 301, VAGUE)
    lines = reply[0].text.split("\n")
    assert lines[0] == f"↪ Hỏi tiếp bài «{POISON_TITLE}». Hỏi chuyện khác: /moi"
    assert first_title(reply) == POISON_TITLE
    assert "ngộ độc methanol" in reply[0].text
    assert [b[0] for b in reply[-1].buttons()][-1] == "Câu hỏi mới"
    # The chat keeps the question that named the topic, so the next vague one still finds it.
    assert env.bot.app.bot_data["qabot"].chats.recall((301, 301)).question == FIRST
    third = ask(fake, 301, VAGUE)
    assert third[0].text.startswith("↪ Hỏi tiếp") and first_title(third) == POISON_TITLE
    assert fake.rejected(0) == []


def test_question_with_its_own_topic_is_not_pulled_back(env):
    fake = env.fake
    ask(fake, 302, FIRST)
    reply = ask(fake, 302, TOURISM)
    assert "Hỏi tiếp" not in reply[0].text
    assert first_title(reply) == TOURISM_TITLE and "8 triệu lượt khách" in reply[0].text
    assert [b[0] for b in reply[-1].buttons()] == ["Thêm kết quả", "👍", "👎"]


def test_moi_starts_over(env):
    fake = env.fake
    ask(fake, 303, FIRST)
    seq = fake.user_message(303, "/moi")
    msg = fake.wait_message(seq, 303)
    assert "bắt đầu lại" in msg.text
    reply = ask(fake, 303, VAGUE)
    assert "Hỏi tiếp" not in reply[0].text and first_title(reply) != POISON_TITLE
    # Asked twice in a row: nothing left to forget, and it says so.
    seq = fake.user_message(303, "/moi")
    fake.wait_message(seq, 303)
    seq = fake.user_message(303, "/moi")
    assert "Chưa có câu hỏi nào" in fake.wait_message(seq, 303).text


def test_new_topic_button_starts_over(env):
    fake = env.fake
    ask(fake, 304, FIRST)
    reply = ask(fake, 304, VAGUE)
    assert reply[0].text.startswith("↪ Hỏi tiếp")
    _, query_id = fake.press(304, reply[-1], dict(reply[-1].buttons())["Câu hỏi mới"])
    answered = fake.wait(lambda: fake.callback_answers.get(query_id))
    assert "bắt đầu lại" in answered["text"]
    again = ask(fake, 304, VAGUE)
    assert "Hỏi tiếp" not in again[0].text and first_title(again) != POISON_TITLE


def test_more_results_of_a_follow_up_page_through_the_same_context(env):
    fake = env.fake
    ask(fake, 305, FIRST)
    reply = ask(fake, 305, VAGUE)
    seq, _ = fake.press(305, reply[-1], dict(reply[-1].buttons())["Thêm kết quả"])
    more = fake.wait_message(seq, 305, lambda m: m.text.startswith("4."))
    shown = {first_title(reply)} | {ln[3:] for m in reply for ln in m.text.split("\n") if ln[:2] in ("2.", "3.")}
    assert more.text.split("\n")[0][3:] not in shown


def test_context_is_per_user_in_groups_and_forgotten_after_its_minutes(env):
    fake = env.fake
    ask(fake, 306, f"/ask {FIRST}", chat=GROUP)
    other = ask(fake, 307, f"/ask {VAGUE}", chat=GROUP)  # someone else's question: no context
    assert "Hỏi tiếp" not in other[0].text
    own = ask(fake, 306, f"/ask {VAGUE}", chat=GROUP)
    assert own[0].text.startswith("↪ Hỏi tiếp") and first_title(own) == POISON_TITLE
    # Past the configured minutes the turn is gone.
    memory = env.bot.app.bot_data["qabot"].chats
    key = (GROUP, 306)
    memory._turns[key] = Turn(FIRST, (), POISON_TITLE, at=memory.clock() - env.cfg.followup.remember_minutes * 60 - 1)
    late = ask(fake, 306, f"/ask {VAGUE}", chat=GROUP)
    assert "Hỏi tiếp" not in late[0].text


def test_unmarked_question_is_shown_back_restored(env):
    reply = ask(env.fake, 308, "hoi nghi bao cao vien thang 12/2023 duoc to chuc o dau")
    first = reply[0].text.split("\n")[0]
    # As typed (lower case), with the marks given back.
    assert first.lower().startswith('đã hiểu: "hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu')
    assert "Chiều 28/12, tại Hà Nội" in reply[0].text
    # A question typed with its marks is not repeated back.
    marked = ask(env.fake, 309, "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?")
    assert "Đã hiểu" not in marked[0].text
