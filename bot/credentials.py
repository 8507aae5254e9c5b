"""The bot token and the webhook secret: read from the environment only, kept out of every log
line."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import sys
from collections.abc import Callable
from typing import TextIO

from retrieval.config import ConfigError

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
# Telegram sends it with every webhook request; replicas behind one URL must share it.
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts
REDACTED = "<TOKEN>"


class MissingToken(ConfigError):
    """TELEGRAM_BOT_TOKEN is not set."""


def token_from_env() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise MissingToken(
            f"{TOKEN_ENV} is not set. Get a token from @BotFather, then run: "
            f"export {TOKEN_ENV}='123456789:AA...' (keep it out of config files and git)"
        )
    return token


def webhook_secret_from_env() -> str:
    """The secret Telegram is to send with each webhook request: ``TELEGRAM_WEBHOOK_SECRET``, the
    same for every replica behind one URL (each setting its own, the last would lock the others
    out), or, unset, a random one for this process alone."""
    secret = os.environ.get(WEBHOOK_SECRET_ENV, "").strip()
    if not secret:
        return secrets.token_urlsafe(32)
    if not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(f"{WEBHOOK_SECRET_ENV} must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
    return secret


def redactor(token: str, *others: str) -> Callable[[str], str]:
    """A function that blanks the token out of a text, however it was echoed back: any letter
    case (an error page may lowercase the URL), with its ":" percent-encoded, or its secret part
    alone (the part after the bot id; the id itself is public); and each of ``others`` (the
    webhook secret) as written, in any case."""
    bot_id, colon, secret = token.partition(":")
    secret = secret if colon and secret else token
    parts = [rf"(?:{re.escape(bot_id)}(?::|%3a))?{re.escape(secret)}" if colon else re.escape(token)]
    parts += [re.escape(o) for o in others if o]
    pattern = re.compile("|".join(parts), re.IGNORECASE)
    return lambda text: pattern.sub(REDACTED, text)


class RedactToken(logging.Filter):
    """The token is part of every Bot API URL; make sure no log line ever carries it (nor the
    webhook secret, which PTB logs among setWebhook's parameters when debugging)."""

    def __init__(self, token: str, *others: str):
        super().__init__()
        self.redact = redactor(token, *others)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that passes everything on to ``stream`` with the token blanked out: for what
    reaches stderr without logging, above all the traceback of an uncaught exception (a Bot API
    error page that echoes the request URL puts the token in the exception's message)."""

    def __init__(self, stream: TextIO, redact: Callable[[str], str]):
        self.stream, self.redact = stream, redact

    def write(self, text: str) -> int:
        self.stream.write(self.redact(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


def protect_logs(token: str, *others: str) -> None:
    """Keep ``token`` (and ``others``) out of everything this process writes: every log handler
    gets a redacting filter, and stdout/stderr (where uncaught tracebacks go) are wrapped. httpx's
    URL logging is quieted too."""
    # httpx (still used to download uploaded files) logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    redact = redactor(token, *others)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream, redact))
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token, *others))
        # basicConfig's handler holds the original stream: logs passed the filter already, but a
        # handler's own error report (handleError) writes to the stream directly.
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout.stream, sys.stderr.stream):
            handler.setStream(sys.stderr if handler.stream is sys.stderr.stream else sys.stdout)
