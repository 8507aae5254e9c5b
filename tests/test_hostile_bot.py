"""Hostile users and a misbehaving Bot API, against the real bot (issue 11): the token never
reaches stderr, forged buttons act nowhere, chatter and floods cost what questions cost, and
uploads cannot overrun the size limit, lose their extension or be indexed twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.fake_bot_api import TOKEN, FakeTelegram

from .bot_env import build_corpus, running_bot
from .conftest import REPO, SAMPLE, articles

WHERE = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
DATELINE = "Chiều 28/12, tại Hà Nội"
ADMIN, ASKER, OTHER, GROUP = 100, 201, 202, -1009876543210
NEWS = "tin-ngan.jsonl"


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> tuple[Path, Path]:
    news = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles(6))
    return build_corpus(tmp_path_factory.mktemp("hostile-bot"), e5, {SAMPLE.name: SAMPLE, NEWS: news})


@pytest.fixture
def env(built, tmp_path, e5):
    with running_bot(built, tmp_path, e5, admins=[ADMIN], allowed_users=[ASKER, OTHER], rate_limit_per_minute=5) as env:
        yield env


# --- the token --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, page, lower",
    [(500, "<html><body><h1>500</h1>Upstream failed for {path}</body></html>", False), (400, "<p>bad request: {path}</p>", True)],
    ids=["500-echo", "400-lowercased-echo"],
)
def test_an_error_page_echoing_the_url_never_puts_the_token_on_stderr(built, tmp_path, code, page, lower):
    # Every getMe gets a proxy's HTML error page that repeats the request path (token inside):
    # `qabot serve` retries, gives up, and dies with a traceback that quotes the page.
    fake = FakeTelegram().start()
    try:
        fake.inject_page("getMe", code, page, times=20, lower=lower)
        config = tmp_path / "config.yaml"
        config.write_text(
            textwrap.dedent(f"""\
                corpus: {{path: {built[0]}}}
                index: {{path: {built[1]}}}
                telegram: {{base_url: "{fake.base_url}", admins: [{ADMIN}], allowed_users: [{ASKER}]}}
            """),
            encoding="utf-8",
        )
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
        run = subprocess.run(
            [sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "-v"],
            env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
    finally:
        fake.stop()
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    # The page was echoed (so there was something to hide), and the secret is nowhere, in any case.
    assert "Parsing the server response" in output and "/bot<token>/getme" in output.lower(), output
    secret = TOKEN.split(":", 1)[1]
    assert secret.lower() not in output.lower()


# --- buttons ----------------------------------------------------------------------------------


def test_a_button_forged_in_another_chat_acts_nowhere(env):
    fake = env.fake
    victim = fake.wait_reply(fake.user_message(ASKER, "Báo cáo viên tuyên truyền miệng"), ASKER)[-1]
    victim_data = dict(victim.buttons())
    mine = fake.wait_reply(fake.user_message(OTHER, "Lễ hội hoa xuân ở Hà Nội"), OTHER)[-1]
    before = len(fake.messages_since(0, ASKER))
    answers = []
    for label in ("Thêm kết quả", "👎"):
        # The attacker's own message, carrying the victim's page id.
        seq, query_id = fake.press(OTHER, mine, victim_data[label])
        fake.wait(lambda: fake.callback_answers.get(query_id))
        answers.append(fake.callback_answers[query_id]["text"])
    env.wait_idle()
    assert all("cũ" in text for text in answers)  # told the page is not theirs to act on
    assert len(fake.messages_since(0, ASKER)) == before  # nothing posted into the victim's chat
    assert fake.messages_since(seq, OTHER) == []
    assert env.feedback.all() == []  # no vote recorded against the victim's answer
    # The victim's own buttons still work.
    seq, query_id = fake.press(ASKER, victim, victim_data["👍"])
    fake.wait(lambda: fake.callback_answers.get(query_id))
    assert [(f.user_id, f.verdict) for f in env.feedback.all()] == [(ASKER, "up")]


# --- what counts against the rate limit ---------------------------------------------------------


def test_help_and_empty_asks_count_against_the_rate_limit(env):
    fake = env.fake
    first = fake.user_message(ASKER, "/help")
    for text in ["/help", "/help", "/ask", "/ask   ", "/help", "/ask", "/help"]:
        fake.user_message(ASKER, text)
    env.wait_idle()
    replies = [m.text for m in fake.messages_since(first, ASKER)]
    # Five within the limit, one polite notice, then silence (updates are handled concurrently,
    # so the notice need not come last).
    assert len(replies) == 6
    assert sum("hỏi hơi nhanh" in r for r in replies) == 1


def test_thanks_in_reply_to_an_answer_is_not_searched_but_a_follow_up_question_is(env):
    fake = env.fake
    fake.chats[GROUP] = {"id": GROUP, "type": "supergroup", "title": "Phòng biên tập"}
    answer = fake.wait_reply(fake.user_message(ASKER, f"/ask {WHERE}", chat_id=GROUP), GROUP)[-1]
    searches = env.service.questions
    seq = fake.user_message(ASKER, "cảm ơn nhé 👍", chat_id=GROUP, reply_to=answer)
    fake.user_message(OTHER, "Ok bot, hay quá!", chat_id=GROUP, reply_to=answer)
    env.wait_idle()
    assert fake.messages_since(seq, GROUP) == []
    assert env.service.questions == searches  # no search was even started
    seq = fake.user_message(ASKER, "Hội nghị báo cáo viên tháng 12/2023 tổ chức ở đâu", chat_id=GROUP, reply_to=answer)
    reply = fake.wait_reply(seq, GROUP)
    assert reply and DATELINE in reply[0].text


def test_thanks_in_a_private_chat_gets_a_word_back_not_a_search(env):
    fake = env.fake
    seq = fake.user_message(ASKER, "Cảm ơn bạn nhiều nhé!")
    reply = fake.wait_message(seq, ASKER)
    env.wait_idle()
    assert "Rất vui được giúp" in reply.text and not reply.buttons()
    assert env.service.questions == 0  # nothing was searched
    assert DATELINE in fake.wait_reply(fake.user_message(ASKER, "Hội nghị báo cáo viên tháng 12/2023"), ASKER)[0].text


# --- uploads ------------------------------------------------------------------------------------


def test_an_upload_without_a_stated_size_is_measured_while_downloading(env):
    fake = env.fake
    line = "Tin tức hôm nay: giá lúa tăng mạnh ở đồng bằng sông Cửu Long.\n".encode()
    big = line * (21 * 1024 * 1024 // len(line) + 1)
    seq = fake.user_message(ADMIN, document=fake.add_file("tin-dai.txt", big, sized=False))
    reply = fake.wait_message(seq, ADMIN)
    assert "lớn hơn 20 MB" in reply.text
    assert not (env.corpus / "tin-dai.txt").exists()
    assert sorted(p.name for p in env.corpus.iterdir()) == sorted([SAMPLE.name, NEWS])


def test_a_file_named_dot_dot_txt_is_saved_as_a_txt_article(env):
    fake = env.fake
    data = "Hà Nội mở thêm tuyến buýt điện\n\nSáng 2/6/2024, Hà Nội khai trương tuyến buýt điện số 9.\n".encode()
    seq = fake.user_message(ADMIN, document=fake.add_file("..txt", data))
    reply = fake.wait_message(seq, ADMIN)
    saved = [p for p in env.corpus.iterdir() if p.name not in (SAMPLE.name, NEWS)]
    assert [p.suffix for p in saved] == [".txt"] and saved[0].read_bytes() == data
    assert f"Đã lưu {saved[0].name}" in reply.text and "Tệp sẽ thành 1 bài" in reply.text


def test_the_same_article_uploaded_under_another_name_is_not_saved_twice(env):
    fake = env.fake
    seq = fake.user_message(ADMIN, document=fake.add_file("ban-sao-hoi-nghi.txt", SAMPLE.read_bytes()))
    reply = fake.wait_message(seq, ADMIN)
    assert SAMPLE.name in reply.text and "cùng nội dung" in reply.text
    assert not reply.buttons()  # nothing new to reload
    assert sorted(p.name for p in env.corpus.iterdir()) == sorted([SAMPLE.name, NEWS])


def test_the_same_text_in_other_bytes_is_told_apart_from_new_articles(env):
    fake = env.fake
    # The bundled page re-saved with Windows line endings and extra blank lines: other bytes, same text.
    resaved = SAMPLE.read_text(encoding="utf-8").replace("\n", "\r\n\r\n").encode()
    seq = fake.user_message(ADMIN, document=fake.add_file("hoi-nghi-ban-luu.txt", resaved))
    reply = fake.wait_message(seq, ADMIN)
    assert reply.text.startswith("Không lưu hoi-nghi-ban-luu.txt: cùng nội dung") and SAMPLE.name in reply.text
    assert not reply.buttons() and not (env.corpus / "hoi-nghi-ban-luu.txt").exists()

    # One known text under a new id beside one new article: saved, and the copy named.
    known = {**articles(6)[2], "id": "ban-sao"}
    new = {"id": "moi", "title": "Huế mở lại cầu Trường Tiền", "text": "Sáng 3/9/2024, Huế mở lại cầu Trường Tiền sau 8 tháng sửa chữa."}
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (known, new)).encode()
    seq = fake.user_message(ADMIN, document=fake.add_file("hai-bai.jsonl", data))
    reply = fake.wait_message(seq, ADMIN)
    assert (env.corpus / "hai-bai.jsonl").exists() and dict(reply.buttons()).get("Nạp lại ngay") == "reload"
    assert f"1 bài trong tệp trùng nội dung với bài đã có ({NEWS}#bai-002)" in reply.text
