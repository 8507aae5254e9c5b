"""What the bot did, as the fake Bot API server recorded it: every request (``Call``), every
message as it stands after its edits (``Sent``), and the ways a test or the bench waits for and
reads them (``CallRecord``, which ``server.FakeTelegram`` is)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Call:
    """One Bot API request the bot made, and what the fake answered."""

    seq: int
    method: str
    params: dict
    at: float
    ok: bool = True
    error: str | None = None
    result: object = None


@dataclass
class Sent:
    """A message as the bot left it (after any edits)."""

    chat_id: int
    message_id: int
    html: str
    text: str
    reply_markup: dict | None
    reply_to: int | None
    edits: int = 0
    history: list[str] = field(default_factory=list)

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class CallRecord:
    """Reading what the bot did. The server fills ``calls`` and ``sent`` under ``lock`` and
    notifies it on every change; the update ids tell what the bot has taken."""

    lock: threading.Condition
    calls: list[Call]
    sent: dict[tuple[int, int], Sent]
    last_update_id: int
    confirmed_update_id: int

    def wait(self, predicate, timeout: float = 30.0):
        """Block until ``predicate()`` (called under the lock) returns something truthy."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = predicate()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do what the test waited for")
                self.lock.wait(left)

    def wait_taken(self, timeout: float = 30.0) -> None:
        """Block until the bot has taken (and confirmed) every update queued so far."""
        with self.lock:
            last = self.last_update_id
        self.wait(lambda: self.confirmed_update_id >= last, timeout)

    def messages_since(self, seq: int, chat_id: int | None = None) -> list[Sent]:
        """Messages the bot sent (successfully) after ``seq``, oldest first, as they are now."""
        out = []
        for call in self.calls[seq:]:
            sent = call.method == "sendMessage" and call.ok and call.result is not None
            if sent and (chat_id is None or call.result["chat"]["id"] == chat_id):
                out.append(self.sent[(call.result["chat"]["id"], call.result["message_id"])])
        return out

    def wait_message(self, seq: int, chat_id: int, predicate=lambda s: True, timeout: float = 30.0) -> Sent:
        return self.wait(lambda: next((s for s in self.messages_since(seq, chat_id) if predicate(s)), None), timeout)

    def wait_reply(self, seq: int, chat_id: int, timeout: float = 30.0) -> list[Sent]:
        """All messages of one reply: up to the first that carries buttons, or a single plain one."""

        def done():
            msgs = self.messages_since(seq, chat_id)
            for i, s in enumerate(msgs):
                if s.reply_markup:
                    return msgs[: i + 1]
            return None

        return self.wait(done, timeout)

    def rejected(self, since: int = 0) -> list[Call]:
        """Calls Telegram would have refused as malformed (400), other than "not modified"."""
        with self.lock:
            return [
                c
                for c in self.calls[since:]
                if not c.ok and c.error.startswith("Bad Request") and "not modified" not in c.error
            ]

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        with self.lock:
            return [c for c in self.calls[since:] if c.method == method]
