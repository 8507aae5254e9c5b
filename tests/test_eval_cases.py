"""Regression gate: our own questions over the bundled corpus (tests/eval_cases.jsonl).

The cases cover questions with and without diacritics, paraphrases, the teaser story that only
appears at the foot of the sample page, and questions the corpus cannot answer. Thresholds are
what the default configuration achieves (README, "Our own cases"), less one case at most.
"""

import json

from retrieval.config import load_config
from retrieval.evaluation import load_cases, prepare_index, run_queries
from retrieval.indexer import open_searcher

from .conftest import REPO

CASES = REPO / "tests" / "eval_cases.jsonl"


def test_cases_cover_every_kind_we_promise():
    kinds = [json.loads(line)["kind"] for line in CASES.read_text(encoding="utf-8").splitlines()]
    for kind in ("direct", "paraphrase", "unaccented", "teaser", "no answer"):
        assert any(kind in k for k in kinds), kind


def test_own_cases_gate(tmp_path, e5):
    data = load_cases(CASES)
    cfg = load_config(REPO / "config.yaml", {"index.path": str(tmp_path / "unused")})
    run_cfg, _ = prepare_index(data, cfg, e5, tmp_path / "eval", progress=False)
    searcher = open_searcher(run_cfg, e5, build_if_missing=False)[0]
    result = run_queries(searcher, data)
    m = result.metrics
    assert m["hit@1"] == 1.0  # the right story (article or teaser) first, every time
    assert m["quote@1"] >= 0.95, result.misses
    assert result.answered_rate >= 0.95, result.misses
    assert result.declined_rate >= 0.85, result.misses
