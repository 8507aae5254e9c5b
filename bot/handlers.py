"""What the bot does for people who ask: questions (private chats, groups, /ask), /help, and the
buttons under answers. Handlers only translate between Telegram and the service; the words are
``bot.render``'s."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from retrieval.followup import next_turn
from retrieval.query import NON_TOPIC_WORDS, strip_question_words
from retrieval.text import fold, syllables

from . import render
from .access import gate, is_admin, is_group
from .feedback import Feedback
from .limits import alert
from .pages import Page, answer_keyboard, new_page, parse_callback
from .service import NotReady
from .state import BotState, bot_state

log = logging.getLogger(__name__)

TYPING_EVERY = 4.5  # seconds; Telegram shows "typing" for about 5 s
# A reply quicker than this needs no "typing…" (Telegram advises the action only for replies
# that take noticeable time), and skipping it saves a request a question: under 20 users at once
# the event loop spent ~1.5 ms on each, and a fast search cancelled it mid-request, which drops
# its connection.
TYPING_AFTER = 0.5
# What people write to the bot when they are not asking anything: thanks, greetings, assent, the
# bot addressed by name (folded syllables).
CHATTER_WORDS = frozenset(
    "cam on thanks thank you tks thx ok oke okay vang da duoc roi nhe nha nhieu lam qua hay tuyet voi "
    "good great nice tot chuan dung bot ban em anh chi minh toi a u uh um hi hihi haha xin chao hello alo".split()
)


@contextlib.asynccontextmanager
async def typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int):
    """Show "typing…" in the chat while the block runs, once it has taken ``TYPING_AFTER``."""
    loop = asyncio.get_running_loop()
    sending: asyncio.Task | None = None

    def send() -> None:
        nonlocal sending, timer
        sending = asyncio.create_task(_chat_action(context, chat_id))
        timer = loop.call_later(TYPING_EVERY, send)

    timer = loop.call_later(TYPING_AFTER, send)
    try:
        yield
    finally:
        timer.cancel()
        if sending is not None and not sending.done():
            # Let it arrive before the reply: a "typing" after the answer would show for 5 s
            # more, and cancelling a request drops its connection.
            await sending


async def _chat_action(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as exc:
        log.debug("chat action failed: %s", exc)


async def send_page(context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply_to: Message | None, page: Page, messages: list[str]) -> None:
    """The page's messages in order, buttons under the last one."""
    per_page = bot_state(context).cfg.telegram.passages_per_reply
    more = page.answered and len(page.hits) >= per_page
    for i, text in enumerate(messages):
        markup = answer_keyboard(page, more) if i == len(messages) - 1 else None
        if reply_to is not None and i == 0:
            await reply_to.reply_text(text, reply_markup=markup, do_quote=True)
        else:
            await context.bot.send_message(chat_id, text, reply_markup=markup)


def conversation(update: Update) -> tuple[int, int]:
    """Whose follow-ups these are: the chat's, and in a group each user's own."""
    return update.effective_chat.id, update.effective_user.id


def over_limit(state: BotState, user_id: int) -> str | None:
    """The message to send when the user is over the rate limit ("" = stay quiet), else None."""
    verdict = state.limiter.check(user_id)
    if verdict.allowed:
        return None
    return render.rate_limited_message(state.limiter.per_minute, verdict.wait_seconds) if verdict.notify else ""


async def admitted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> BotState | None:
    """The bot's state when the sender passes the gate and the rate limit (told once when over
    it), else None: every message that costs a reply goes through here."""
    if not await gate(update, context):
        return None
    state = bot_state(context)
    over = over_limit(state, update.effective_user.id)
    if over is not None:
        if over:
            await update.effective_message.reply_text(over, do_quote=is_group(update))
        return None
    return state


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Gate, rate limit, search (with the conversation's previous question when this one needs
    it), reply with the first page (or say nothing was found), remember the turn."""
    # Counted before anything else: an empty /ask costs a reply too.
    state = await admitted(update, context)
    if state is None:
        return
    message, chat = update.effective_message, update.effective_chat
    group = is_group(update)
    question = question.strip()
    if not question:
        await message.reply_text(render.ask_usage_message(), do_quote=group)
        return
    key, per_page = conversation(update), state.cfg.telegram.passages_per_reply
    try:
        async with typing(context, chat.id):
            result = await state.service.ask_in_context(question, state.chats.recall(key), top_k=per_page)
    except NotReady:
        await message.reply_text(render.not_ready_message(), do_quote=group)
        return
    answer = result.answer
    state.chats.remember(key, next_turn(answer.question, result, shown=per_page))
    page = new_page(answer.question, 0, answer.hits if answer.answered else [], answer.answered, chat.id, result.continued)
    state.pages.remember(page)
    if answer.answered:
        messages = render.answer_messages(answer, continued=result.continued)
    else:
        messages = [render.no_answer_message(state.service.diacritics_would_help(answer), answer.query.restored)]
    await send_page(context, chat.id, message if group else None, page, messages)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question, but for thanks and greetings."""
    text = update.effective_message.text or ""
    if looks_like_question(text):
        await answer_question(update, context, text)
    elif await gate(update, context) and over_limit(bot_state(context), update.effective_user.id) is None:
        # Searching "cảm ơn" would only answer "nothing found".
        await update.effective_message.reply_text(render.chatter_reply())


