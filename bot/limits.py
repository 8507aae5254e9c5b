"""Telegram's length limits: text measured as Telegram counts it (UTF-16 code units of the text
after entity parsing: an emoji outside the BMP counts 2) and shortened to fit, never inside a
character as a reader sees it. ``shorten`` gives one field a budget; ``fit`` is the last resort
that holds a whole message under the limit whatever the input; ``alert`` makes a button alert.
"""

from __future__ import annotations

import html
import re
import unicodedata

MESSAGE_LIMIT = 4096  # Telegram: characters after entity parsing, counted in UTF-16 code units
ALERT_LIMIT = 200  # answerCallbackQuery text (counted the same way)
ELLIPSIS = "…"
_TAG = re.compile(r"<[^>]*>")
# Bidi embeddings, overrides and isolates: in a title or file name they would reverse the words
# after it on screen (a ".txt" shown where the name ends in ".exe").
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
ZWJ = "\u200d"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def plain(markup: str) -> str:
    """The text a user sees (for places that take no markup, like button alerts)."""
    return html.unescape(_TAG.sub("", markup))


def units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(markup: str) -> int:
    """Length Telegram checks against its limit: text after entity parsing, in UTF-16 units."""
    return units(plain(markup))


def _width(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _extends(ch: str) -> bool:
    """``ch`` belongs to the character before it (combining mark, joiner, emoji modifier...)."""
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == ZWJ
        or "\ufe00" <= ch <= "\ufe0f"  # variation selectors
        or "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin tones
        or "\U000e0020" <= ch <= "\U000e007f"  # emoji tag sequences (subdivision flags)
        or "\U000e0100" <= ch <= "\U000e01ef"
    )


def _boundary(text: str, i: int) -> bool:
    """Whether cutting ``text`` before index ``i`` leaves every character whole as a reader
    sees it (a close approximation of grapheme clusters, without a dependency)."""
    if i <= 0 or i >= len(text):
        return True
    if _extends(text[i]) or text[i - 1] == ZWJ or text[i - 1 : i + 1] == "\r\n":
        return False
    if _regional(text[i]) and _regional(text[i - 1]):  # flags are pairs of regional indicators
        run = 0
        while i - run - 1 >= 0 and _regional(text[i - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _head(text: str, budget: int) -> str:
    """The longest start of ``text`` within ``budget`` UTF-16 units, cut between graphemes."""
    used = 0
    for i, ch in enumerate(text):
        used += _width(ch)
        if used > budget:
            while i > 0 and not _boundary(text, i):
                i -= 1
            return text[:i]
    return text


def _tail(text: str, budget: int) -> str:
    """The longest end of ``text`` within ``budget`` UTF-16 units, cut between graphemes."""
    used = 0
    for i in range(len(text) - 1, -1, -1):
        used += _width(text[i])
        if used > budget:
            i += 1
            while i < len(text) and not _boundary(text, i):
                i += 1
            return text[i:]
    return text


def shorten(text: str | None, limit: int, middle: bool = False) -> str:
    """A one-line field (title, source, id, file name, reason) within ``limit`` UTF-16 units:
    line breaks and control characters become spaces, bidi controls go, and a longer text is
    cut between words (or graphemes) with "…" at the end, or in the middle when ``middle`` (paths
    and ids, whose ends both matter: the folder and the file's suffix)."""
    text = _CONTROLS.sub(" ", _BIDI_CONTROLS.sub("", text or ""))
    if units(text) <= limit:
        return text
    room = max(0, limit - 1)  # the ellipsis takes one unit
    if middle:
        head = _head(text, (room + 1) // 2)
        return head + ELLIPSIS + _tail(text, room - units(head))
    head = _head(text, room)
    space = head.rfind(" ")
    if space > len(head) // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def fit(markup: str, limit: int = MESSAGE_LIMIT) -> str:
    """The last resort: ``markup`` unchanged when it fits, else its plain text cut to ``limit``
    (the markup goes, which is safe: a cut can never leave a tag open). Fields are shortened
    before this, so real messages never get here."""
    if visible_length(markup) <= limit:
        return markup
    return esc(_head(plain(markup), max(0, limit - 1)).rstrip() + ELLIPSIS)


def alert(markup: str) -> str:
    """A message as a button alert: plain text (alerts take no markup) within Telegram's 200."""
    text = plain(markup)
    return text if units(text) <= ALERT_LIMIT else _head(text, ALERT_LIMIT - 1).rstrip() + ELLIPSIS


def cut_left(text: str, keep: int) -> str:
    """The last ``keep`` UTF-16 units of ``text``, starting at a word boundary."""
    if units(text) <= keep:
        return text
    tail = _tail(text, keep)
    space = tail.find(" ")
    if 0 <= space < len(tail) // 2:
        tail = tail[space + 1 :]
    return ELLIPSIS + tail.lstrip()


def cut_right(text: str, keep: int) -> str:
    """The first ``keep`` UTF-16 units of ``text``, ending at a word boundary."""
    if units(text) <= keep:
        return text
    head = _head(text, keep)
    space = head.rfind(" ")
    if space > len(head) // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS
