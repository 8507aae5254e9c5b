"""The bot's words: answers and notices as Telegram HTML, split to fit Telegram's limits.

Pure functions only (records in, strings out), so every reply can be checked without Telegram.
Everything that comes from an article or a user goes through ``esc``; markup is only ever added
around whole, already-escaped pieces, so a message can be split between blocks without cutting a
tag in half.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from retrieval.formatting import date_and_source, display_date
from retrieval.search import Answer, Hit

from .service import CorpusFacts, ReloadReport, StatusFacts

MESSAGE_LIMIT = 4096  # Telegram: characters after entity parsing, counted in UTF-16 code units
QUOTE_LIMIT = 1000  # a longer quote is trimmed around its answering sentence
QUOTE_BEFORE = 220  # context kept before the answering sentence, so it stays in view when collapsed
EXPANDABLE_OVER = 400  # quotes longer than this start collapsed
ELLIPSIS = "…"

MORE_BUTTON = "Thêm kết quả"
UP_BUTTON = "👍"
DOWN_BUTTON = "👎"

_TAG = re.compile(r"<[^>]*>")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def plain(markup: str) -> str:
    """The text a user sees (for places that take no markup, like button alerts)."""
    return html.unescape(_TAG.sub("", markup))


def visible_length(markup: str) -> int:
    """Length Telegram checks against its limit: text after entity parsing, in UTF-16 units."""
    return len(plain(markup).encode("utf-16-le")) // 2


def _cut_left(text: str, keep: int) -> str:
    """The last ``keep`` characters of ``text``, starting at a word boundary."""
    if len(text) <= keep:
        return text
    tail = text[len(text) - keep :]
    space = tail.find(" ")
    if 0 <= space < keep // 2:
        tail = tail[space + 1 :]
    return ELLIPSIS + tail.lstrip()


def _cut_right(text: str, keep: int) -> str:
    """The first ``keep`` characters of ``text``, ending at a word boundary."""
    if len(text) <= keep:
        return text
    head = text[:keep]
    space = head.rfind(" ")
    if space > keep // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def trimmed_quote(quote: str, highlight: tuple[int, int], limit: int = QUOTE_LIMIT) -> tuple[str, str, str]:
    """(before, answering sentence, after), together at most about ``limit`` characters."""
    a, b = highlight
    a, b = max(0, min(a, len(quote))), max(0, min(b, len(quote)))
    if b <= a:
        a, b = 0, 0
    before, mark, after = quote[:a], quote[a:b], quote[b:]
    if len(quote) <= limit:
        return before, mark, after
    mark = _cut_right(mark, limit)
    room = max(0, limit - len(mark))
    before = _cut_left(before, min(QUOTE_BEFORE, room)) if before else ""
    if before == ELLIPSIS:
        before = ""
    room = max(0, room - len(before))
    after = _cut_right(after, room) if after and room > 20 else (ELLIPSIS if after else "")
    return before, mark, after


def _safe_url(url: str | None) -> str | None:
    if url and re.match(r"https?://[^\s<>\"]+$", url):
        return url
    return None


def passage_html(hit: Hit, number: int) -> str:
    """One passage: numbered title (a link when the article has a url), date · source, quote."""
    url = _safe_url(hit.url)
    title = esc(hit.title)
    title = f'<a href="{esc(url)}">{title}</a>' if url else title
    lines = [f"<b>{number}.</b> <b>{title}</b>"]
    meta = date_and_source(hit)
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


def answer_messages(answer: Answer, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The passages of an answered question, as one or more HTML messages."""
    blocks = [passage_html(hit, hit.rank) for hit in answer.hits]
    # QUOTE_LIMIT keeps a block far below the limit; titles are the only unbounded part.
    return pack([b if visible_length(b) <= limit else _shorten_block(b, limit) for b in blocks], limit)


def _shorten_block(block: str, limit: int) -> str:
    # Only a pathological title gets here; drop the markup rather than send something invalid.
    return esc(_cut_right(plain(block), limit - 10))


