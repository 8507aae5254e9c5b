"""The bot benchmark, ``qabot bench --only bot``: reply latency as a user sees it.

The real ``Application`` and ``QAService`` serve the configured corpus (indexed into the bench's
cache, never the live index) and long-poll a fake Bot API server on loopback HTTP
(``bot.fake_bot_api``). N users ask at once, each waiting for its reply before asking the next
question. A question's latency runs from the moment its update is queued on the server to the
moment the bot's last reply message reaches the server: long-poll pickup, the search in the
thread pool and the HTTP round trips. The fake server and its simulated users run in a process
of their own (``_telegram_side``), as Telegram's servers are not in the bot's process: in the
bot's they held its GIL ~2.6 ms a question, a sixth of the CPU a question cost. They still share
the machine's cores with the bot.

Targets (issue 13): one user p95 <= 150 ms, 20 users p95 <= 300 ms, and no request Telegram
would reject. This module lives in ``bot/`` because the engine (``retrieval/``) never imports the
bot; ``bot.cli`` runs it after ``retrieval.bench.run`` and merges both into one report.
"""

from __future__ import annotations

import logging
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

from retrieval.bench.figures import rounded
from retrieval.bench.report import verdict
from retrieval.bench.scale import percentile_ms
from retrieval.config import Config
from retrieval.embedder import Embedder
from retrieval.evaluation import index_key
from retrieval.indexer import index_corpus

from .app import build_application
from .fake_bot_api import TOKEN, FakeTelegram, RunningBot
from .feedback import FeedbackStore
from .service import QAService

log = logging.getLogger(__name__)

BOT_SECTION = "bot"  # its name in --only, beside retrieval.bench.SECTIONS
USER_COUNTS = (1, 20)  # concurrent users, one run each
TARGET_P95_MS = {1: 150.0, 20: 300.0}
DEFAULT_QUESTIONS = 300  # per run, spread over its users
REPLY_TIMEOUT_S = 120.0

# Questions about the bundled article (the default corpus), answered and not, with and without
# diacritics; over another corpus most are "nothing relevant", which is still a reply to time.
QUESTIONS = [
    "Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?",
    "hoi nghi bao cao vien thang 12 to chuc o dau",
    "Tên cuốn sách của Tổng Bí thư được quán triệt ngày 14/11 là gì?",
    "Kết luận số 21-KL/TW về xây dựng, chỉnh đốn Đảng",
    "Chất lượng công tác tuyên truyền miệng năm 2023 thế nào?",
    "Ai chủ trì hội nghị báo cáo viên?",
    "Giá vàng hôm nay bao nhiêu?",
    "Đội ngũ báo cáo viên các cấp hoạt động ra sao?",
    "Chuyến thăm cấp Nhà nước của Tổng Bí thư, Chủ tịch nước Trung Quốc Tập Cận Bình",
    "Thời tiết Hà Nội ngày mai thế nào?",
]


@dataclass
class BotRun:
    users: int
    asked: int
    replies: int  # questions whose whole reply arrived within REPLY_TIMEOUT_S
    seconds: float  # wall time of the run, first question queued to last reply
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    rejected: int  # requests Telegram would have refused (400s other than "not modified")

    @property
    def questions_per_s(self) -> float:
        return self.replies / self.seconds if self.seconds else 0.0


@dataclass
class BotBenchResult:
    model: str
    corpus: str
    documents: int
    chunks: int
    query_batch_ms: float
    runs: list[BotRun]
    rejected: int  # requests Telegram would have refused, over the whole bench (warm-up included)
    rejections: list[str]  # the first few of them, "method: error"
    batched: bool = True  # questions waited for others to share an encoder call (not for an int8 encoder)
    side_by_side: int = 1  # questions embedded at once when not batched (one a core for int8)


def users_key(users: int) -> str:
    """``@1_user``, ``@20_users``: the suffix of a run's figures."""
    return f"@{users}_user" + ("" if users == 1 else "s")


