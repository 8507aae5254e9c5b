"""The bot benchmark at user counts of your choice: ``qabot bench --only bot`` (``bot/bench.py``)
runs 1 and 20 users; this runs the same code for any.

    python scripts/bench_bot.py [--users 1,5,20] [--questions 300] [--batch-ms MS] [--config FILE]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.bench import DEFAULT_QUESTIONS, bench_bot, bot_lines
from retrieval.config import load_config
from retrieval.embedder import load_embedder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1,20", help="concurrent users, one run each (comma list; default 1,20)")
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, help="per run, spread over its users")
    parser.add_argument("--batch-ms", type=float, default=None, help="embedding.query_batch_ms (default: the config's)")
    parser.add_argument("--config", help="config file (default: $QABOT_CONFIG or config.yaml)")
    parser.add_argument("--cache", default=".qabot/bench", help="where the bench's index is kept (default .qabot/bench)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    users = [int(u) for u in args.users.split(",") if u.strip()]
    cfg = load_config(args.config, {"embedding.query_batch_ms": args.batch_ms} if args.batch_ms is not None else None)
    result = bench_bot(cfg, load_embedder(cfg.embedding, install=True), Path(args.cache) / "bot", users, args.questions)
    print("\n".join(bot_lines(result)))
    return 0 if not result.rejected and all(r.replies == r.asked for r in result.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