def no_answer_message(hint_diacritics: bool) -> str:
    text = "Không tìm thấy nội dung liên quan trong kho bài viết: kho hiện không có bài nào nói về điều này."
    if hint_diacritics:
        text += (
            "\n\nMẹo: câu hỏi của bạn được gõ không dấu. Gõ có dấu "
            "(ví dụ <i>“hội nghị tổ chức ở đâu”</i> thay vì <i>“hoi nghi to chuc o dau”</i>) "
            "giúp tìm chính xác hơn."
        )
    return text


def no_more_results() -> str:
    return "Không còn kết quả nào khác."


def corpus_line(facts: CorpusFacts | None) -> str:
    if facts is None:
        return "Kho bài viết chưa sẵn sàng."
    text = f"Kho hiện có <b>{facts.documents}</b> bài viết ({facts.chunks} đoạn)"
    first, last = display_date(facts.first_date), display_date(facts.last_date)
    if first and last and first != last:
        text += f", từ ngày {esc(first)} đến ngày {esc(last)}"
    elif first:
        text += f", ngày {esc(first)}"
    return text + "."


def help_message(facts: CorpusFacts | None, bot_username: str | None, is_admin: bool) -> str:
    mention = f"@{esc(bot_username)}" if bot_username else "tên bot"
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
        "",
        corpus_line(facts),
    ]
    if is_admin:
        lines += [
            "",
            "<b>Quản trị</b>: /status xem tình trạng, /reload nạp lại kho bài viết; "
            "gửi tệp .txt, .md, .html hoặc .jsonl để thêm bài.",
        ]
    return "\n".join(lines)


def refusal_message(user_id: int | None) -> str:
    return (
        "Xin lỗi, bạn chưa có quyền dùng bot này. "
        f"Hãy gửi mã người dùng <code>{user_id}</code> cho quản trị viên để được cấp quyền."
    )


def admin_only_message(command: str) -> str:
    return f"Lệnh /{esc(command)} chỉ dành cho quản trị viên."


def rate_limited_message(per_minute: int, wait_seconds: int) -> str:
    return (
        f"Bạn đang hỏi hơi nhanh (tối đa {per_minute} câu mỗi phút). "
        f"Vui lòng chờ khoảng {max(1, wait_seconds)} giây rồi hỏi tiếp nhé."
    )


def ask_usage_message() -> str:
    return "Hãy viết câu hỏi sau lệnh, ví dụ: <code>/ask Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?</code>"


def apology_message() -> str:
    return "Xin lỗi, đã có lỗi khi xử lý yêu cầu của bạn. Vui lòng thử lại sau ít phút."


def not_ready_message(reason: str) -> str:
    return f"Bot chưa sẵn sàng trả lời: {esc(reason)}"


# --- reload and status ------------------------------------------------------------------------


def reload_progress_message(stage: str, done: int = 0, total: int = 0) -> str:
    if stage == "embedding" and total:
        filled = round(10 * done / total)
        bar = "▓" * filled + "░" * (10 - filled)
        return f"⏳ Đang nạp lại kho bài viết…\nNhúng đoạn văn mới: {bar} {done}/{total}"
    if stage == "loading":
        return "⏳ Đang nạp lại kho bài viết…\nĐang chuyển sang chỉ mục mới."
    return "⏳ Đang nạp lại kho bài viết…\nĐang đọc các tệp trong kho."


