"""What the running bot keeps between updates, in one record on ``bot_data``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from retrieval.config import Config

if TYPE_CHECKING:  # runtime imports would be circular: those modules read the state
    from .access import RefusalCooldown
    from .feedback import FeedbackStore
    from .pages import PageCache
    from .ratelimit import RateLimiter
    from .service import QAService

KEY = "qabot"


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


def bot_state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data[KEY]
