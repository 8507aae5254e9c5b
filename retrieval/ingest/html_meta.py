"""An HTML page's own metadata, which wins over what its text suggests: the title (the ``<h1>``
matching og:title / ``<title>``) and the element printing it; the date (``article:published_time``
and the like, ``<time datetime>``, htmldate's reading of markup, JSON-LD and URL, or a date stamp
by the headline); the author (the meta tags or the element marked as the author); the url (the
canonical link or og:url).
"""

from __future__ import annotations

import re
from copy import deepcopy
from itertools import chain, islice, takewhile

import htmldate
from lxml import etree

from ..text import fold
from .dates import DATE_ONLY_LINE, iso_date, stamp_date
from .html_tree import BLOCKS, MAX_MARKER_CHARS, NOT_ARTICLE, following, inside, remove, short_text, text_of
from .roles import word_count

# " - VnExpress", " | Báo Tuổi Trẻ", " - baotintuc.vn" after a page title.
_TITLE_TAIL = re.compile(r"^(?P<head>.+?)\s+(?P<sep>[-|–—:·»])\s+(?P<tail>[^-|–—:·»]+)$")
_SITE_WORDS = re.compile(r"^(?:báo|tạp chí|đài|cổng thông tin|tin tức|trang tin)\b|\.(?:vn|com|net|org|info)\b", re.IGNORECASE)
_MAX_SITE_NAME_WORDS = 6
_LINKS = frozenset({"a", "nav", "title"})
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


# --- title and headline -------------------------------------------------------------------------


def _strip_site(title: str, source: str | None) -> str:
    """A page title without a trailing " - Site name" / " | Site name"."""
    m = _TITLE_TAIL.match(title)
    if m is None:
        return title
    tail = m["tail"].strip()
    site = same_name(source, tail)
    if site or (_SITE_WORDS.search(tail) and len(tail.split()) <= _MAX_SITE_NAME_WORDS) or (
        m["sep"] == "|" and len(tail.split()) <= _MAX_SITE_NAME_WORDS
    ):
        return _strip_site(m["head"].strip(), source)
    return title


def same_name(a: str | None, b: str | None) -> bool:
    """One name contains the other, marks and case aside ("Tuổi Trẻ" and "Báo Tuổi Trẻ")."""
    return bool(a and b) and (fold(a) in fold(b) or fold(b) in fold(a))


def _same_title(a: str, b: str) -> bool:
    fa, fb = fold(a), fold(b)
    return bool(fa and fb) and (fa == fb or fa.startswith(fb) or fb.startswith(fa))


def page_title(tree, metas: dict[str, str], source: str | None) -> str | None:
    """The headline: the page's ``<h1>`` that matches its og:title or ``<title>``, else those."""
    declared = [_strip_site(t, source) for t in (metas.get("og:title"), metas.get("twitter:title")) if t]
    node = tree.find(".//title")
    if node is not None and text_of(node):
        declared.append(_strip_site(text_of(node), source))
    h1s = [t for t in (text_of(h) for h in tree.iter("h1")) if t]
    for h1 in h1s:
        if any(_same_title(h1, d) for d in declared):
            return h1
    if len(h1s) == 1 and (word_count(h1s[0]) >= 3 or not declared):
        return h1s[0]
    return declared[0] if declared else None


def headline_node(tree, title: str | None):
    """The element that prints the headline, if one does."""
    if not title:
        return None
    for tag in ("h1", "h2", "h3"):
        for node in tree.iter(tag):
            if text_of(node) == title:
                return node
    # Pages without a heading element print the headline in bold or in a table cell.
    for node in tree.find(".//body").iter(etree.Element):
        if node.tag != "a" and not inside(node, _LINKS) and short_text(node, len(title)) == title:
            return node
    return None


# --- date, url, author --------------------------------------------------------------------------


def _iso(value: str | None) -> str | None:
    date = iso_date(value)
    return date if date and _ISO_DATE.fullmatch(date) else None


def page_date(tree, metas: dict[str, str], headline, title: str | None, url: str | None) -> str | None:
    """Publication date: from the meta tags, a ``<time datetime>``, htmldate's reading of the
    markup and URL, or a date stamp printed by the headline."""
    for key in _META_DATES:
        if date := _iso(metas.get(key)):
            return date
    for node in tree.iter("time"):
        if not inside(node, _OTHER_PAGES) and (date := _iso(node.get("datetime"))):
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
    for node in chain(islice(following(headline), _STAMP_REACH), reversed(before)):
        if node.tag in NOT_ARTICLE - {"time"} or any(c.tag in BLOCKS for c in node):
            continue
        text = short_text(node, MAX_MARKER_CHARS)
        if text and DATE_ONLY_LINE.match(text) and (date := stamp_date(text, title)):
            return date
    return None


def page_url(tree, metas: dict[str, str]) -> str | None:
    for node in tree.iter("link"):
        if "canonical" in (node.get("rel") or "").lower().split() and (node.get("href") or "").startswith("http"):
            return node.get("href").strip()
    url = metas.get("og:url")
    return url if url and url.startswith("http") else None


def _is_site(name: str, source: str | None) -> bool:
    """The name is the publisher's, not a person's: "Báo Tuổi Trẻ", "vnexpress.net", "VTV Digital"
    on VTV.vn (every word of the site's brand in it)."""
    if _SITE_WORDS.search(name) or same_name(name, source):
        return True
    brand = fold(_SITE_WORDS.sub(" ", source or "")).replace(".", " ").split()
    return bool(brand) and set(brand) <= set(fold(name).split())


def meta_author(metas: dict[str, str], source: str | None) -> str | None:
    """``meta[name=author]`` or ``article:author``, unless it is a link or the site's own name."""
    for key in ("author", "article:author"):
        value = metas.get(key)
        if value and "/" not in value and not _is_site(value, source):
            return value
    return None


def credited_author(tree, source: str | None) -> str | None:
    """The reporter's name from the elements the page marks as the author (``itemprop=author``,
    ``rel=author``, a class with "author"): "Đình Huy", "Minh Hà/VOV.VN". Those elements are
    taken out of the page, since they are not article text."""
    found = None
    for node in _AUTHOR_NODES(tree):
        name = _CREDIT_TAIL.sub("", short_text(node, _MAX_CREDIT_CHARS) or "").strip()
        if _PERSON.fullmatch(name) and all(w[0].isupper() for w in name.split()) and not _is_site(name, source):
            remove(node)
            found = found or name
    return found
