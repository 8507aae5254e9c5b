"""A loopback stand-in for Telegram's servers: a fake Bot API server on 127.0.0.1 that the real
bot (python-telegram-bot's ``Application``, pointed at it by ``telegram.base_url``) talks to over
real HTTP. Used by the bot benchmark (``qabot bench --only bot``, ``bot.bench``) and the tests;
``qabot serve`` never uses it.

It rejects what Telegram rejects where it matters (over-long texts, HTML Telegram cannot parse,
with Telegram's 400 errors: ``rejected()`` lists them), plays the users (``user_message``,
``press`` queue updates for the bot's long poll) and records every request the bot made
(``calls``, ``wait_reply``). Its token (``TOKEN``) is a fixed fake one, worth nothing.

- ``html``: Telegram's HTML rules and UTF-16 lengths;
- ``http``: the wire format (forms, multipart uploads, files);
- ``server``: ``FakeTelegram``, the Bot API methods and the users' side;
- ``record``: what the bot did (``Call``, ``Sent``) and how to wait for it and read it;
- ``running``: ``RunningBot``, an ``Application`` polling in its own thread.
"""

from .html import ALLOWED_TAGS, MESSAGE_LIMIT, EntityError, parse_html, utf16_len
from .record import Call, Sent
from .running import RunningBot
from .server import BOT_USER, TOKEN, ApiError, FakeTelegram

__all__ = [
    "ALLOWED_TAGS",
    "BOT_USER",
    "MESSAGE_LIMIT",
    "TOKEN",
    "ApiError",
    "Call",
    "EntityError",
    "FakeTelegram",
    "RunningBot",
    "Sent",
    "parse_html",
    "utf16_len",
]
