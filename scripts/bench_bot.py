"""End-to-end reply latency of the bot through the fake Bot API server (not a test).

Builds a throw-away index of the bundled corpus, runs the real Application against the fake
server over loopback HTTP, and lets N users ask concurrently, each waiting for its reply before
asking the next question. Latency is measured from the moment the question is queued to the
moment the bot's (last) reply message reaches the server, so it includes long-poll pickup, the
search in the thread pool and the HTTP round trips.

    python scripts/bench_bot.py [--users 20] [--questions 200]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.app import build_application  # noqa: E402
from bot.feedback import FeedbackStore  # noqa: E402
from bot.service import QAService  # noqa: E402
from retrieval.config import parse_config  # noqa: E402
from retrieval.embedder import load_embedder  # noqa: E402
from tests.fake_telegram import TOKEN, FakeTelegram, RunningBot  # noqa: E402

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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=200, help="total, spread over the users")
    parser.add_argument("--batch-ms", type=float, default=None, help="embedding.query_batch_ms (default: the config's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    tmp = Path(tempfile.mkdtemp(prefix="qabot-bench-"))
    fake = FakeTelegram().start()
    try:
        corpus = tmp / "corpus"
        corpus.mkdir()
        shutil.copy(REPO / "corpus" / "hoi-nghi-bao-cao-vien-12-2023.txt", corpus)
        cfg = parse_config(
            {
                "corpus": {"path": str(corpus)},
                "index": {"path": str(tmp / "index")},
                **({"embedding": {"query_batch_ms": args.batch_ms}} if args.batch_ms is not None else {}),
                "telegram": {"base_url": fake.base_url, "base_file_url": fake.base_file_url, "rate_limit_per_minute": 0, "open_to_everyone": True},
            },
            tmp,
        )
        t0 = time.monotonic()
        service = QAService(cfg, load_embedder(cfg.embedding, install=True))
        service.open()
        stats = service.stats
        print(f"index ready in {time.monotonic() - t0:.1f} s; {stats.documents} articles, {stats.chunks} chunks")
        bot = RunningBot(build_application(cfg, service, TOKEN, feedback=FeedbackStore(tmp / "feedback.sqlite"))).start()

        latencies: list[float] = []
        lock = threading.Lock()
        per_user = [args.questions // args.users + (1 if i < args.questions % args.users else 0) for i in range(args.users)]

        def user(index: int) -> None:
            uid = 1000 + index
            for n in range(per_user[index]):
                question = QUESTIONS[(index + n) % len(QUESTIONS)]
                start = time.monotonic()
                seq = fake.user_message(uid, question)
                reply = fake.wait_reply(seq, uid, timeout=120)
                done = max(c.at for c in fake.calls_of("sendMessage", seq) if c.ok and (c.result or {}).get("message_id") == reply[-1].message_id)
                with lock:
                    latencies.append(done - start)

        started = time.monotonic()
        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        bot.stop()
        service.close()

        ms = [x * 1000 for x in latencies]
        print(f"{len(ms)} questions from {args.users} concurrent users in {wall:.1f} s ({len(ms) / wall:.1f} questions/s)")
        print(
            f"reply latency ms: p50 {statistics.median(ms):.0f}  p95 {percentile(ms, 95):.0f}  "
            f"max {max(ms):.0f}  mean {statistics.mean(ms):.0f}"
        )
        rejected = fake.rejected()
        print(f"requests Telegram would have rejected: {len(rejected)}")
        for call in rejected[:5]:
            print(f"  {call.method}: {call.error}")
        return 0 if not rejected and len(ms) == args.questions else 1
    finally:
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
