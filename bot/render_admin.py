"""Every word an admin reads: reload progress and summary, /status, upload replies, as Telegram
HTML within Telegram's limits (the rules of ``bot.render`` hold here too)."""

from __future__ import annotations

from datetime import datetime

from retrieval.config import TelegramConfig
from retrieval.ingest import FileReading

from .access import ADMINS_ONLY, OPEN, access_mode
from .render import (
    DATE_UNITS,
    MESSAGE_LIMIT,
    NAME_UNITS,
    REASON_UNITS,
    display_date,
    esc,
    fit,
    shorten,
    units,
    visible_length,
)
from .service import ReloadReport, StatusFacts
from .uploads import MAX_UPLOAD_BYTES, NOT_TEXT, TOO_LARGE, WRONG_TYPE


def reload_running_message() -> str:
    return "Đang nạp lại kho bài viết rồi; kết quả sẽ báo trong tin nhắn tiến độ."


def reload_running_alert() -> str:
    return "Đang nạp lại rồi."


PROGRESS_CELLS = 10  # width of the embedding progress bar
UPLOAD_DOCS_SHOWN = 10  # documents listed in an upload reply
UPLOAD_TITLE_UNITS = 200  # a title in an upload reply (10 of them must fit with the rest)
NAMES_UNITS = 1000  # one "Thêm mới: …" line of the reload summary; three must fit with the rest
NAMES_SHOWN = 10
ERROR_UNITS = 1000  # why a reload failed
PROBLEMS_SHOWN = 3  # reasons a saved file cannot be read, in an upload reply
MODEL_UNITS = 200


def reload_progress_message(stage: str, done: int = 0, total: int = 0) -> str:
    if stage == "embedding" and total:
        filled = round(PROGRESS_CELLS * done / total)
        bar = "▓" * filled + "░" * (PROGRESS_CELLS - filled)
        return f"⏳ Đang nạp lại kho bài viết…\nNhúng đoạn văn mới: {bar} {done}/{total}"
    if stage == "loading":
        return "⏳ Đang nạp lại kho bài viết…\nĐang chuyển sang chỉ mục mới."
    return "⏳ Đang nạp lại kho bài viết…\nĐang đọc các tệp trong kho."


def _names(items: list[str], most: int = NAMES_SHOWN, budget: int = NAMES_UNITS) -> str:
    """Up to ``most`` ids, each shortened, as many as fit ``budget`` units; then how many more."""
    shown: list[str] = []
    used = 0
    for item in items[:most]:
        name = shorten(item, NAME_UNITS, middle=True)
        if shown and used + units(name) + 2 > budget:
            break
        shown.append(esc(name))
        used += units(name) + 2
    rest = len(items) - len(shown)
    return ", ".join(shown) + (f" và {rest} tệp khác" if rest else "")


def reload_summary_message(report: ReloadReport, limit: int = MESSAGE_LIMIT) -> str:
    if report.error:
        return fit(
            "❌ Nạp lại thất bại; bot vẫn trả lời bằng chỉ mục cũ.\n" f"Lý do: {esc(shorten(_reload_error(report), ERROR_UNITS))}"
        )
    report = report.summary
    lines = [
        f"✅ Đã nạp lại kho bài viết ({report.seconds:.1f} giây).",
        f"Thêm mới: {len(report.added)} · Thay đổi: {len(report.changed)} · Xóa: {len(report.removed)} · "
        f"Không đổi: {report.unchanged} · Lỗi: {len(report.failed)}",
        f"Đoạn văn đã nhúng: {report.chunks_embedded}. Chỉ mục hiện có {report.documents} bài, {report.chunks} đoạn.",
    ]
    if report.repaired:
        # The index on disk was damaged and is whole again: worth knowing (a failing disk?).
        lines.insert(1, f"🛠 Chỉ mục bị hỏng ({_names(report.repaired)}) đã được dựng lại phần hỏng.")
    for label, items in (("Thêm mới", report.added), ("Thay đổi", report.changed), ("Xóa", report.removed)):
        if items:
            lines.append(f"{label}: {_names(items)}")
    problems = [("Lỗi", p) for p in report.failed] + [("Bỏ qua", p) for p in report.skipped]
    # Indexed from a best guess: an admin should look at these pages (qabot inspect).
    problems += [("Chưa rõ bố cục", p) for p in report.uncertain]
    blocks = [
        f"• {label} <code>{esc(shorten(p.path, NAME_UNITS, middle=True))}</code>: {esc(shorten(p.reason, REASON_UNITS))}"
        for label, p in problems
    ]
    text = "\n".join(lines)
    for i, block in enumerate(blocks):
        more = f"\n… và {len(blocks) - i} vấn đề khác"
        if visible_length(text + "\n" + block + more) > limit:
            return fit(text + more, limit)
        text += "\n" + block
    return fit(text, limit)


