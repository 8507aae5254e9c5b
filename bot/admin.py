"""What the bot does for admins: /reload in the background with a progress message, /status,
and article files sent to the bot."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from retrieval.ingest import SUFFIXES, read_files

from . import render_admin
from .access import gate_admin
from .limits import plain
from .pages import reload_keyboard
from .state import bot_state
from .uploads import TOO_LARGE, download, refusal_before_download, refusal_of_content, save_upload

log = logging.getLogger(__name__)

PROGRESS_EVERY = 1.5  # seconds between edits of the reload progress message


async def reload_job(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """Run a reload, editing one progress message as it goes, then showing the summary there.

    The summary always reaches the admin: a progress message that cannot be sent or edited only
    costs the progress, never the reload or its outcome."""
    state = bot_state(context)
    try:
        try:
            message = await context.bot.send_message(chat_id, render_admin.reload_progress_message("reading"))
        except TelegramError as exc:
            log.warning("could not send the reload progress message: %s", exc)
            message = None
        job = asyncio.create_task(state.service.reload())
        shown = message.text_html if message else None
        while not job.done():
            await asyncio.wait({job}, timeout=PROGRESS_EVERY)
            if job.done() or message is None:
                continue
            p = state.service.progress
            text = render_admin.reload_progress_message(p.stage, p.done, p.total)
            if text != shown:
                try:
                    await message.edit_text(text)
                    shown = text
                except TelegramError as exc:  # progress is best effort; the reload goes on
                    log.debug("progress edit failed: %s", exc)
        report = job.result()
    finally:
        state.reload_busy = False
    # The summary fits Telegram's limit whatever the corpus holds (render_admin shortens every
    # id and reason). Shown in the progress message; else as a new message; else the same words
    # without markup, so the fallback cannot fail for the reason the edit did.
    summary = render_admin.reload_summary_message(report)
    if message is not None:
        try:
            await message.edit_text(summary)
            return
        except TelegramError as exc:  # e.g. the progress message was deleted meanwhile
            log.info("could not edit the progress message (%s); sending the summary", exc)
    try:
        await context.bot.send_message(chat_id, summary)
    except BadRequest as exc:
        log.warning("could not send the reload summary (%s); sending it as plain text", exc)
        await context.bot.send_message(chat_id, plain(summary), parse_mode=None)


def start_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Start a reload unless one runs; synchronous so two quick /reload cannot both start."""
    state = bot_state(context)
    if state.service.reloading or state.reload_busy:
        return False
    state.reload_busy = True
    context.application.create_task(reload_job(context, update.effective_chat.id), update=update)
    return True


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: re-read the corpus folder in the background (admins)."""
    if not await gate_admin(update, context, "reload"):
        return
    if not start_reload(update, context):
        await update.effective_message.reply_text(render_admin.reload_running_message())


async def reload_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Nạp lại ngay" under an upload confirmation."""
    if not await gate_admin(update, context, "reload"):
        return
    started = start_reload(update, context)
    await update.callback_query.answer(None if started else render_admin.reload_running_alert())


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: what is being served and how it went (admins)."""
    if not await gate_admin(update, context, "status"):
        return
    state = bot_state(context)
    await update.effective_message.reply_text(render_admin.status_message(state.service.status(), state.cfg.telegram))


async def document_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sends an article file: it is saved into the corpus folder, and a reload offered."""
    if not await gate_admin(update, context, "upload"):
        return
    state = bot_state(context)
    message = update.effective_message
    doc = message.document
    refused = refusal_before_download(doc.file_name, doc.file_size)
    if refused is None:
        data = await download(await doc.get_file())
        refused = TOO_LARGE if data is None else refusal_of_content(data)
    if refused is not None:
        await message.reply_text(render_admin.upload_refused_message(refused, SUFFIXES))
        return
    saved = await asyncio.to_thread(save_upload, state.cfg.corpus.path, doc.file_name, data)
    log.info("admin %s uploaded %s as %s", update.effective_user.id, doc.file_name, saved.name)
    # What the page will become, so a page of an unfamiliar layout is caught before a reload.
    path = state.cfg.corpus.path / saved.name
    [read] = await asyncio.to_thread(read_files, [path])
    documents = read.reading.documents if read.reading else []
    copies = {} if saved.same else await state.service.indexed_copies(documents)
    if documents and len(copies) == len(documents):  # nothing new: indexing it would only duplicate
        path.unlink(missing_ok=True)
        log.info("upload %s removed again: every text is indexed already", saved.name)
        await message.reply_text(render_admin.upload_copy_message(doc.file_name, copies))
        return
    await message.reply_text(
        render_admin.upload_saved_message(saved.name, doc.file_name, saved.clash, saved.same, read, copies),
        reply_markup=None if saved.same else reload_keyboard(),
    )
