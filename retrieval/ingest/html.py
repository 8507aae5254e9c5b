"""HTML pages: the article's text found by trafilatura and read like a plain-text page
(``read_page``: source prefixes, bylines, datelines), with the page's own metadata over what the
text suggests: title from the ``<h1>`` matching og:title / ``<title>``; date from
``article:published_time`` and the like, ``<time datetime>``, htmldate (markup, JSON-LD, URL) or
a date stamp by the headline; author from the meta tags or the element marked as the author;
source from ``og:site_name`` when the text names none; url from the canonical link or og:url.

Before trafilatura looks for the main text, the page is cut to the article: everything before the
headline goes (menus, breadcrumbs, section labels), and so does everything from the first reader
comments or related-stories section after the article's first paragraph to the end of the page.
A reader's comment or another story's lead quoted as the article is the worst mistake a citation
bot can make, so the cut does not depend on trafilatura recognising those sections. A boxed
"Xem thêm" between two paragraphs of the body goes alone; photo captions and author credits go
too; tables that lay out the page become plain blocks. A lead printed between the headline and
the body's block (VnExpress' ``description``, Tuổi Trẻ's ``sapo``), which trafilatura does not
look at, is put back in front of the body.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from itertools import chain, islice, takewhile

from ..errors import MissingDependency
from ..text import clean_whitespace, fold
from .dates import DATE_ONLY_LINE, iso_date, stamp_date
from .pages import read_page
from .records import Document, PageReading, ParseError
from .roles import BODY, COMMENTS, RELATED, SECTION_ENDS, is_sentence, role_of, word_count

try:
    import htmldate
    import trafilatura
    from lxml import etree
    from trafilatura.settings import use_config
    from trafilatura.utils import load_html
except ImportError as exc:  # pragma: no cover - declared dependency
    raise MissingDependency("HTML ingestion needs trafilatura: pip install trafilatura htmldate") from exc

NO_ARTICLE_BLOCK = "no article block found; used the whole page"

# trafilatura, asked for the body text only: no comments, no images (captions are not article
# text); tables are kept (a price or results table is the article's own text).
_EXTRACTION = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "with_metadata": False,
    "deduplicate": False,
    "favor_precision": False,
}
# Below trafilatura's default of 250 characters an extraction counts as failed and is replaced by
# its baseline, which runs a short article's paragraphs together into one; a news brief is often
# shorter than that, and the page has already been cut to the article.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "50")

# --- the page's structure ---
# Tags that start a new line when a page is rendered.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)
_LINE_ENDS = _BLOCKS | {"br"}
_INVISIBLE = ("script", "style", "noscript", "template", "svg", "iframe", "object")
# Containers whose text is never the article's, wherever they stand.
_NOT_ARTICLE = frozenset({"figure", "figcaption", "nav", "aside", "footer", "form", "button", "time"})
_LINKS = frozenset({"a", "nav", "title"})
_CAPTIONS = etree.XPath("//figcaption | //*[contains(translate(@class, 'CAPTION', 'caption'), 'caption')]")
# A cell with one of these inside, or with this many words or characters, lays out a page.
_LAYOUT_CELL_BLOCKS = frozenset({"div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table"})
_LAYOUT_CELL_WORDS = 25
_MAX_DATA_CELL_CHARS = 400

# --- where the article starts and ends ---
# Tags of a paragraph of text; one of at least this many words after the headline begins the
# article (sections met before it, like a "Bình luận (3)" line under the headline, do not end it).
_PARAGRAPHS = frozenset({"p", "div", "td", "dd", "blockquote", "section", "article"})
_MIN_FIRST_PARAGRAPH_WORDS = 8
# Longer than this, a block is not one paragraph (it is read no further).
_MAX_BLOCK_CHARS = 5000
# A section heading ("Tin liên quan", "Ý kiến (12)") is short; longer text is read no further.
_MAX_MARKER_CHARS = 60
# A comments container: ``box-comment``, ``comment-wrapper``, ``#comments``, ``binh-luan``; not
# "commentary".
_COMMENTS_CLASS = re.compile(r"(?:^|[\s_-])(?:comments?|binh-?luan|binhluan)(?:$|[\s_-])", re.IGNORECASE)
_COMMENT_CONTAINERS = frozenset({"div", "section", "aside", "ul", "ol", "form"})
# Inline related boxes removed from one body before giving up on finding its end.
_MAX_INLINE_BOXES = 20
# A lead is a sentence of at least this many words; more lead-like blocks than this between the
# headline and the body means the body container was not where we think.
_MIN_LEAD_WORDS = 10
_MAX_LEAD_BLOCKS = 3

# --- metadata ---
# " - VnExpress", " | Báo Tuổi Trẻ", " - baotintuc.vn" after a page title.
_TITLE_TAIL = re.compile(r"^(?P<head>.+?)\s+(?P<sep>[-|–—:·»])\s+(?P<tail>[^-|–—:·»]+)$")
_SITE_WORDS = re.compile(r"^(?:báo|tạp chí|đài|cổng thông tin|tin tức|trang tin)\b|\.(?:vn|com|net|org|info)\b", re.IGNORECASE)
_MAX_SITE_NAME_WORDS = 6
# og:type values of an article page besides "article" (and its "*.article" variants).
_ARTICLE_TYPES = frozenset({"news", "blog", "blogposting", "newsarticle", "story"})
_META_DATES = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Where the dates are those of other pages: menus, sidebars, the footer.
_OTHER_PAGES = frozenset({"nav", "aside", "footer"})
# How many elements after the headline are looked at for a date stamp.
_STAMP_REACH = 40
_AUTHOR_NODES = etree.XPath(
    "//body//*[@itemprop='author' or @rel='author' or contains(translate(@class, 'AUTHOR', 'author'), 'author')]"
)
_MAX_CREDIT_CHARS = 60
# "Minh Hà/VOV.VN", "Nam Anh - TTXVN", "Thu Hà (TTXVN)": the agency after the name.
_CREDIT_TAIL = re.compile(r"\s*(?:/|\s-\s|\().*$")
# A person's name: two to six words of letters ("Đình Huy", "Nguyễn Thị Minh Khai").
_PERSON = re.compile(r"[^\W\d_]+(?:\s+[^\W\d_]+){1,5}")


@dataclass
class _HtmlPage:
    """What the HTML gives before the text is read: the article as a plain-text page, and metadata."""

    text: str
    title: str | None
    date: str | None
    url: str | None
    author: str | None
    source: str | None
    uncertain: str | None = None


def read_html(html: str, path: str, boilerplate: frozenset[str] = frozenset()) -> PageReading:
    """An HTML page: its article (read as ``read_page`` reads a text page) with the page's metadata."""
    page = _html_page(html)
    reading = read_page(page.text, path, boilerplate)
    main = reading.documents[0]
    main.date = page.date or main.date
    main.url = page.url or main.url
    # An agency as the page's author ("TTXVN") does not replace the reporter its byline names.
    if page.author and not _same_name(page.author, main.source):
        main.author = page.author
    for doc in reading.documents:
        doc.source = doc.source or page.source
    reading.uncertain = page.uncertain or reading.uncertain
    return reading


