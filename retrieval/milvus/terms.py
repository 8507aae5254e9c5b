"""BM25 as two sparse vectors whose inner product is our BM25 score (pure: no Milvus here).

Milvus's built-in BM25 function does not fit Vietnamese (its analyzer keeps ``hà_nội`` whole and
has no whitespace tokenizer in Lite), so the engine stores our own weights. A chunk's BM25 score
for a question is ``sum over question tokens of idf(token) * tf_part(token, chunk)``, with

    tf_part = tf / (tf + k1 * (1 - b + b * length / avgdl))

(bm25s's "lucene" variant, the formula ``retrieval.bm25_matrix`` computes in the same order of
float operations). A chunk row carries its ``tf_part`` of each of its tokens as a sparse vector
(one a stream: accented, folded); a question becomes a sparse vector of ``idf x count``; their
inner product, which Milvus computes and ranks by, is then exactly the local backend's score.

Two numbers are corpus-wide and live in ``CorpusStats``, stored in the engine with each
published build:

- document frequencies (the idf goes into the question's vector, so a build that adds or
  removes chunks only updates counts, never the other chunks' rows);
- the average length. It is inside every row's weights, so a build *pins* the average it wrote
  them with and writes every row again only when the live average drifts more than
  ``AVGDL_DRIFT`` from it. Chunks are cut to at most ``chunking.max_tokens`` tokens, so the
  average barely moves as an archive grows; a fresh build pins the exact average (same scores as
  the local backend to float32 rounding).

Token ids (the sparse dimensions) are handed out once and never reused, so a row written by an
earlier build keeps meaning the same tokens. A hash of the token would need no table, but 1e6
tokens in 2^32 dimensions collide ~100 times.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# Relative drift of the live average chunk length from the pinned one that makes a build write
# every row's weights again (0.02 moves a BM25 term by at most ~1% for typical tf and b).
AVGDL_DRIFT = 0.02


@dataclass
class StreamStats:
    """One token stream's corpus statistics."""

    ids: dict[str, int] = field(default_factory=dict)  # token -> sparse dimension, never reused
    df: dict[int, int] = field(default_factory=dict)  # dimension -> live chunks holding it (> 0)
    total_length: int = 0  # tokens of every live chunk
    avgdl: float = 0.0  # the average length the stored weights were computed with (pinned)

    def id_of(self, token: str, next_id: list[int]) -> int:
        """The token's dimension, handing out the next one (``next_id[0]``) to a new token."""
        tid = self.ids.get(token)
        if tid is None:
            tid = self.ids[token] = next_id[0]
            next_id[0] += 1
        return tid


