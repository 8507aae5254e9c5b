"""Who may use the bot: allow-lists and admins from the config, and the gate every handler
passes first (a refused user hears so once a minute at most, however much they write).

Closed by default: with both allow-lists empty only admins get in, unless the config says
``open_to_everyone: true``. A staff bot must not answer (and show its corpus to) whoever finds
it just because nobody filled in a list."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from retrieval.config import TelegramConfig

from . import render
from .limits import alert
from .state import bot_state

log = logging.getLogger(__name__)

REFUSAL_COOLDOWN = 60.0  # seconds between two refusals to one user
# Who may use the bot, as /status and the start-up log say it.
OPEN, ADMINS_ONLY, LISTED = "open", "admins-only", "listed"


def is_admin(tg: TelegramConfig, user_id: int | None) -> bool:
    return user_id is not None and user_id in tg.admins


def access_mode(tg: TelegramConfig) -> str:
    """OPEN (``open_to_everyone``), ADMINS_ONLY (both lists empty) or LISTED."""
    if tg.allowed_users or tg.allowed_chats:
        return LISTED
    return OPEN if tg.open_to_everyone else ADMINS_ONLY


def access_warnings(tg: TelegramConfig) -> list[str]:
    """What ``qabot serve`` warns about at start: a bot open to anyone, one nobody but the admins
    can use, and one nobody can administer."""
    mode, out = access_mode(tg), []
    if mode == OPEN:
        out.append(
            "telegram.open_to_everyone is true: anyone who finds the bot can ask it and see the corpus "
            "size and dates in /help"
        )
    elif mode == ADMINS_ONLY:
        who = "only the admins" if tg.admins else "nobody (no admins either)"
        out.append(
            f"telegram.allowed_users and allowed_chats are empty: {who} can use the bot; everyone else is "
            "refused with their user id. List ids there, or set telegram.open_to_everyone: true"
        )
    if not tg.admins:
        out.append("telegram.admins is empty: nobody can /reload, upload articles or see /status")
    return out


def is_allowed(tg: TelegramConfig, user_id: int | None, chat_id: int | None) -> bool:
    """Admins always; otherwise the user and the chat must each pass their list (an empty list
    restricts nothing); with both lists empty, everyone only when ``open_to_everyone``."""
    if user_id is None:
        return False
    if is_admin(tg, user_id):
        return True
    if access_mode(tg) != LISTED:
        return tg.open_to_everyone
    if tg.allowed_users and user_id not in tg.allowed_users:
        return False
    if tg.allowed_chats and chat_id not in tg.allowed_chats:
        return False
    return True


class RefusalCooldown:
    """Whether a refused user should be told again (once per ``seconds``). Users told longer
    ago than that are forgotten (a sweep at most once per ``seconds``): strangers writing to a
    bot cost no memory once their cooldown is over."""

    def __init__(self, seconds: float = REFUSAL_COOLDOWN, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._told_at: dict[int, float] = {}
        self._swept = clock()

    def __len__(self) -> int:
        """Users remembered."""
        return len(self._told_at)

    def should_tell(self, user_id: int) -> bool:
        now = self.clock()
        if now - self._swept >= self.seconds:
            self._told_at = {u: t for u, t in self._told_at.items() if now - t < self.seconds}
            self._swept = now
        if now - self._told_at.get(user_id, now - self.seconds) >= self.seconds:
            self._told_at[user_id] = now
            return True
        return False


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when the sender may use the bot; otherwise one short refusal (at most once a minute)."""
    state = bot_state(context)
    user, chat = update.effective_user, update.effective_chat
    if is_allowed(state.cfg.telegram, user and user.id, chat and chat.id):
        return True
    user_id = user.id if user else None
    log.info("refused user %s in chat %s", user_id, chat and chat.id)
    if update.callback_query:
        await update.callback_query.answer(render.refusal_alert(user_id), show_alert=True)
        return False
    if user_id is not None and state.refusals.should_tell(user_id):
        await update.effective_message.reply_text(render.refusal_message(user_id), do_quote=is_group(update))
    return False


async def gate_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
    """``gate``, then admins only; others are told the command is for admins."""
    if not await gate(update, context):
        return False
    if is_admin(bot_state(context).cfg.telegram, update.effective_user.id):
        return True
    text = render.admin_only_message(command)
    if update.callback_query:
        await update.callback_query.answer(alert(text), show_alert=True)  # alerts take no markup
    else:
        await update.effective_message.reply_text(text, do_quote=is_group(update))
    return False