def parse_html(html: str, path: str, boilerplate: frozenset[str] = frozenset()) -> list[Document]:
    """The documents of an HTML page (``read_html`` without the report)."""
    return read_html(html, path, boilerplate).documents


# --- the page -----------------------------------------------------------------------------------


def _html_page(html: str) -> _HtmlPage:
    if not html or not html.strip():
        raise ParseError("no article text found in HTML")
    tree = load_html(html)
    if tree is None or tree.find(".//body") is None:
        # A fragment ("<h1>..</h1><p>..</p>") or plain text saved as .html: read it as a body.
        tree = load_html(f"<html><body>{html}</body></html>")
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    _unwrap_layout_tables(tree)
    metas = _metas(tree)
    source = metas.get("og:site_name") or metas.get("application-name")
    title = _title(tree, metas, source)
    headline = _headline(tree, title)
    url = _url(tree, metas)
    _cut_article_end(tree, headline)
    date = _date(tree, metas, headline, title, url)
    author = _author(metas, source) or _credited_author(tree, source)
    for node in list(tree.find(".//body").iter(*_INVISIBLE)):
        _remove(node)
    if headline is not None:
        _cut_before(headline)
    for node in _CAPTIONS(tree):
        _remove(node)
    lines = [ln for ln in _main_text(tree) if ln != title]
    uncertain = None
    kind = metas.get("og:type", "article").lower()
    if "article" not in kind and kind not in _ARTICLE_TYPES:
        uncertain = f"the page says it is not an article (og:type {kind})"
    if lines:
        lines = _lead(headline, lines) + lines
    else:
        lines = [ln for ln in _visible_lines(tree) if ln != title]
        uncertain = NO_ARTICLE_BLOCK
    if not lines:
        raise ParseError("no article text found in HTML")
    text = clean_whitespace("\n\n".join(([title] if title else []) + lines))
    return _HtmlPage(text, title, date, url, author, source, uncertain)


