"""Retrieval evaluation on real questions, through the same ``Searcher`` the bot uses.

Two dataset forms (``datasets``):
- a BEIR folder (``corpus.jsonl``, ``queries.jsonl`` with optional ``answers``, ``qrels.tsv``):
  its corpus is turned into documents by the product's own ingestion (no file written) and
  indexed into an index of its own;
- a JSONL file of our own cases, one a line: ``{"question", "answer", "doc_id"?}``, run over the
  configured corpus. ``answer`` is text that must appear in the quote shown (a string or a list
  of alternatives), or null for a question the corpus does not answer. Relevance defined by the
  quote's text survives any change of chunking, unlike chunk ids.

Indexes are cached under a key of the settings that shape vectors, so a second run with the same
corpus and embedding settings embeds nothing (``runner``, which also compares config variants).
Metrics are flat functions over ranked lists (``metrics``); ``report`` renders the results.
"""

from .datasets import CORPUS_FILE, Dataset, DatasetError, dataset_corpus, load_beir, load_cases, load_dataset
from .metrics import article_metrics, contains_answer, hit_at, mrr_at, ndcg_at, quote_metrics, sentence_metrics
from .report import ARTICLE_KEYS, QUOTE_KEYS, markdown_table, result_json
from .runner import CachedEmbedder, VariantResult, compare, index_key, prepare_index, run_queries

__all__ = [
    "ARTICLE_KEYS",
    "CORPUS_FILE",
    "QUOTE_KEYS",
    "CachedEmbedder",
    "Dataset",
    "DatasetError",
    "VariantResult",
    "article_metrics",
    "compare",
    "contains_answer",
    "dataset_corpus",
    "hit_at",
    "index_key",
    "load_beir",
    "load_cases",
    "load_dataset",
    "markdown_table",
    "mrr_at",
    "ndcg_at",
    "prepare_index",
    "quote_metrics",
    "result_json",
    "run_queries",
    "sentence_metrics",
]
