"""Every word a user reads: answers and notices as Telegram HTML (split to fit Telegram's
limits), the command line's text and JSON, button labels and alerts.

Pure functions only (records in, strings out), so every reply can be checked without Telegram.
Everything that comes from an article or a user goes through ``esc``; markup is only ever added
around whole, already-escaped pieces, so a message can be split between blocks without cutting a
tag in half.

Every field from an article, the corpus or a user is shortened (``bot.limits.shorten``) to its own
budget below, so the fixed words around it always fit; ``fit`` is the last resort.
"""

from __future__ import annotations

import re

from retrieval.followup import Turn
from retrieval.index import IndexStats
from retrieval.ingest import Document, FileReading
from retrieval.search import Answer, Hit

from .limits import (
    ELLIPSIS,
    MESSAGE_LIMIT,
    alert,
    cut_left,
    cut_right,
    esc,
    fit,
    shorten,
    units,
    visible_length,
)

# Budgets (UTF-16 units) of single fields: long enough for any real one, short enough that a
# hostile one leaves room for the quote and the words around it.
TITLE_UNITS = 300
SOURCE_UNITS = 100
DATE_UNITS = 40
NAME_UNITS = 100  # document ids, paths, file names (shortened in the middle: both ends tell)
REASON_UNITS = 300  # why a file or line could not be read
USERNAME_UNITS = 64
QUESTION_UNITS = 200  # a user's question repeated back (restored, or the one a follow-up continues)
MAX_URL = 2048  # longer urls are not linked
QUOTE_LIMIT = 1000  # a longer quote is trimmed around its answering sentence
QUOTE_BEFORE = 220  # context kept before the answering sentence, so it stays in view when collapsed
EXPANDABLE_OVER = 400  # quotes longer than this start collapsed
MIN_AFTER = 20  # context after the answering sentence is shown only with this much room left

MORE_BUTTON = "Thêm kết quả"
UP_BUTTON = "👍"
DOWN_BUTTON = "👎"
RELOAD_BUTTON = "Nạp lại ngay"
NEW_TOPIC_BUTTON = "Câu hỏi mới"
# The bot's commands as Telegram lists them in the chat's menu.
COMMANDS = [
    ("ask", "Hỏi về các bài viết trong kho"),
    ("moi", "Hỏi chuyện khác: câu sau không nối tiếp câu trước"),
    ("help", "Cách hỏi và kho đang có gì"),
    ("status", "Tình trạng chỉ mục (quản trị viên)"),
    ("reload", "Nạp lại kho bài viết (quản trị viên)"),
]
NOT_FOUND = "Không tìm thấy nội dung liên quan trong kho bài viết"

def trimmed_quote(quote: str, highlight: tuple[int, int], limit: int = QUOTE_LIMIT) -> tuple[str, str, str]:
    """(before, answering sentence, after), together at most about ``limit`` UTF-16 units."""
    a, b = highlight
    a, b = max(0, min(a, len(quote))), max(0, min(b, len(quote)))
    if b <= a:
        a, b = 0, 0
    before, mark, after = quote[:a], quote[a:b], quote[b:]
    if units(quote) <= limit:
        return before, mark, after
    mark = cut_right(mark, limit)
    room = max(0, limit - units(mark))
    before = cut_left(before, min(QUOTE_BEFORE, room)) if before else ""
    if before == ELLIPSIS:
        before = ""
    room = max(0, room - units(before))
    after = cut_right(after, room) if after and room > MIN_AFTER else (ELLIPSIS if after else "")
    return before, mark, after


# --- citations: shared by the chat and the command line ----------------------------------------


def display_date(iso: str | None) -> str | None:
    """"2023-12-28" → "28/12/2023"; "--11-14" (year unknown) → "14/11"."""
    if not iso:
        return None
    if iso.startswith("--") and len(iso) == 7:
        return f"{iso[5:7]}/{iso[2:4]}"
    parts = iso[:10].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    return iso


def date_and_source(hit: Hit) -> str:
    """"28/12/2023 · TTXVN", leaving out what the article does not state."""
    return " · ".join(x for x in (display_date(hit.doc.date), hit.doc.source) if x)


def citation(hit: Hit) -> str:
    """"Title (28/12/2023 · TTXVN)": what a user copies when citing the passage."""
    extra = date_and_source(hit)
    return f"{hit.doc.title} ({extra})" if extra else hit.doc.title


def answer_text(answer: Answer, bold: bool = False) -> str:
    """``qabot ask``: what the bot would say, as terminal text; the answering sentence between
    ``**`` markers (bold on a terminal)."""
    if not answer.answered:
        return NOT_FOUND + "."
    left, right = ("\033[1m", "\033[0m") if bold else ("**", "**")
    blocks = []
    for hit in answer.hits:
        a, b = hit.highlight
        marked = hit.quote[:a] + left + hit.quote[a:b] + right + hit.quote[b:]
        lines = [f"{hit.rank}. {citation(hit)}"]
        if hit.doc.url:
            lines.append(f"   {hit.doc.url}")
        lines += ["   > " + ln for ln in marked.split("\n")]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def passage_json(hit: Hit) -> dict:
    """One passage as data: what ``qabot ask --json`` prints and feedback stores."""
    doc = hit.doc
    return {
        "rank": hit.rank,
        "score": hit.score,
        "doc_id": hit.doc_id,
        "title": doc.title,
        "date": doc.date,
        "source": doc.source,
        "url": doc.url,
        "quote": hit.quote,
        "highlight": list(hit.highlight),
    }


