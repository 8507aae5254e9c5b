"""Copies: the same article twice in the corpus, and the same page saved twice.

Two questions, two measures:

* Is this document's text one we have already? ``text_fingerprint`` is exact after normalising
  what a reader cannot see (whitespace and line breaks, Unicode composition, control
  characters); ``load_corpus`` keeps the first of equal texts and reports the others, and
  ``duplicate_of`` asks the same of one new document against the ones indexed (uploads).
* Are these pages copies, so that a line on all of them recurs on one page, not on many?
  ``distinct_pages`` groups byte-identical, normalised-identical and near-identical pages (a
  share count that changed, a re-scrape differing in a few lines): Jaccard ≥ 0.8 of their
  sentence sets weighted by length, with candidate pairs found by prefix filtering, so thousands
  of pages cost no comparison of unrelated ones (2,000 pages: about 0.3 s).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from fractions import Fraction
from itertools import chain

from ..text import strip_controls
from .records import Document, FileProblem

log = logging.getLogger(__name__)

# What clean_whitespace also drops or reads as a space, beyond str.split()'s whitespace.
_INVISIBLE = re.compile("[\ufeff\u00ad\u200b]")
# A page is compared as the set of its sentences (lines split at sentence ends), each weighing
# its length: one edited sentence costs only itself, and furniture (menu items, widget labels,
# date stamps: short) weighs little against the article, so two articles of one outlet do not
# look alike for sharing it. Whole lines would lose a whole paragraph to a one-word edit.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n")
# Weighted Jaccard of two pages' sentences at or above this: one page. A changed share count, a
# re-scrape with a few sentences changed stay above it; two different articles of one outlet,
# which share only furniture, stay far below it.
NEAR_DUPLICATE = Fraction(4, 5)


def text_fingerprint(text: str) -> str:
    """A hex digest equal for two texts a reader could not tell apart, and for no others.

    Ignored: where whitespace and line breaks fall (a re-wrapped copy is the same text), Unicode
    composition (NFC vs NFD), control and bidi characters, BOM, soft hyphens and zero-width
    spaces. Kept: every letter, its case, every mark and its placement ("hoà" is not "hòa": a
    respelling is an edit), every punctuation sign; so two different articles never share one.
    """
    text = unicodedata.normalize("NFC", strip_controls(text))
    if _INVISIBLE.search(text):  # rare; translating every text would cost more than all the rest
        text = _INVISIBLE.sub(lambda m: " " if m[0] == "\u200b" else "", text)
    flat = " ".join(text.split())
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


def duplicate_of(doc: Document, known: Iterable[Document]) -> Document | None:
    """The first of ``known`` (another document, by id) whose text is ``doc``'s, or None."""
    mine = text_fingerprint(doc.text)
    return next((k for k in known if k.doc_id != doc.doc_id and text_fingerprint(k.text) == mine), None)


def drop_duplicates(docs: list[Document]) -> tuple[list[Document], list[FileProblem]]:
    """The documents with each text once (the first kept), and a "same text as" problem for each
    copy left out. The title does not count: the same text under an edited headline is the same
    article, and indexed twice it would quote every passage twice."""
    first: dict[str, Document] = {}
    kept, copies = [], []
    for doc in docs:
        original = first.setdefault(text_fingerprint(doc.text), doc)
        if original is doc:
            kept.append(doc)
        else:
            copies.append(FileProblem(doc.doc_id, f"same text as {original.doc_id}"))
            log.info("not indexing %s: same text as %s", doc.doc_id, original.doc_id)
    return kept, copies


def _sentences(page: str) -> dict[int, int]:
    """The page's sentences, hashed, with their lengths."""
    return {hash(u): len(u) for u in _SENTENCE_END.split(page) if u}


def _at_least(part: int, whole: int) -> bool:
    """``part >= NEAR_DUPLICATE * whole``, in integers."""
    return part * NEAR_DUPLICATE.denominator >= NEAR_DUPLICATE.numerator * whole


def _prefix(units: dict[int, int], freq: Counter) -> list[int]:
    """The page's rarest sentences (ties by hash: one order for all pages), until those left weigh
    less than ``NEAR_DUPLICATE`` of the page.

    Two pages with weighted Jaccard ≥ t both hold the first sentence they share in this prefix:
    that sentence and the shared ones after it weigh at least t of either page, so they cannot all
    be in a rest that weighs less (prefix filtering, Chaudhuri et al. 2006, with weights).
    """
    total = rest = sum(units.values())
    out = []
    for u in sorted(units, key=lambda u: (freq[u], u)):
        if not _at_least(rest, total):
            break
        out.append(u)
        rest -= units[u]
    return out


def distinct_pages(pages: list[str]) -> list[int]:
    """For each page (whitespace-cleaned text), the index of the first page of its group of copies
    (its own when it has none): equal text, or weighted sentence Jaccard ≥ ``NEAR_DUPLICATE``.

    Only pairs sharing a sentence of their prefixes (``_prefix``: mostly sentences no other page
    has) are compared, so unrelated pages are hardly ever. Copies of copies are one group (a chain
    of re-scrapes drifts, each link a near-duplicate).
    """
    parent = list(range(len(pages)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)  # the first page in the corpus's order stands for the group

    by_text: dict[str, int] = {}
    unique = []
    for i, page in enumerate(pages):
        j = by_text.setdefault(" ".join(page.split()), i)
        if j == i:
            unique.append(i)
        else:
            join(j, i)
    units = {i: _sentences(pages[i]) for i in unique}
    weight = {i: sum(u.values()) for i, u in units.items()}
    freq = Counter(chain.from_iterable(units.values()))
    index: dict[int, list[int]] = defaultdict(list)
    for i in unique:
        seen: set[int] = set()
        for u in _prefix(units[i], freq):
            for j in index[u]:
                if j in seen:
                    continue
                seen.add(j)
                if not _at_least(min(weight[i], weight[j]), max(weight[i], weight[j])):
                    continue  # their lengths alone rule it out
                shared = sum(w for v, w in units[i].items() if v in units[j])
                if _at_least(shared, weight[i] + weight[j] - shared):
                    join(j, i)
            index[u].append(i)
    return [root(i) for i in range(len(pages))]
