"""The bot token: read from the environment only, and kept out of every log line."""

from __future__ import annotations

import logging
import os

from retrieval.config import ConfigError

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
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


class RedactToken(logging.Filter):
    """The token is part of every Bot API URL; make sure no log line ever carries it."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, REDACTED), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, REDACTED)
        return True


def protect_logs(token: str) -> None:
    """Redact ``token`` from every handler of the root logger, and quiet httpx's URL logging."""
    # httpx logs every request URL (token included) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
