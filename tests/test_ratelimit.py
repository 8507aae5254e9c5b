"""RateLimiter: a per-user budget over a sliding window, told once per episode of flooding."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter, Verdict


def test_allows_per_minute_then_refuses_telling_only_once(clock):
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.check(7) for _ in range(3)] == [Verdict(True)] * 3
    first, second, third = (limiter.check(7) for _ in range(3))
    assert (first.allowed, first.notify) == (False, True)
    assert (second.allowed, second.notify) == (False, False)
    assert (third.allowed, third.notify) == (False, False)


def test_wait_seconds_is_when_the_oldest_question_leaves_the_window(clock):
    limiter = RateLimiter(2, clock=clock)
    limiter.check(7)
    clock.advance(5)
    limiter.check(7)
    clock.advance(5)  # 10 s after the first question
    refused = limiter.check(7)
    assert not refused.allowed and refused.wait_seconds == 51
    clock.advance(refused.wait_seconds - 2)
    assert not limiter.check(7).allowed  # 59 s after the first: still in the window
    clock.advance(2)
    assert limiter.check(7).allowed


def test_the_window_slides_and_a_new_episode_is_told_again(clock):
    limiter = RateLimiter(2, window=60.0, clock=clock)
    assert limiter.check(7).allowed  # t = 0
    clock.advance(30)
    assert limiter.check(7).allowed  # t = 30
    clock.advance(15)
    assert limiter.check(7).notify  # t = 45: over, told
    clock.advance(15)
    assert limiter.check(7).allowed  # t = 60: the first left the window, one place free
    again = limiter.check(7)  # t = 60: the ones at 30 and 60 fill it again
    assert not again.allowed and again.notify  # a new episode: told again
    assert again.wait_seconds == 31
    clock.advance(30)
    assert limiter.check(7).allowed  # t = 90: the one at 30 left


def test_users_have_their_own_budgets(clock):
    limiter = RateLimiter(1, clock=clock)
    assert limiter.check(1).allowed
    assert limiter.check(1).notify
    assert limiter.check(2).allowed  # user 1 flooding costs user 2 nothing
    refused = limiter.check(2)
    assert not refused.allowed and refused.notify  # and user 2 is told about their own flood
    assert not limiter.check(1).notify


@pytest.mark.parametrize("per_minute", [0, -1])
def test_zero_or_less_means_unlimited(clock, per_minute):
    limiter = RateLimiter(per_minute, clock=clock)
    verdicts = [limiter.check(7) for _ in range(500)]
    assert all(v.allowed and not v.notify and v.wait_seconds == 0 for v in verdicts)


def test_users_idle_for_a_window_are_forgotten(clock):
    limiter = RateLimiter(2, clock=clock)
    for user in range(1000):
        limiter.check(user)
    assert len(limiter) == 1000
    clock.advance(30)
    limiter.check(5)  # active half a window ago: kept
    clock.advance(31)
    limiter.check(1001)
    assert len(limiter) == 2  # user 5 and the newcomer; the other 999 were idle a whole window
    assert limiter.check(5).allowed and not limiter.check(5).allowed  # 5's budget was kept, not reset
