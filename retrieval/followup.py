"""Follow-up questions in a chat: "Bệnh nhân bị bệnh gì?" right after a question about an
article names nothing of its own, and asked cold no retriever can place it.

A chat remembers its last ``Turn`` (the question and the articles shown). A new question is
first searched alone; when it carries enough on its own (topic words of real weight, a clear
first article) that is the answer and context plays no part, so a change of topic is never
pulled back. Otherwise it is a follow-up: the articles the question found itself are re-ranked,
the ones just shown getting a bonus (and, with ``joined_weight`` > 0, the score of the search for
"previous question + question" added; 0 by default: see ``fuse_rankings``). The quote of an
article is the one the question alone chose in it, so the highlighted sentence answers this
question, not the previous one.

Pure: no clock, no chat; the caller keeps the turns (``bot.state``) or simulates them
(``qabot eval --followups``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

from .chunking import embedding_text
from .config import FollowupConfig
from .query import FOLDED
from .search import Answer, Hit, Searcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """What a chat remembers of its last question: the question and the articles shown."""

    question: str
    doc_ids: tuple[str, ...] = ()
    title: str | None = None  # the first article shown, named when a follow-up continues it
    at: float = 0.0  # when it was asked (the caller's clock, e.g. time.monotonic())


@dataclass
class ContextAnswer:
    """An answer, and the turn it continued when the previous question was used (else None)."""

    answer: Answer
    continued: Turn | None = None


def turn_of(question: str, answer: Answer, at: float = 0.0, shown: int | None = None) -> Turn:
    """The turn a chat remembers after ``answer`` was shown for ``question`` (its first ``shown``
    articles, all by default; none when it was not answered)."""
    hits = (answer.hits if answer.answered else [])[:shown]
    return Turn(question, tuple(h.doc_id for h in hits), hits[0].doc.title if hits else None, at)


def next_turn(question: str, result: ContextAnswer, at: float = 0.0, shown: int | None = None) -> Turn:
    """What a chat remembers after ``result``: a follow-up keeps the question it continued (the
    one that named the topic, so a third question still finds it) with the articles now shown."""
    turn = turn_of(question, result.answer, at, shown)
    if result.continued is not None:
        return replace(turn, question=result.continued.question, title=turn.title or result.continued.title)
    return turn


def topic_weight(searcher: Searcher, answer: Answer) -> float:
    """How much the question says of its own: the idf of its topic words, summed, in units of
    the highest idf this corpus gives (a word no chunk has), so the same threshold holds for a
    corpus of ten chunks and of a million (a word no chunk has weighs 1)."""
    rarest = math.log(1 + (len(searcher.index) + 0.5) / 0.5)
    return float(sum(searcher.index.idfs(answer.query.topic, FOLDED))) / rarest


def margin(answer: Answer) -> float:
    """How far the first article leads the second (fused scores); no second article: infinite."""
    hits = answer.hits
    return hits[0].score - hits[1].score if len(hits) > 1 else math.inf


def needs_context(searcher: Searcher, alone: Answer, cfg: FollowupConfig) -> bool:
    """Whether a question carries too little to be searched alone: light topic words, no clear
    first article, or no confident answer of its own."""
    if not alone.hits:
        return True
    return (
        topic_weight(searcher, alone) < cfg.min_topic_weight
        or margin(alone) < cfg.min_margin
        or alone.confidence < cfg.min_confidence
    )


def fuse_rankings(
    alone: list[tuple[str, float]],
    joined: list[tuple[str, float]],
    shown: tuple[str, ...],
    cfg: FollowupConfig,
    boost: float | None = None,
) -> list[tuple[str, float]]:
    """The question's own articles re-ranked: its own score, plus ``joined_weight`` times the
    score with the previous question (that ranking's last score where it lacks the article),
    plus ``boost`` (default ``shown_boost``) for the articles just shown (the first one shown
    all of it, the second half, the third a third). Only articles the question found itself
    are ranked: context reorders, it never brings an article in. Measured on vinewsqa-dev:
    letting the previous question's articles in cost the topic-switch control 13 points of
    Hit@1; re-ranking only the question's own, 0.4."""
    j = dict(joined)
    floor_j = min(j.values(), default=0.0)
    boost = cfg.shown_boost if boost is None else boost
    bonus = {d: boost / (i + 1) for i, d in enumerate(shown)}
    scored = [(d, s + cfg.joined_weight * j.get(d, floor_j) + bonus.get(d, 0.0)) for d, s in alone]
    return sorted(scored, key=lambda x: -x[1])


def search_in_context(
    searcher: Searcher,
    question: str,
    previous: Turn | None,
    cfg: FollowupConfig,
    top_k: int | None = None,
    offset: int = 0,
) -> ContextAnswer:
    """``searcher.search(question, top_k, offset)``, with the previous turn's help when the
    question needs it (see the module docstring). ``continued`` is set when the previous turn
    changed the articles of this page."""
    top_k = searcher.cfg.top_k if top_k is None else top_k
    if previous is None or not cfg.enabled:
        return ContextAnswer(searcher.search(question, top_k, offset))
    depth = max(cfg.depth, top_k + offset)
    # Unquoted: only the page's hits get their quotes chosen (``_page``), not all ``depth`` (30
    # articles read sentence by sentence were most of a follow-up's time on a real corpus).
    alone = searcher.search(question, depth, quotes=False)
    if not alone.query.text or not alone.hits or not needs_context(searcher, alone, cfg):
        return ContextAnswer(_page(searcher, alone, alone.hits, top_k, offset))
    joined = alone
    if cfg.joined_weight > 0:
        joined = searcher.search(f"{previous.question} {question}", depth, quotes=False)
    own = {h.doc_id: h for h in alone.hits}
    # The less the question says of its own, the more the articles just shown count.
    boost = cfg.shown_boost + cfg.generic_boost * max(0.0, cfg.min_topic_weight - topic_weight(searcher, alone))
    ranking = fuse_rankings(
        [(h.doc_id, h.score) for h in alone.hits],
        [(h.doc_id, h.score) for h in joined.hits] if cfg.joined_weight > 0 else [],
        previous.doc_ids,
        cfg,
        boost,
    )
    hits = [replace(own[doc_id], score=round(score, 4)) for doc_id, score in ranking]
    plain = [h.doc_id for h in alone.hits[offset : offset + top_k]]
    changed = [h.doc_id for h in hits[offset : offset + top_k]] != plain
    log.debug("follow-up of %r: %s", previous.question, "re-ranked" if changed else "unchanged")
    if not changed:
        return ContextAnswer(_page(searcher, alone, alone.hits, top_k, offset))
    return ContextAnswer(_page(searcher, _answered_in_context(searcher, alone, joined, hits), hits, top_k, offset), previous)


def _answered_in_context(searcher: Searcher, alone: Answer, joined: Answer, hits: list[Hit]) -> Answer:
    """``alone`` with the re-ranked first passage judged: answered when the question alone (or
    with the previous one) was, or when the question's own topic words are in that passage."""
    if not hits:
        return replace(alone, answered=False)
    best = hits[0].chunk
    coverage = searcher.coverage(alone.query.topic, embedding_text(best.doc.title, best.text))
    answered = alone.answered or joined.answered or coverage >= searcher.cfg.min_coverage
    return replace(alone, answered=answered, coverage=coverage)


def _page(searcher: Searcher, answer: Answer, hits: list[Hit], top_k: int, offset: int) -> Answer:
    """``answer`` holding ``hits[offset:offset + top_k]``, ranked from ``offset + 1``, each with
    its quote chosen for this question."""
    topic = answer.query.topic
    idf = searcher.topic_idf(topic)
    page = [searcher.quoted(replace(h, rank=r), topic, idf) for r, h in enumerate(hits[offset : offset + top_k], start=offset + 1)]
    return replace(answer, hits=page)
