"""Sentence-aligned chunks sized in the embedding model's tokens.

A chunk is a character span of its article's cleaned text, so the quote shown to a user is an
exact substring of the article and sentence positions inside it are plain offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .sentences import sentence_spans
from .text import normalize_marks

TokenCounter = Callable[[Sequence[str]], list[int]]
# Bump when the same text and settings would give other spans. Eval indexes are keyed by it; a
# live index is not: its chunks stay valid quotes, and changed articles get the new cut, so an
# upgrade does not force re-embedding the whole corpus.
SPLITTER_VERSION = 2
# Where a sentence too long for one chunk is cut first: after a semicolon. Long Vietnamese
# news sentences are enumerations ("...; kết quả ...; Công điện số ... về bảo đảm ...; ...");
# cutting between words instead split "bảo đảm trật tự, | an toàn giao thông" across chunks.
_CLAUSE = re.compile(r"[^;]+(?:;+|$)")


# Slots: a build holds every new chunk's span until it is written (1e5 at a full build).
@dataclass(frozen=True, slots=True)
class Chunk:
    doc_id: str
    ord: int
    start: int
    end: int


def _split_long(text: str, start: int, end: int, tokens: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """A sentence longer than a chunk, cut at spaces into pieces of roughly max_tokens."""
    words = []
    pos = start
    for w in text[start:end].split():
        i = text.index(w, pos)
        words.append((i, i + len(w)))
        pos = i + len(w)
    n_pieces = -(-tokens // max_tokens)
    per_piece = -(-len(words) // n_pieces)
    pieces = []
    for i in range(0, len(words), per_piece):
        group = words[i : i + per_piece]
        pieces.append((group[0][0], group[-1][1], int(tokens * len(group) / len(words)) + 1))
    return pieces


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    for m in _CLAUSE.finditer(text, start, end):
        a, b = m.start(), m.end()
        while a < b and text[a].isspace():
            a += 1
        if a < b:
            out.append((a, b))
    return out


def chunk_spans(text: str, count_tokens: TokenCounter, max_tokens: int, overlap_tokens: int) -> list[tuple[int, int]]:
    """Greedy packing of whole sentences into spans of at most ``max_tokens`` tokens; each span
    after the first starts with the previous span's last sentences, up to ``overlap_tokens``.
    A sentence longer than a chunk is cut at semicolons, and only then between words."""
    spans = sentence_spans(text)
    if not spans:
        return []
    counts = count_tokens([text[a:b] for a, b in spans])
    units: list[tuple[int, int, int]] = []
    for (a, b), n in zip(spans, counts):
        if n <= max_tokens:
            units.append((a, b, n))
            continue
        clauses = _clauses(text, a, b)
        for (ca, cb), cn in zip(clauses, count_tokens([text[ca:cb] for ca, cb in clauses])):
            units.extend(_split_long(text, ca, cb, cn, max_tokens) if cn > max_tokens else [(ca, cb, cn)])

    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= max_tokens):
            total += units[j][2]
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Step back over trailing sentences that fit the overlap, but always move forward.
        back, k = 0, j
        while k - 1 > i and back + units[k - 1][2] <= overlap_tokens:
            k -= 1
            back += units[k][2]
        i = k
    return chunks


def chunk_document(doc_id: str, text: str, count_tokens: TokenCounter, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    return [
        Chunk(doc_id, n, a, b)
        for n, (a, b) in enumerate(chunk_spans(text, count_tokens, max_tokens, overlap_tokens))
    ]


# Characters of the title that travel with each chunk. Real headlines stay well under it; a
# pathological one (3,000 emoji) would otherwise fill the model's 512-token window and push the
# chunk's own text out of what is embedded.
TITLE_CHARS = 300


def embedding_text(title: str, chunk: str) -> str:
    """The text a chunk is embedded and BM25-indexed as: the title travels with every chunk
    (a chunk deep in an article rarely names its subject), never into the quote."""
    if len(title) > TITLE_CHARS:
        head = title[:TITLE_CHARS]
        title = head[: head.rfind(" ")] if " " in head[TITLE_CHARS // 2 :] else head
    return normalize_marks(f"{title}\n{chunk}")
