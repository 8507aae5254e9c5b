"""👍 / 👎 on answers, kept in SQLite with everything needed to turn them into eval cases:
the question, the passages exactly as shown (article, chunk, quote), who voted and when."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL,          -- one shown page of passages
    user_id INTEGER NOT NULL,
    chat_id INTEGER,
    created_at TEXT NOT NULL,         -- UTC, ISO 8601
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,        -- 0 when the bot said the corpus has nothing on it
    passages TEXT NOT NULL,           -- JSON list of passages as shown (render.passage_json + chunk_id)
    UNIQUE (answer_id, user_id)       -- a second vote on the same answer replaces the first
);
"""


@dataclass
class Feedback:
    answer_id: str
    user_id: int
    chat_id: int | None
    verdict: str
    question: str
    answered: bool
    passages: list[dict]  # each: rank, doc_id, chunk_id, title, date, source, url, quote, highlight
    created_at: str = ""


class FeedbackStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Writes are tiny and rare; one shared connection behind a lock is enough.
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def record(self, fb: Feedback) -> None:
        created = fb.created_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        passages = json.dumps(fb.passages, ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO feedback (answer_id, user_id, chat_id, created_at, verdict, question, answered, passages) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (answer_id, user_id) DO UPDATE SET verdict = excluded.verdict, created_at = excluded.created_at",
                (fb.answer_id, fb.user_id, fb.chat_id, created, fb.verdict, fb.question, int(fb.answered), passages),
            )

    def all(self) -> list[Feedback]:
        with self._lock:
            rows = self._db.execute(
                "SELECT answer_id, user_id, chat_id, verdict, question, answered, passages, created_at FROM feedback ORDER BY id"
            ).fetchall()
        return [
            Feedback(
                answer_id=r[0],
                user_id=r[1],
                chat_id=r[2],
                verdict=r[3],
                question=r[4],
                answered=bool(r[5]),
                passages=json.loads(r[6]),
                created_at=r[7],
            )
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