def _unwrap_layout_tables(tree) -> None:
    """Tables used to lay out a page (old CMSs, government portals) become plain blocks, so their
    cells are read as text, not as rows of a data table."""
    for table in list(tree.iter("table")):
        if table.find(".//table") is not None or any(_is_layout_cell(c) for c in table.iter("td", "th")):
            for node in [table, *table.iter("tbody", "thead", "tfoot", "tr", "td", "th")]:
                node.tag = "div"


def _is_layout_cell(cell) -> bool:
    """A cell holding blocks, several paragraphs or lines, or running text; a data table's cell
    holds a value or a short phrase (at most one ``<p>`` around it)."""
    inside = [c.tag for c in cell.iter(etree.Element) if c is not cell]
    if any(tag in _LAYOUT_CELL_BLOCKS for tag in inside) or inside.count("p") + inside.count("br") > 1:
        return True
    text = _short_text(cell, _MAX_DATA_CELL_CHARS)
    return text is None or word_count(text) >= _LAYOUT_CELL_WORDS


def _metas(tree) -> dict[str, str]:
    """``<meta>`` values by lower-cased property, name or itemprop; the first of each wins."""
    out: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = node.get("property") or node.get("name") or node.get("itemprop")
        value = " ".join((node.get("content") or "").split())
        if key and value:
            out.setdefault(key.strip().lower(), value)
    return out


def _text(node) -> str:
    return " ".join("".join(node.itertext()).split())


def _short_text(node, limit: int) -> str | None:
    """The node's text, or None when it is longer than ``limit`` (read no further than that)."""
    parts, size = [], 0
    for piece in node.itertext():
        size += len(piece)
        if size > 4 * limit and len(" ".join("".join(parts + [piece]).split())) > limit:
            return None
        parts.append(piece)
    text = " ".join("".join(parts).split())
    return text if len(text) <= limit else None


def _remove(node) -> None:
    """Take the node out of the tree, keeping the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail
    if tail and tail.strip():
        prev = node.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)


def _inside(node, tags: frozenset[str]) -> bool:
    return any(a.tag in tags for a in node.iterancestors())


# --- title and headline -------------------------------------------------------------------------


def _strip_site(title: str, source: str | None) -> str:
    """A page title without a trailing " - Site name" / " | Site name"."""
    m = _TITLE_TAIL.match(title)
    if m is None:
        return title
    tail = m["tail"].strip()
    site = _same_name(source, tail)
    if site or (_SITE_WORDS.search(tail) and len(tail.split()) <= _MAX_SITE_NAME_WORDS) or (
        m["sep"] == "|" and len(tail.split()) <= _MAX_SITE_NAME_WORDS
    ):
        return _strip_site(m["head"].strip(), source)
    return title


def _same_name(a: str | None, b: str | None) -> bool:
    """One name contains the other, marks and case aside ("Tuổi Trẻ" and "Báo Tuổi Trẻ")."""
    return bool(a and b) and (fold(a) in fold(b) or fold(b) in fold(a))


def _same_title(a: str, b: str) -> bool:
    fa, fb = fold(a), fold(b)
    return bool(fa and fb) and (fa == fb or fa.startswith(fb) or fb.startswith(fa))


def _title(tree, metas: dict[str, str], source: str | None) -> str | None:
    """The headline: the page's ``<h1>`` that matches its og:title or ``<title>``, else those."""
    declared = [_strip_site(t, source) for t in (metas.get("og:title"), metas.get("twitter:title")) if t]
    node = tree.find(".//title")
    if node is not None and _text(node):
        declared.append(_strip_site(_text(node), source))
    h1s = [t for t in (_text(h) for h in tree.iter("h1")) if t]
    for h1 in h1s:
        if any(_same_title(h1, d) for d in declared):
            return h1
    if len(h1s) == 1 and (word_count(h1s[0]) >= 3 or not declared):
        return h1s[0]
    return declared[0] if declared else None


