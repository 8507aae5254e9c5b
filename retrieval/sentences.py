"""Vietnamese sentence boundaries as character spans.

A full stop ends a sentence only when whitespace and a capital letter, digit or opening quote
follow, outside a quoted title, and not after a known abbreviation. That keeps "TP.HCM",
"3/2/1930", "21-KL/TW", "1.000" and “Cả nước đồng lòng, … Đảng” in one piece.
"""

from __future__ import annotations

import re

# Abbreviations written with a full stop and a following space ("TS. Nguyễn Văn A").
ABBREVIATIONS = frozenset(
    "tp tx tt q p h ts ths pgs gs bs bsck ks ls nxb st mr mrs ms dr no tr v.v vv th.s ng pv ctv"
    " đ/c ttg kts nsnd nsưt".split()
)
_END = re.compile(r"[.!?…]+[\"”’'»)\]]*(?=\s)")
_QUOTED = re.compile(r"“[^“”\n]*”|\"[^\"\n]*\"|«[^«»\n]*»")
_OPENERS = "\"“'‘«([-–—•"


def _starts_sentence(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or ch in _OPENERS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence; newlines always end one. Spans exclude outer whitespace."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in text.split("\n"):
        _split_paragraph(para, pos, spans)
        pos += len(para) + 1
    return spans


def _split_paragraph(para: str, offset: int, spans: list[tuple[int, int]]) -> None:
    inside = [(m.start() + 1, m.end() - 1) for m in _QUOTED.finditer(para)]
    start = 0
    for m in _END.finditer(para):
        end = m.end()
        nxt = len(para) - len(para[end:].lstrip())
        if nxt >= len(para) or not _starts_sentence(para[nxt]):
            continue
        if any(a <= m.end() - 1 < b for a, b in inside):
            continue
        if m.group().startswith(".") and len(m.group()) == 1:
            word = para[start : m.start()].rsplit(None, 1)[-1:] or [""]
            w = word[0].lower().lstrip("(\"“")
            if w in ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
                continue
        _add(para, offset, start, end, spans)
        start = nxt
    _add(para, offset, start, len(para), spans)


def _add(para: str, offset: int, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    seg = para[a:b]
    lead = len(seg) - len(seg.lstrip())
    seg = seg.strip()
    if seg:
        spans.append((offset + a + lead, offset + a + lead + len(seg)))