def bot_config(cfg: Config, index: Path, base_url: str, base_file_url: str) -> Config:
    """``cfg`` pointed at the fake server at ``base_url``, open to the bench's made-up users and
    with no per-user rate limit (a user asking 300 questions a minute is the point), its index at
    ``index``."""
    tg = replace(
        cfg.telegram,
        base_url=base_url,
        base_file_url=base_file_url,
        webhook_url=None,
        allowed_users=[],
        allowed_chats=[],
        open_to_everyone=True,
        rate_limit_per_minute=0,
    )
    return replace(cfg, telegram=tg, index=replace(cfg.index, path=index))


def _ask(fake: FakeTelegram, user_id: int, question: str) -> float | None:
    """One question: seconds until its last reply message reached the server (None: no reply)."""
    start = time.monotonic()
    seq = fake.user_message(user_id, question)
    try:
        reply = fake.wait_reply(seq, user_id, timeout=REPLY_TIMEOUT_S)
    except TimeoutError:
        log.warning("user %d got no reply within %.0f s to %r", user_id, REPLY_TIMEOUT_S, question)
        return None
    last = reply[-1].message_id
    done = max(c.at for c in fake.calls_of("sendMessage", seq) if c.ok and (c.result or {}).get("message_id") == last)
    return done - start


def ask_concurrently(fake: FakeTelegram, users: int, questions: int, first_user_id: int) -> BotRun:
    """``questions`` spread over ``users`` threads, each asking its share one after another."""
    per_user = [questions // users + (1 if i < questions % users else 0) for i in range(users)]
    latencies: list[float] = []
    lock = threading.Lock()
    since = len(fake.calls)

    def user(i: int) -> None:
        for n in range(per_user[i]):
            took = _ask(fake, first_user_id + i, QUESTIONS[(i + n) % len(QUESTIONS)])
            if took is not None:
                with lock:
                    latencies.append(took)

    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(i,), name=f"bench-user-{i}") for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return BotRun(
        users=users,
        asked=sum(per_user),
        replies=len(latencies),
        seconds=wall,
        p50_ms=percentile_ms(latencies, 50),
        p95_ms=percentile_ms(latencies, 95),
        mean_ms=sum(latencies) / len(latencies) * 1000 if latencies else 0.0,
        max_ms=max(latencies) * 1000 if latencies else 0.0,
        rejected=len(fake.rejected(since)),
    )


def _telegram_side(conn: Connection, user_counts: Sequence[int], questions: int) -> None:
    """The child process: the fake Bot API server and the users. Sends its URLs, waits for the
    bot, asks (untimed warm-up first), sends the runs and Telegram's refusals, and serves until
    told the bot has stopped (a stopping bot still talks to the server)."""
    fake = FakeTelegram().start()
    try:
        conn.send((fake.base_url, fake.base_file_url))
        if conn.recv() != "ready":
            return
        # Untimed: every question once, then one from each of the most users at once. First
        # calls allocate (search threads, the encoder's kernels per input length): measured,
        # the first timed run was 2-4x slower than the same run repeated.
        ask_concurrently(fake, 1, len(QUESTIONS), first_user_id=1)
        ask_concurrently(fake, max(user_counts), max(user_counts), first_user_id=1_000)
        # User ids apart per run, so no run inherits another's chats or follow-up turns.
        runs = [ask_concurrently(fake, n, questions, first_user_id=(k + 1) * 100_000) for k, n in enumerate(user_counts)]
        refused = fake.rejected()
        conn.send((runs, len(refused), [f"{c.method}: {c.error}" for c in refused[:5]]))
        conn.recv()
    finally:
        fake.stop()
        conn.close()