def _reload_error(report: ReloadReport) -> str:
    return f"lỗi không mong đợi ({report.error})" if report.unexpected else report.error


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


def access_lines(tg: TelegramConfig) -> list[str]:
    """Who may use the bot, with a warning when that is everyone or nobody but the admins."""
    mode = access_mode(tg)
    if mode == OPEN:
        return [
            "Quyền dùng: <b>mở cho mọi người</b> (<code>open_to_everyone: true</code>).",
            "⚠️ Ai tìm thấy bot cũng hỏi được và xem được số bài, ngày của kho qua /help.",
        ]
    if mode == ADMINS_ONLY:
        return [
            "Quyền dùng: <b>chỉ quản trị viên</b> (allowed_users và allowed_chats đều trống).",
            "⚠️ Mọi người khác bị từ chối: thêm mã người dùng vào <code>allowed_users</code> "
            "hoặc mã nhóm vào <code>allowed_chats</code> trong config.yaml.",
        ]
    users, chats = len(tg.allowed_users), len(tg.allowed_chats)
    if users and chats:
        who = f"{users} người dùng được phép, chỉ trong {chats} nhóm/cuộc trò chuyện được phép"
    elif users:
        who = f"{users} người dùng được phép, ở mọi cuộc trò chuyện"
    else:
        who = f"mọi người trong {chats} nhóm/cuộc trò chuyện được phép"
    return [f"Quyền dùng: {who}; {len(tg.admins)} quản trị viên."]


def status_message(s: StatusFacts, tg: TelegramConfig | None = None) -> str:
    lines = ["<b>Tình trạng bot</b>"]
    if s.stats:
        lines.append(f"Bài viết: {s.stats.documents} · Đoạn văn: {s.stats.chunks}")
        lines.append(f"Chỉ mục: {_backend(s.stats)}")
    else:
        lines.append("Chưa có chỉ mục.")
    lines.append(f"Mô hình nhúng: <code>{esc(shorten(s.model or '?', MODEL_UNITS))}</code>")
    lines.append(f"Chỉ mục dựng lúc: {esc(shorten(_when(s.stats.built_at if s.stats else None), DATE_UNITS))}")
    if s.last_reload is None:
        lines.append("Lần nạp lại gần nhất: chưa có từ khi khởi động.")
    else:
        r = s.last_reload
        when = r.finished_at.strftime("%d/%m/%Y %H:%M:%S %Z").strip()
        if r.error:
            lines.append(f"Lần nạp lại gần nhất ({when}): thất bại: {esc(shorten(_reload_error(r), ERROR_UNITS))}")
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
    if tg is not None:
        lines += access_lines(tg)
    return fit("\n".join(lines))


def _backend(stats) -> str:
    """Where the index is served from (the collection, never the URI: it may hold a password)."""
    if stats.backend == "milvus":
        return f"Milvus, collection <code>{esc(shorten(stats.collection or '?', NAME_UNITS))}</code>"
    return "cục bộ (FAISS + BM25 + SQLite)"


