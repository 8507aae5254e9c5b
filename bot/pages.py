"""Shown answers and their buttons: the one place that knows callback data.

Every answer page gets a short random id; its buttons carry ``<action>:<id>``. Pages are kept in
memory (the newest ``PAGES_KEPT``), so buttons under an old answer say so instead of guessing.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from retrieval.followup import Turn
from retrieval.search import Hit

from . import render

PAGES_KEPT = 5000  # answers whose buttons still work
MORE, UP, DOWN, RELOAD, NEW = "more", "up", "down", "reload", "new"
# Patterns for the Application's CallbackQueryHandlers.
MORE_PATTERN = rf"^{MORE}:"
FEEDBACK_PATTERN = rf"^({UP}|{DOWN}):"
RELOAD_PATTERN = rf"^{RELOAD}$"
NEW_PATTERN = rf"^{NEW}:"


@dataclass
class Page:
    """One shown page of an answer: what its buttons act on and what feedback records."""

    id: str
    question: str
    offset: int  # passages shown before this page
    hits: list[Hit]
    answered: bool
    chat_id: int
    context: Turn | None = None  # the previous turn this answer continued («Thêm kết quả» keeps it)


def new_page(question: str, offset: int, hits: list[Hit], answered: bool, chat_id: int, context: Turn | None = None) -> Page:
    return Page(secrets.token_urlsafe(6), question, offset, hits, answered, chat_id, context)


class PageCache:
    """The newest pages by id; the oldest are forgotten first."""

    def __init__(self, keep: int = PAGES_KEPT):
        self.keep = keep
        self._pages: OrderedDict[str, Page] = OrderedDict()

    def remember(self, page: Page) -> None:
        self._pages[page.id] = page
        while len(self._pages) > self.keep:
            self._pages.popitem(last=False)

    def get(self, page_id: str) -> Page | None:
        return self._pages.get(page_id)


def parse_callback(data: str) -> tuple[str, str]:
    """(action, page id) of a button's callback data."""
    action, _, page_id = (data or "").partition(":")
    return action, page_id


def answer_keyboard(page: Page, more: bool) -> InlineKeyboardMarkup:
    """«Thêm kết quả» (when there may be more), then 👍 / 👎, then «Câu hỏi mới» when the answer
    continued the previous question (pressing it starts the conversation over)."""
    rows = []
    if more:
        rows.append([InlineKeyboardButton(render.MORE_BUTTON, callback_data=f"{MORE}:{page.id}")])
    rows.append(
        [
            InlineKeyboardButton(render.UP_BUTTON, callback_data=f"{UP}:{page.id}"),
            InlineKeyboardButton(render.DOWN_BUTTON, callback_data=f"{DOWN}:{page.id}"),
        ]
    )
    if page.context is not None:
        rows.append([InlineKeyboardButton(render.NEW_TOPIC_BUTTON, callback_data=f"{NEW}:{page.id}")])
    return InlineKeyboardMarkup(rows)


def reload_keyboard() -> InlineKeyboardMarkup:
    """«Nạp lại ngay» under an upload confirmation."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(render.RELOAD_BUTTON, callback_data=RELOAD)]])
