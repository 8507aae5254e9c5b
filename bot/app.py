"""The Telegram bot: one function builds the ``Application``, thin handlers, one error handler.

Handlers only translate between Telegram and the service: access checks, rate limiting, the
"typing" action, sending what ``bot.render`` wrote. Searching and reloading live in
``bot.service``; the words live in ``bot.render``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from retrieval.config import Config, ConfigError
from retrieval.ingest import SUFFIXES
from retrieval.search import Hit

from . import render
from .feedback import Feedback, FeedbackStore, ShownPassage
from .ratelimit import RateLimiter, RetryingLimiter
from .service import NotReady, QAService, save_upload

log = logging.getLogger(__name__)

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
PROGRESS_EVERY = 1.5  # seconds between edits of the reload progress message
TYPING_EVERY = 4.5  # Telegram shows "typing" for about 5 s
REFUSAL_COOLDOWN = 60.0  # one refusal a minute per user, however much they write
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's download limit
PAGES_KEPT = 5000  # answers whose buttons still work

COMMANDS = [
    BotCommand("ask", "Hỏi về các bài viết trong kho"),
    BotCommand("help", "Cách hỏi và kho đang có gì"),
    BotCommand("status", "Tình trạng chỉ mục (quản trị viên)"),
    BotCommand("reload", "Nạp lại kho bài viết (quản trị viên)"),
]


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


@dataclass
class Page:
    """One shown page of an answer: what its buttons act on and what feedback records."""

    id: str
    question: str
    offset: int
    hits: list[Hit]
    answered: bool
    chat_id: int
    more_done: bool = False


@dataclass
class BotState:
    cfg: Config
    service: QAService
    feedback: FeedbackStore
    limiter: RateLimiter
    pages: OrderedDict[str, Page] = field(default_factory=OrderedDict)
    refused_at: dict[int, float] = field(default_factory=dict)
    # From a /reload until its index is swapped in (not until its summary is shown: an admin who
    # sees the summary and sends /reload at once must get a new reload, not "already running").
    reload_busy: bool = False

    def remember(self, page: Page) -> None:
        self.pages[page.id] = page
        while len(self.pages) > PAGES_KEPT:
            self.pages.popitem(last=False)


def _state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["qabot"]


# --- access ---------------------------------------------------------------------------------------


def is_admin(state: BotState, user_id: int | None) -> bool:
    return user_id is not None and user_id in state.cfg.telegram.admins


def is_allowed(state: BotState, user_id: int | None, chat_id: int | None) -> bool:
    """Admins always; otherwise the user and the chat must each pass their list (empty = open)."""
    tg = state.cfg.telegram
    if user_id is None:
        return False
    if is_admin(state, user_id):
        return True
    if tg.allowed_users and user_id not in tg.allowed_users:
        return False
    if tg.allowed_chats and chat_id not in tg.allowed_chats:
        return False
    return True


async def _gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when the sender may use the bot; otherwise one short refusal (at most once a minute)."""
    state = _state(context)
    user, chat = update.effective_user, update.effective_chat
    if is_allowed(state, user and user.id, chat and chat.id):
        return True
    user_id = user.id if user else None
    log.info("refused user %s in chat %s", user_id, chat and chat.id)
    if update.callback_query:
        await update.callback_query.answer(f"Bạn chưa có quyền dùng bot này (mã người dùng: {user_id}).", show_alert=True)
        return False
    now = time.monotonic()
    if user_id is not None and now - state.refused_at.get(user_id, -REFUSAL_COOLDOWN) >= REFUSAL_COOLDOWN:
        state.refused_at[user_id] = now
        await update.effective_message.reply_text(render.refusal_message(user_id), do_quote=_is_group(update))
    return False


async def _gate_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
    if not await _gate(update, context):
        return False
    if is_admin(_state(context), update.effective_user.id):
        return True
    text = render.admin_only_message(command)
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(text, do_quote=_is_group(update))
    return False


def _is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE


