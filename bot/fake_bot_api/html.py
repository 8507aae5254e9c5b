"""Telegram's HTML as the Bot API parses it: what the fake server accepts and what it refuses
with Telegram's own "can't parse entities" errors, and lengths counted as Telegram counts them."""

from __future__ import annotations

import re

MESSAGE_LIMIT = 4096

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_ATTR = re.compile(r"""\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAG_END = re.compile(r"\s*/?>")


class EntityError(ValueError):
    """What Telegram reports as "can't parse entities"."""


def _offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def _decode_entities(text: str, base: int, whole: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise EntityError(f"Unsupported HTML entity at byte offset {_offset(whole, base + i)}")
            if m.group(1):
                out.append(_NAMED[m.group(1)])
            else:
                code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                if not 0 < code <= 0x10FFFF:
                    raise EntityError(f"Invalid numeric entity at byte offset {_offset(whole, base + i)}")
                out.append(chr(code))
            i = m.end()
        elif c in "<>":
            raise EntityError(f"Unexpected '{c}' at byte offset {_offset(whole, base + i)}")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_html(text: str) -> str:
    """The plain text of Telegram-HTML ``text``; raises ``EntityError`` where Telegram would."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        chunk_end = n if lt < 0 else lt
        out.append(_decode_entities(text[i:chunk_end], i, text))
        if lt < 0:
            break
        i = lt
        if text.startswith("</", i):
            j = text.find(">", i)
            if j < 0:
                raise EntityError(f"Unclosed end tag at byte offset {_offset(text, i)}")
            name = text[i + 2 : j].strip().lower()
            if not stack:
                raise EntityError(f'Unexpected end tag "{name}" at byte offset {_offset(text, i)}')
            if stack[-1] != name:
                raise EntityError(
                    f'Unmatched end tag at byte offset {_offset(text, i)}, expected "</{stack[-1]}>", found "</{name}>"'
                )
            stack.pop()
            i = j + 1
            continue
        m = _START.match(text, i)
        if not m:
            raise EntityError(f'Unsupported start tag "" at byte offset {_offset(text, i)}')
        name = m.group(1).lower()
        if name not in ALLOWED_TAGS:
            raise EntityError(f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}')
        j = m.end()
        attrs: dict[str, str] = {}
        while True:
            end = _TAG_END.match(text, j)
            if end:
                j = end.end()
                break
            a = _ATTR.match(text, j)
            if not a:
                raise EntityError(f"Unclosed start tag at byte offset {_offset(text, i)}")
            raw = next((g for g in a.group(2, 3, 4) if g is not None), "")
            attrs[a.group(1).lower()] = _decode_entities(raw, a.start(), text)
            j = a.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityError(f'Unsupported start tag "span" at byte offset {_offset(text, i)}')
        if name in {"a", "blockquote", "pre"} and name in stack:
            raise EntityError(f'Nested "{name}" tags are not allowed at byte offset {_offset(text, i)}')
        if name == "blockquote" and "pre" in stack:
            raise EntityError(f"Blockquote inside pre at byte offset {_offset(text, i)}")
        stack.append(name)
        i = j
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