def _headline(tree, title: str | None):
    """The element that prints the headline, if one does."""
    if not title:
        return None
    for tag in ("h1", "h2", "h3"):
        for node in tree.iter(tag):
            if _text(node) == title:
                return node
    # Pages without a heading element print the headline in bold or in a table cell.
    for node in tree.find(".//body").iter(etree.Element):
        if node.tag != "a" and not _inside(node, _LINKS) and _short_text(node, len(title)) == title:
            return node
    return None


# --- where the article starts and ends ----------------------------------------------------------


def _following(node):
    """Elements after ``node`` in document order, not inside it."""
    for el in node.itersiblings():
        yield from el.iter(etree.Element)
    for anc in node.iterancestors():
        for el in anc.itersiblings():
            yield from el.iter(etree.Element)


def _cut_before(node) -> None:
    """Remove everything in the body before ``node`` (its ancestors stay)."""
    while node is not None and node.tag not in ("body", "html"):
        for prev in list(node.itersiblings(preceding=True)):
            _remove(prev)
        node = node.getparent()


def _cut_after(node) -> None:
    """Remove ``node`` and everything after it in document order (its ancestors stay)."""
    first, parent = node, node.getparent()
    while parent is not None:
        for nxt in list(node.itersiblings()):
            parent.remove(nxt)
        if node is first:
            parent.remove(node)  # with its tail text
        else:
            node.tail = None
        if parent.tag in ("body", "html"):
            return
        node, parent = parent, parent.getparent()


def _stands_alone(node) -> bool:
    """The node is a line of its own: a block, or inline with only line breaks or blocks beside it."""
    if node.tag in _BLOCKS:
        return True
    parent = node.getparent()
    if parent is None or (node.tail and node.tail.strip()):
        return False
    prev, nxt = node.getprevious(), node.getnext()
    if prev is None:
        before_ok = not (parent.text and parent.text.strip())
    else:
        before_ok = prev.tag in _LINE_ENDS and not (prev.tail and prev.tail.strip())
    return before_ok and (nxt is None or nxt.tag in _LINE_ENDS)


def _section_end(node) -> str | None:
    """The role of a comments / related stories / footer section that starts at ``node``."""
    if node.tag in _COMMENT_CONTAINERS and _COMMENTS_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}"):
        return COMMENTS
    if not _stands_alone(node):
        return None
    text = _short_text(node, _MAX_MARKER_CHARS)
    if not text:
        return None
    role = role_of(text)
    return role if role in SECTION_ENDS else None


def _article_text(node, min_words: int) -> str | None:
    """The text of a block that reads like article text (no blocks inside, not in a figure or a
    menu, ``min_words`` or more, mostly not links), else None."""
    if _inside(node, _NOT_ARTICLE) or any(c.tag in _BLOCKS for c in node):
        return None
    text = _short_text(node, _MAX_BLOCK_CHARS)
    if text and word_count(text) >= min_words and role_of(text) == BODY and _link_share(node) < 0.5:
        return text
    return None


def _is_paragraph(node) -> bool:
    return node.tag in _PARAGRAPHS and _article_text(node, _MIN_FIRST_PARAGRAPH_WORDS) is not None


def _in_section(node, markers: list) -> bool:
    """The node is in a section one of ``markers`` heads: the marker, or after it in its parent
    (the stories a "Tin liên quan" announces)."""
    chain = [node, *node.iterancestors()]
    for marker in markers:
        parent = marker.getparent()
        for el in chain:
            if el.getparent() is parent:
                if parent.index(el) >= parent.index(marker):
                    return True
                break
    return False


def _sections(tree, headline, pass_over: bool = True):
    """The section markers met before the article's first paragraph (a "Bình luận (3)" line under
    the headline, a column of related stories beside the body), and the first marker after that
    paragraph with its role, or None. No paragraph in a section passed over is taken for the
    article's first; when that leaves none (the body follows the marker in the same block), the
    markers before the first paragraph are not sections."""
    begun, passed = False, []
    for node in _following(headline) if headline is not None else tree.find(".//body").iter(etree.Element):
        if not begun:
            if _is_paragraph(node) and not _in_section(node, passed):
                begun = True
            elif pass_over and _section_end(node):
                passed.append(node)
        elif role := _section_end(node):
            return passed, (node, role)
    if not begun and passed:
        return _sections(tree, headline, pass_over=False)
    return passed, None


