"""Reading a saved BM25 folder (``retrieval.lexical``) without trusting it: every file that cannot
be read, or disagrees with the others, becomes ``IndexDamaged`` naming it relative to the
generation folder, never a parser's traceback or a silently shorter vocabulary."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import IndexDamaged

VOCAB = "vocab.txt"


class Damage:
    """Turns what a loader raises on a bad file into ``IndexDamaged`` naming it relative to the
    generation folder ("lexical/accented/vocab.txt")."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, rel: str, detail: str) -> IndexDamaged:
        return IndexDamaged(f"{self.folder.name}/{rel}".rstrip("/"), self.folder / rel, detail)

    @contextmanager
    def reading(self, rel: str):
        try:
            yield
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            raise self(rel, f"{type(exc).__name__}: {exc}") from exc


def check_matrix(damaged: Damage, stream: str, arrays: dict[str, np.ndarray], n_words: int, n_docs: int) -> None:
    """The shapes a saved score matrix must have, checked in O(1) (plus the vocabulary's
    pointers): a file cut short or from another build fails here instead of scoring garbage."""
    data, indices, indptr = arrays["data"], arrays["indices"], arrays["indptr"]
    if indptr.ndim != 1 or len(indptr) != n_words + 1:
        # The pointers have one entry per token: a vocabulary of another length is the damaged one
        # unless the pointers themselves are not a valid array.
        raise damaged(f"{stream}/{VOCAB}" if indptr.ndim == 1 and len(indptr) else f"{stream}/indptr.npy",
                      f"{n_words} tokens for {len(indptr) - 1} columns")
    if n_words and (indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0)):
        raise damaged(f"{stream}/indptr.npy", "column pointers out of order or past the postings")
    if len(data) != len(indices) or data.ndim != 1 or indices.ndim != 1:
        raise damaged(f"{stream}/data.npy", f"{len(data)} scores for {len(indices)} postings")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n_docs):
        raise damaged(f"{stream}/indices.npy", f"rows outside 0..{n_docs - 1}")


def read_token_rows(damaged: Damage, stream: str, n_chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """A stream's kept token rows (token ids, row offsets), checked against the chunk count."""
    folder = damaged.folder / stream
    with damaged.reading(f"{stream}/tokens.npy"):
        tokens = np.load(folder / "tokens.npy")
    with damaged.reading(f"{stream}/offsets.npy"):
        offsets = np.load(folder / "offsets.npy")
    if len(offsets) != n_chunks + 1 or offsets[-1] != len(tokens):
        raise damaged(f"{stream}/offsets.npy", f"{len(offsets)} offsets for {n_chunks} chunks")
    return tokens, offsets


def check_token_ids(damaged: Damage, stream: str, tokens: np.ndarray, n_words: int) -> None:
    if len(tokens) and int(tokens.max()) >= n_words:
        raise damaged(f"{stream}/tokens.npy", "token ids past the vocabulary")


def read_rows(damaged: Damage, stream: str, n_chunks: int) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """``read_token_rows`` and the stream's vocabulary as a dict an edit can extend."""
    tokens, offsets = read_token_rows(damaged, stream, n_chunks)
    with damaged.reading(f"{stream}/{VOCAB}"):
        text = (damaged.folder / stream / VOCAB).read_text(encoding="utf-8")
    vocab = {w: i for i, w in enumerate(text.split("\n"))} if text else {}
    del text
    check_token_ids(damaged, stream, tokens, len(vocab))
    return tokens, offsets, vocab
