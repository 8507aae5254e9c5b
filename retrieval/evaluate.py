"""Retrieval evaluation on real questions, through the same ``Searcher`` the bot uses.

Two dataset forms:
- a BEIR folder (``corpus.jsonl``, ``queries.jsonl`` with optional ``answers``, ``qrels.tsv``):
  its corpus is ingested through the product's own pipeline into an index of its own;
- a JSONL file of our own cases, one a line: ``{"question", "answer", "doc_id"?}``, run over the
  configured corpus. ``answer`` is text that must appear in the quote shown (a string or a list
  of alternatives), or null for a question the corpus does not answer. Relevance defined by the
  quote's text survives any change of chunking, unlike chunk ids.

Indexes are cached under a key of the settings that shape them, so a second run with the same
corpus and embedding settings embeds nothing. Metrics are flat functions over ranked lists.
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
from .text import clean_whitespace, fold, normalize_marks

CORPUS_FILE = "corpus.jsonl"


class DatasetError(ValueError):
    """An eval dataset that cannot be read; the message names the file and line."""


@dataclass
class Dataset:
    name: str
    corpus: dict[str, dict] | None  # doc id -> {"title", "text"}; None: the configured corpus
    queries: dict[str, str]  # query id -> text
    relevant_docs: dict[str, set[str]]  # query id -> relevant doc ids (article level)
    answers: dict[str, list[str]] = field(default_factory=dict)  # query id -> answer strings
    no_answer: set[str] = field(default_factory=set)  # query ids the corpus does not answer


def _jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{n}: not JSON ({exc.msg})") from None


def load_beir(folder: Path) -> Dataset:
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise DatasetError(f"{folder} is not a BEIR folder: {name} is missing")
    corpus = {str(r["_id"]): {"title": r.get("title") or "", "text": r["text"]} for _, r in _jsonl(folder / "corpus.jsonl")}
    queries, answers = {}, {}
    for _, rec in _jsonl(folder / "queries.jsonl"):
        queries[str(rec["_id"])] = rec["text"]
        if rec.get("answers"):
            answers[str(rec["_id"])] = [a for a in rec["answers"] if a.strip()]
    relevant: dict[str, set[str]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as f:
        for n, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if n == 0 and not parts[-1].lstrip("-").isdigit():
                continue
            if len(parts) >= 3 and int(parts[2]) > 0:
                relevant.setdefault(parts[0], set()).add(parts[1])
    queries = {q: t for q, t in queries.items() if q in relevant}
    return Dataset(folder.name, corpus, queries, relevant, {q: a for q, a in answers.items() if q in queries})


def load_cases(path: Path) -> Dataset:
    """Our own eval cases, run over the configured corpus (see the module docstring)."""
    queries, relevant, answers, no_answer = {}, {}, {}, set()
    for n, rec in _jsonl(path):
        qid = str(rec.get("id", n))
        question = rec.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"{path}:{n}: a case needs a non-empty \"question\"")
        if "answer" not in rec:
            raise DatasetError(f"{path}:{n}: a case needs \"answer\" (text the quote must contain, or null)")
        queries[qid] = question
        answer = rec["answer"]
        if answer is None:
            no_answer.add(qid)
            continue
        alternatives = [answer] if isinstance(answer, str) else list(answer)
        if not alternatives or not all(isinstance(a, str) and a.strip() for a in alternatives):
            raise DatasetError(f"{path}:{n}: \"answer\" must be text, a list of texts, or null")
        answers[qid] = alternatives
        if rec.get("doc_id"):
            relevant[qid] = {str(rec["doc_id"])}
    if not queries:
        raise DatasetError(f"{path}: no cases")
    return Dataset(path.stem, None, queries, relevant, answers, no_answer)


def load_dataset(path: Path) -> Dataset:
    """A BEIR folder or a JSONL file of our own cases."""
    if path.is_dir():
        return load_beir(path)
    if path.is_file():
        return load_cases(path)
    raise DatasetError(f"{path}: no such dataset (a BEIR folder or a .jsonl file of cases)")


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
    if not qids:
        return {}
    out = {f"hit@{k}": float(np.mean([hit_at(runs[q], relevant_docs[q], k) for q in qids])) for k in (1, 3, 5, 10)}
    out["mrr@10"] = float(np.mean([mrr_at(runs[q], relevant_docs[q], 10) for q in qids]))
    out["ndcg@10"] = float(np.mean([ndcg_at(runs[q], relevant_docs[q], 10) for q in qids]))
    return out


def _comparable(text: str) -> str:
    return normalize_marks(clean_whitespace(text).replace("\n", " ")).casefold()


def contains_answer(quote: str, answers: Sequence[str]) -> bool:
    """Whether the quote shows one of the answer strings (case, spacing and tone placement aside)."""
    quote = _comparable(quote)
    return any(_comparable(a) in quote for a in answers)


def quote_metrics(found: dict[str, list[bool]]) -> dict[str, float]:
    """Quote-level metrics from, per question, whether each quote shown (in rank order) holds an
    answer string."""
    if not found:
        return {}
    marks = list(found.values())
    out = {f"quote@{k}": float(np.mean([any(m[:k]) for m in marks])) for k in (1, 3, 5, 10)}
    out["quote_mrr@10"] = float(np.mean([next((1.0 / (i + 1) for i, x in enumerate(m[:10]) if x), 0.0) for m in marks]))
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
    from .chunking import SPLITTER_VERSION
    from .indexer import manifest_for

    shaping = {k: v for k, v in manifest_for(cfg, embedder).items() if k != "lexical"}
    shaping["splitter"] = SPLITTER_VERSION  # evals must measure today's chunking
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:12]


def prepare_index(data: Dataset, cfg: Config, embedder: Embedder, cache_root: Path, progress: bool = True):
    """Index the dataset's corpus (or, for our own cases, the configured corpus folder) through
    the product pipeline, into a cached index of its own: the live index is never touched."""
    from .indexer import build_index

    if data.corpus is None:
        corpus_dir = Path(cfg.corpus.path).resolve()
        work = cache_root / f"{data.name}-{hashlib.sha256(str(corpus_dir).encode()).hexdigest()[:8]}"
    else:
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
    metrics: dict[str, float]  # article level (hit@k, mrr@10, ndcg@10) and quote level (quote@k, ...)
    answered_rate: float  # share of answerable questions answered
    latency_p50_ms: float
    latency_p95_ms: float
    declined_rate: float | None = None  # share of no-answer questions correctly declined
    misses: list[dict] = field(default_factory=list)


def run_queries(
    searcher, data: Dataset, unaccented: bool = False, limit: int | None = None, name: str = "default", progress: bool = False
) -> VariantResult:
    """Every question through ``searcher``. A miss: the first result is wrong, or the question was
    declined though answerable, or answered though the corpus cannot answer it."""
    from tqdm import tqdm

    prefix = CORPUS_FILE + "#" if data.corpus is not None else ""
    runs, found, times, answered, declined, misses = {}, {}, [], 0, 0, []
    qids = list(data.queries)[:limit] if limit else list(data.queries)
    for qid in tqdm(qids, desc=f"{name}: questions", unit="q", disable=not progress, leave=False):
        q = fold(data.queries[qid]) if unaccented else data.queries[qid]
        t0 = time.perf_counter()
        ans = searcher.search(q, top_k=10)
        times.append((time.perf_counter() - t0) * 1000)
        doc_ids = [h.doc_id[len(prefix) :] if prefix and h.doc_id.startswith(prefix) else h.doc_id for h in ans.hits]
        ok = True
        if qid in data.no_answer:
            declined += not ans.answered
            ok = not ans.answered
        else:
            answered += ans.answered
            ok = ans.answered  # the bot said "not found": the user got nothing
        if qid in data.relevant_docs:
            runs[qid] = doc_ids
            ok = ok and hit_at(doc_ids, data.relevant_docs[qid], 1) > 0
        if qid in data.answers:
            found[qid] = [contains_answer(h.quote, data.answers[qid]) for h in ans.hits]
            ok = ok and bool(found[qid][:1] and found[qid][0])
        if not ok:
            first = ans.hits[0] if ans.hits else None
            misses.append(
                {
                    "question": q,
                    "expected": sorted(data.relevant_docs.get(qid, ())) or None,
                    "answer": data.answers.get(qid),
                    "expected_no_answer": qid in data.no_answer,
                    "answered": ans.answered,
                    "got": doc_ids[:1],
                    "got_title": first.title if first else None,
                    "got_quote": first.quote[:300] if first else None,
                }
            )
    metrics = {**article_metrics(runs, data.relevant_docs), **quote_metrics(found)}
    n_no = sum(1 for q in qids if q in data.no_answer)
    return VariantResult(
        name,
        metrics,
        answered / max(len(qids) - n_no, 1),
        float(np.percentile(times, 50)) if times else 0.0,
        float(np.percentile(times, 95)) if times else 0.0,
        declined / n_no if n_no else None,
        misses,
    )


ARTICLE_KEYS = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
QUOTE_KEYS = ["quote@1", "quote@3", "quote@5", "quote@10", "quote_mrr@10"]


def result_json(r: VariantResult) -> dict:
    """One variant's figures: article-level metrics first, under their plain names."""
    out = {k: r.metrics[k] for k in ARTICLE_KEYS + QUOTE_KEYS if k in r.metrics}
    out["answered"] = r.answered_rate
    if r.declined_rate is not None:
        out["declined"] = r.declined_rate
    out.update(p50_ms=r.latency_p50_ms, p95_ms=r.latency_p95_ms)
    return out


def markdown_table(results: list[VariantResult]) -> str:
    rows = [result_json(r) for r in results]
    keys = [k for k in rows[0] if not k.endswith("_ms")]
    head = "| variant | " + " | ".join(keys) + " | p50 ms | p95 ms |"
    sep = "|" + "---|" * (len(keys) + 3)
    lines = [
        f"| {r.name} | " + " | ".join(f"{row.get(k, float('nan')):.3f}" for k in keys)
        + f" | {r.latency_p50_ms:.1f} | {r.latency_p95_ms:.1f} |"
        for r, row in zip(results, rows)
    ]
    return "\n".join([head, sep, *lines])
