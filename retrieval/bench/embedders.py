"""The bench's embedders: a stand-in that makes random vectors for the scale sections, and the
warm-up a real model gets before it is timed."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np

from ..embedder import PASSAGE, QUERY, Embedder


class RandomVectorEmbedder(Embedder):
    """Bench only: random unit vectors in place of the model's, and the model's token counts.

    A flat FAISS scan, the stored-vector lookups and fusion cost the same whatever the vectors
    hold, so 100k chunks can be indexed and searched without hours of embedding. Vectors are a
    function of the text (seeded by its CRC), so a query always gets the same one, and are cached,
    so once a question has been seen its "embedding" costs a dict lookup.
    """

    def __init__(self, dim: int, name: str, count_tokens: Callable[[Sequence[str]], list[int]] | None = None, batch_size: int = 256):
        self.dim, self.batch_size = dim, batch_size
        self.name = f"random-unit-{dim} (bench stand-in for {name})"
        self._count = count_tokens
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def vector(self, text: str, kind: str) -> np.ndarray:
        key = (kind, text)
        vec = self._cache.get(key)
        if vec is None:
            rng = np.random.default_rng(zlib.crc32(f"{kind}\n{text}".encode("utf-8")))
            vec = rng.standard_normal(self.dim).astype(np.float32)
            vec /= np.linalg.norm(vec)
            if kind == QUERY:  # passages are seen once; only queries repeat
                self._cache[key] = vec
        return vec

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        return np.vstack([self.vector(t, kind) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._count is None:
            raise RuntimeError("this bench embedder was made for searching only; it cannot count tokens")
        return self._count(texts)


def warm_up(embedder: Embedder) -> None:
    """The first calls into a model allocate and pick kernels (~1 s); that is not throughput."""
    embedder.embed(["Khởi động mô hình."] * 2, PASSAGE)
    embedder.embed(["Câu hỏi khởi động?"], QUERY)
