import io
import logging

from bot.credentials import REDACTED, RedactingStream, RedactToken, redactor

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