def addressed_question(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a group message meant for the bot (mention or reply to it), else None."""
    text = message.text or ""
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        mentions_bot = (
            entity.type == MessageEntity.MENTION and bot_username and value.lower() == f"@{bot_username.lower()}"
        ) or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id)
        if mentions_bot:
            return text.replace(value, " ", 1).strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        # A reply may just as well be "cảm ơn nhé" to the answer: searching that would only
        # post "nothing found" into the group.
        return text if looks_like_question(text) else None
    return None


def looks_like_question(text: str) -> bool:
    """Whether a message that may be mere chatter asks something: a question mark, an
    interrogative ("ở đâu", "bao nhiêu"), or any word that is neither a function word nor
    thanks, greeting or assent ("Tứ Liên" is a search; "cảm ơn nhé" is not)."""
    if "?" in text:
        return True
    syl = syllables(text)
    if len(strip_question_words(syl)) < len(syl) or len(strip_question_words([fold(t) for t in syl], folded=True)) < len(syl):
        return True
    content = [w for w in map(fold, syl) if w not in NON_TOPIC_WORDS and w not in CHATTER_WORDS]
    return bool(content)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot or reply to it with a question."""
    question = addressed_question(update.effective_message, context.bot.id, context.bot.username)
    if question is not None:
        await answer_question(update, context, question)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION, in any chat."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    await answer_question(update, context, parts[1] if len(parts) > 1 else "")


async def new_topic_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/moi: start over; the next question is searched on its own."""
    state = await admitted(update, context)
    if state is None:
        return
    had = state.chats.forget(conversation(update))
    await update.effective_message.reply_text(render.new_topic_message(had), do_quote=is_group(update))


async def new_topic_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«Câu hỏi mới»: start over for the user who pressed it, in the chat of the answer."""
    pressed = await pressed_page(update, context, render.stale_page_alert())
    if pressed is None:
        return
    state, page = pressed
    query = update.callback_query
    state.chats.forget((page.chat_id, update.effective_user.id))
    await query.answer(render.new_topic_alert())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: how to ask, and what the corpus holds."""
    state = await admitted(update, context)
    if state is None:
        return
    admin = is_admin(state.cfg.telegram, update.effective_user.id)
    text = render.help_message(state.service.stats, context.bot.username, admin)
    await update.effective_message.reply_text(text, do_quote=is_group(update))


async def pressed_page(update: Update, context: ContextTypes.DEFAULT_TYPE, stale: str) -> tuple[BotState, Page] | None:
    """The bot's state and the page a button press is about, when the presser passes the gate
    and the press came from the chat the page was sent to (callback data can be forged: a page
    id from one chat must not act in another); otherwise the presser is told ``stale``."""
    if not await gate(update, context):
        return None
    state, query = bot_state(context), update.callback_query
    page = state.pages.get(parse_callback(query.data)[1])
    chat_id = query.message.chat.id if query.message is not None else None
    if page is None or chat_id != page.chat_id:
        await query.answer(stale, show_alert=True)
        return None
    return state, page


async def more_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Thêm kết quả": the next passages for the same question, in a new message."""
    pressed = await pressed_page(update, context, render.stale_page_alert())
    if pressed is None:
        return
    state, page = pressed
    query = update.callback_query
    over = over_limit(state, update.effective_user.id)
    if over is not None:
        await query.answer(alert(over) if over else None, show_alert=bool(over))
        return
    offset = page.offset + len(page.hits)
    async with typing(context, page.chat_id):
        answer = await state.service.ask(page.question, offset, state.cfg.telegram.passages_per_reply, context=page.context)
    with contextlib.suppress(BadRequest):
        # Drop the pressed "more" button so the same page is not fetched twice.
        await query.edit_message_reply_markup(answer_keyboard(page, more=False))
    if not answer.hits:
        await query.answer(render.no_more_results())
        return
    await query.answer()
    nxt = new_page(page.question, offset, answer.hits, True, page.chat_id, page.context)
    state.pages.remember(nxt)
    await send_page(context, page.chat_id, None, nxt, render.answer_messages(answer))


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎: stored with the question and the passages shown."""
    pressed = await pressed_page(update, context, render.stale_feedback_alert())
    if pressed is None:
        return
    state, page = pressed
    query = update.callback_query
    verdict = parse_callback(query.data)[0]
    state.feedback.record(
        Feedback(
            answer_id=page.id,
            user_id=update.effective_user.id,
            chat_id=page.chat_id,
            verdict=verdict,
            question=page.question,
            answered=page.answered,
            passages=[{**render.passage_json(h), "chunk_id": h.chunk.chunk_id} for h in page.hits],
        )
    )
    await query.answer(render.feedback_thanks())
