"""HTML pages: the article's text found by trafilatura and read like a plain-text page
(``read_page``: source prefixes, bylines, datelines), with the page's own metadata over what the
text suggests (``html_meta``: title, date, author, url; source from ``og:site_name`` when the text
names none).

Before trafilatura looks for the main text, the page is cut to the article (``html_cut``: nothing
before the headline, nothing from the first reader comments or related-stories section after the
article's first paragraph); photo captions and author credits go too; tables that lay out the page
become plain blocks (``html_tree``). A lead printed between the headline and the body's block
(VnExpress' ``description``, Tuổi Trẻ's ``sapo``), which trafilatura does not look at, is put back
in front of the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MissingDependency
from ..text import clean_whitespace
from .pages import read_page
from .records import Document, PageReading, ParseError
from .roles import is_sentence

try:
    import htmldate  # noqa: F401 - checked here with the rest; html_meta uses it
    import trafilatura
    from lxml import etree
    from trafilatura.settings import use_config
    from trafilatura.utils import load_html
except ImportError as exc:  # pragma: no cover - declared dependency
    raise MissingDependency("HTML ingestion needs trafilatura: pip install trafilatura htmldate") from exc

# After the guard above, so that a missing lxml or htmldate gets its message, not a bare ImportError.
from .html_cut import article_text, cut_article_end, cut_before, in_section, section_end
from .html_meta import (
    credited_author,
    headline_node,
    meta_author,
    page_date,
    page_title,
    page_url,
    same_name,
)
from .html_tree import BLOCKS, following, meta_values, remove, short_text, unwrap_layout_tables

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
# Invisible elements, and photo captions: never the article's text.
_INVISIBLE = ("script", "style", "noscript", "template", "svg", "iframe", "object")
_CAPTIONS = etree.XPath("//figcaption | //*[contains(translate(@class, 'CAPTION', 'caption'), 'caption')]")
# A lead is a sentence of at least this many words; more lead-like blocks than this between the
# headline and the body means the body container was not where we think.
_MIN_LEAD_WORDS = 10
_MAX_LEAD_BLOCKS = 3
# og:type values of an article page besides "article" (and its "*.article" variants).
_ARTICLE_TYPES = frozenset({"news", "blog", "blogposting", "newsarticle", "story"})


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
    if page.author and not same_name(page.author, main.source):
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
    unwrap_layout_tables(tree)
    metas = meta_values(tree)
    source = metas.get("og:site_name") or metas.get("application-name")
    title = page_title(tree, metas, source)
    headline = headline_node(tree, title)
    url = page_url(tree, metas)
    cut_article_end(tree, headline)
    date = page_date(tree, metas, headline, title, url)
    author = meta_author(metas, source) or credited_author(tree, source)
    for node in list(tree.find(".//body").iter(*_INVISIBLE)):
        remove(node)
    if headline is not None:
        cut_before(headline)
    for node in _CAPTIONS(tree):
        remove(node)
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
        text = short_text(node, limit)
        if text and text.startswith(line):
            found = node
    return found


def _lead(headline, lines: list[str]) -> list[str]:
    """Lead paragraphs printed between the headline and the block trafilatura took the body from.

    Only blocks outside that block count (inside it, trafilatura saw them and left them out), and
    none in a related-stories or comments section.
    """
    if headline is None:
        return []
    first = _locate(following(headline), lines[0])
    if first is None:
        return []
    last = _locate(following(first), lines[-1]) if len(lines) > 1 else None
    container = first.getparent()
    if last is not None:
        ancestors = set(last.iterancestors())
        container = next((a for a in first.iterancestors() if a in ancestors), container)
    found, sections = [], []
    for node in following(headline):
        if node is first:
            break
        if section_end(node):
            sections.append(node)
        if node.tag not in BLOCKS or any(a is container for a in node.iterancestors()) or in_section(node, sections):
            continue
        text = article_text(node, _MIN_LEAD_WORDS)
        if text and is_sentence(text) and text not in lines:
            found.append(text)
    return found if len(found) <= _MAX_LEAD_BLOCKS else []


def _visible_lines(tree) -> list[str]:
    """The page body's visible text, a line a block (when no article block was found)."""
    body = tree.find(".//body")
    for node in body.iter(etree.Element):
        if node.tag in BLOCKS or node.tag == "br":
            node.tail = "\n" + (node.tail or "")
            node.text = "\n" + (node.text or "") if node.tag != "br" else node.text
    return [ln for ln in (" ".join(s.split()) for s in "".join(body.itertext()).split("\n")) if ln]
