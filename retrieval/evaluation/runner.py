"""Running an eval: each dataset indexed once per vector settings into a cache of its own, every
question through the same ``Searcher`` the bot uses, and variants of the config compared."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..chunking import SPLITTER_VERSION
from ..config import Config, FollowupConfig, load_config
from ..embedder import Embedder, load_embedder
from ..followup import Turn, next_turn, search_in_context, turn_of
from ..indexer import IndexSummary, build_index, index_corpus, open_searcher
from ..ingest import FileProblem
from ..manifest import manifest_for, vector_settings
from ..search import Answer
from ..text import fold
from .datasets import CORPUS_FILE, Dataset, conversations, dataset_corpus
from .metrics import article_metrics, contains_answer, hit_at, quote_metrics, sentence_metrics


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
    shaping = vector_settings(manifest_for(cfg, embedder))
    shaping["splitter"] = SPLITTER_VERSION  # evals must measure today's chunking
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:12]


def prepare_index(data: Dataset, cfg: Config, embedder: Embedder, cache_root: Path, progress: bool = True) -> tuple[Config, IndexSummary]:
    """Index the dataset's corpus (or, for our own cases, the configured corpus folder) through
    the product pipeline, into a cached index of its own: the live index is never touched.
    Returns ``cfg`` pointed at that index, and the build's summary (records or files that could
    not be read in ``summary.failed``). A BEIR corpus is never written out: its documents go
    straight to the build, and ``cfg.corpus`` is left as it was."""
    key = index_key(cfg, embedder)
    if data.corpus is not None:
        run_cfg = replace(cfg, index=replace(cfg.index, path=cache_root / data.name / key))
        corpus = dataset_corpus(data)
        summary = build_index(corpus.documents, run_cfg, embedder, progress=progress)
        summary.failed = corpus.failed
        return run_cfg, summary
    corpus_dir = Path(cfg.corpus.path).resolve()
    work = cache_root / f"{data.name}-{hashlib.sha256(str(corpus_dir).encode()).hexdigest()[:8]}"
    run_cfg = replace(cfg, corpus=replace(cfg.corpus, path=corpus_dir), index=replace(cfg.index, path=work / key))
    return run_cfg, index_corpus(run_cfg, embedder, progress=progress)


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
    searcher,
    data: Dataset,
    unaccented: bool = False,
    limit: int | None = None,
    name: str = "default",
    progress: bool = False,
    ask: Callable[[str, str], Answer] | None = None,
) -> VariantResult:
    """Every question through ``searcher`` (or ``ask(qid, question)``, which answers it as a
    protocol wants: see ``run_followups``). A miss: the first result is wrong, or the question
    was declined though answerable, or answered though the corpus cannot answer it."""
    from tqdm import tqdm

    prefix = CORPUS_FILE + "#" if data.corpus is not None else ""
    runs, found, times, answered, declined, misses = {}, {}, [], 0, 0, []
    sentence_found: dict[str, bool] = {}  # the first hit's highlighted sentence holds an answer
    qids = list(data.queries)[:limit] if limit else list(data.queries)
    for qid in tqdm(qids, desc=f"{name}: questions", unit="q", disable=not progress, leave=False):
        q = fold(data.queries[qid]) if unaccented else data.queries[qid]
        t0 = time.perf_counter()
        ans = ask(qid, q) if ask is not None else searcher.search(q, top_k=10)
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
            sentence_found[qid] = bool(ans.hits) and contains_answer(ans.hits[0].quote[slice(*ans.hits[0].highlight)], data.answers[qid])
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
                    "got_title": first.doc.title if first else None,
                    "got_quote": first.quote[:300] if first else None,
                }
            )
    metrics = {**article_metrics(runs, data.relevant_docs), **quote_metrics(found), **sentence_metrics(found, sentence_found)}
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


def compare(
    data: Dataset,
    config_path: str | os.PathLike | None,
    base: dict,
    variants: list[tuple[str, dict]],
    cache_root: Path,
    *,
    unaccented: bool = False,
    limit: int | None = None,
    progress: bool = False,
    on_skipped: Callable[[str, FileProblem], None] | None = None,
    on_done: Callable[[str], None] | None = None,
    followups: bool = False,
) -> list[VariantResult]:
    """Every question under each ``(name, overrides)`` variant of the config at ``config_path``
    (``base`` overrides apply to all; the caller passes the plain one, ``("default", {})``,
    first). Variants with the same embedding settings share one embedder and its query vectors,
    and with the same vector settings one cached index. ``on_skipped(name, problem)`` hears of
    every corpus record or file that could not be read; ``on_done(name)`` of each finished variant.
    ``followups``: each variant also runs the follow-up and topic-switch protocols
    (``run_followups``), as rows "follow-up" and "topic-switch" (prefixed "<variant> " after the
    first variant)."""
    embedders: dict[str, CachedEmbedder] = {}
    results = []
    for name, overrides in variants:
        cfg = load_config(config_path, {**base, **overrides})
        key = repr(cfg.embedding)
        if key not in embedders:
            embedders[key] = CachedEmbedder(load_embedder(cfg.embedding, install=True))
        embedder = embedders[key]
        run_cfg, summary = prepare_index(data, cfg, embedder, cache_root, progress=progress)
        if on_skipped is not None:
            for problem in summary.failed:
                on_skipped(name, problem)
        searcher, _ = open_searcher(run_cfg, embedder, build_if_missing=False)
        results.append(run_queries(searcher, data, unaccented=unaccented, limit=limit, name=name, progress=progress))
        if followups:
            prefix = "" if not results[:-1] else f"{name} "
            results += run_followups(searcher, cfg.followup, data, unaccented=unaccented, limit=limit, prefix=prefix, progress=progress)
        if on_done is not None:
            on_done(name)
    return results


FOLLOWUP_SEED = 12  # the topic-switch protocol's random previous questions: the same every run


def run_followups(
    searcher,
    fcfg: FollowupConfig,
    data: Dataset,
    unaccented: bool = False,
    limit: int | None = None,
    prefix: str = "",
    progress: bool = False,
    seed: int = FOLLOWUP_SEED,
) -> list[VariantResult]:
    """The questions asked in a simulated chat (``retrieval.followup``), as two results:

    - "follow-up": each question right after the previous question of the same article, in the
      dataset's order, the previous answer's articles shown (a chat per article; its first
      question has no previous one and is asked alone);
    - "topic-switch", the control: each question right after a question of another article
      picked at random (fixed seed), that question answered alone.

    Questions must come grouped by article (``conversations``)."""
    qids = list(data.queries)[:limit] if limit else list(data.queries)
    chats = conversations(data, qids)
    text = {q: fold(data.queries[q]) if unaccented else data.queries[q] for q in data.queries}
    shown = searcher.cfg.top_k  # the articles a reply shows, remembered as the turn
    after = {q: chat[i - 1] for chat in chats for i, q in enumerate(chat) if i}
    turns: dict[str, Turn] = {}

    def follow_up(qid: str, q: str) -> Answer:
        result = search_in_context(searcher, q, turns.get(after.get(qid, "")), fcfg, top_k=10)
        turns[qid] = next_turn(q, result, shown=shown)
        return result.answer

    rng = random.Random(seed)
    article_of = {q: i for i, chat in enumerate(chats) for q in chat}
    others = [q for chat in chats for q in chat]
    switch_from: dict[str, str] = {}
    for qid in qids:
        while True:
            other = others[rng.randrange(len(others))]
            if article_of[other] != article_of[qid] or len(chats) == 1:
                break
        switch_from[qid] = other
    cold: dict[str, Turn] = {}

    def topic_switch(qid: str, q: str) -> Answer:
        other = switch_from[qid]
        if other not in cold:
            cold[other] = turn_of(text[other], searcher.search(text[other], top_k=shown))
        return search_in_context(searcher, q, cold[other], fcfg, top_k=10).answer

    return [
        run_queries(searcher, data, unaccented, limit, f"{prefix}follow-up", progress, ask=follow_up),
        run_queries(searcher, data, unaccented, limit, f"{prefix}topic-switch", progress, ask=topic_switch),
    ]
