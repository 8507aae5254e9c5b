"""HTML pages: the article's blocks as a plain-text page, parsed like one, plus metadata from <head>."""

from __future__ import annotations

from ..errors import MissingDependency
from .dates import iso_date
from .pages import parse_page
from .records import Document, ParseError

_DROP = (
    "script, style, noscript, nav, header, footer, aside, form, iframe, svg, button, select, "
    "[role=navigation], [role=banner], [role=contentinfo], [aria-hidden=true]"
)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, blockquote, pre, figcaption, td"
# A block inside one of these is part of that block's text, already taken with it.
_TEXT_CONTAINERS = {"p", "li", "blockquote", "pre", "td", "figcaption"}


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
        raise MissingDependency("HTML ingestion needs selectolax: pip install selectolax") from exc
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
            if parent.tag in _TEXT_CONTAINERS:
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


def parse_html(html: str, path: str, boilerplate: frozenset[str] = frozenset()) -> list[Document]:
    page, meta = html_to_page(html)
    docs = parse_page(page, path, boilerplate)
    main = docs[0]
    main.url = main.url or meta["url"]
    main.author = main.author or meta["author"]
    main.date = iso_date(meta["date"]) or main.date
    return docs
