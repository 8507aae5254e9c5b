"""Corpus ingestion: files in, clean ``Document`` records out.

Scraped news pages arrive with page chrome (share widgets, menus, the publisher's footer) and,
after the byline, the teaser of a *different* story. Parsing is pure (text in, documents out);
``load_corpus`` is the only function here that touches the file system.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .text import clean_whitespace

log = logging.getLogger(__name__)

PAGE_SUFFIXES = {".txt", ".md", ".html", ".htm"}
SUFFIXES = PAGE_SUFFIXES | {".jsonl"}


@dataclass
class Document:
    """One article: cleaned text (what quotes are cut from) plus its metadata."""

    doc_id: str
    title: str
    text: str
    path: str
    date: str | None = None  # ISO "2023-12-28", or "--11-14" when the year is not stated
    source: str | None = None
    author: str | None = None
    url: str | None = None

    @property
    def content_hash(self) -> str:
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class FileProblem:
    """A file (or one line of it) that could not be ingested, and why."""

    path: str
    reason: str


@dataclass
class Corpus:
    documents: list[Document] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)


class ParseError(ValueError):
    """The file's content is not an article we can read."""


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
# A closing attribution line: "Nguồn: Bộ Y tế", "Theo VnExpress". No sentence punctuation, so a
# short body sentence starting with "Theo" is never taken for one.
_SOURCE_LINE = re.compile(r"^(?:nguồn\s*:|theo)\s*(?P<source>[^\n.,;:!?]{2,60})$", re.IGNORECASE)
# A teaser after the byline is a headline and a lead, a handful of lines; more than this after a
# byline-like line means it was not the byline.
_MAX_TEASER_LINES = 8
_URL_LINE = re.compile(r"^(url\s*:\s*)?(?P<url>https?://\S+)$", re.IGNORECASE)
# "Chiều 28/12, tại Hà Nội, ..." / "Ngày 3/2/2024, ..." / "Hà Nội, 28/12 (TTXVN) - ..."
_DATELINE = re.compile(
    r"^(?:(?:sáng|chiều|tối|trưa|đêm|rạng sáng|hôm nay|ngày|hôm)\s+(?:ngày\s+)?|[^\W\d_][\w .]{0,30},\s*(?:ngày\s+)?)?"
    r"(?P<d>\d{1,2})\s*/\s*(?P<m>\d{1,2})(?:\s*/\s*(?P<y>\d{4}))?\b",
    re.IGNORECASE,
)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_TITLE_YEAR = re.compile(r"\b(?:(?P<m>\d{1,2})\s*[/-]\s*)?(?P<y>(?:19|20)\d{2})\b")


def is_chrome(line: str) -> bool:
    """A line of page furniture rather than article text."""
    return any(p.search(line) for p in _CHROME)


def _date_iso(day: int, month: int, year: int | None) -> str | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def find_date(title: str, body: str) -> str | None:
    """Date from the dateline, with the year from the dateline, the title or the text."""
    first = body.split("\n", 1)[0]
    m = _DATELINE.match(first)
    if not m:
        return None
    day, month = int(m["d"]), int(m["m"])
    year = int(m["y"]) if m["y"] else None
    if year is None:
        years = [(int(t["m"]) if t["m"] else None, int(t["y"])) for t in _TITLE_YEAR.finditer(title)]
        same_month = [y for mo, y in years if mo == month]
        if same_month or years:
            year = (same_month or [y for _, y in years])[0]
    if year is None:
        stated = re.search(rf"\b{day}/{month}/((?:19|20)\d\d)\b", body)
        year = int(stated.group(1)) if stated else None
    return _date_iso(day, month, year)


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


def _join(lines: list[str]) -> str:
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
        m = _BYLINE.match(line) if len(line) <= 90 else None
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
        body = _join(story.lines)
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


# --- HTML ----------------------------------------------------------------------------------------

_DROP = (
    "script, style, noscript, nav, header, footer, aside, form, iframe, svg, button, select, "
    "[role=navigation], [role=banner], [role=contentinfo], [aria-hidden=true]"
)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, figcaption, td"


def _meta(tree, *selectors: str) -> str | None:
    for sel in selectors:
        node = tree.css_first(sel)
        if node is not None:
            value = node.attributes.get("content") or node.attributes.get("href") or node.attributes.get("datetime")
            if value and value.strip():
                return value.strip()
    return None


