"""Retrieval evaluation on BEIR-layout data (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``).

Metrics are flat functions over ranked id lists. The dataset's corpus is ingested through the
product's own pipeline into an index of its own (keyed by the settings that shape the index), so
a second run with the same settings embeds nothing, and every query goes through the same
``Searcher`` the bot uses.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .config import Config
from .embedder import Embedder
from .text import fold

CORPUS_FILE = "corpus.jsonl"


@dataclass
class Dataset:
    name: str
    corpus: dict[str, dict]  # doc id -> {"title", "text"}
    queries: dict[str, str]  # query id -> text
    relevant_docs: dict[str, set[str]]  # query id -> relevant doc ids


def load_beir(folder: Path) -> Dataset:
    corpus = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            corpus[str(rec["_id"])] = {"title": rec.get("title") or "", "text": rec["text"]}
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            queries[str(rec["_id"])] = rec["text"]
    relevant: dict[str, set[str]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as f:
        for n, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if n == 0 and not parts[-1].lstrip("-").isdigit():
                continue
            if len(parts) >= 3 and int(parts[2]) > 0:
                relevant.setdefault(parts[0], set()).add(parts[1])
    queries = {q: t for q, t in queries.items() if q in relevant}
    return Dataset(folder.name, corpus, queries, relevant)


# --- metrics -------------------------------------------------------------------------------------


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return float(any(d in relevant for d in ranked[:k]))


def mrr_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def article_metrics(runs: dict[str, list[str]], relevant_docs: dict[str, set[str]]) -> dict[str, float]:
    qids = list(runs)
    out = {f"hit@{k}": float(np.mean([hit_at(runs[q], relevant_docs[q], k) for q in qids])) for k in (1, 3, 5, 10)}
    out["mrr@10"] = float(np.mean([mrr_at(runs[q], relevant_docs[q], 10) for q in qids]))
    out["ndcg@10"] = float(np.mean([ndcg_at(runs[q], relevant_docs[q], 10) for q in qids]))
    return out


# --- running -------------------------------------------------------------------------------------


class CachedEmbedder(Embedder):
    """Remembers query vectors so several variants over one query set embed each query once."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dim, self.batch_size = inner, inner.name, inner.dim, inner.batch_size
        self.cache: dict[tuple[str, str], np.ndarray] = {}

    def encode(self, texts, kind):
        missing = [t for t in texts if (kind, t) not in self.cache]
        if missing:
            for t, v in zip(missing, self.inner.encode(missing, kind)):
                self.cache[(kind, t)] = v
        return np.vstack([self.cache[(kind, t)] for t in texts])

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


def index_key(cfg: Config, embedder: Embedder) -> str:
    """Index folder name: settings that change vectors get their own; BM25 ones share it."""
    from .indexer import manifest_for

    shaping = {k: v for k, v in manifest_for(cfg, embedder).items() if k != "lexical"}
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:12]


def prepare_index(data: Dataset, cfg: Config, embedder: Embedder, cache_root: Path, progress: bool = True):
    """Ingest the dataset's corpus through the product pipeline into a cached index."""
    from .indexer import build_index

    work = cache_root / data.name
    corpus_dir = work / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": i, "title": d["title"], "text": d["text"]}, ensure_ascii=False) for i, d in data.corpus.items()]
    text = "\n".join(lines) + "\n"
    file = corpus_dir / CORPUS_FILE
    if not file.exists() or file.read_text(encoding="utf-8") != text:
        file.write_text(text, encoding="utf-8")
    run_cfg = replace(cfg, corpus=replace(cfg.corpus, path=corpus_dir), index=replace(cfg.index, path=work / index_key(cfg, embedder)))
    return run_cfg, build_index(run_cfg, embedder, progress=progress)


@dataclass
class VariantResult:
    name: str
    metrics: dict[str, float]
    answered_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    misses: list[dict] = field(default_factory=list)


def run_queries(searcher, data: Dataset, unaccented: bool = False, limit: int | None = None, name: str = "default") -> VariantResult:
    prefix = CORPUS_FILE + "#"
    runs, times, answered, misses = {}, [], 0, []
    qids = list(data.queries)[:limit] if limit else list(data.queries)
    for qid in qids:
        q = fold(data.queries[qid]) if unaccented else data.queries[qid]
        t0 = time.perf_counter()
        ans = searcher.search(q, top_k=10)
        times.append((time.perf_counter() - t0) * 1000)
        answered += ans.answered
        runs[qid] = [h.doc_id[len(prefix) :] if h.doc_id.startswith(prefix) else h.doc_id for h in ans.hits]
        if not hit_at(runs[qid], data.relevant_docs[qid], 1):
            first = ans.hits[0] if ans.hits else None
            misses.append(
                {
                    "question": q,
                    "expected": sorted(data.relevant_docs[qid]),
                    "got": runs[qid][:1],
                    "got_title": first.title if first else None,
                    "got_quote": first.quote[:300] if first else None,
                }
            )
    metrics = article_metrics(runs, {q: data.relevant_docs[q] for q in runs})
    return VariantResult(
        name,
        metrics,
        answered / max(len(qids), 1),
        float(np.percentile(times, 50)) if times else 0.0,
        float(np.percentile(times, 95)) if times else 0.0,
        misses,
    )


def markdown_table(results: list[VariantResult]) -> str:
    keys = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
    head = "| variant | " + " | ".join(keys) + " | answered | p50 ms | p95 ms |"
    sep = "|" + "---|" * (len(keys) + 4)
    rows = [
        f"| {r.name} | " + " | ".join(f"{r.metrics[k]:.3f}" for k in keys)
        + f" | {r.answered_rate:.3f} | {r.latency_p50_ms:.1f} | {r.latency_p95_ms:.1f} |"
        for r in results
    ]
    return "\n".join([head, sep, *rows])
