"""Who may use the bot (pure functions over the config) and how often a refused user is told."""

from __future__ import annotations

import pytest

from bot.access import ADMINS_ONLY, LISTED, OPEN, RefusalCooldown, access_mode, access_warnings, is_admin, is_allowed
from retrieval.config import TelegramConfig

ADMIN, USER, STRANGER = 100, 200, 666
GROUP, OTHER_GROUP = -1001, -1002


@pytest.mark.parametrize(
    "tg",
    [
        TelegramConfig(admins=[ADMIN]),
        TelegramConfig(admins=[ADMIN], open_to_everyone=True),
        TelegramConfig(admins=[ADMIN], allowed_users=[USER]),
        TelegramConfig(admins=[ADMIN], allowed_chats=[GROUP]),
        TelegramConfig(admins=[ADMIN], allowed_users=[USER], allowed_chats=[GROUP]),
    ],
)
def test_admins_always_pass(tg):
    assert is_admin(tg, ADMIN)
    assert is_allowed(tg, ADMIN, OTHER_GROUP)
    assert is_allowed(tg, ADMIN, ADMIN)
    assert not is_admin(tg, USER) and not is_admin(tg, None)


def test_empty_lists_admit_only_admins_by_default():
    tg = TelegramConfig(admins=[ADMIN])
    assert access_mode(tg) == ADMINS_ONLY
    assert not is_allowed(tg, STRANGER, STRANGER)
    assert not is_allowed(tg, STRANGER, GROUP)
    assert is_allowed(tg, ADMIN, GROUP)


def test_empty_lists_with_open_to_everyone_admit_anyone_anywhere():
    tg = TelegramConfig(open_to_everyone=True)
    assert access_mode(tg) == OPEN
    assert is_allowed(tg, STRANGER, STRANGER)
    assert is_allowed(tg, STRANGER, GROUP)
    assert not is_admin(tg, STRANGER)


def test_an_open_bot_is_warned_about():
    [warning] = access_warnings(TelegramConfig(open_to_everyone=True, admins=[ADMIN]))
    assert "open_to_everyone" in warning and "anyone" in warning


def test_a_bot_only_admins_can_use_is_warned_about_with_the_way_out():
    [warning] = access_warnings(TelegramConfig(admins=[ADMIN]))
    assert "only the admins" in warning and "allowed_users" in warning and "open_to_everyone: true" in warning


def test_no_admins_is_warned_about_in_every_mode():
    for tg in (TelegramConfig(), TelegramConfig(open_to_everyone=True), TelegramConfig(allowed_users=[USER])):
        assert any("admins is empty" in w and "/reload" in w for w in access_warnings(tg))
    # Neither a list nor an admin: nobody at all can use it, and it says so.
    assert any("nobody (no admins either)" in w for w in access_warnings(TelegramConfig()))


def test_a_configured_bot_gets_no_warning():
    tg = TelegramConfig(admins=[ADMIN], allowed_chats=[GROUP])
    assert access_mode(tg) == LISTED and access_warnings(tg) == []


def test_a_user_list_admits_only_its_users_in_any_chat():
    tg = TelegramConfig(allowed_users=[USER])
    assert is_allowed(tg, USER, USER) and is_allowed(tg, USER, GROUP)
    assert not is_allowed(tg, STRANGER, STRANGER)
    assert not is_allowed(tg, STRANGER, GROUP)


def test_a_chat_list_admits_anyone_but_only_in_its_chats():
    tg = TelegramConfig(allowed_chats=[GROUP])
    assert is_allowed(tg, STRANGER, GROUP)
    assert not is_allowed(tg, STRANGER, OTHER_GROUP)
    assert not is_allowed(tg, USER, USER)  # a private chat is a chat too
    assert not is_allowed(tg, USER, None)


def test_with_both_lists_the_user_and_the_chat_must_each_pass():
    tg = TelegramConfig(allowed_users=[USER], allowed_chats=[GROUP])
    assert is_allowed(tg, USER, GROUP)
    assert not is_allowed(tg, USER, OTHER_GROUP)
    assert not is_allowed(tg, STRANGER, GROUP)


@pytest.mark.parametrize("tg", [TelegramConfig(), TelegramConfig(admins=[ADMIN], allowed_chats=[GROUP])])
def test_no_user_is_refused(tg):
    assert not is_allowed(tg, None, GROUP)


def test_a_refused_user_is_told_once_per_cooldown(clock):
    cooldown = RefusalCooldown(60.0, clock=clock)
    assert cooldown.should_tell(STRANGER)
    assert not cooldown.should_tell(STRANGER)
    clock.advance(59.9)
    assert not cooldown.should_tell(STRANGER)
    clock.advance(0.1)
    assert cooldown.should_tell(STRANGER)  # a full minute since the last refusal
    clock.advance(30)
    assert not cooldown.should_tell(STRANGER)  # counted from the last telling, not the first
    clock.advance(30)
    assert cooldown.should_tell(STRANGER)


def test_the_cooldown_is_per_user(clock):
    cooldown = RefusalCooldown(60.0, clock=clock)
    assert cooldown.should_tell(STRANGER)
    clock.advance(1)
    assert cooldown.should_tell(STRANGER + 1)
    assert not cooldown.should_tell(STRANGER)
    assert not cooldown.should_tell(STRANGER + 1)


def test_strangers_are_forgotten_once_their_cooldown_is_over(clock):
    cooldown = RefusalCooldown(60.0, clock=clock)
    for user in range(5000):
        assert cooldown.should_tell(user)
    clock.advance(30)
    assert cooldown.should_tell(9999)
    clock.advance(31)
    assert not cooldown.should_tell(9999)  # told 31 s ago: still cooling down, still remembered
    assert len(cooldown) == 1