def upload_copy_message(original: str | None, copies: dict[str, str]) -> str:
    """The upload holds only texts the index already has: not saved, and which ones they are."""
    shown = esc(shorten(original or "", NAME_UNITS, middle=True))
    indexed = _names(sorted(set(copies.values())))
    return fit(f"Không lưu <code>{shown}</code>: cùng nội dung với bài đã có trong kho ({indexed}); không cần nạp lại.")


def upload_saved_message(
    name: str,
    original: str | None,
    clash: str | None,
    same: bool,
    read: FileReading | None = None,
    copies: dict[str, str] | None = None,
) -> str:
    shown = esc(shorten(name, NAME_UNITS, middle=True))
    if same:
        return fit(f"Tệp <code>{shown}</code> đã có trong kho với cùng nội dung; không cần nạp lại.")
    text = f"Đã lưu <code>{shown}</code> vào kho bài viết."
    if original and original != name and not clash:
        text += f" (Tên gốc <code>{esc(shorten(original, NAME_UNITS, middle=True))}</code> đã được đổi cho an toàn.)"
    if clash:
        text += (
            f"\n⚠️ Kho đã có tệp <code>{esc(shorten(clash, NAME_UNITS, middle=True))}</code> với nội dung khác; tệp cũ được giữ nguyên, "
            "tệp mới lưu dưới tên trên. Hãy xóa một trong hai nếu đó là cùng một bài."
        )
    if read is not None:
        text += _reading_lines(read)
    if copies:
        text += f"\n{len(copies)} bài trong tệp trùng nội dung với bài đã có ({_names(sorted(set(copies.values())))}) và sẽ không được nạp lần nữa."
    return fit(text + "\nBấm «Nạp lại ngay» để bot trả lời được từ bài mới.")


def _reading_lines(read: FileReading) -> str:
    """What the saved file will become: its documents (title, date), or why it cannot be read."""
    if read.reading is None:
        reasons = "; ".join(shorten(p.reason, REASON_UNITS) for p in read.problems[:PROBLEMS_SHOWN])
        if len(read.problems) > PROBLEMS_SHOWN:
            reasons += f" (và {len(read.problems) - PROBLEMS_SHOWN} lỗi khác)"
        return f"\n❌ Không đọc được tệp: {esc(reasons)}"
    docs = read.reading.documents
    lines = [f"\nTệp sẽ thành {len(docs)} bài:"]
    for doc in docs[:UPLOAD_DOCS_SHOWN]:
        when = shorten(display_date(doc.date), DATE_UNITS) or "không rõ ngày"
        lines.append(f"• <b>{esc(shorten(doc.title, UPLOAD_TITLE_UNITS))}</b> ({esc(when)})")
    if len(docs) > UPLOAD_DOCS_SHOWN:
        lines.append(f"… và {len(docs) - UPLOAD_DOCS_SHOWN} bài khác")
    if read.reading.uncertain:
        uncertain = esc(shorten(read.reading.uncertain, REASON_UNITS))
        lines.append(f"⚠️ Bố cục trang chưa rõ ({uncertain}); hãy kiểm tra bằng <code>qabot inspect</code>.")
    if read.problems:
        lines.append(f"Bỏ qua {len(read.problems)} dòng lỗi.")
    return "\n".join(lines)


def upload_refused_message(reason: str, suffixes: set[str]) -> str:
    """Why an upload was not saved (``reason`` from ``bot.uploads``)."""
    why = {
        WRONG_TYPE: f"chỉ nhận tệp {', '.join(sorted(suffixes))}.",
        TOO_LARGE: f"tệp lớn hơn {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
        NOT_TEXT: "tệp không phải văn bản UTF-8.",
    }[reason]
    return fit(f"Không lưu tệp: {esc(why)}")