def answer_json(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "answered": answer.answered,
        "passages": [passage_json(h) for h in (answer.hits if answer.answered else [])],
    }


def document_line(doc: Document) -> str:
    """"Title (28/12/2023 · TTXVN · Diệp Trương)": one document as a page became it."""
    extra = " · ".join(x for x in (display_date(doc.date), doc.source, doc.author) if x)
    return f"{doc.title} ({extra})" if extra else doc.title


def inspect_lines(read: FileReading) -> list[str]:
    """``qabot inspect``: the documents a file became, every line left out with its reason, and
    whether the layout was understood."""
    lines = [f"== {read.path}"]
    lines += [f"  could not read: {p.path}: {p.reason}" for p in read.problems]
    if read.reading is None:
        return lines
    if read.reading.uncertain:
        lines.append(f"  UNCERTAIN: {read.reading.uncertain}")
    for doc in read.reading.documents:
        body = [ln for ln in doc.text.split("\n") if ln]
        lines.append(f"  document {doc.doc_id}: {document_line(doc)}")
        if doc.url:
            lines.append(f"    url: {doc.url}")
        lines.append(f"    {len(body)} paragraphs; first: {body[0][:120] if body else ''}")
        if len(body) > 1:
            lines.append(f"    last: {body[-1][:120]}")
    for d in read.reading.dropped:
        lines.append(f"  dropped line {d.line} ({d.reason}): {d.text[:120]}")
    return lines


# --- answers in the chat -------------------------------------------------------------------------


def _safe_url(url: str | None) -> str | None:
    if url and len(url) <= MAX_URL and re.match(r"https?://[^\s<>\"]+$", url):
        return url
    return None


def passage_html(hit: Hit, number: int) -> str:
    """One passage: numbered title (a link when the article has a url), date · source, quote."""
    url = _safe_url(hit.doc.url)
    title = esc(shorten(hit.doc.title, TITLE_UNITS))
    title = f'<a href="{esc(url)}">{title}</a>' if url else title
    lines = [f"<b>{number}.</b> <b>{title}</b>"]
    date = shorten(display_date(hit.doc.date), DATE_UNITS)
    meta = " · ".join(x for x in (date, shorten(hit.doc.source, SOURCE_UNITS)) if x)
    if meta:
        lines.append(f"<i>{esc(meta)}</i>")
    before, mark, after = trimmed_quote(hit.quote, hit.highlight)
    body = esc(before) + (f"<b>{esc(mark)}</b>" if mark else "") + esc(after)
    opening = "<blockquote expandable>" if len(before) + len(mark) + len(after) > EXPANDABLE_OVER else "<blockquote>"
    lines.append(f"{opening}{body}</blockquote>")
    return "\n".join(lines)


