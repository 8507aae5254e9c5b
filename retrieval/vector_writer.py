"""Embedding a build's chunk texts in batches as they are produced, straight into the dense index.

A build used to gather every new chunk's text, embed them all into one array and only then add
the array to FAISS: at 1e5 chunks that held ~150 MB of texts and ~150 MB of vectors beside the
index itself. Here at most ``EMBED_TEXTS`` texts wait at a time, and their vectors go into the
index as soon as they are made.

Texts are handed to the embedder in exactly the batches ``Embedder.embed`` would have cut from
the whole sequence (every flush is a whole number of ``batch_size`` batches), so a batch's
padding, and with it every vector, is what embedding everything at once gave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .dense import DenseIndex
from .embedder import PASSAGE, Embedder

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)

# Texts embedded per flush (rounded down to whole embedder batches, at least one).
EMBED_TEXTS = 1024


class VectorWriter:
    """``add`` (chunk ids, texts) as a build makes them; ``finish`` embeds what is left. Every
    text is embedded once, in order, and its vector added to ``dense`` under its id."""

    def __init__(self, embedder: Embedder, dense: DenseIndex, total: int, progress: bool = False, on_embedded: Progress | None = None):
        self.embedder, self.dense, self.total, self.on_embedded = embedder, dense, total, on_embedded
        self.step = max(embedder.batch_size, 1)
        self.flush_at = max(EMBED_TEXTS // self.step, 1) * self.step
        self.ids: list[int] = []
        self.texts: list[str] = []
        self.done = 0
        self.bar = None
        if progress and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="Embedding", unit="chunk")

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} chunk ids for {len(texts)} texts")
        self.ids.extend(ids)
        self.texts.extend(texts)
        while len(self.texts) >= self.flush_at:
            self._embed(self.flush_at)

    def finish(self) -> None:
        if self.texts:
            self._embed(len(self.texts))
        if self.bar is not None:
            self.bar.close()

    def _embed(self, n: int) -> None:
        ids, texts = self.ids[:n], self.texts[:n]
        del self.ids[:n], self.texts[:n]
        vectors = np.empty((n, self.embedder.dim), dtype=np.float32)
        for i in range(0, n, self.step):
            batch = texts[i : i + self.step]
            vectors[i : i + len(batch)] = self.embedder.embed(batch, PASSAGE)
            self.done += len(batch)
            if self.bar is not None:
                self.bar.update(len(batch))
            if self.on_embedded is not None:
                self.on_embedded(self.done, self.total)
        self.dense.add(np.asarray(ids, dtype=np.int64), vectors)
