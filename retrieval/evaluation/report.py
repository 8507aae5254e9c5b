"""Eval results as text: one variant's figures as JSON-ready data, all variants as a table."""

from __future__ import annotations

from .runner import VariantResult

ARTICLE_KEYS = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
QUOTE_KEYS = ["quote@1", "quote@3", "quote@5", "quote@10", "quote_mrr@10", "sentence@1", "sentence_of_quote@1"]


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