def _inline_box(marker):
    """The box around a "Xem thêm" / "Tin liên quan" marker when it stands between two paragraphs
    of the body (the marker, its links and their leads boxed together), else None: a heading
    that is itself among the body's paragraphs, or a box with no paragraph after it, starts a
    section that runs to the end of the page."""
    box = marker
    while (parent := box.getparent()) is not None and parent.tag not in ("body", "html"):
        if any(_is_paragraph(s) for s in box.itersiblings(preceding=True)):
            if box is marker or not any(_is_paragraph(s) for s in box.itersiblings()):
                return None
            return box
        box = parent
    return None


def _cut_article_end(tree, headline) -> None:
    """Cut the page at the first comments, related-stories or footer section after the article's
    first paragraph: nothing from there on is the article. A boxed "Xem thêm" / "Tin liên quan"
    standing between two paragraphs of the body is an inline box: only the box goes. Sections
    passed over before the article began go too, up to the end of their block."""
    for _ in range(_MAX_INLINE_BOXES + 1):
        passed, end = _sections(tree, headline)
        for marker in passed:
            parent = marker.getparent()
            for node in [marker, *marker.itersiblings()] if parent is not None else []:
                parent.remove(node)
        if end is None:
            return
        marker, role = end
        box = _inline_box(marker) if role == RELATED else None
        if box is None:
            _cut_after(marker)
            return
        _remove(box)


# --- metadata -----------------------------------------------------------------------------------


def _iso(value: str | None) -> str | None:
    date = iso_date(value)
    return date if date and _ISO_DATE.fullmatch(date) else None


