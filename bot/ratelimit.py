"""Per-user question limit over a sliding minute, and retries of Telegram calls.

``RateLimiter`` decides; telling the user is the handler's job. It says "notify" once per
episode of being over the limit, so a flooding user gets one polite message, not one per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)


@dataclass
class Verdict:
    allowed: bool
    notify: bool = False  # first refusal of this episode: say so
    wait_seconds: int = 0


class RateLimiter:
    """Budgets of the users seen in the last window only: a user idle for a whole window is
    forgotten (a sweep at most once a window), so memory follows the active users, not everyone
    who ever wrote."""

    def __init__(self, per_minute: int, window: float = 60.0, clock=time.monotonic):
        self.per_minute, self.window, self.clock = per_minute, window, clock
        self._times: dict[int, deque[float]] = {}
        self._told: set[int] = set()
        self._swept = clock()

    def __len__(self) -> int:
        """Users remembered."""
        return len(self._times)

    def check(self, user_id: int) -> Verdict:
        if self.per_minute <= 0:
            return Verdict(True)
        now = self.clock()
        if now - self._swept >= self.window:
            self._forget_idle(now)
        times = self._times.setdefault(user_id, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.per_minute:
            times.append(now)
            self._told.discard(user_id)
            return Verdict(True)
        wait = int(self.window - (now - times[0])) + 1
        notify = user_id not in self._told
        self._told.add(user_id)
        return Verdict(False, notify, wait)

    def _forget_idle(self, now: float) -> None:
        idle = [u for u, times in self._times.items() if not times or now - times[-1] >= self.window]
        for user_id in idle:
            del self._times[user_id]
            self._told.discard(user_id)
        self._swept = now


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta in v23; accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class RetryingLimiter(BaseRateLimiter):
    """Every Bot API call goes through here: 429 ``RetryAfter`` waits as long as Telegram asks,
    and network errors are retried with backoff (getUpdates excepted: the updater retries it)."""

    def __init__(self, attempts: int = 4, backoff: float = 0.5, max_wait: float = 120.0):
        self.attempts, self.backoff, self.max_wait = attempts, backoff, max_wait

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint: str, data: dict[str, Any], rate_limit_args):
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc)
                if attempt == self.attempts or wait > self.max_wait:
                    raise
                log.warning("Telegram asked to wait %.1f s before %s", wait, endpoint)
                await asyncio.sleep(wait + 0.1)
            except BadRequest:
                raise
            except NetworkError as exc:
                if endpoint == "getUpdates" or attempt == self.attempts:
                    raise
                log.warning("network error on %s (attempt %d): %s; retrying", endpoint, attempt, exc)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