def _names(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(esc(x) for x in items[:limit])
    return shown + (f" và {len(items) - limit} tệp khác" if len(items) > limit else "")


def reload_summary_message(report: ReloadReport, limit: int = MESSAGE_LIMIT) -> str:
    if report.error:
        return (
            "❌ Nạp lại thất bại; bot vẫn trả lời bằng chỉ mục cũ.\n"
            f"Lý do: {esc(report.error)}"
        )
    report = report.summary
    lines = [
        f"✅ Đã nạp lại kho bài viết ({report.seconds:.1f} giây).",
        f"Thêm mới: {len(report.added)} · Thay đổi: {len(report.changed)} · Xóa: {len(report.removed)} · "
        f"Không đổi: {report.unchanged} · Lỗi: {len(report.failed)}",
        f"Đoạn văn đã nhúng: {report.chunks_embedded}. Chỉ mục hiện có {report.documents} bài, {report.chunks} đoạn.",
    ]
    for label, items in (("Thêm mới", report.added), ("Thay đổi", report.changed), ("Xóa", report.removed)):
        if items:
            lines.append(f"{label}: {_names(items)}")
    problems = [("Lỗi", p) for p in report.failed] + [("Bỏ qua", p) for p in report.skipped]
    blocks = [f"• {label} <code>{esc(p.path)}</code>: {esc(p.reason)}" for label, p in problems]
    text = "\n".join(lines)
    for i, block in enumerate(blocks):
        more = f"\n… và {len(blocks) - i} vấn đề khác"
        if visible_length(text + "\n" + block + more) > limit:
            return text + more
        text += "\n" + block
    return text


def duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ"
    if hours:
        return f"{hours} giờ {minutes} phút"
    if minutes:
        return f"{minutes} phút {secs} giây"
    return f"{secs} giây"


def _when(iso: str | None) -> str:
    if not iso:
        return "?"
    try:
        return datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M:%S %Z").strip()
    except ValueError:
        return iso


def status_message(s: StatusFacts) -> str:
    lines = ["<b>Tình trạng bot</b>"]
    if s.facts:
        lines.append(f"Bài viết: {s.facts.documents} · Đoạn văn: {s.facts.chunks}")
    else:
        lines.append("Chưa có chỉ mục.")
    lines.append(f"Mô hình nhúng: <code>{esc(s.model or '?')}</code>")
    lines.append(f"Chỉ mục dựng lúc: {esc(_when(s.built_at))}")
    if s.last_reload is None:
        lines.append("Lần nạp lại gần nhất: chưa có từ khi khởi động.")
    else:
        r = s.last_reload
        when = r.finished_at.strftime("%d/%m/%Y %H:%M:%S %Z").strip()
        if r.error:
            lines.append(f"Lần nạp lại gần nhất ({when}): thất bại: {esc(r.error)}")
        else:
            r = r.summary
            lines.append(
                f"Lần nạp lại gần nhất ({when}): thêm {len(r.added)}, đổi {len(r.changed)}, xóa {len(r.removed)}, "
                f"không đổi {r.unchanged}, lỗi {len(r.failed)}; {r.chunks_embedded} đoạn nhúng, {r.seconds:.1f} giây."
            )
    if s.reloading:
        lines.append("Đang nạp lại kho bài viết…")
    lines.append(f"Thời gian hoạt động: {duration(s.uptime_seconds)}")
    lines.append(f"Câu hỏi đã trả lời từ khi khởi động: {s.questions} (có kết quả: {s.answered})")
    return "\n".join(lines)


def upload_saved_message(name: str, original: str | None, clash: str | None, same: bool) -> str:
    if same:
        return f"Tệp <code>{esc(name)}</code> đã có trong kho với cùng nội dung; không cần nạp lại."
    text = f"Đã lưu <code>{esc(name)}</code> vào kho bài viết."
    if original and original != name and not clash:
        text += f" (Tên gốc <code>{esc(original)}</code> đã được đổi cho an toàn.)"
    if clash:
        text += (
            f"\n⚠️ Kho đã có tệp <code>{esc(clash)}</code> với nội dung khác; tệp cũ được giữ nguyên, "
            "tệp mới lưu dưới tên trên. Hãy xóa một trong hai nếu đó là cùng một bài."
        )
    return text + "\nBấm «Nạp lại ngay» để bot trả lời được từ bài mới."


def upload_refused_message(reason: str) -> str:
    return f"Không lưu tệp: {esc(reason)}"
