"""Reading and editing an HTML page's lxml tree: an element's text (all of it, or none when it is
too long), taking an element out, what is after it, what it sits inside, the ``<meta>`` values,
and tables that lay out the page turned into plain blocks. Knows nothing of articles.
"""

from __future__ import annotations

from lxml import etree

from .roles import word_count

# Tags that start a new line when a page is rendered.
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)
LINE_ENDS = BLOCKS | {"br"}
# Containers whose text is never the article's, wherever they stand.
NOT_ARTICLE = frozenset({"figure", "figcaption", "nav", "aside", "footer", "form", "button", "time"})
# A marker line, like a section heading ("Tin liên quan", "Ý kiến (12)") or a date stamp, is short;
# longer text is read no further.
MAX_MARKER_CHARS = 60
# A cell with one of these inside, or with this many words or characters, lays out a page.
_LAYOUT_CELL_BLOCKS = frozenset({"div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table"})
_LAYOUT_CELL_WORDS = 25
_MAX_DATA_CELL_CHARS = 400


def unwrap_layout_tables(tree) -> None:
    """Tables used to lay out a page (old CMSs, government portals) become plain blocks, so their
    cells are read as text, not as rows of a data table."""
    for table in list(tree.iter("table")):
        if table.find(".//table") is not None or any(_is_layout_cell(c) for c in table.iter("td", "th")):
            for node in [table, *table.iter("tbody", "thead", "tfoot", "tr", "td", "th")]:
                node.tag = "div"


def _is_layout_cell(cell) -> bool:
    """A cell holding blocks, several paragraphs or lines, or running text; a data table's cell
    holds a value or a short phrase (at most one ``<p>`` around it)."""
    tags = [c.tag for c in cell.iter(etree.Element) if c is not cell]
    if any(tag in _LAYOUT_CELL_BLOCKS for tag in tags) or tags.count("p") + tags.count("br") > 1:
        return True
    text = short_text(cell, _MAX_DATA_CELL_CHARS)
    return text is None or word_count(text) >= _LAYOUT_CELL_WORDS


def meta_values(tree) -> dict[str, str]:
    """``<meta>`` values by lower-cased property, name or itemprop; the first of each wins."""
    out: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = node.get("property") or node.get("name") or node.get("itemprop")
        value = " ".join((node.get("content") or "").split())
        if key and value:
            out.setdefault(key.strip().lower(), value)
    return out


def text_of(node) -> str:
    return " ".join("".join(node.itertext()).split())


def short_text(node, limit: int) -> str | None:
    """The node's text, or None when it is longer than ``limit`` (read no further than that)."""
    parts, size = [], 0
    for piece in node.itertext():
        size += len(piece)
        if size > 4 * limit and len(" ".join("".join(parts + [piece]).split())) > limit:
            return None
        parts.append(piece)
    text = " ".join("".join(parts).split())
    return text if len(text) <= limit else None


def remove(node) -> None:
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


def inside(node, tags: frozenset[str]) -> bool:
    return any(a.tag in tags for a in node.iterancestors())


def following(node):
    """Elements after ``node`` in document order, not inside it."""
    for el in node.itersiblings():
        yield from el.iter(etree.Element)
    for anc in node.iterancestors():
        for el in anc.itersiblings():
            yield from el.iter(etree.Element)
