"""BM25 over Vietnamese syllables (and bigrams), in an accented and a diacritics-free stream.

bm25s does the scoring; we give it our own tokens because its default pattern drops one-letter
syllables ("ở") and its English stopword list removes Vietnamese syllables ("an", "to", "do").
bm25s cannot update in place, so the index is rebuilt from the stored chunks: a few seconds at
1e5 chunks, and no embedding is involved.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .text import lexical_tokens

try:
    import bm25s
except ImportError as exc:  # pragma: no cover - declared dependency
    raise ImportError("lexical search needs bm25s: pip install bm25s") from exc

STREAMS = ("accented", "folded")
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    def __init__(self, bigrams: bool = True, k1: float = 1.2, b: float = 0.75):
        self.bigrams, self.k1, self.b = bigrams, k1, b
        self.ids = np.zeros(0, dtype=np.int64)
        self.models: dict[str, "bm25s.BM25"] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def tokens(self, text: str, stream: str, query: bool = False) -> list[str]:
        return lexical_tokens(text, folded=stream == "folded", bigrams=self.bigrams, query=query)

    def index(self, ids: Iterable[int], texts: Iterable[str]) -> None:
        """Replace the index with these chunks (``texts`` already carry their title)."""
        texts = list(texts)
        self.ids = np.asarray(list(ids), dtype=np.int64)
        self.models = {}
        for stream in STREAMS:
            model = bm25s.BM25(k1=self.k1, b=self.b)
            if texts:
                model.index([self.tokens(t, stream) for t in texts], show_progress=False)
            self.models[stream] = model

    def scores(self, query: str, stream: str) -> np.ndarray:
        """BM25 score of every indexed chunk (row order of ``self.ids``)."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        toks = [t for t in self.tokens(query, stream, query=True) if t in self.models[stream].vocab_dict]
        if not toks:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.models[stream].get_scores(toks), dtype=np.float32)

    def idf(self, token: str, stream: str) -> float:
        """BM25 idf of a token; an unseen token gets the highest idf the corpus can give."""
        model = self.models[stream]
        n = len(self.ids)
        tid = model.vocab_dict.get(token)
        df = 0
        if tid is not None:
            indptr = model.scores["indptr"]
            df = int(indptr[tid + 1] - indptr[tid])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self.ids)
        (folder / "params.json").write_text(json.dumps({"bigrams": self.bigrams, "k1": self.k1, "b": self.b}))
        if len(self.ids):
            for stream, model in self.models.items():
                model.save(folder / stream, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        params = json.loads((folder / "params.json").read_text())
        lex = cls(**params)
        lex.ids = np.load(folder / "ids.npy")
        if len(lex.ids):
            lex.models = {s: bm25s.BM25.load(folder / s, show_progress=False) for s in STREAMS}
        else:
            lex.index([], [])
        return lex