def html_to_page(html: str) -> tuple[str, dict]:
    """Article text of an HTML page as title + paragraphs, and metadata from its head."""
    try:
        from selectolax.lexbor import LexborHTMLParser
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise ImportError("HTML ingestion needs selectolax: pip install selectolax") from exc
    tree = LexborHTMLParser(html)
    meta = {
        "title": _meta(tree, "meta[property='og:title']", "meta[name='title']"),
        "date": _meta(tree, "meta[property='article:published_time']", "meta[name='pubdate']", "time[datetime]"),
        "url": _meta(tree, "link[rel=canonical]", "meta[property='og:url']"),
        "author": _meta(tree, "meta[name=author]"),
    }
    if not meta["title"]:
        t = tree.css_first("title")
        meta["title"] = t.text(strip=True) if t is not None else None
    for node in tree.css(_DROP):
        node.decompose()
    root = tree.css_first("article") or tree.css_first("main") or tree.body
    if root is None:
        raise ParseError("no <body> in HTML")
    blocks = []
    for node in root.css(_BLOCKS):
        parent, nested = node.parent, False
        while parent is not None and parent is not root:
            if parent.tag in {"p", "li", "blockquote", "pre", "td", "figcaption"}:
                nested = True
                break
            parent = parent.parent
        if not nested:
            txt = " ".join(node.text(deep=True, separator=" ").split())
            if txt:
                blocks.append(txt)
    if not blocks:
        blocks = [ln for ln in root.text(separator="\n").split("\n") if ln.strip()]
    h1 = root.css_first("h1") or tree.css_first("h1")
    title = (h1.text(strip=True) if h1 is not None else None) or meta["title"]
    if not title or not blocks:
        raise ParseError("no article text found in HTML")
    if blocks and blocks[0] == title:
        blocks = blocks[1:]
    return title + "\n\n" + "\n\n".join(blocks), meta


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    value = str(value).strip()
    if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value):
        return "-".join(m.groups())
    if m := re.match(r"(\d{4})-(\d{2})-(\d{2})", value):
        return "-".join(m.groups())
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value):
        return _date_iso(int(m[1]), int(m[2]), int(m[3]))
    return value


def parse_html(html: str, path: str, boilerplate: frozenset[str] = frozenset()) -> list[Document]:
    page, meta = html_to_page(html)
    docs = parse_page(page, path, boilerplate)
    main = docs[0]
    main.url = main.url or meta["url"]
    main.author = main.author or meta["author"]
    main.date = _iso_date(meta["date"]) or main.date
    return docs


# --- JSONL ---------------------------------------------------------------------------------------


def parse_jsonl(text: str, path: str) -> tuple[list[Document], list[FileProblem]]:
    """One article a line: ``title`` and ``text`` required; ``url``, ``date``, ``source``,
    ``author``, ``id`` optional. A broken line is reported and the others kept."""
    docs, problems = [], []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(FileProblem(where, f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("title"), str) or not isinstance(rec.get("text"), str):
            problems.append(FileProblem(where, "needs string fields 'title' and 'text'"))
            continue
        body = _join([ln for ln in clean_whitespace(rec["text"]).split("\n") if not is_chrome(ln)])
        if not body:
            problems.append(FileProblem(where, "empty 'text'"))
            continue
        doc_id = f"{path}#{rec['id']}" if rec.get("id") not in (None, "") else f"{path}#L{n}"
        if doc_id in seen:
            problems.append(FileProblem(where, f"duplicate id {rec.get('id')!r}"))
            continue
        seen.add(doc_id)
        title = clean_whitespace(rec["title"]).replace("\n", " ")
        docs.append(
            Document(
                doc_id=doc_id,
                title=title,
                text=body,
                path=path,
                date=_iso_date(rec.get("date")) or find_date(title, body),
                source=rec.get("source") or None,
                author=rec.get("author") or None,
                url=rec.get("url") or None,
            )
        )
    if not docs and not problems:
        raise ParseError("empty file")
    return docs, problems


# --- the corpus folder ---------------------------------------------------------------------------


def find_boilerplate(pages: list[str], min_files: int = 3, min_share: float = 0.3) -> frozenset[str]:
    """Short lines that recur across many pages: site furniture, not article text."""
    if len(pages) < min_files:
        return frozenset()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({ln for ln in clean_whitespace(page).split("\n") if ln and len(ln) <= 200})
    need = max(min_files, int(min_share * len(pages) + 0.999))
    return frozenset(ln for ln, c in counts.items() if c >= need)


def _read_text(raw: bytes) -> str:
    if not raw.strip():
        raise ParseError("empty file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (bad byte at offset {exc.start})") from None


def load_corpus(root: Path) -> Corpus:
    """Every readable article under ``root``; unreadable files are reported, never fatal."""
    corpus = Corpus()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    texts: dict[str, tuple[str, str]] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if any(part.startswith(".") for part in file.relative_to(root).parts):
            continue
        suffix = file.suffix.lower()
        if suffix not in SUFFIXES:
            corpus.skipped.append(FileProblem(rel, f"unsupported file type {suffix or '(none)'}"))
            log.info("skipping %s: unsupported file type", rel)
            continue
        try:
            texts[rel] = (suffix, _read_text(file.read_bytes()))
        except (OSError, ParseError) as exc:
            corpus.failed.append(FileProblem(rel, str(exc)))
    boilerplate = find_boilerplate([t for s, t in texts.values() if s in {".txt", ".md"}])
    for rel, (suffix, text) in texts.items():
        try:
            if suffix == ".jsonl":
                docs, problems = parse_jsonl(text, rel)
                corpus.failed.extend(problems)
            elif suffix in {".html", ".htm"}:
                docs = parse_html(text, rel)
            else:
                docs = parse_page(text, rel, boilerplate)
        except ParseError as exc:
            corpus.failed.append(FileProblem(rel, str(exc)))
            continue
        corpus.documents.extend(docs)
    for problem in corpus.failed:
        log.warning("could not ingest %s: %s", problem.path, problem.reason)
    return corpus
