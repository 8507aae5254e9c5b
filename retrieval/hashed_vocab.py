"""A vocabulary held as sorted 64-bit string hashes: what search looks BM25 tokens up in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class HashedVocab:
    """Token -> id for searching, as sorted 64-bit string hashes beside their ids.

    A Python dict of the vocabulary (~2.3M tokens at 1e5 chunks, mostly syllable pairs) held
    ~350 MB of a serving process; this holds ~28 MB. Python's ``hash`` is salted per process,
    which is fine: the table is built in the process that looks tokens up. A stranger token
    colliding with a known one is a 1-in-1e13 event per lookup, and would only add one term's
    score. A build numbers new tokens with the same kind of table (``retrieval.build_vocab``).
    """

    def __init__(self, words: list[str]):
        hashes = np.fromiter(map(hash, words), dtype=np.int64, count=len(words))
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.ids = hashes[order], order.astype(np.int32)
        if len(self.hashes) > 1 and not np.all(np.diff(self.hashes)):
            raise ValueError("two vocabulary tokens share a hash")

    def get(self, token: str, default: int | None = None) -> int | None:
        h = hash(token)
        i = int(np.searchsorted(self.hashes, h))
        return int(self.ids[i]) if i < len(self.hashes) and self.hashes[i] == h else default

    def get_many(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of ``tokens`` (-1 where unknown) in one vectorised search: restoring a question's
        marks looks up hundreds of candidate syllable pairs."""
        h = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens))
        i = np.minimum(np.searchsorted(self.hashes, h), max(len(self.hashes) - 1, 0))
        if not len(self.hashes):
            return np.full(len(tokens), -1, dtype=np.int64)
        return np.where(self.hashes[i] == h, self.ids[i], -1).astype(np.int64)

    def __contains__(self, token: str) -> bool:
        return self.get(token) is not None

    def __getitem__(self, token: str) -> int:
        tid = self.get(token)
        if tid is None:
            raise KeyError(token)
        return tid

    def __len__(self) -> int:
        return len(self.ids)
