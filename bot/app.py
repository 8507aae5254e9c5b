"""The Telegram bot: one function builds the ``Application``, one runs it, one error handler.

Handlers live in ``bot.handlers`` (people asking) and ``bot.admin`` (reload, status, uploads);
who may do what in ``bot.access``; the words in ``bot.render``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, Defaults, MessageHandler, filters

from retrieval.config import Config, ConfigError
from retrieval.embedder import load_embedder

from . import admin, handlers, render
from .access import RefusalCooldown, access_mode, access_warnings
from .credentials import TOKEN_ENV, protect_logs, token_from_env, webhook_secret_from_env
from .feedback import FeedbackStore
from .limits import alert
from .pages import FEEDBACK_PATTERN, MORE_PATTERN, NEW_PATTERN, RELOAD_PATTERN, PageCache
from .ratelimit import RateLimiter, RetryingLimiter
from .service import QAService
from .state import KEY, BotState, ChatMemory
from .telegram_http import AiohttpRequest

log = logging.getLogger(__name__)

FOLLOWER = "follow-builds"  # bot_data key of the task serving newer builds (QAService.follow_builds)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unhandled error with its traceback; the user gets a short apology, not silence."""
    log.error("error while handling %s", type(update).__name__, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(alert(render.apology_message()), show_alert=True)
        elif update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, render.apology_message())
    except TelegramError as exc:
        log.warning("could not send the apology: %s", exc)


def log_access_warnings(cfg: Config) -> list[str]:
    """Say at start who may use the bot, and loudly when that is everyone, or nobody but the
    admins, or nobody can administer it; returns the warnings logged."""
    tg = cfg.telegram
    log.info(
        "access: %s (%d allowed users, %d allowed chats, %d admins)",
        access_mode(tg), len(tg.allowed_users), len(tg.allowed_chats), len(tg.admins),
    )
    warnings = access_warnings(tg)
    for warning in warnings:
        log.warning("%s", warning)
    return warnings


async def _post_init(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in render.COMMANDS])
    log.info("bot @%s is up", app.bot.username)
    # Here, not before the index loads, so the warnings are the last thing an operator sees.
    log_access_warnings(app.bot_data[KEY].cfg)
    every = app.bot_data[KEY].cfg.index.follow_seconds
    if every > 0:
        # Not app.create_task: stop() would wait for a loop that never ends. Cancelled at shutdown.
        app.bot_data[FOLLOWER] = asyncio.create_task(app.bot_data[KEY].service.follow_builds(every), name="follow-builds")


async def _post_shutdown(app: Application) -> None:
    follower = app.bot_data.pop(FOLLOWER, None)
    if follower is not None:
        follower.cancel()
    app.bot_data[KEY].feedback.close()


def feedback_path(cfg: Config) -> Path:
    """Next to the index folder (``.qabot/feedback.sqlite`` with the shipped config)."""
    return cfg.index.path.parent / "feedback.sqlite"


def build_application(cfg: Config, service: QAService, token: str, feedback: FeedbackStore | None = None) -> Application:
    """The whole bot: configured ``Application`` with every handler registered."""
    tg = cfg.telegram
    builder = (
        Application.builder()
        .token(token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                # A question deleted before its answer is ready still gets the answer.
                allow_sending_without_reply=True,
            )
        )
        .request(AiohttpRequest())
        # One connection: the updater polls one request at a time; a long poll waits up to its
        # timeout for the answer, so it gets the read timeout PTB adds the poll's wait to.
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .rate_limiter(RetryingLimiter())
        # One slow search must not hold up everyone else's updates.
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if tg.base_url:
        builder = builder.base_url(tg.base_url)
    if tg.base_file_url:
        builder = builder.base_file_url(tg.base_file_url)
    app = builder.build()
    app.bot_data[KEY] = BotState(
        cfg=cfg,
        service=service,
        feedback=feedback or FeedbackStore(feedback_path(cfg)),
        limiter=RateLimiter(tg.rate_limit_per_minute),
        pages=PageCache(),
        refusals=RefusalCooldown(),
        chats=ChatMemory(cfg.followup.remember_minutes if cfg.followup.enabled else 0),
    )
    new_message = filters.UpdateType.MESSAGE
    private, groups, text = filters.ChatType.PRIVATE, filters.ChatType.GROUPS, filters.TEXT & ~filters.COMMAND
    app.add_handler(CommandHandler(["start", "help"], handlers.help_command, filters=new_message))
    app.add_handler(CommandHandler("ask", handlers.ask_command, filters=new_message))
    app.add_handler(CommandHandler("moi", handlers.new_topic_command, filters=new_message))
    app.add_handler(CommandHandler("reload", admin.reload_command, filters=new_message))
    app.add_handler(CommandHandler("status", admin.status_command, filters=new_message))
    app.add_handler(MessageHandler(new_message & private & filters.Document.ALL, admin.document_upload))
    app.add_handler(MessageHandler(new_message & private & text, handlers.private_text))
    app.add_handler(MessageHandler(new_message & groups & text, handlers.group_text))
    app.add_handler(CallbackQueryHandler(handlers.more_button, pattern=MORE_PATTERN))
    app.add_handler(CallbackQueryHandler(handlers.feedback_button, pattern=FEEDBACK_PATTERN))
    app.add_handler(CallbackQueryHandler(handlers.new_topic_button, pattern=NEW_PATTERN))
    app.add_handler(CallbackQueryHandler(admin.reload_button, pattern=RELOAD_PATTERN))
    app.add_error_handler(on_error)
    return app


def run(cfg: Config, token: str | None = None) -> None:
    """``qabot serve``: load the index, then long-poll (or take webhooks) until SIGINT/SIGTERM."""
    token = token or token_from_env()
    tg = cfg.telegram
    secret = webhook_secret_from_env() if tg.webhook_url else None
    protect_logs(token, *([secret] if secret else []))
    service = QAService(cfg, load_embedder(cfg.embedding, install=True))
    service.open()
    app = build_application(cfg, service, token)
    try:
        if tg.webhook_url:
            app.run_webhook(
                listen=tg.webhook_listen,
                port=tg.webhook_port,
                url_path=urlparse(tg.webhook_url).path.lstrip("/"),
                webhook_url=tg.webhook_url,
                # Telegram echoes it in a header: requests without it are not from Telegram.
                secret_token=secret,
                allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            )
        else:
            app.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
    except InvalidToken:
        raise ConfigError(f"Telegram rejected the token in {TOKEN_ENV}; check it with @BotFather") from None
    finally:
        service.close()
