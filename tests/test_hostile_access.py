"""Not open by default, and never silently (issue 11, item 1): the real bot on the fake Bot API.

With both allow-lists empty the bot answers only its admins; everyone else is refused with their
user id and learns nothing about the corpus. ``open_to_everyone: true`` opens it, and the start
log and /status say so. The index is built once for the module; every test gets its own copy,
fake Telegram, service and bot."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import pytest

from bot import app as app_module
from bot.fake_bot_api import FakeTelegram
from retrieval.config import ConfigError

from .bot_env import build_corpus, running_bot
from .conftest import SAMPLE, articles, make_config

ADMIN, STRANGER, OTHER_STRANGER = 100, 666, 667
WHERE = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
DATELINE = "Chiều 28/12, tại Hà Nội"
@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> tuple[Path, Path]:
    news = json.dumps(articles(1)[0], ensure_ascii=False) + "\n"
    return build_corpus(tmp_path_factory.mktemp("access-built"), e5, {SAMPLE.name: SAMPLE, "tin.jsonl": news})


@pytest.fixture
def start_bot(built, tmp_path, e5):
    """start_bot(telegram settings) -> the fake Telegram of a running bot with those settings."""
    with contextlib.ExitStack() as bots:
        started = []

        def start(**telegram) -> FakeTelegram:
            where = tmp_path / f"bot{len(started)}"
            where.mkdir()
            started.append(bots.enter_context(running_bot(built, where, e5, **telegram)))
            return started[-1].fake

        yield start


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.app" and r.levelno == logging.WARNING]


def test_by_default_a_stranger_is_refused_with_their_id_and_learns_nothing(start_bot):
    fake = start_bot(admins=[ADMIN])  # no allow-list, nothing said about opening it
    seq = fake.user_message(STRANGER, WHERE)
    refusal = fake.wait_message(seq, STRANGER)
    assert f"<code>{STRANGER}</code>" in refusal.html and "quản trị viên" in refusal.text
    assert DATELINE not in refusal.text and not refusal.buttons()
    # /help from another stranger: the refusal, not the corpus's size and dates.
    seq = fake.user_message(OTHER_STRANGER, "/help")
    refusal = fake.wait_message(seq, OTHER_STRANGER)
    assert str(OTHER_STRANGER) in refusal.text
    assert "bài viết (" not in refusal.text and "28/12/2023" not in refusal.text and "19/05/2024" not in refusal.text
    # The admin still gets answers.
    seq = fake.user_message(ADMIN, WHERE)
    assert DATELINE in fake.wait_reply(seq, ADMIN)[0].text
    assert fake.rejected() == []


def test_open_to_everyone_answers_strangers(start_bot):
    fake = start_bot(admins=[ADMIN], open_to_everyone=True)
    seq = fake.user_message(STRANGER, WHERE)
    reply = fake.wait_reply(seq, STRANGER)
    assert DATELINE in reply[0].text and reply[-1].buttons()
    seq = fake.user_message(OTHER_STRANGER, "/help")
    assert "Kho hiện có 3 bài viết" in fake.wait_message(seq, OTHER_STRANGER).text


def test_open_to_everyone_cannot_sit_beside_an_allow_list(tmp_path):
    with pytest.raises(ConfigError, match="open_to_everyone: true contradicts"):
        make_config(tmp_path, tmp_path / "corpus", telegram={"open_to_everyone": True, "allowed_chats": [-1001]})


def test_start_warns_when_only_admins_can_use_the_bot(start_bot, caplog):
    caplog.set_level(logging.INFO)
    fake = start_bot(admins=[ADMIN])
    assert fake.commands  # started: post_init has run
    [warning] = warnings_of(caplog)
    assert "only the admins can use the bot" in warning and "open_to_everyone: true" in warning


def test_start_warns_when_the_bot_is_open_and_when_nobody_can_reload(start_bot, caplog):
    caplog.set_level(logging.INFO)
    start_bot(open_to_everyone=True)
    found = warnings_of(caplog)
    assert len(found) == 2
    assert "anyone who finds the bot" in found[0]
    assert "admins is empty" in found[1] and "/reload" in found[1]


def test_a_configured_bot_starts_without_access_warnings_but_says_who_may_use_it(start_bot, caplog):
    caplog.set_level(logging.INFO)
    start_bot(admins=[ADMIN], allowed_users=[200, 201])
    assert warnings_of(caplog) == []
    said = [r.getMessage() for r in caplog.records if r.name == "bot.app" and r.levelno == logging.INFO]
    assert any("access: listed (2 allowed users, 0 allowed chats, 1 admins)" in m for m in said), said


def test_the_warnings_logged_at_start_come_from_one_function(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    cfg = make_config(tmp_path, tmp_path / "corpus")  # the shipped defaults: closed, no admins
    logged = app_module.log_access_warnings(cfg)
    assert warnings_of(caplog) == logged and len(logged) == 2
    assert "nobody (no admins either)" in logged[0]


def test_status_shows_the_access_mode_and_its_warning(start_bot):
    fake = start_bot(admins=[ADMIN], open_to_everyone=True)
    seq = fake.user_message(ADMIN, "/status")
    status = fake.wait_message(seq, ADMIN)
    assert "Quyền dùng: mở cho mọi người" in status.text and "⚠️ Ai tìm thấy bot" in status.text
    assert "Bài viết:" in status.text  # the rest of /status is still there
    fake2 = start_bot(admins=[ADMIN])
    seq = fake2.user_message(ADMIN, "/status")
    status = fake2.wait_message(seq, ADMIN)
    assert "Quyền dùng: chỉ quản trị viên" in status.text and "allowed_users" in status.text