def bench_bot(
    cfg: Config,
    embedder: Embedder,
    work: Path,
    user_counts: Sequence[int] = USER_COUNTS,
    questions: int = DEFAULT_QUESTIONS,
    progress: bool = False,
) -> BotBenchResult:
    """Serve ``cfg``'s corpus (indexed under ``work``, one index per embedding configuration,
    brought up to date incrementally) with the real bot against a fake Bot API server in another
    process, and time ``questions`` questions at each of ``user_counts`` concurrent users."""
    if questions < 1 or not user_counts or min(user_counts) < 1:
        raise ValueError("the bot bench needs at least one question and one user")
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    telegram = multiprocessing.get_context("spawn").Process(
        target=_telegram_side, args=(theirs, tuple(user_counts), questions), name="fake-telegram", daemon=True
    )
    telegram.start()
    try:
        base_url, base_file_url = _receive(ours, telegram)
        bcfg = bot_config(cfg, Path(work) / index_key(cfg, embedder), base_url, base_file_url)
        built = index_corpus(bcfg, embedder, progress=progress)  # a no-op when nothing changed
        service = QAService(bcfg, embedder)
        with tempfile.TemporaryDirectory(prefix="qabot-bench-bot-") as tmp:
            feedback = FeedbackStore(Path(tmp) / "feedback.sqlite")
            bot = None
            try:
                service.open(build_if_missing=False)
                bot = RunningBot(build_application(bcfg, service, TOKEN, feedback=feedback)).start()
                ours.send("ready")
                runs, refused, rejections = _receive(ours, telegram)
            finally:
                if bot is not None:
                    bot.stop()
                service.close()
                feedback.close()
        ours.send("done")
    finally:
        ours.close()
        telegram.join(30)
        if telegram.is_alive():
            telegram.kill()
    return BotBenchResult(
        model=embedder.name,
        corpus=str(cfg.corpus.path),
        documents=built.documents,
        chunks=built.chunks,
        query_batch_ms=cfg.embedding.query_batch_ms,
        batched=embedder.batch_gain and cfg.embedding.query_batch_ms > 0,
        side_by_side=embedder.parallel_calls,
        runs=runs,
        rejected=refused,
        rejections=rejections,
    )


def _receive(conn: Connection, telegram: multiprocessing.process.BaseProcess):
    """The next message from the Telegram side; its failure is ours (it died: say so)."""
    while not conn.poll(1.0):
        if not telegram.is_alive():
            raise RuntimeError(f"the bench's fake Telegram process stopped (exit code {telegram.exitcode})")
    return conn.recv()


def bot_lines(r: BotBenchResult) -> list[str]:
    lines = [
        (
            f"6. Bot replies: the real Application and QAService, a fake Bot API server on loopback HTTP in a process "
            f"of its own; corpus {r.corpus} ({r.documents:,} articles, {r.chunks:,} chunks); model {r.model}; "
            + (f"questions within {r.query_batch_ms:g} ms share one encoder call" if r.batched else f"each question embedded alone, {r.side_by_side} side by side")
        ),
        "   each user waits for its reply before asking again; latency: question queued -> last reply message at the server",
        "   | users | replies | p50 ms | p95 ms | max ms | questions/s | target |",
        "   |---|---|---|---|---|---|---|",
    ]
    for run in r.runs:
        target = TARGET_P95_MS.get(run.users)
        lines.append(
            f"   | {run.users} | {run.replies:,} of {run.asked:,} | {run.p50_ms:.0f} | {run.p95_ms:.0f} | {run.max_ms:.0f} "
            f"| {run.questions_per_s:.1f} | {verdict(run.p95_ms, target, 'ms p95') if target else ''} |"
        )
    lines.append(f"   requests Telegram would reject: {r.rejected} ({verdict(r.rejected, 0, 'requests')})")
    lines += [f"     {e}" for e in r.rejections]
    missing = sum(run.asked - run.replies for run in r.runs)
    if missing:
        lines.append(f"   NO REPLY within {REPLY_TIMEOUT_S:.0f} s to {missing} question(s)")
    return lines


def bot_figures(r: BotBenchResult) -> dict[str, float | int]:
    """The bot section's part of ``qabot bench --json``: per user count ``bot_p95_ms@20_users``
    and the like, and ``bot_rejected_requests`` over all runs (warm-up included)."""
    out: dict[str, float | int] = {"bot_chunks": r.chunks, "bot_rejected_requests": r.rejected}
    for run in r.runs:
        at = users_key(run.users)
        out.update(
            {
                f"bot_p50_ms{at}": run.p50_ms,
                f"bot_p95_ms{at}": run.p95_ms,
                f"bot_max_ms{at}": run.max_ms,
                f"bot_mean_ms{at}": run.mean_ms,
                f"bot_questions_per_s{at}": run.questions_per_s,
                f"bot_replies{at}": run.replies,
                f"bot_unanswered{at}": run.asked - run.replies,
                f"bot_rejected_requests{at}": run.rejected,
            }
        )
    return rounded(out)
