"""Retrieval metrics as flat functions: article level over ranked doc ids (hit, MRR, nDCG), and
quote level over whether each quote shown holds an answer string."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..text import clean_whitespace, normalize_marks


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


def sentence_metrics(found: dict[str, list[bool]], sentence_found: dict[str, bool]) -> dict[str, float]:
    """Whether the first hit's highlighted sentence holds an answer string: ``sentence@1`` over
    all questions with answers, and ``sentence_of_quote@1`` among the questions whose first quote
    holds one (the highlight can only be right when the quote is; that share says how often the
    user's eye is led to the answer once the quote has it)."""
    if not sentence_found:
        return {}
    qids = list(sentence_found)
    quote_hits = [q for q in qids if found.get(q, [])[:1] == [True]]
    out = {"sentence@1": float(np.mean([sentence_found[q] for q in qids]))}
    out["sentence_of_quote@1"] = float(np.mean([sentence_found[q] for q in quote_hits])) if quote_hits else 0.0
    return out