@dataclass
class CorpusStats:
    """What a published build knows of its corpus: counts for BM25 and for people, and the
    counters a next build continues from."""

    chunks: int = 0
    documents: int = 0
    streams: dict[str, StreamStats] = field(default_factory=dict)
    dates: dict[str, int] = field(default_factory=dict)  # ISO date -> documents, for /status
    next_token: int = 0
    next_row: int = 1  # row keys of the chunks collection
    next_chunk: int = 1  # chunk ids, as SQLite's AUTOINCREMENT: never reused
    next_doc: int = 1

    def stream(self, name: str) -> StreamStats:
        return self.streams.setdefault(name, StreamStats())

    def idfs(self, tokens: Sequence[str], stream: str) -> list[float]:
        """BM25 idf of each token, as ``LexicalIndex.idfs`` computes it (unknown: df 0)."""
        s = self.streams.get(stream)
        n = self.chunks
        out = []
        for t in tokens:
            df = s.df.get(s.ids.get(t, -1), 0) if s is not None else 0
            out.append(math.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def knows(self, token: str, stream: str) -> bool:
        s = self.streams.get(stream)
        return s is not None and self.chunks > 0 and s.df.get(s.ids.get(token, -1), 0) > 0

    def date_range(self) -> tuple[str | None, str | None]:
        dated = sorted(d for d, n in self.dates.items() if n > 0 and d[:1].isdigit())
        return (dated[0], dated[-1]) if dated else (None, None)

    def drifted(self, stream: str) -> bool:
        """Whether the live average length left the pinned one by more than ``AVGDL_DRIFT``."""
        s = self.streams.get(stream)
        if s is None or not self.chunks:
            return False
        live = s.total_length / self.chunks
        return s.avgdl <= 0 or abs(live / s.avgdl - 1) > AVGDL_DRIFT

    # --- an open format: JSON, compressed, in text parts the engine can hold -------------------

    def dumps(self) -> str:
        """ASCII text of these statistics (zlib-compressed JSON in base64)."""
        # Tokens no live chunk holds are left out: a row that still carries one belongs to a
        # superseded build, and the token gets a new dimension if it comes back.
        live = {name: {t: i for t, i in s.ids.items() if s.df.get(i, 0) > 0} for name, s in self.streams.items()}
        streams = {
            name: {
                "tokens": list(live[name]), "ids": list(live[name].values()),
                "df": [s.df[i] for i in live[name].values()],
                "total_length": s.total_length, "avgdl": s.avgdl,
            }
            for name, s in self.streams.items()
        }
        data = {
            "version": 1, "chunks": self.chunks, "documents": self.documents, "dates": self.dates,
            "next_token": self.next_token, "next_row": self.next_row, "next_chunk": self.next_chunk,
            "next_doc": self.next_doc, "streams": streams,
        }
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    @classmethod
    def loads(cls, text: str) -> CorpusStats:
        """The statistics ``dumps`` wrote; ``ValueError`` when the text is not such a record."""
        try:
            data = json.loads(zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True)))
            if data.get("version") != 1:
                raise ValueError(f"statistics of version {data.get('version')!r}")
            stats = cls(
                chunks=int(data["chunks"]), documents=int(data["documents"]),
                dates={str(k): int(v) for k, v in data["dates"].items()},
                next_token=int(data["next_token"]), next_row=int(data["next_row"]),
                next_chunk=int(data["next_chunk"]), next_doc=int(data["next_doc"]),
            )
            for name, s in data["streams"].items():
                ids = dict(zip(s["tokens"], map(int, s["ids"])))
                df = {int(i): int(n) for i, n in zip(s["ids"], s["df"])}
                stats.streams[name] = StreamStats(ids, df, int(s["total_length"]), float(s["avgdl"]))
        except (ValueError, TypeError, KeyError, AttributeError, zlib.error, UnicodeDecodeError) as exc:
            raise ValueError(f"unreadable corpus statistics: {exc}") from exc
        return stats


def tf_parts(tokens: Sequence[str], ids: dict[str, int], avgdl: float, k1: float, b: float) -> dict[int, float]:
    """A chunk's sparse vector in one stream: ``tf_part`` of each of its distinct tokens, keyed by
    dimension (every token must have one). The float64 operations are ``score_segments``'s."""
    if not tokens:
        return {}
    norm = float(len(tokens))
    norm *= b
    norm /= avgdl
    norm += 1 - b
    norm *= k1
    return {ids[t]: tf / (norm + tf) for t, tf in Counter(tokens).items()}


def question_vector(tokens: Sequence[str], stats: CorpusStats, stream: str) -> dict[int, float]:
    """The question's sparse vector: idf (as float32, like the local matrix) times the count of
    each known token, so a repeated token counts twice as it does locally."""
    s = stats.streams.get(stream)
    if s is None:
        return {}
    out: dict[int, float] = {}
    known = [t for t in tokens if s.df.get(s.ids.get(t, -1), 0) > 0]
    for t, idf in zip(known, stats.idfs(known, stream)):
        tid = s.ids[t]
        out[tid] = out.get(tid, 0.0) + float(np.float32(idf))
    return out
