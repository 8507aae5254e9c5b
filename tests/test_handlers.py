"""addressed_question: which group messages are meant for the bot, over real telegram.Message
objects (entity offsets in UTF-16 code units, as Telegram counts them)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from telegram import Chat, Message, MessageEntity, User

from bot.fake_bot_api import BOT_USER, utf16_len
from bot.handlers import addressed_question

BOT_ID, BOT_NAME = BOT_USER["id"], BOT_USER["username"]
GROUP = Chat(-1001234567890, Chat.SUPERGROUP, title="Nhóm tin tức")
AN = User(5, "An", False)
THE_BOT = User(BOT_ID, BOT_USER["first_name"], True, username=BOT_NAME)


def group_message(text: str, *entities: MessageEntity, reply_to: Message | None = None, sender: User = AN, mid: int = 10) -> Message:
    return Message(
        message_id=mid,
        date=datetime.now(timezone.utc),
        chat=GROUP,
        from_user=sender,
        text=text,
        entities=list(entities),
        reply_to_message=reply_to,
    )


def entity(kind: str, text: str, part: str, **kw) -> MessageEntity:
    """The entity of ``kind`` over the first ``part`` in ``text``, offsets in UTF-16 units."""
    start = text.index(part)
    return MessageEntity(kind, utf16_len(text[:start]), utf16_len(part), **kw)


def test_a_mention_of_this_bot_gives_the_question_without_it():
    text = f"@{BOT_NAME} Hội nghị báo cáo viên tổ chức ở đâu?"
    message = group_message(text, MessageEntity(MessageEntity.MENTION, 0, 15))
    assert addressed_question(message, BOT_ID, BOT_NAME) == "Hội nghị báo cáo viên tổ chức ở đâu?"


def test_a_mention_after_characters_outside_the_bmp_is_found_by_utf16_offsets():
    # The emoji takes two UTF-16 units: offsets counted in Python characters would miss the mention.
    text = f"Cho em hỏi 🙏🏻 @{BOT_NAME} cầu Tứ Liên dài bao nhiêu km?"
    assert utf16_len(text) > len(text)
    message = group_message(text, entity(MessageEntity.MENTION, text, f"@{BOT_NAME}"))
    question = addressed_question(message, BOT_ID, BOT_NAME)
    assert question is not None and f"@{BOT_NAME}" not in question
    assert question.split() == "Cho em hỏi 🙏🏻 cầu Tứ Liên dài bao nhiêu km?".split()


def test_the_mention_is_matched_whatever_its_case():
    text = "@QAbot_Test_Bot Đà Nẵng đón bao nhiêu lượt khách?"
    message = group_message(text, entity(MessageEntity.MENTION, text, "@QAbot_Test_Bot"))
    assert addressed_question(message, BOT_ID, BOT_NAME) == "Đà Nẵng đón bao nhiêu lượt khách?"


def test_another_bots_mention_is_not_for_us():
    text = "@tro_ly_khac_bot Hội nghị ở đâu?"
    message = group_message(text, entity(MessageEntity.MENTION, text, "@tro_ly_khac_bot"))
    assert addressed_question(message, BOT_ID, BOT_NAME) is None


def test_plain_chatter_is_not_for_us():
    text = "Chiều nay ai đi họp không mọi người? Nhắc qabot_test_bot sau nhé"
    assert addressed_question(group_message(text), BOT_ID, BOT_NAME) is None


def test_a_reply_to_the_bots_message_is_the_whole_question():
    answer = group_message("Chiều 28/12, tại Hà Nội, …", sender=THE_BOT, mid=9)
    text = "Thế còn cầu Tứ Liên dài bao nhiêu?"
    message = group_message(text, reply_to=answer)
    assert addressed_question(message, BOT_ID, BOT_NAME) == text


@pytest.mark.parametrize("text", ["cảm ơn nhé", "Cám ơn bot nhiều ạ 🙏", "ok", "hay quá!", "👍", "thanks", "Xin chào bot"])
def test_thanks_and_assent_in_reply_to_the_bot_are_not_questions(text):
    answer = group_message("Chiều 28/12, tại Hà Nội, …", sender=THE_BOT, mid=9)
    assert addressed_question(group_message(text, reply_to=answer), BOT_ID, BOT_NAME) is None


@pytest.mark.parametrize(
    "text",
    ["Còn Đà Nẵng thì sao", "hoi nghi to chuc o dau", "Cầu Tứ Liên?", "cho tôi thêm về giá lúa miền Tây", "Ai chủ trì", "Huế"],
)
def test_follow_ups_in_reply_to_the_bot_are_questions(text):
    answer = group_message("Chiều 28/12, tại Hà Nội, …", sender=THE_BOT, mid=9)
    assert addressed_question(group_message(text, reply_to=answer), BOT_ID, BOT_NAME) == text


def test_a_reply_to_someone_else_is_not_for_us():
    earlier = group_message("Ai biết hội nghị ở đâu không?", sender=User(6, "Bình", False), mid=9)
    assert addressed_question(group_message("Ở Hà Nội đó bạn", reply_to=earlier), BOT_ID, BOT_NAME) is None


def test_a_text_mention_of_the_bots_id_is_for_us():
    text = "Trợ lý ơi, giá lúa tăng bao nhiêu?"
    message = group_message(text, entity(MessageEntity.TEXT_MENTION, text, "Trợ lý", user=THE_BOT))
    assert addressed_question(message, BOT_ID, BOT_NAME) == "ơi, giá lúa tăng bao nhiêu?"


@pytest.mark.parametrize("username", [BOT_NAME, None])
def test_a_text_mention_of_someone_else_is_not_for_us(username):
    text = "Bình ơi, giá lúa tăng bao nhiêu?"
    message = group_message(text, entity(MessageEntity.TEXT_MENTION, text, "Bình", user=User(6, "Bình", False)))
    assert addressed_question(message, BOT_ID, username) is None