def pack(blocks: list[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Whole blocks into as few messages as fit under ``limit``; a block is never split."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = current + separator + block if current else block
        if current and visible_length(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def restored_line(restored: str) -> str:
    """The question as understood, its diacritics restored from the corpus."""
    return f"<i>Đã hiểu: \"{esc(shorten(restored, QUESTION_UNITS))}\"</i>"


def continued_line(turn: Turn) -> str:
    """Says that the answer continued the previous question: names its article (or, without
    one, the question), and how to start over."""
    if turn.title:
        what = f"bài «{esc(shorten(turn.title, TITLE_UNITS))}»"
    else:
        what = f"câu trước: \"{esc(shorten(turn.question, QUESTION_UNITS))}\""
    return f"<i>↪ Hỏi tiếp {what}. Hỏi chuyện khác: /moi</i>"


def notes(answer: Answer, continued: Turn | None = None) -> list[str]:
    """The lines above an answer: the restored question, and what it continued."""
    lines = [restored_line(answer.query.restored)] if answer.query.restored else []
    if continued is not None and answer.answered:
        lines.append(continued_line(continued))
    return lines


def answer_messages(answer: Answer, limit: int = MESSAGE_LIMIT, continued: Turn | None = None) -> list[str]:
    """The passages of an answered question, as one or more HTML messages, under the lines that
    say how the question was understood (``notes``)."""
    # Shortened fields and QUOTE_LIMIT keep a block under 1,500 units; ``fit`` only guards.
    head = notes(answer, continued)
    blocks = [fit(passage_html(hit, hit.rank), limit) for hit in answer.hits]
    return pack(([fit("\n".join(head), limit)] if head else []) + blocks, limit)


def no_answer_message(hint_diacritics: bool, restored: str | None = None) -> str:
    text = (restored_line(restored) + "\n\n" if restored else "") + NOT_FOUND + ": kho hiện không có bài nào nói về điều này."
    if hint_diacritics:
        text += (
            "\n\nMẹo: câu hỏi của bạn được gõ không dấu. Gõ có dấu "
            "(ví dụ <i>“hội nghị tổ chức ở đâu”</i> thay vì <i>“hoi nghi to chuc o dau”</i>) "
            "giúp tìm chính xác hơn."
        )
    return text


def chatter_reply() -> str:
    """To thanks or a greeting in a private chat."""
    return (
        "Rất vui được giúp bạn! Cứ gửi câu hỏi về các bài viết trong kho, ví dụ: "
        "<i>Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?</i>"
    )


def new_topic_message(had_context: bool) -> str:
    """After /moi: the next question is searched on its own."""
    if had_context:
        return "Đã bắt đầu lại: câu hỏi tiếp theo sẽ được tìm riêng, không nối tiếp câu trước."
    return "Chưa có câu hỏi nào để nối tiếp: câu hỏi tiếp theo sẽ được tìm riêng."


def new_topic_alert() -> str:
    return "Đã bắt đầu lại: câu sau sẽ không nối tiếp câu này."


def no_more_results() -> str:
    return "Không còn kết quả nào khác."


def stale_page_alert() -> str:
    return "Câu trả lời này đã cũ; hãy hỏi lại."


def stale_feedback_alert() -> str:
    return "Câu trả lời này đã cũ; không ghi nhận được góp ý."


def feedback_thanks() -> str:
    return "Cảm ơn bạn đã góp ý!"


def corpus_line(stats: IndexStats | None) -> str:
    if stats is None:
        return "Kho bài viết chưa sẵn sàng."
    text = f"Kho hiện có <b>{stats.documents}</b> bài viết ({stats.chunks} đoạn)"
    first = shorten(display_date(stats.first_date), DATE_UNITS)
    last = shorten(display_date(stats.last_date), DATE_UNITS)
    if first and last and first != last:
        text += f", từ ngày {esc(first)} đến ngày {esc(last)}"
    elif first:
        text += f", ngày {esc(first)}"
    return text + "."


def help_message(stats: IndexStats | None, bot_username: str | None, is_admin: bool) -> str:
    mention = f"@{esc(shorten(bot_username, USERNAME_UNITS))}" if bot_username else "tên bot"
    lines = [
        "Xin chào! Tôi trả lời câu hỏi về các bài báo trong kho bằng cách <b>trích nguyên văn</b> "
        "đoạn văn trả lời, kèm tên bài, ngày và nguồn để bạn trích dẫn.",
        "",
        "<b>Cách hỏi</b>",
        "• Trong tin nhắn riêng: gửi câu hỏi như một tin nhắn bình thường.",
        f"• Trong nhóm: <code>/ask câu hỏi</code>, nhắc tên {mention} kèm câu hỏi, "
        "hoặc trả lời (reply) một tin nhắn của tôi.",
        "• Nên gõ tiếng Việt có dấu, ví dụ: <i>Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?</i>",
        "• Nút «Thêm kết quả» cho thêm đoạn văn; 👍 / 👎 giúp chúng tôi cải thiện câu trả lời.",
        "• Hỏi tiếp được: câu ngắn như <i>Bệnh nhân bị bệnh gì?</i> ngay sau một câu hỏi được hiểu là "
        "hỏi tiếp bài vừa trả lời. Gõ /moi (hoặc bấm «Câu hỏi mới») để hỏi chuyện khác.",
        "",
        corpus_line(stats),
    ]
    if is_admin:
        lines += [
            "",
            "<b>Quản trị</b>: /status xem tình trạng, /reload nạp lại kho bài viết; "
            "gửi tệp .txt, .md, .html hoặc .jsonl để thêm bài.",
        ]
    return fit("\n".join(lines))


def refusal_message(user_id: int | None) -> str:
    return fit(
        "Xin lỗi, bạn chưa có quyền dùng bot này. "
        f"Hãy gửi mã người dùng <code>{esc(str(user_id))}</code> cho quản trị viên để được cấp quyền."
    )


def refusal_alert(user_id: int | None) -> str:
    """The refusal as a button alert (plain text, short)."""
    return alert(esc(f"Bạn chưa có quyền dùng bot này (mã người dùng: {user_id})."))


def admin_only_message(command: str) -> str:
    return fit(f"Lệnh /{esc(shorten(command, USERNAME_UNITS))} chỉ dành cho quản trị viên.")


def rate_limited_message(per_minute: int, wait_seconds: int) -> str:
    return fit(
        f"Bạn đang hỏi hơi nhanh (tối đa {per_minute} câu mỗi phút). "
        f"Vui lòng chờ khoảng {max(1, wait_seconds)} giây rồi hỏi tiếp nhé."
    )


def ask_usage_message() -> str:
    return "Hãy viết câu hỏi sau lệnh, ví dụ: <code>/ask Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?</code>"


def apology_message() -> str:
    return "Xin lỗi, đã có lỗi khi xử lý yêu cầu của bạn. Vui lòng thử lại sau ít phút."


def not_ready_message() -> str:
    return "Bot chưa sẵn sàng trả lời: chưa có chỉ mục; quản trị viên cần chạy /reload hoặc qabot index"
