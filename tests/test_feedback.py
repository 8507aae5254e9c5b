"""FeedbackStore: votes on answers in SQLite, one per user and answer."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime

import pytest

from bot.feedback import Feedback, FeedbackStore

PASSAGES = [
    {
        "rank": 1,
        "doc_id": "hoi-nghi",
        "chunk_id": 12,
        "title": "Hội nghị báo cáo viên tháng 12/2023",
        "date": "2023-12-28",
        "source": "TTXVN",
        "url": None,
        "quote": "Chiều 28/12, tại Hà Nội, Đảng ủy Khối tổ chức Hội nghị báo cáo viên.",
        "highlight": [0, 24],
    },
    {"rank": 2, "doc_id": "tu-lien", "chunk_id": 40, "title": "Cầu Tứ Liên", "quote": "Cầu dài khoảng 5,2 km.", "highlight": [0, 22]},
]


def vote(user: int = 220, verdict: str = "up", answer: str = "trang-1", **kw) -> Feedback:
    return Feedback(
        answer_id=answer,
        user_id=user,
        chat_id=kw.pop("chat_id", user),
        verdict=verdict,
        question=kw.pop("question", "Hội nghị báo cáo viên tổ chức ở đâu?"),
        answered=kw.pop("answered", True),
        passages=kw.pop("passages", PASSAGES),
        **kw,
    )


@pytest.fixture
def store(tmp_path):
    s = FeedbackStore(tmp_path / "phản hồi" / "feedback.sqlite")  # the folder is made
    yield s
    s.close()


def test_record_and_read_back(store):
    fb = vote()
    store.record(fb)
    [row] = store.all()
    assert dataclasses.replace(row, created_at="") == fb
    assert row.passages == PASSAGES and isinstance(row.passages[0], dict)
    assert datetime.fromisoformat(row.created_at).utcoffset().total_seconds() == 0


def test_a_given_time_and_an_unanswered_question_are_kept(store):
    fb = vote(answered=False, passages=[], chat_id=-1001, created_at="2024-05-19T08:00:00+00:00")
    store.record(fb)
    assert store.all() == [fb]


def test_a_second_vote_by_the_same_user_replaces_the_first(store):
    store.record(vote(verdict="up"))
    store.record(vote(verdict="down"))
    rows = store.all()
    assert [(r.user_id, r.answer_id, r.verdict) for r in rows] == [(220, "trang-1", "down")]


def test_votes_of_other_users_or_on_other_answers_are_all_kept(store):
    store.record(vote(220, "up"))
    store.record(vote(221, "down"))
    store.record(vote(220, "down", answer="trang-2"))
    assert [(r.user_id, r.answer_id, r.verdict) for r in store.all()] == [
        (220, "trang-1", "up"),
        (221, "trang-1", "down"),
        (220, "trang-2", "down"),
    ]


@pytest.mark.parametrize("verdict", ["meh", "", "UP"])
def test_only_up_or_down_is_a_verdict(store, verdict):
    with pytest.raises(sqlite3.IntegrityError):
        store.record(vote(verdict=verdict))
    assert store.all() == []


def test_votes_outlive_the_store_and_close_releases_it(tmp_path):
    path = tmp_path / "feedback.sqlite"
    first = FeedbackStore(path)
    first.record(vote())
    first.close()
    with pytest.raises(sqlite3.ProgrammingError):
        first.all()
    again = FeedbackStore(path)
    try:
        assert [(r.user_id, r.verdict, r.passages) for r in again.all()] == [(220, "up", PASSAGES)]
    finally:
        again.close()
