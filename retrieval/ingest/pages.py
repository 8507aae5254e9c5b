"""Plain-text pages (.txt/.md): a scraped page or a plain article in, its ``Document`` records out.

Scraped news pages arrive with page furniture around the article: menus and breadcrumbs, date
stamps, share widgets, captions, tags, reader comments, related-story lists, the publisher's
footer, and (on wire-service pages) after the byline the teaser of a *different* story. Each
line's role comes from what the line is (``retrieval.ingest.roles``); the page is then read top
to bottom: the headline is the headline-like line nearest above the first paragraph, nothing
after a comments, tags or footer marker is the article, a related-stories list ends the article
unless a sentence follows where its next headline was due (a box inside the article), and a
teaser after the byline becomes its own document.
Every line left out is kept in the ``PageReading`` with its reason (``qabot inspect`` shows them).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from ..text import clean_whitespace
from .dates import find_date, stamp_date
from .records import Document, DroppedLine, PageReading, ParseError
from .roles import (
    AGENCY_BYLINE,
    AUTHOR_CREDIT,
    BODY,
    BYLINE,
    CAPTION,
    DATELINE,
    RELATED,
    SECTION_ENDS,
    URL,
    is_sentence,
    role_of,
    url_in,
    word_count,
)

log = logging.getLogger(__name__)

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
_MD_HEADING = re.compile(r"^#{1,6}\s+")
# The name alone at the end of an article ("Minh Anh", "Thanh Hà - Quốc Tuấn"): a few capitalised
# words, no punctuation or digits.
_MAX_NAME_CHARS = 40
_NAME_LINE = re.compile(r"^[A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s*(?:-|–|,|và)?\s*[A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,5}$")
# A source named before the first sentence, cut from the quote: "TTO - ", "PLO- ", "VOV.VN - ",
# "(Dân trí) - ", "Hà Nội, 14/3 (TTXVN) - " (place and date go too: the date is in the metadata).
_SOURCE_PREFIX = re.compile(
    r"^(?:(?:[^\W\d_][^\W\d_ .]*(?:[ .]+[^\W\d_]+){0,3}\s*(?:,\s*(?:ngày\s+)?\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?)?\s*)?"
    r"\((?P<paren>[A-ZĐ][^()\n]{1,29})\)|(?P<code>[A-ZĐ]{2,8}(?:\.(?:VN|vn|Vn))?))\s*[-–—]\s*"
)
# A site name longer than this above the headline is a slogan, not a source's name.
_MAX_MASTHEAD_WORDS = 5
# A line this short before a headline-like line is a section label or the site's name.
_MIN_HEADLINE_WORDS = 4
# A sentence this long is article text: the headline is the headline-like line nearest above it.
_MIN_PARAGRAPH_WORDS = 12
# A "headline" longer than this that ends with a full stop is a body sentence: the page has no
# headline line we could find.
_MAX_HEADLINE_WORDS = 20
# An article body shorter than this, with no full sentence, is probably not what we think it is.
_MIN_BODY_WORDS = 30


def is_chrome(line: str) -> bool:
    """A line of page furniture rather than article text."""
    return role_of(line) != BODY


def _dedupe_consecutive(lines: list[str], removed: list[str]) -> list[str]:
    out: list[str] = []
    last = None
    for line in lines:
        if line and line == last:
            removed.append(line)
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
    byline: str | None = None  # the line author and source were read from


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
            stories[-1].byline = line
            tail = rest[i + 1 :]
            teaser_lines = [ln for ln in tail if ln]
            if teaser_lines:
                teaser = _Story(title=teaser_lines[0], lines=[])
                teaser.lines = tail[tail.index(teaser_lines[0]) + 1 :]
                stories.append(teaser)
            return stories
        stories[-1].lines.append(line)
    return stories


def _is_paragraph(line: str) -> bool:
    """A paragraph of article text: a full sentence of some length, ended by a full stop (a
    headline may end in a quotation, a colon or a question mark, hardly in a full stop)."""
    return word_count(line) >= _MIN_PARAGRAPH_WORDS and line.rstrip("”\"' )").endswith((".", "…", "!"))


def _headline_like(line: str) -> bool:
    """Several words and no full stop: what a headline above the first paragraph looks like."""
    return word_count(line) >= _MIN_HEADLINE_WORDS and not line.rstrip("”\"' ").endswith((".", "…"))


def _headline_index(lines: list[str]) -> int | None:
    """Index of the headline: the nearest line above the first paragraph that reads like a
    headline (several words, no full stop). Whatever stands above it (site name, slogan, menus
    saved one item a line, today's date) is page furniture, however many lines it takes. A page
    with no paragraph: its first line, unless that is a short label before a headline-like line."""
    filled = [i for i, line in enumerate(lines) if line]
    first = next((k for k, i in enumerate(filled) if _is_paragraph(lines[i])), None)
    if first is not None:
        for k in range(first - 1, -1, -1):
            line = lines[filled[k]]
            if _headline_like(line):
                return filled[k]
        return filled[0]
    for k, i in enumerate(filled):
        nxt = lines[filled[k + 1]] if k + 1 < len(filled) else None
        if word_count(lines[i]) >= _MIN_HEADLINE_WORDS or nxt is None:
            return i
        if word_count(nxt) < _MIN_HEADLINE_WORDS or nxt.rstrip().endswith((".", "!", "?", "…")):
            return i
    return None


def _masthead(lines: list[str]) -> str | None:
    """The site's name printed above the headline ("Báo Thanh Niên", "DI SẢN VIỆT - Tạp chí văn
    hóa"), as the source of a page that names none closer to its text."""
    for line in lines[:1]:
        name = re.split(r"\s+[-–|]\s+", line)[0].strip()
        if 0 < word_count(name) <= _MAX_MASTHEAD_WORDS:
            return name
    return None


def _cut_source_prefix(lines: list[str]) -> str | None:
    """Cut a source lead-in ("TTO - ", "(Dân trí) - ") from the first line; the source named."""
    for i, line in enumerate(lines):
        if not line:
            continue
        m = _SOURCE_PREFIX.match(line)
        if m is None or m.end() >= len(line):
            return None
        lines[i] = line[m.end() :]
        return (m["paren"] or m["code"]).strip()
    return None


def _take_author(lines: list[str], dropped: list[str]) -> str | None:
    """A bare name as the story's last (or first) line: the author's."""
    author = None
    filled = [i for i, line in enumerate(lines) if line]
    # Last line first: most outlets sign at the end; some print the name under the headline.
    for i in (filled[-1], filled[0]) if len(filled) > 1 else ():
        line = lines[i]
        if author is None and len(line) <= _MAX_NAME_CHARS and _NAME_LINE.match(line) and not is_sentence(line):
            author = line
            dropped.append(line)
            lines[i] = ""
    return author


def read_page(text: str, path: str, boilerplate: frozenset[str] = frozenset()) -> PageReading:
    """A scraped page or a plain article (.txt/.md): its article, plus any teaser as its own
    document, and every line left out with its reason.

    ``boilerplate``: lines recurring across the corpus (``find_boilerplate``), dropped as page
    furniture; but a headline-like first line (the title of a plain article) and the first
    paragraph under the title stay, whatever the counts say (an article saved under three names,
    a daily column under one headline)."""
    text = clean_whitespace(text)
    if not text:
        raise ParseError("empty file")
    lines = text.split("\n")
    recurring = boilerplate.intersection(lines)
    if not recurring:
        return _read(text, path, frozenset()).reading
    try:
        filtered, failure = _read(text, path, recurring), None
    except ParseError as exc:  # nothing left: every line recurs elsewhere
        filtered, failure = None, exc
    # Counts cannot tell a recurring headline from a recurring menu item or widget, and neither
    # can the headline rule (the headline-like line nearest above the text): a menu item would
    # win over a headline dropped for recurring. Only the page's first line is taken for its title
    # whatever the counts say: a plain article starts with it, and on a scraped page the site's
    # name or a menu entry standing there loses to any headline nearer the text.
    top = lines[0]  # never blank after clean_whitespace
    title = 1 if top in recurring and _headline_like(top) else (filtered.title_line if filtered is not None else 0)
    lead = next((ln for ln in lines[title:] if _is_paragraph(ln) and role_of(ln) == BODY), None)
    keep = {ln for ln in (lines[title - 1] if title else None, lead) if ln in recurring}
    if keep:
        return _read(text, path, recurring - keep).reading
    if failure is not None:
        raise failure
    return filtered.reading


@dataclass
class _Reading:
    reading: PageReading
    title_line: int  # the main document's title: its line number in the cleaned page (0: none)


def _read(text: str, path: str, boilerplate: frozenset[str]) -> _Reading:
    """``read_page`` of a whitespace-cleaned page, dropping the ``boilerplate`` lines it holds."""
    dropped: list[DroppedLine] = []
    url = source_line = None
    stamps: list[tuple[int, str]] = []
    agency_bylines: list[tuple[int, re.Match]] = []
    kept: list[str] = []
    kept_at: list[int] = []  # each kept line's number
    where: dict[str, int] = {}  # line text -> line number, for reporting what a later step drops
    ended = None
    box_wants_headline = True  # inside a related-stories box: a headline comes next, not its lead
    for n, line in enumerate(text.split("\n"), start=1):
        if not line:
            kept.append(line)
            kept_at.append(n)
            continue
        where.setdefault(line, n)
        if ended is not None:
            role = role_of(line)
            statement = line.rstrip("”\"' ").endswith((".", "…"))  # a lead or article sentence, not a headline
            if ended == RELATED and role == BODY and box_wants_headline and statement:
                # A sentence where the box's next headline would be: the box sat inside the
                # article (headline + lead items), and the article goes on.
                ended = None
            else:
                ended = role if role in SECTION_ENDS else ended  # comments, then related stories, then the footer
                if ended == RELATED and role == BODY:
                    box_wants_headline = statement or not box_wants_headline
                dropped.append(DroppedLine(n, line, ended))
                continue
        role = role_of(line)
        if role == BODY and line in boilerplate:
            # Checked after the role: a "Tin liên quan" on every page still ends the article.
            dropped.append(DroppedLine(n, line, "recurring on many pages"))
            continue
        if role == CAPTION and not any(kept):
            role = BODY  # the page's first line is its title, whatever it says (scraped titles can be captions)
        if role in SECTION_ENDS:
            # Before any article text a "Xem nhiều" is a menu entry; after it, the article is over.
            if any(_is_paragraph(k) for k in kept):
                ended, box_wants_headline = role, True
            dropped.append(DroppedLine(n, line, role))
            continue
        if role == URL:
            url = url or url_in(line)
            dropped.append(DroppedLine(n, line, role))
            continue
        if role == DATELINE:
            stamps.append((n, line))
        if role == BYLINE:
            agency_bylines.append((n, AGENCY_BYLINE.match(line) or AUTHOR_CREDIT.match(line)))
        if role != BODY:
            dropped.append(DroppedLine(n, line, role))
            continue
        if source_line is None and (m := _SOURCE_LINE.match(line)):
            source_line = m["source"].strip()
            dropped.append(DroppedLine(n, line, "source"))
            continue
        kept.append(_MD_HEADING.sub("", line))
        kept_at.append(n)

    uncertain = None
    head = _headline_index(kept)
    head_line = where.get(kept[head], 0) if head is not None else 0
    # A "name - desk" line above the headline is the site's masthead, not a byline.
    agency_byline = next((m for n, m in agency_bylines if n > head_line), None)
    first_line = next(ln for ln in text.split("\n") if ln)
    masthead = _masthead([first_line]) if head_line > where.get(first_line, 0) else None
    for line in kept[: head or 0]:
        if line:
            dropped.append(DroppedLine(where.get(line, 0), line, "before the headline"))
    repeated: list[str] = []
    stories = _split_stories(_dedupe_consecutive(kept[head:] if head is not None else [], repeated))
    dropped += [DroppedLine(where.get(line, 0), line, "repeated line") for line in repeated]
    dropped += [DroppedLine(where.get(s.byline, 0), s.byline, "byline") for s in stories if s.byline]
    docs = []
    for n, story in enumerate(stories):
        lines = list(story.lines)
        first_body = join_lines(lines)
        removed: list[str] = []
        # A name under the headline goes first, so that the lead-in is the first line's again.
        author = story.author or (_take_author(lines, removed) if n == 0 else None)
        prefix_source = _cut_source_prefix(lines)
        if n == 0 and agency_byline is not None:
            author = author or agency_byline["author"]
            agency = agency_byline.groupdict().get("agency") or ""
            prefix_source = prefix_source or agency.split("-")[0].strip() or None
        for line in removed:
            dropped.append(DroppedLine(where.get(line, 0), line, "author"))
        body = join_lines(lines)
        if not body:
            continue
        date = None
        if n == 0:
            # The stamp under the headline, else the last one above it (a header may print today's date).
            near = [ln for k, ln in stamps if k > head_line] + [ln for k, ln in reversed(stamps) if k < head_line]
            date = next((d for d in (stamp_date(ln, story.title, first_body) for ln in near) if d), None)
        docs.append(
            Document(
                doc_id=path if n == 0 else f"{path}#{n + 1}",
                title=story.title,
                text=body,
                path=path,
                # The dateline may open the lead-in ("Hà Nội, 14/3 (TTXVN) - ") or follow it ("TTO - Sáng 6/3").
                date=date or find_date(story.title, first_body) or find_date(story.title, body),
                # A teaser on the same page comes from the same publisher, not the same author.
                source=story.source or prefix_source or stories[0].source or source_line or masthead,
                author=author,
                url=url if n == 0 else None,
            )
        )
    if not docs:
        raise ParseError("no article text after the title")
    main = docs[0].text
    title = docs[0].title
    if word_count(title) > _MAX_HEADLINE_WORDS and title.endswith((".", "!", "?")):
        uncertain = "the first line reads like a sentence, not a headline; it was taken as the title"
    if uncertain is None and len(main.split()) < _MIN_BODY_WORDS and not any(is_sentence(ln) for ln in main.split("\n")):
        uncertain = "very little article text"
    for problem in [uncertain] if uncertain else []:
        log.info("%s: %s", path, problem)
    dropped.sort(key=lambda d: d.line)
    return _Reading(PageReading(docs, dropped, uncertain), kept_at[head] if head is not None else 0)


def parse_page(text: str, path: str, boilerplate: frozenset[str] = frozenset()) -> list[Document]:
    """The documents of a page (``read_page`` without the report)."""
    return read_page(text, path, boilerplate).documents
