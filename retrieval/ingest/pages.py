"""Plain-text pages (.txt/.md): a scraped page or a plain article in, its ``Document`` records out.

Scraped news pages arrive with page chrome (share widgets, menus, the publisher's footer) and,
after the byline, the teaser of a *different* story: the chrome is dropped, and the teaser
becomes a document of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import clean_whitespace
from .dates import find_date
from .records import Document, ParseError

# --- page chrome -------------------------------------------------------------------------------

_CHROME = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(chia sẻ|share|chia sẻ bài viết|gửi bài viết|in bài( viết)?|bình luận|lưu)\s*:?(\s*(facebook|twitter|zalo|email|in)\b.*)?$",
        r"^các đơn vị thông tin của\b",
        r"\brao vặt\s*$",
        r"^(tin|bài) (liên quan|cùng chuyên mục|mới nhất|đọc nhiều)\s*:?$",
        r"^(xem thêm|đọc thêm|từ khóa|từ khoá|tags?|chủ đề)\s*:",
        r"^(xem thêm|đọc thêm|từ khóa|từ khoá|tags?|chủ đề|trang chủ|quay lại|lên đầu trang)\s*$",
        r"^(bản quyền|copyright|©)",
        r"^(theo dõi|follow)\b.{0,40}\b(facebook|zalo|youtube|google news|tiktok)\b",
        r"^(quảng cáo|advertisement)\s*$",
    )
]
# "Diệp Trương (TTXVN)", "Nhóm PV (VOV)", "Minh Anh (Báo Nhân Dân)": a name, every word
# capitalised, with the agency in brackets. A photo caption such as "Thủ tướng phát biểu (ảnh
# trái)" fails the capitalisation or the agency shape.
_BYLINE = re.compile(
    r"^(?P<author>(?:[A-ZĐÀ-Ỹ][\w.'-]*)(?:\s*(?:,|-|và)?\s*[A-ZĐÀ-Ỹ][\w.'-]*){0,7})\s*"
    r"\((?P<source>[A-ZĐ][A-ZĐ0-9/&.-]{1,15}|(?:Báo|Đài|Tạp chí|Theo|Nguồn|Cổng|Thông tấn)\b[^()\n]{1,40})\)$"
)
# A byline ("Diệp Trương (TTXVN)") is a few names and a bracketed agency, well under this length;
# a longer line is body text and is not even tried against ``_BYLINE``.
_MAX_BYLINE_CHARS = 90
# A closing attribution line: "Nguồn: Bộ Y tế", "Theo VnExpress". No sentence punctuation, so a
# short body sentence starting with "Theo" is never taken for one.
_SOURCE_LINE = re.compile(r"^(?:nguồn\s*:|theo)\s*(?P<source>[^\n.,;:!?]{2,60})$", re.IGNORECASE)
# A teaser after the byline is a headline and a lead, a handful of lines; more than this after a
# byline-like line means it was not the byline.
_MAX_TEASER_LINES = 8
_URL_LINE = re.compile(r"^(url\s*:\s*)?(?P<url>https?://\S+)$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^#{1,6}\s+")


def is_chrome(line: str) -> bool:
    """A line of page furniture rather than article text."""
    return any(p.search(line) for p in _CHROME)


def _dedupe_consecutive(lines: list[str]) -> list[str]:
    out: list[str] = []
    last = None
    for line in lines:
        if line and line == last:
            continue
        out.append(line)
        if line:
            last = line
    return out


def join_lines(lines: list[str]) -> str:
    """Article lines back into one text, whitespace cleaned (the form every ``Document.text`` has)."""
    return clean_whitespace("\n".join(lines))


@dataclass
class _Story:
    title: str
    lines: list[str]
    author: str | None = None
    source: str | None = None


def _split_stories(lines: list[str]) -> list[_Story]:
    """The main story ends at its byline; what follows is another story's teaser."""
    nonblank = [ln for ln in lines if ln]
    if not nonblank:
        return []
    title, rest = nonblank[0], lines[lines.index(nonblank[0]) + 1 :]
    stories = [_Story(title=title, lines=[])]
    for i, line in enumerate(rest):
        m = _BYLINE.match(line) if len(line) <= _MAX_BYLINE_CHARS else None
        if m and len([ln for ln in rest[i + 1 :] if ln]) > _MAX_TEASER_LINES:
            m = None
        if m:
            stories[-1].author = m["author"].strip()
            stories[-1].source = m["source"].strip()
            tail = rest[i + 1 :]
            teaser_lines = [ln for ln in tail if ln]
            if teaser_lines:
                teaser = _Story(title=teaser_lines[0], lines=[])
                teaser.lines = tail[tail.index(teaser_lines[0]) + 1 :]
                stories.append(teaser)
            return stories
        stories[-1].lines.append(line)
    return stories


def parse_page(text: str, path: str, boilerplate: frozenset[str] = frozenset()) -> list[Document]:
    """A scraped page or a plain article (.txt/.md): its article, plus any teaser as its own doc."""
    text = clean_whitespace(text)
    if not text:
        raise ParseError("empty file")
    lines = [ln for ln in text.split("\n") if not (ln and (is_chrome(ln) or ln in boilerplate))]
    url = source_line = None
    kept = []
    for ln in lines:
        if url is None and (m := _URL_LINE.match(ln)):
            url = m["url"]
            continue
        if source_line is None and (m := _SOURCE_LINE.match(ln)):
            source_line = m["source"].strip()
            continue
        kept.append(_MD_HEADING.sub("", ln))
    stories = _split_stories(_dedupe_consecutive(kept))
    docs = []
    for n, story in enumerate(stories):
        body = join_lines(story.lines)
        if not body:
            continue
        docs.append(
            Document(
                doc_id=path if n == 0 else f"{path}#{n + 1}",
                title=story.title,
                text=body,
                path=path,
                date=find_date(story.title, body),
                # A teaser on the same page comes from the same publisher, not the same author.
                source=story.source or stories[0].source or source_line,
                author=story.author,
                url=url if n == 0 else None,
            )
        )
    if not docs:
        raise ParseError("no article text after the title")
    return docs