def _date(tree, metas: dict[str, str], headline, title: str | None, url: str | None) -> str | None:
    """Publication date: from the meta tags, a ``<time datetime>``, htmldate's reading of the
    markup and URL, or a date stamp printed by the headline."""
    for key in _META_DATES:
        if date := _iso(metas.get(key)):
            return date
    for node in tree.iter("time"):
        if not _inside(node, _OTHER_PAGES) and (date := _iso(node.get("datetime"))):
            return date
    # Not htmldate's extensive search: it takes any date in the text (the copyright year too).
    found = htmldate.find_date(deepcopy(tree), url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    if found:
        return found
    return _stamp(headline, title or "")


def _stamp(headline, title: str) -> str | None:
    """The date of a date-stamp line ("Thứ sáu, 30/6/2023, 09:15 (GMT+7)", "Ngày đăng: 5/1/2024")
    printed next to the headline: among the elements just after it, else before it in its block."""
    if headline is None:
        return None
    block = headline.getparent()
    block = block if block is None or block.getparent() is None else block.getparent()
    before = list(takewhile(lambda n: n is not headline, block.iter(etree.Element))) if block is not None else []
    for node in chain(islice(_following(headline), _STAMP_REACH), reversed(before)):
        if node.tag in _NOT_ARTICLE - {"time"} or any(c.tag in _BLOCKS for c in node):
            continue
        text = _short_text(node, _MAX_MARKER_CHARS)
        if text and DATE_ONLY_LINE.match(text) and (date := stamp_date(text, title)):
            return date
    return None


def _url(tree, metas: dict[str, str]) -> str | None:
    for node in tree.iter("link"):
        if "canonical" in (node.get("rel") or "").lower().split() and (node.get("href") or "").startswith("http"):
            return node.get("href").strip()
    url = metas.get("og:url")
    return url if url and url.startswith("http") else None


def _is_site(name: str, source: str | None) -> bool:
    """The name is the publisher's, not a person's: "Báo Tuổi Trẻ", "vnexpress.net", "VTV Digital"
    on VTV.vn (every word of the site's brand in it)."""
    if _SITE_WORDS.search(name) or _same_name(name, source):
        return True
    brand = fold(_SITE_WORDS.sub(" ", source or "")).replace(".", " ").split()
    return bool(brand) and set(brand) <= set(fold(name).split())


def _author(metas: dict[str, str], source: str | None) -> str | None:
    """``meta[name=author]`` or ``article:author``, unless it is a link or the site's own name."""
    for key in ("author", "article:author"):
        value = metas.get(key)
        if value and "/" not in value and not _is_site(value, source):
            return value
    return None


def _credited_author(tree, source: str | None) -> str | None:
    """The reporter's name from the elements the page marks as the author (``itemprop=author``,
    ``rel=author``, a class with "author"): "Đình Huy", "Minh Hà/VOV.VN". Those elements are
    taken out of the page, since they are not article text."""
    found = None
    for node in _AUTHOR_NODES(tree):
        name = _CREDIT_TAIL.sub("", _short_text(node, _MAX_CREDIT_CHARS) or "").strip()
        if _PERSON.fullmatch(name) and all(w[0].isupper() for w in name.split()) and not _is_site(name, source):
            _remove(node)
            found = found or name
    return found


# --- the article's text -------------------------------------------------------------------------


def _main_text(tree) -> list[str]:
    """The article's paragraphs as trafilatura finds them (no comments, captions or images)."""
    result = trafilatura.bare_extraction(tree, config=_CONFIG, **_EXTRACTION)
    if result is None or result.body is None:
        return []
    for lb in result.body.iter("lb"):
        lb.text = "\n"
    lines: list[str] = []
    for block in result.body:
        if block.tag == "list":
            pieces = [_own_text(item) for item in block.iter("item")]
        elif block.tag == "table":
            pieces = [" | ".join(_own_text(cell) for cell in row.findall("cell")) for row in block.iter("row")]
        elif block.tag == "quote" and block.find("p") is not None:
            pieces = [_own_text(p) for p in block.iter("p")]
        elif block.tag == "graphic":
            continue
        else:
            pieces = [_own_text(block)]
        lines.extend(ln for piece in pieces for ln in (" ".join(s.split()) for s in piece.split("\n")) if ln)
    return lines


def _own_text(node) -> str:
    """The node's text without that of lists nested in it (their items are lines of their own)."""
    parts = [node.text or ""]
    for sub in node:
        if sub.tag != "list":
            parts.append("".join(sub.itertext()))
        parts.append(sub.tail or "")
    return "".join(parts)


def _locate(nodes, line: str):
    """The first of ``nodes`` whose text starts with ``line`` (and is not much longer): the
    innermost such element, not a wrapper around it."""
    limit = 2 * len(line) + 100
    found = None
    for node in nodes:
        if found is not None and not any(a is found for a in node.iterancestors()):
            break
        text = _short_text(node, limit)
        if text and text.startswith(line):
            found = node
    return found


def _link_share(node) -> float:
    text = len(_text(node))
    return sum(len(_text(a)) for a in node.iter("a")) / text if text else 1.0


def _lead(headline, lines: list[str]) -> list[str]:
    """Lead paragraphs printed between the headline and the block trafilatura took the body from.

    Only blocks outside that block count (inside it, trafilatura saw them and left them out), and
    none in a related-stories or comments section.
    """
    if headline is None:
        return []
    first = _locate(_following(headline), lines[0])
    if first is None:
        return []
    last = _locate(_following(first), lines[-1]) if len(lines) > 1 else None
    container = first.getparent()
    if last is not None:
        ancestors = set(last.iterancestors())
        container = next((a for a in first.iterancestors() if a in ancestors), container)
    found, sections = [], []
    for node in _following(headline):
        if node is first:
            break
        if _section_end(node):
            sections.append(node)
        if node.tag not in _BLOCKS or any(a is container for a in node.iterancestors()) or _in_section(node, sections):
            continue
        text = _article_text(node, _MIN_LEAD_WORDS)
        if text and is_sentence(text) and text not in lines:
            found.append(text)
    return found if len(found) <= _MAX_LEAD_BLOCKS else []


def _visible_lines(tree) -> list[str]:
    """The page body's visible text, a line a block (when no article block was found)."""
    body = tree.find(".//body")
    for node in body.iter(etree.Element):
        if node.tag in _BLOCKS or node.tag == "br":
            node.tail = "\n" + (node.tail or "")
            node.text = "\n" + (node.text or "") if node.tag != "br" else node.text
    return [ln for ln in (" ".join(s.split()) for s in "".join(body.itertext()).split("\n")) if ln]
