"""What the bot does for admins: /reload in the background with a progress message, /status,
and article files sent to the bot."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from retrieval.ingest import SUFFIXES, read_files

from . import render_admin
from .access import gate_admin
from .pages import reload_keyboard
from .state import bot_state
from .uploads import refusal_before_download, refusal_of_content, save_upload

log = logging.getLogger(__name__)

PROGRESS_EVERY = 1.5  # seconds between edits of the reload progress message


async def reload_job(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """Run a reload, editing one progress message as it goes, then showing the summary there."""
    state = bot_state(context)
    try:
        message = await context.bot.send_message(chat_id, render_admin.reload_progress_message("reading"))
        job = asyncio.create_task(state.service.reload())
        shown = message.text_html
        while not job.done():
            await asyncio.wait({job}, timeout=PROGRESS_EVERY)
            if job.done():
                break
            p = state.service.progress
            text = render_admin.reload_progress_message(p.stage, p.done, p.total)
            if text != shown:
                try:
                    await message.edit_text(text)
                    shown = text
                except BadRequest as exc:
                    log.debug("progress edit failed: %s", exc)
        report = job.result()
    finally:
        state.reload_busy = False
    summary = render_admin.reload_summary_message(report)
    try:
        await message.edit_text(summary)
    except BadRequest as exc:  # e.g. the progress message was deleted meanwhile
        log.info("could not edit the progress message (%s); sending the summary", exc)
        await context.bot.send_message(chat_id, summary)


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
    await update.effective_message.reply_text(render_admin.status_message(bot_state(context).service.status()))


async def document_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sends an article file: it is saved into the corpus folder, and a reload offered."""
    if not await gate_admin(update, context, "upload"):
        return
    state = bot_state(context)
    message = update.effective_message
    doc = message.document
    refused = refusal_before_download(doc.file_name, doc.file_size)
    if refused is None:
        data = bytes(await (await doc.get_file()).download_as_bytearray())
        refused = refusal_of_content(data)
    if refused is not None:
        await message.reply_text(render_admin.upload_refused_message(refused, SUFFIXES))
        return
    saved = await asyncio.to_thread(save_upload, state.cfg.corpus.path, doc.file_name, data)
    log.info("admin %s uploaded %s as %s", update.effective_user.id, doc.file_name, saved.name)
    # What the page will become, so a page of an unfamiliar layout is caught before a reload.
    [read] = await asyncio.to_thread(read_files, [state.cfg.corpus.path / saved.name])
    await message.reply_text(
        render_admin.upload_saved_message(saved.name, doc.file_name, saved.clash, saved.same, read),
        reply_markup=None if saved.same else reload_keyboard(),
    )