# --- asking ---------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int):
    async def keep_typing():
        while True:
            try:
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("chat action failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()


def _keyboard(page: Page, more: bool) -> InlineKeyboardMarkup:
    rows = []
    if more:
        rows.append([InlineKeyboardButton(render.MORE_BUTTON, callback_data=f"more:{page.id}")])
    rows.append(
        [
            InlineKeyboardButton(render.UP_BUTTON, callback_data=f"up:{page.id}"),
            InlineKeyboardButton(render.DOWN_BUTTON, callback_data=f"down:{page.id}"),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def _send_page(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply_to: Message | None, page: Page, messages: list[str]
) -> None:
    """The page's messages in order, buttons under the last one."""
    per_page = _state(context).cfg.telegram.passages_per_reply
    more = page.answered and len(page.hits) >= per_page
    for i, text in enumerate(messages):
        markup = _keyboard(page, more) if i == len(messages) - 1 else None
        if reply_to is not None and i == 0:
            await reply_to.reply_text(text, reply_markup=markup, do_quote=True)
        else:
            await context.bot.send_message(chat_id, text, reply_markup=markup)


def _limited(state: BotState, user_id: int) -> str | None:
    """The message to send when the user is over the rate limit ("" = stay quiet), else None."""
    verdict = state.limiter.check(user_id)
    if verdict.allowed:
        return None
    return render.rate_limited_message(state.limiter.per_minute, verdict.wait_seconds) if verdict.notify else ""


async def _answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    state = _state(context)
    message, chat = update.effective_message, update.effective_chat
    group = _is_group(update)
    if not await _gate(update, context):
        return
    question = question.strip()
    if not question:
        await message.reply_text(render.ask_usage_message(), do_quote=group)
        return
    over = _limited(state, update.effective_user.id)
    if over is not None:
        if over:
            await message.reply_text(over, do_quote=group)
        return
    per_page = state.cfg.telegram.passages_per_reply
    try:
        async with _typing(context, chat.id):
            answer = await state.service.ask(question, top_k=per_page)
    except NotReady as exc:
        await message.reply_text(render.not_ready_message(str(exc)), do_quote=group)
        return
    page = Page(secrets.token_urlsafe(6), answer.question, 0, answer.hits if answer.answered else [], answer.answered, chat.id)
    state.remember(page)
    if answer.answered:
        messages = render.answer_messages(answer)
    else:
        messages = [render.no_answer_message(state.service.diacritics_would_help(question))]
    await _send_page(context, chat.id, message if group else None, page, messages)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    await _answer_question(update, context, update.effective_message.text or "")


def addressed_question(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a group message meant for the bot (mention or reply to it), else None."""
    text = message.text or ""
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        mentions_bot = (
            entity.type == MessageEntity.MENTION and bot_username and value.lower() == f"@{bot_username.lower()}"
        ) or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id)
        if mentions_bot:
            return text.replace(value, " ", 1).strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot or reply to it."""
    question = addressed_question(update.effective_message, context.bot.id, context.bot.username)
    if question is not None:
        await _answer_question(update, context, question)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION, in any chat."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    await _answer_question(update, context, parts[1] if len(parts) > 1 else "")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: how to ask, and what the corpus holds."""
    if not await _gate(update, context):
        return
    state = _state(context)
    text = render.help_message(state.service.facts, context.bot.username, is_admin(state, update.effective_user.id))
    await update.effective_message.reply_text(text, do_quote=_is_group(update))


# --- buttons ----------------------------------------------------------------------------------


def _shown(hits: list[Hit]) -> list[ShownPassage]:
    return [ShownPassage(h.rank, h.doc_id, h.chunk_id, h.title, h.date, h.url, h.quote, tuple(h.highlight)) for h in hits]


async def more_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Thêm kết quả": the next passages for the same question, in a new message."""
    query = update.callback_query
    if not await _gate(update, context):
        return
    state = _state(context)
    page = state.pages.get(query.data.partition(":")[2])
    if page is None:
        await query.answer("Câu trả lời này đã cũ; hãy hỏi lại.", show_alert=True)
        return
    over = _limited(state, update.effective_user.id)
    if over is not None:
        await query.answer(render.plain(over) if over else None, show_alert=bool(over))
        return
    per_page = state.cfg.telegram.passages_per_reply
    offset = page.offset + len(page.hits)
    async with _typing(context, page.chat_id):
        answer = await state.service.ask(page.question, offset=offset, top_k=per_page)
    with contextlib.suppress(BadRequest):
        # Drop the pressed "more" button so the same page is not fetched twice.
        await query.edit_message_reply_markup(_keyboard(page, more=False))
    if not answer.hits:
        await query.answer(render.no_more_results())
        return
    await query.answer()
    nxt = Page(secrets.token_urlsafe(6), page.question, offset, answer.hits, True, page.chat_id)
    state.remember(nxt)
    await _send_page(context, page.chat_id, None, nxt, render.answer_messages(answer))


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎: stored with the question and the passages shown."""
    query = update.callback_query
    if not await _gate(update, context):
        return
    state = _state(context)
    verdict, _, page_id = query.data.partition(":")
    page = state.pages.get(page_id)
    if page is None:
        await query.answer("Câu trả lời này đã cũ; không ghi nhận được góp ý.", show_alert=True)
        return
    state.feedback.record(
        Feedback(
            answer_id=page.id,
            user_id=update.effective_user.id,
            chat_id=page.chat_id,
            verdict=verdict,
            question=page.question,
            answered=page.answered,
            passages=_shown(page.hits),
        )
    )
    await query.answer("Cảm ơn bạn đã góp ý!")


# --- admins ---------------------------------------------------------------------------------------


async def _reload_job(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    state = _state(context)
    try:
        message = await context.bot.send_message(chat_id, render.reload_progress_message("reading"))
        job = asyncio.create_task(state.service.reload())
        shown = message.text_html
        while not job.done():
            await asyncio.wait({job}, timeout=PROGRESS_EVERY)
            if job.done():
                break
            p = state.service.progress
            text = render.reload_progress_message(p.stage, p.done, p.total)
            if text != shown:
                try:
                    await message.edit_text(text)
                    shown = text
                except BadRequest as exc:
                    log.debug("progress edit failed: %s", exc)
        report = job.result()
    finally:
        state.reload_busy = False
    summary = render.reload_summary_message(report)
    try:
        await message.edit_text(summary)
    except BadRequest as exc:  # e.g. the progress message was deleted meanwhile
        log.info("could not edit the progress message (%s); sending the summary", exc)
        await context.bot.send_message(chat_id, summary)


def _start_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Start a reload unless one runs; synchronous so two quick /reload cannot both start."""
    state = _state(context)
    if state.service.reloading or state.reload_busy:
        return False
    state.reload_busy = True
    context.application.create_task(_reload_job(context, update.effective_chat.id), update=update)
    return True


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: re-read the corpus folder in the background (admins)."""
    if not await _gate_admin(update, context, "reload"):
        return
    if not _start_reload(update, context):
        await update.effective_message.reply_text("Đang nạp lại kho bài viết rồi; kết quả sẽ báo trong tin nhắn tiến độ.")


async def reload_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Nạp lại ngay" under an upload confirmation."""
    if not await _gate_admin(update, context, "reload"):
        return
    started = _start_reload(update, context)
    await update.callback_query.answer(None if started else "Đang nạp lại rồi.")


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: what is being served and how it went (admins)."""
    if not await _gate_admin(update, context, "status"):
        return
    await update.effective_message.reply_text(render.status_message(_state(context).service.status()))


async def document_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sends an article file: it is saved into the corpus folder, and a reload offered."""
    if not await _gate_admin(update, context, "upload"):
        return
    state = _state(context)
    message = update.effective_message
    doc = message.document
    suffix = Path(doc.file_name or "").suffix.lower()
    if suffix not in SUFFIXES:
        await message.reply_text(render.upload_refused_message(f"chỉ nhận tệp {', '.join(sorted(SUFFIXES))}."))
        return
    if doc.file_size and doc.file_size > MAX_UPLOAD_BYTES:
        await message.reply_text(render.upload_refused_message("tệp lớn hơn 20 MB."))
        return
    data = bytes(await (await doc.get_file()).download_as_bytearray())
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        await message.reply_text(render.upload_refused_message("tệp không phải văn bản UTF-8."))
        return
    saved = await asyncio.to_thread(save_upload, state.cfg.corpus.path, doc.file_name or f"bai-viet{suffix}", data)
    markup = None
    if not saved.same:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Nạp lại ngay", callback_data="reload")]])
    log.info("admin %s uploaded %s as %s", update.effective_user.id, doc.file_name, saved.name)
    await message.reply_text(
        render.upload_saved_message(saved.name, doc.file_name, saved.clash, saved.same), reply_markup=markup
    )


# --- errors and lifecycle ---------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unhandled error with its traceback; the user gets a short apology, not silence."""
    log.error("error while handling %s", type(update).__name__, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(render.apology_message(), show_alert=True)
        elif update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, render.apology_message())
    except TelegramError as exc:
        log.warning("could not send the apology: %s", exc)


async def _post_init(app: Application) -> None:
    await app.bot.set_my_commands(COMMANDS)
    log.info("bot @%s is up", app.bot.username)


async def _post_shutdown(app: Application) -> None:
    app.bot_data["qabot"].feedback.close()


def build_application(
    cfg: Config, service: QAService, token: str, feedback: FeedbackStore | None = None
) -> Application:
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
    app.bot_data["qabot"] = BotState(
        cfg=cfg,
        service=service,
        feedback=feedback or FeedbackStore(feedback_path(cfg)),
        limiter=RateLimiter(tg.rate_limit_per_minute),
    )
    new_message = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["start", "help"], help_command, filters=new_message))
    app.add_handler(CommandHandler("ask", ask_command, filters=new_message))
    app.add_handler(CommandHandler("reload", reload_command, filters=new_message))
    app.add_handler(CommandHandler("status", status_command, filters=new_message))
    app.add_handler(MessageHandler(new_message & filters.ChatType.PRIVATE & filters.Document.ALL, document_upload))
    app.add_handler(MessageHandler(new_message & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, private_text))
    app.add_handler(MessageHandler(new_message & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, group_text))
    app.add_handler(CallbackQueryHandler(more_button, pattern=r"^more:"))
    app.add_handler(CallbackQueryHandler(feedback_button, pattern=r"^(up|down):"))
    app.add_handler(CallbackQueryHandler(reload_button, pattern=r"^reload$"))
    app.add_error_handler(on_error)
    return app


def feedback_path(cfg: Config) -> Path:
    """Next to the index folder (``.qabot/feedback.sqlite`` with the shipped config)."""
    return cfg.index.path.parent / "feedback.sqlite"


class _RedactToken(logging.Filter):
    """The token is part of every Bot API URL; make sure no log line ever carries it."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<TOKEN>"), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<TOKEN>")
        return True


def _protect_logs(token: str) -> None:
    # httpx logs every request URL (token included) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    redact = _RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def run(cfg: Config, token: str | None = None) -> None:
    """``qabot serve``: load the index, then long-poll (or take webhooks) until SIGINT/SIGTERM."""
    from retrieval.embedder import load_embedder

    token = token or token_from_env()
    _protect_logs(token)
    service = QAService(cfg, load_embedder(cfg.embedding))
    service.open()
    app = build_application(cfg, service, token)
    tg = cfg.telegram
    try:
        if tg.webhook_url:
            app.run_webhook(
                listen=tg.webhook_listen,
                port=tg.webhook_port,
                url_path=urlparse(tg.webhook_url).path.lstrip("/"),
                webhook_url=tg.webhook_url,
                # Telegram echoes it in a header: requests without it are not from Telegram.
                secret_token=secrets.token_urlsafe(32),
                allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            )
        else:
            app.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
    except InvalidToken:
        raise ConfigError(f"Telegram rejected the token in {TOKEN_ENV}; check it with @BotFather") from None
    finally:
        service.close()
