import io
import logging

import pytest

from bot.credentials import REDACTED, WEBHOOK_SECRET_ENV, RedactingStream, RedactToken, redactor, webhook_secret_from_env
from retrieval.config import ConfigError

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_the_token_is_redacted_in_any_case_and_encoding():
    redact = redactor(TOKEN)
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    assert redact(url) == f"https://api.telegram.org/bot{REDACTED}/getMe"
    assert TOKEN.lower()[10:] not in redact(url.lower()).lower()
    assert redact(f"/bot{TOKEN.replace(':', '%3A')}/getFile") == f"/bot{REDACTED}/getFile"
    # The secret without the bot id is still the secret; the bot id alone is public.
    assert redact(f"lỗi: {TOKEN.split(':')[1]}") == f"lỗi: {REDACTED}"
    assert redact("bot 123456789 đã khởi động") == "bot 123456789 đã khởi động"


def test_log_records_and_their_tracebacks_are_redacted():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactToken(TOKEN))
    log = logging.getLogger("test_credentials")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"Máy chủ trả về trang lỗi cho /bot{TOKEN.upper()}/getMe")
        except RuntimeError:
            log.error("không gọi được %s", f"/bot{TOKEN}/sendMessage", exc_info=True)
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "RuntimeError" in text and text.count(REDACTED) == 2
    assert TOKEN.split(":")[1].lower() not in text.lower()


def test_a_redacting_stream_passes_everything_else_on():
    out = io.StringIO()
    stream = RedactingStream(out, redactor(TOKEN))
    assert stream.write(f"Traceback: bot{TOKEN}\n") == len(f"Traceback: bot{TOKEN}\n")
    stream.write("Tiếng Việt có dấu vẫn nguyên.\n")
    assert out.getvalue() == f"Traceback: bot{REDACTED}\nTiếng Việt có dấu vẫn nguyên.\n"


def test_the_webhook_secret_is_redacted_beside_the_token():
    secret = "bi-mat_chung-cua-cac-ban-sao"
    redact = redactor(TOKEN, secret)
    line = f"setWebhook {{'url': 'https://bot.example.vn/hook', 'secret_token': '{secret.upper()}'}} /bot{TOKEN}/"
    assert redact(line) == f"setWebhook {{'url': 'https://bot.example.vn/hook', 'secret_token': '{REDACTED}'}} /bot{REDACTED}/"


def test_replicas_share_the_webhook_secret_from_the_environment_and_a_bad_one_is_refused(monkeypatch):
    monkeypatch.setenv(WEBHOOK_SECRET_ENV, "  bi-mat_chung-2026  ")
    assert webhook_secret_from_env() == webhook_secret_from_env() == "bi-mat_chung-2026"
    monkeypatch.setenv(WEBHOOK_SECRET_ENV, "bí mật có dấu")
    with pytest.raises(ConfigError, match=WEBHOOK_SECRET_ENV):
        webhook_secret_from_env()
    monkeypatch.delenv(WEBHOOK_SECRET_ENV)
    one, other = webhook_secret_from_env(), webhook_secret_from_env()  # one process alone: random
    assert one != other and len(one) >= 32
