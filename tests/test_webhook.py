"""`qabot serve` in webhook mode, end to end: the process registers its URL with the (fake) Bot
API, answers the updates Telegram posts there, refuses posts without the shared secret, and never
writes the secret or the token to its output. Replicas behind one URL share the secret through
TELEGRAM_WEBHOOK_SECRET (README, "Several bots, one index")."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.fake_bot_api import TOKEN, FakeTelegram
from bot.fake_bot_api.http import post_update

from .bot_env import build_corpus
from .conftest import REPO, SAMPLE

WHERE = "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?"
DATELINE = "Chiều 28/12, tại Hà Nội"
ADMIN, ASKER = 100, 201
SECRET = "bi-mat_chung-cua-cac-ban-sao-2026"


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5) -> tuple[Path, Path]:
    return build_corpus(tmp_path_factory.mktemp("webhook"), e5, {SAMPLE.name: SAMPLE})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_in_webhook_mode_answers_what_telegram_posts_and_refuses_forgeries(built, tmp_path):
    fake = FakeTelegram().start()
    port = free_port()
    hook = f"http://127.0.0.1:{port}/qabot-hook"
    config = tmp_path / "config.yaml"
    config.write_text(
        textwrap.dedent(f"""\
            corpus: {{path: {built[0]}}}
            index: {{path: {built[1]}}}
            telegram:
              base_url: "{fake.base_url}"
              admins: [{ADMIN}]
              allowed_users: [{ASKER}]
              webhook_url: "{hook}"
              webhook_port: {port}
        """),
        encoding="utf-8",
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(REPO)}
    output = tmp_path / "serve.log"
    with output.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "-v"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        registered = fake.wait(lambda: fake.webhook or serve.poll() is not None, timeout=240)
        assert registered == {"url": hook, "secret_token": SECRET}, output.read_text()
        seq = fake.user_message(ASKER, WHERE)
        assert fake.deliveries == [200]
        reply = fake.wait_reply(seq, ASKER, timeout=60)
        assert DATELINE in reply[0].text
        # Not from Telegram: no secret, or another one. Refused before anything is read.
        forged = {"update_id": 10_000, "message": {"message_id": 1, "date": 0, "chat": {"id": ASKER, "type": "private"}, "text": WHERE}}
        assert post_update(hook, None, forged) == 403
        assert post_update(hook, "mot-bi-mat-khac", forged) == 403
        # Still serving after them.
        again = fake.wait_reply(fake.user_message(ASKER, "Ai chủ trì hội nghị báo cáo viên?"), ASKER, timeout=60)
        assert again and fake.deliveries == [200, 200]
        assert fake.calls_of("getUpdates") == []  # webhook mode never polls
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        finally:
            serve.kill()
            fake.stop()
    log = output.read_text()
    assert "Application started" in log and SECRET not in log and TOKEN.split(":", 1)[1] not in log
