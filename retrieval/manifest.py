"""What must match between an index and the configuration that searches it.

An index records the settings that shaped it (model, vector size, chunking, BM25 tokens); opening
it with other settings is refused rather than quietly mixing, say, vectors of two models.

The dense index's kind (flat or IVF, ``index.dense``) and IVF codes are not recorded: both hold
the same vectors and ``DenseIndex.load`` reads either, so a change is no mismatch; a build
re-makes the dense part when the configuration asks for another (``dense.needs_refit``).
"""

from __future__ import annotations

from pathlib import Path

from .config import Config
from .embedder import Embedder
from .errors import IndexMismatch
from .text import TOKENS_VERSION

SCHEMA_VERSION = 1
# Keys of the manifest that a build can change without embedding anything again: BM25 is
# refitted from each chunk's text, so only the other keys force a full re-embed.
LEXICAL = "lexical"


def manifest_for(cfg: Config, embedder: Embedder) -> dict:
    """The settings an index built from ``cfg`` with ``embedder`` records."""
    return {
        "schema": SCHEMA_VERSION,
        "model": embedder.name,
        "dim": embedder.dim,
        "chunking": {"max_tokens": cfg.chunking.max_tokens, "overlap_tokens": cfg.chunking.overlap_tokens},
        LEXICAL: {"bigrams": cfg.lexical.bigrams, "k1": cfg.lexical.k1, "b": cfg.lexical.b, "tokens": TOKENS_VERSION},
    }


def vector_settings(manifest: dict) -> dict:
    """The part of a manifest that shapes vectors and chunk spans (everything but BM25)."""
    return {k: v for k, v in manifest.items() if k != LEXICAL}


def check_manifest(found: dict, wanted: dict, where: Path) -> None:
    """Raise ``IndexMismatch`` naming every key of ``wanted`` that ``found`` has otherwise."""
    diffs = [
        f"{key}: index has {found.get(key)!r}, config asks for {value!r}"
        for key, value in wanted.items()
        if found.get(key) != value
    ]
    if diffs:
        raise IndexMismatch(
            f"the index in {where} was built with other settings ({'; '.join(diffs)}). "
            "Re-index with: qabot index --rebuild"
        )
