"""What the running bot keeps between updates, in one record on ``bot_data``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from retrieval.config import Config
from retrieval.followup import Turn

if TYPE_CHECKING:  # runtime imports would be circular: those modules read the state
    from .access import RefusalCooldown
    from .feedback import FeedbackStore
    from .pages import PageCache
    from .ratelimit import RateLimiter
    from .service import QAService

KEY = "qabot"
CHATS_KEPT = 10_000  # conversations remembered at once; the least recently used go first


class ChatMemory:
    """The last turn of each conversation (a chat; in groups, a user in a chat), forgotten
    ``minutes`` after it was asked, or sooner when more than ``keep`` conversations are held."""

    def __init__(self, minutes: float, keep: int = CHATS_KEPT, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.keep, self.clock = minutes * 60, keep, clock
        self._turns: OrderedDict[tuple[int, int], Turn] = OrderedDict()

    def recall(self, key: tuple[int, int]) -> Turn | None:
        turn = self._turns.get(key)
        if turn is not None and self.clock() - turn.at > self.seconds:
            del self._turns[key]
            return None
        return turn

    def remember(self, key: tuple[int, int], turn: Turn) -> None:
        if self.seconds <= 0:
            return
        self._turns.pop(key, None)
        self._turns[key] = replace(turn, at=self.clock())
        while len(self._turns) > self.keep:
            self._turns.popitem(last=False)

    def forget(self, key: tuple[int, int]) -> bool:
        """Start the conversation over; whether there was anything to forget."""
        return self._turns.pop(key, None) is not None

    def __len__(self) -> int:
        return len(self._turns)


@dataclass
class BotState:
    cfg: Config
    service: "QAService"
    feedback: "FeedbackStore"
    limiter: "RateLimiter"
    pages: "PageCache"
    refusals: "RefusalCooldown"
    # From a /reload until its index is swapped in (not until its summary is shown: an admin who
    # sees the summary and sends /reload at once must get a new reload, not "already running").
    reload_busy: bool = False
    # The last question of each conversation, for follow-ups ("Bệnh nhân bị bệnh gì?").
    chats: ChatMemory = field(default_factory=lambda: ChatMemory(0))


def bot_state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data[KEY]
