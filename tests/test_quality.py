"""Retrieval quality gates on real Vietnamese data from ../shared/data (slow: embeds the corpus).

Thresholds sit a little under what the default configuration measures (README, "Measured"), so
a change that makes retrieval clearly worse fails here.
"""


import pytest

from retrieval.config import load_config
from retrieval.evaluation import load_beir, prepare_index, run_queries
from retrieval.indexer import open_searcher

from .conftest import REPO, SHARED_DATA

pytestmark = pytest.mark.slow


def evaluate(name: str, e5, unaccented: bool = False):
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing: the eval data lives beside the repo in shared/data")
    data = load_beir(folder)
    cfg = load_config(REPO / "config.yaml")
    run_cfg, _ = prepare_index(data, cfg, e5, REPO / ".qabot" / "eval", progress=False)
    searcher = open_searcher(run_cfg, e5, build_if_missing=False)[0]
    return run_queries(searcher, data, unaccented=unaccented)


def test_vinewsqa_dev(e5):
    m = evaluate("vinewsqa-dev", e5).metrics
    assert m["hit@1"] >= 0.78 and m["hit@5"] >= 0.88 and m["mrr@10"] >= 0.83
    assert m["quote@1"] >= 0.74 and m["quote@5"] >= 0.83  # the quote shown holds the answer


def test_vinewsqa_dev_without_diacritics(e5):
    m = evaluate("vinewsqa-dev", e5, unaccented=True).metrics
    assert m["hit@1"] >= 0.74 and m["hit@5"] >= 0.86 and m["quote@1"] >= 0.70


def test_xquad_vi(e5):
    m = evaluate("xquad-vi", e5).metrics
    assert m["hit@1"] >= 0.93 and m["quote@1"] >= 0.92
