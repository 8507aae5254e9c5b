"""The ``qabot`` command: the only place that prints, and where core errors become messages."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .config import Config, ConfigError, load_config
from .formatting import answer_json, answer_text

log = logging.getLogger(__name__)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="config file (default: $QABOT_CONFIG or config.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qabot", description="Cited answers from Vietnamese news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="bring the index in line with the corpus folder (incremental)")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="re-embed everything (after changing model or chunking)")

    p = sub.add_parser("ask", help="answer a question from the command line")
    _common(p)
    p.add_argument("question", nargs="+", help="the question, in Vietnamese (diacritics optional)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-k", "--top-k", type=int, help="passages to show (default: retrieval.top_k)")
    return parser


def _summary_lines(summary) -> list[str]:
    lines = [
        f"documents: {len(summary.added)} added, {len(summary.changed)} changed, {len(summary.removed)} removed, "
        f"{summary.unchanged} unchanged, {len(summary.failed)} failed",
        f"chunks embedded: {summary.chunks_embedded}; index now holds {summary.documents} documents, "
        f"{summary.chunks} chunks ({summary.seconds:.1f} s)",
    ]
    lines += [f"  failed: {p.path}: {p.reason}" for p in summary.failed]
    lines += [f"  skipped: {p.path}: {p.reason}" for p in summary.skipped]
    return lines


def cmd_index(cfg: Config, args) -> int:
    from .embedder import load_embedder
    from .indexer import build_index

    summary = build_index(cfg, load_embedder(cfg.embedding), rebuild=args.rebuild, progress=True)
    print("\n".join(_summary_lines(summary)))
    return 0


def cmd_ask(cfg: Config, args) -> int:
    from .embedder import load_embedder
    from .indexer import build_index, live_generation, load_index, manifest_for
    from .search import Searcher

    embedder = load_embedder(cfg.embedding)
    if live_generation(cfg.index.path) is None:
        print("No index yet: building it from", cfg.corpus.path, file=sys.stderr)
        summary = build_index(cfg, embedder, progress=True)
        print("\n".join(_summary_lines(summary)), file=sys.stderr)
    index = load_index(cfg.index.path, manifest_for(cfg, embedder))
    answer = Searcher(index, embedder, cfg.retrieval).search(" ".join(args.question), top_k=args.top_k)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        print(answer_text(answer, bold=sys.stdout.isatty()))
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from .indexer import IndexProblem

    try:
        cfg = load_config(args.config)
        return COMMANDS[args.command](cfg, args)
    except (ConfigError, IndexProblem, FileNotFoundError, ImportError, ValueError) as exc:
        print(f"qabot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qabot: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
