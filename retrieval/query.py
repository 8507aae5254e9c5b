"""A question analysed once into a ``Query`` record that travels through search to the ``Answer``.

Two word lists live here, because they answer two different questions:

- ``QUESTION_PHRASES``: interrogatives ("ở đâu", "bao nhiêu"). They say what kind of answer is
  wanted, not what it is about; left in a BM25 query they only match noise ("đâu" folds to
  "dau", which also matches "đầu", "đấu", "dấu"). Dropped from the query's BM25 tokens.
- ``NON_TOPIC_WORDS``: those interrogatives' syllables plus function words ("được", "của",
  "cho biết"), folded. They do not count towards whether a passage covers the question's topic
  (the "nothing relevant" decision) nor towards picking the answering sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .text import clean_whitespace, fold, has_diacritics, normalize_marks, syllables, with_bigrams

# A question is cut here: longer text is a pasted article, not a question, and BM25 over
# thousands of query tokens would cost seconds.
MAX_QUESTION_CHARS = 2000
ACCENTED, FOLDED = "accented", "folded"

QUESTION_PHRASES = sorted(  # longest first, so "như thế nào" wins over "thế nào"
    (
        tuple(p.split())
        for p in (
            "như thế nào", "thế nào", "ra sao", "bao nhiêu", "bao giờ", "bao lâu", "khi nào", "lúc nào",
            "tại sao", "vì sao", "ở đâu", "là gì", "là ai", "cái gì", "điều gì", "những gì", "gì", "đâu",
            "nào", "ai", "mấy",
        )
    ),
    key=len,
    reverse=True,
)
_FOLDED_PHRASES = [tuple(fold(t) for t in p) for p in QUESTION_PHRASES]
# Interrogatives of two syllables or more, folded -> accented: restored as such wherever an
# unmarked question has them (``retrieval.restore.Restorer.fixed``).
RESTORED_PHRASES = {f: p for f, p in zip(_FOLDED_PHRASES, QUESTION_PHRASES) if len(p) > 1}
# One-syllable interrogatives: preferred, not forced ("nao" is also "não", "dau" "đau").
QUESTION_SYLLABLES = frozenset(p[0] for p in QUESTION_PHRASES if len(p) == 1)

NON_TOPIC_WORDS = frozenset(
    "ai gi nao dau bao nhieu gio khi may sao tai vi the nhu la duoc co khong chua cua va o "
    "thi ma nhung cac mot den tu trong cho voi ve ra vao len hay hoac nay do kia day "
    "da dang se bi phai can muon hoi cho biet".split()
)


def strip_question_words(tokens: list[str], folded: bool = False) -> list[str]:
    """Syllables of a question without its interrogative phrases."""
    phrases = _FOLDED_PHRASES if folded else QUESTION_PHRASES
    out, i = [], 0
    while i < len(tokens):
        for p in phrases:
            if tuple(tokens[i : i + len(p)]) == p:
                i += len(p)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def query_tokens(syllables_: list[str], folded: bool, bigrams: bool = True) -> list[str]:
    """A question's BM25 tokens in the accented or the folded stream, interrogatives dropped
    (before folding, and again after it: "đâu" and "dau" are both dropped)."""
    toks = strip_question_words(syllables_)
    if folded:
        toks = strip_question_words([fold(t) for t in toks], folded=True)
    return with_bigrams(toks) if bigrams else toks


def topic_tokens(syllables_: list[str]) -> list[str]:
    """Folded syllables that carry the question's topic, each once, in question order."""
    seen, out = set(), []
    for tok in syllables_:
        f = fold(tok)
        if f not in NON_TOPIC_WORDS and f not in seen:
            seen.add(f)
            out.append(f)
    return out


@dataclass(frozen=True)
class Query:
    """Everything search needs to know about a question, computed once."""

    text: str  # cleaned: one line, whitespace collapsed, at most MAX_QUESTION_CHARS
    accented: bool  # typed with diacritics; without them only the folded BM25 stream can match
    stream: str  # the BM25 stream searched: ACCENTED or FOLDED
    tokens: tuple[str, ...]  # BM25 tokens of that stream, interrogatives dropped
    topic: tuple[str, ...]  # folded topic syllables (see NON_TOPIC_WORDS)
    # The question with its diacritics restored from the corpus, when it was typed without them
    # and restoration changed it (shown to the user: "Đã hiểu: ..."); None otherwise. Then
    # ``stream`` is ACCENTED and ``tokens`` are the restored question's.
    restored: str | None = None
    # With ``restored``: the question's tokens in the folded stream, as typed, a second BM25
    # signal for the syllables restoration got wrong.
    folded_tokens: tuple[str, ...] = ()
    # With ``restored``: the chunks the folded stream ranks first for ``folded_tokens``, found
    # while restoring (``retrieval.search.Searcher.parse``), so the search does not repeat it.
    folded_ids: tuple[int, ...] = ()

    @property
    def embedding_text(self) -> str:
        """What the embedding model reads: one tone-mark convention, as passages are embedded;
        the restored question when there is one (the model reads unmarked text poorly)."""
        return normalize_marks(self.restored or self.text)


def parse_query(question: str, bigrams: bool = True, restore: Callable[[str], str | None] | None = None) -> Query:
    """The ``Query`` of a question as a user typed it (``bigrams`` as the BM25 index has them).
    ``restore`` (``Restorer.restore_text``) gives an unmarked question its marks back."""
    text = clean_whitespace(question).replace("\n", " ")[:MAX_QUESTION_CHARS]
    accented = has_diacritics(text)
    syl = syllables(text)
    restored = restore(text) if restore is not None and not accented else None
    if restored:
        return Query(
            text=text,
            accented=False,
            stream=ACCENTED,
            tokens=tuple(query_tokens(syllables(restored), folded=False, bigrams=bigrams)),
            topic=tuple(topic_tokens(syl)),
            restored=restored,
            folded_tokens=tuple(query_tokens(syl, folded=True, bigrams=bigrams)),
        )
    return Query(
        text=text,
        accented=accented,
        stream=ACCENTED if accented else FOLDED,
        tokens=tuple(query_tokens(syl, folded=not accented, bigrams=bigrams)),
        topic=tuple(topic_tokens(syl)),
    )
