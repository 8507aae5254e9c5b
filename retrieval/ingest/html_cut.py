"""Where the article starts and ends on an HTML page: the page is cut to it before trafilatura looks
for the main text. Everything before the headline goes (menus, breadcrumbs, section labels), and so
does everything from the first reader comments, related-stories or footer section after the
article's first paragraph to the end of the page; a boxed "Xem thêm" between two paragraphs of the
body goes alone. A reader's comment or another story's lead quoted as the article is the worst
mistake a citation bot can make, so the cut does not depend on trafilatura recognising those
sections.
"""

from __future__ import annotations

import re

from lxml import etree

from .html_tree import BLOCKS, LINE_ENDS, MAX_MARKER_CHARS, NOT_ARTICLE, following, inside, remove, short_text, text_of
from .roles import BODY, COMMENTS, RELATED, SECTION_ENDS, role_of, word_count

# Tags of a paragraph of text; one of at least this many words after the headline begins the
# article (sections met before it, like a "Bình luận (3)" line under the headline, do not end it).
_PARAGRAPHS = frozenset({"p", "div", "td", "dd", "blockquote", "section", "article"})
_MIN_FIRST_PARAGRAPH_WORDS = 8
# Longer than this, a block is not one paragraph (it is read no further).
_MAX_BLOCK_CHARS = 5000
# A comments container: ``box-comment``, ``comment-wrapper``, ``#comments``, ``binh-luan``; not
# "commentary".
_COMMENTS_CLASS = re.compile(r"(?:^|[\s_-])(?:comments?|binh-?luan|binhluan)(?:$|[\s_-])", re.IGNORECASE)
_COMMENT_CONTAINERS = frozenset({"div", "section", "aside", "ul", "ol", "form"})
# Inline related boxes removed from one body before giving up on finding its end.
_MAX_INLINE_BOXES = 20


def cut_before(node) -> None:
    """Remove everything in the body before ``node`` (its ancestors stay)."""
    while node is not None and node.tag not in ("body", "html"):
        for prev in list(node.itersiblings(preceding=True)):
            remove(prev)
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
    if node.tag in BLOCKS:
        return True
    parent = node.getparent()
    if parent is None or (node.tail and node.tail.strip()):
        return False
    prev, nxt = node.getprevious(), node.getnext()
    if prev is None:
        before_ok = not (parent.text and parent.text.strip())
    else:
        before_ok = prev.tag in LINE_ENDS and not (prev.tail and prev.tail.strip())
    return before_ok and (nxt is None or nxt.tag in LINE_ENDS)


def section_end(node) -> str | None:
    """The role of a comments / related stories / footer section that starts at ``node``."""
    if node.tag in _COMMENT_CONTAINERS and _COMMENTS_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}"):
        return COMMENTS
    if not _stands_alone(node):
        return None
    text = short_text(node, MAX_MARKER_CHARS)
    if not text:
        return None
    role = role_of(text)
    return role if role in SECTION_ENDS else None


def article_text(node, min_words: int) -> str | None:
    """The text of a block that reads like article text (no blocks inside, not in a figure or a
    menu, ``min_words`` or more, mostly not links), else None."""
    if inside(node, NOT_ARTICLE) or any(c.tag in BLOCKS for c in node):
        return None
    text = short_text(node, _MAX_BLOCK_CHARS)
    if text and word_count(text) >= min_words and role_of(text) == BODY and _link_share(node) < 0.5:
        return text
    return None


def _link_share(node) -> float:
    text = len(text_of(node))
    return sum(len(text_of(a)) for a in node.iter("a")) / text if text else 1.0


def _is_paragraph(node) -> bool:
    return node.tag in _PARAGRAPHS and article_text(node, _MIN_FIRST_PARAGRAPH_WORDS) is not None


def in_section(node, markers: list) -> bool:
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
    for node in following(headline) if headline is not None else tree.find(".//body").iter(etree.Element):
        if not begun:
            if _is_paragraph(node) and not in_section(node, passed):
                begun = True
            elif pass_over and section_end(node):
                passed.append(node)
        elif role := section_end(node):
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


def cut_article_end(tree, headline) -> None:
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
        remove(box)
