"""Follow-up questions (issue 12): the pure parts, without an index. ``search_in_context`` runs
against a stand-in searcher whose rankings are written out, so each rule is checked on its own;
the bot end to end, over a real index, is in ``test_bot_followup.py``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.state import ChatMemory
from retrieval.config import FollowupConfig, RetrievalConfig
from retrieval.evaluation import Dataset, DatasetError
from retrieval.evaluation.datasets import conversations
from retrieval.followup import (
    ContextAnswer,
    Turn,
    fuse_rankings,
    next_turn,
    search_in_context,
    turn_of,
)
from retrieval.ingest import Document
from retrieval.query import parse_query
from retrieval.search import Answer, Hit
from retrieval.store import StoredChunk
from retrieval.text import fold, syllables

ARTICLES = {
    "ghep-gan": ("Ghép gan thành công cho bé 2 tuổi tại Bệnh viện Chợ Rẫy", "Bệnh nhân bị suy gan bẩm sinh. Ca phẫu thuật kéo dài 12 giờ."),
    "ngo-doc": ("Bệnh viện Bạch Mai cứu sống 5 người ngộ độc methanol", "Bệnh nhân bị ngộ độc rượu pha cồn công nghiệp. Ca phẫu thuật không cần thiết."),
    "du-lich": ("Đà Nẵng đón hơn 8 triệu lượt khách du lịch năm 2023", "Tổng thu từ du lịch ước đạt 30.000 tỷ đồng."),
}
CFG = FollowupConfig(min_topic_weight=1.5, min_margin=2.0, min_confidence=0.5, joined_weight=1.0, shown_boost=1.0, depth=10)


def _hit(doc_id: str, score: float, rank: int = 1) -> Hit:
    title, text = ARTICLES[doc_id]
    doc = Document(doc_id=doc_id, title=title, text=text, path="tin.jsonl")
    return Hit(rank, score, StoredChunk(hash(doc_id) % 1000, doc_id, 0, len(text), doc), (0, len(text)))


class StandIn:
    """Just what ``search_in_context`` uses of a ``Searcher``: rankings written out per question
    (any other question gets ``default``), idf per folded syllable, coverage as in search."""

    def __init__(self, rankings: dict[str, list[tuple[str, float]]], idf: dict[str, float], confidence: dict[str, float]):
        self.rankings, self.idf_of, self.confidence_of = rankings, idf, confidence
        self.cfg = RetrievalConfig()
        self.index = self
        self.asked: list[str] = []

    def idfs(self, tokens, stream):
        return [self.idf_of.get(t, 1.0) for t in tokens]

    def __len__(self):  # chunks: the rarest word's idf is ln(1 + 20.5 / 0.5) = 3.74
        return 20

    def topic_idf(self, topic):
        return dict(zip(topic, self.idfs(topic, "folded")))

    def quoted(self, hit, topic, idf=None):  # quotes as written in ``_hit``
        return hit

    def search(self, question, top_k=None, offset=0, quotes=True):
        self.asked.append(question)
        ranking = self.rankings.get(question, self.rankings["default"])
        hits = [_hit(d, s, r) for r, (d, s) in enumerate(ranking, start=1)][offset : offset + (top_k or 3)]
        conf = self.confidence_of.get(question, 1.0)
        return Answer(parse_query(question), conf >= 0.5, hits, coverage=conf, confidence=conf)

    def coverage(self, topic, text):
        present = {fold(t) for t in syllables(text)}
        return sum(t in present for t in topic) / len(topic) if topic else 0.0

    def best_sentence(self, topic, quote):
        return (0, len(quote))


FIRST = "Bệnh viện Bạch Mai cứu sống người ngộ độc methanol thế nào?"
VAGUE = "Bệnh nhân bị bệnh gì?"
TOURISM = "Đà Nẵng đón bao nhiêu khách du lịch năm 2023?"


def stand_in() -> StandIn:
    return StandIn(
        {
            VAGUE: [("ghep-gan", 3.0), ("ngo-doc", 2.5), ("du-lich", -1.0)],
            f"{FIRST} {VAGUE}": [("ngo-doc", 4.0), ("ghep-gan", 1.0), ("du-lich", -1.0)],
            TOURISM: [("du-lich", 5.0), ("ngo-doc", 2.9), ("ghep-gan", -0.5)],
            f"{FIRST} {TOURISM}": [("ngo-doc", 4.5), ("du-lich", 4.0), ("ghep-gan", 0.0)],
            "default": [("ngo-doc", 5.0), ("ghep-gan", 1.0), ("du-lich", 0.0)],
        },
        # "bệnh", "nhân" are everywhere in health news; places and "du lịch" are not.
        idf={"benh": 0.3, "nhan": 0.4, "da": 3.0, "nang": 3.0, "don": 2.0, "du": 3.0, "lich": 3.0, "khach": 2.0},
        confidence={VAGUE: 1.0, TOURISM: 1.0},
    )


def test_vague_question_after_another_continues_its_article():
    s = stand_in()
    alone = search_in_context(s, VAGUE, None, CFG)
    assert alone.continued is None and alone.answer.hits[0].doc_id == "ghep-gan"
    previous = Turn(FIRST, ("ngo-doc",), ARTICLES["ngo-doc"][0])
    result = search_in_context(s, VAGUE, previous, CFG)
    assert result.continued == previous
    assert [h.doc_id for h in result.answer.hits] == ["ngo-doc", "ghep-gan", "du-lich"]
    assert [h.rank for h in result.answer.hits] == [1, 2, 3]
    assert result.answer.answered and result.answer.question == VAGUE  # the question shown is the user's


def test_question_with_a_topic_of_its_own_is_not_pulled_back():
    s = stand_in()
    previous = Turn(FIRST, ("ngo-doc",), ARTICLES["ngo-doc"][0])
    result = search_in_context(s, TOURISM, previous, CFG)
    assert result.continued is None
    assert result.answer.hits[0].doc_id == "du-lich"
    assert f"{FIRST} {TOURISM}" not in s.asked  # not even searched with the previous question


def test_unconfident_question_uses_context_even_with_heavy_words():
    s = stand_in()
    s.confidence_of[TOURISM] = 0.1
    result = search_in_context(s, TOURISM, Turn(FIRST, ("ngo-doc",)), CFG)
    assert result.continued is None  # context was weighed, but 2.9 + 1.0 does not pass 5.0: unchanged, not claimed
    result = search_in_context(s, TOURISM, Turn(FIRST, ("ngo-doc",)), replace(CFG, shown_boost=3.0))
    assert result.continued is not None and result.answer.hits[0].doc_id == "ngo-doc"


def test_context_off_or_no_previous_turn_is_the_plain_search():
    s = stand_in()
    previous = Turn(FIRST, ("ngo-doc",))
    for result in (search_in_context(s, VAGUE, previous, replace(CFG, enabled=False)), search_in_context(s, VAGUE, None, CFG)):
        assert result.continued is None and result.answer.hits[0].doc_id == "ghep-gan"


def test_pages_of_a_follow_up_continue_the_fused_ranking():
    s = stand_in()
    previous = Turn(FIRST, ("ngo-doc",))
    first = search_in_context(s, VAGUE, previous, CFG, top_k=1)
    second = search_in_context(s, VAGUE, previous, CFG, top_k=2, offset=1)
    assert [h.doc_id for h in first.answer.hits] == ["ngo-doc"]
    assert [(h.rank, h.doc_id) for h in second.answer.hits] == [(2, "ghep-gan"), (3, "du-lich")]


def test_fuse_rankings_reorders_the_questions_own_articles_only():
    alone = [("a", 2.0), ("b", 1.9), ("c", 0.0)]
    joined = [("b", 3.0), ("d", 2.0)]
    no_boost = replace(CFG, shown_boost=0.0, joined_weight=1.0)
    # a: 2 + floor(joined)=2 -> 4; b: 1.9 + 3 = 4.9; c: 0 + 2 = 2; d: not found alone, not ranked.
    fused = fuse_rankings(alone, joined, (), no_boost)
    assert [d for d, _ in fused] == ["b", "a", "c"] and [x for _, x in fused] == pytest.approx([4.9, 4.0, 2.0])
    boosted = fuse_rankings(alone, [], ("c", "a", "d"), replace(no_boost, shown_boost=3.0))
    # The first article shown gets the whole bonus, the second half of it; "d" is never brought in.
    assert [d for d, _ in boosted] == ["a", "c", "b"] and [x for _, x in boosted] == pytest.approx([3.5, 3.0, 1.9])


def test_next_turn_keeps_the_question_that_named_the_topic():
    s = stand_in()
    previous = Turn(FIRST, ("ngo-doc",), ARTICLES["ngo-doc"][0])
    result = search_in_context(s, VAGUE, previous, CFG)
    turn = next_turn(VAGUE, result, shown=2)
    assert turn.question == FIRST and turn.doc_ids == ("ngo-doc", "ghep-gan")
    assert turn.title == ARTICLES["ngo-doc"][0]
    # A question that stood on its own starts the topic itself.
    own = search_in_context(s, TOURISM, previous, CFG)
    assert next_turn(TOURISM, own).question == TOURISM
    # A declined answer showed no article.
    declined = ContextAnswer(Answer(parse_query(VAGUE), answered=False, hits=[_hit("ghep-gan", 1.0)]))
    assert turn_of(VAGUE, declined.answer) == Turn(VAGUE)


def test_chat_memory_forgets_after_its_minutes_and_beyond_its_size():
    now = [1000.0]
    memory = ChatMemory(minutes=5, keep=2, clock=lambda: now[0])
    memory.remember((1, 1), Turn(FIRST))
    now[0] += 299
    assert memory.recall((1, 1)).question == FIRST
    now[0] += 2
    assert memory.recall((1, 1)) is None
    for user in (1, 2, 3):  # a group: one conversation per user
        memory.remember((-100, user), Turn(f"câu hỏi của người {user}"))
    assert len(memory) == 2 and memory.recall((-100, 1)) is None
    assert memory.recall((-100, 3)).question == "câu hỏi của người 3"
    assert memory.forget((-100, 3)) and memory.recall((-100, 3)) is None
    assert not memory.forget((-100, 3))
    off = ChatMemory(minutes=0)
    off.remember((1, 1), Turn(FIRST))
    assert off.recall((1, 1)) is None


def test_conversations_are_runs_of_questions_about_one_article():
    data = Dataset(
        "tin",
        {},
        {"q1": FIRST, "q2": VAGUE, "q3": TOURISM, "q4": "Tổng thu từ du lịch là bao nhiêu?"},
        {"q1": {"ngo-doc"}, "q2": {"ngo-doc"}, "q3": {"du-lich"}, "q4": {"du-lich"}},
    )
    assert conversations(data) == [["q1", "q2"], ["q3", "q4"]]
    assert conversations(data, ["q2", "q3"]) == [["q2"], ["q3"]]
    with pytest.raises(DatasetError, match="not grouped"):
        conversations(data, ["q1", "q3", "q2"])
    with pytest.raises(DatasetError, match="names no article"):
        conversations(Dataset("tin", None, {"q1": FIRST}, {}))
