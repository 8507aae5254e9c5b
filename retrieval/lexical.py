"""BM25 over Vietnamese syllables (and bigrams), in an accented and a diacritics-free stream.

bm25s does the scoring; we give it our own tokens because its default pattern drops one-letter
syllables ("ở") and its English stopword list removes Vietnamese syllables ("an", "to", "do").

BM25 scores depend on every chunk (idf, average length), so the score matrix is recomputed on
every build, but from each chunk's token ids kept beside it: a build tokenises only new chunks
and recomputes the matrix in a few numpy passes (~2 s at 1e4 chunks). Rebuilding it with bm25s
from every chunk's text took ~35 s at 1e4 chunks on every build, and its Python lists of token
strings dominated the 4.5 GB peak of a 1e5-chunk build (measured on a busy 2-core machine).
The matrix is bit for bit the one bm25s builds (its "lucene" variant); bm25s scores queries.

On disk, per stream: the score matrix (``data``/``indices``/``indptr.npy``, column-major),
``vocab.txt`` (one token a line, in id order: JSON took seconds to write and read at 1e5
chunks), and every chunk's token ids (``tokens.npy``, ``offsets.npy``). Indexes saved by
bm25s itself (before the token ids were kept) still load, and are rebuilt by the next build.
"""

from __future__ import annotations

import json
import logging
import math
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .text import lexical_tokens

try:
    import bm25s
except ImportError as exc:  # pragma: no cover - declared dependency
    raise ImportError("lexical search needs bm25s: pip install bm25s") from exc

STREAMS = ("accented", "folded")
# Postings scored per numpy pass (bounds the float64 temporaries).
_SLICE = 1 << 20
VOCAB = "vocab.txt"
logging.getLogger("bm25s").setLevel(logging.WARNING)


def _drop_unused(tokens: np.ndarray, vocab: dict[str, int]) -> tuple[np.ndarray, dict[str, int]]:
    """Token ids renumbered over the tokens still present: after removals the vocabulary (and
    what the bot takes as "words the corpus knows") is what a fresh build would have."""
    used = np.bincount(tokens, minlength=len(vocab)) > 0
    if used.all():
        return tokens, vocab
    new_id = np.cumsum(used) - 1
    return new_id[tokens].astype(np.int32), {t: int(new_id[i]) for t, i in vocab.items() if used[i]}


def _term_counts(tokens: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chunk row, token id, count) of every distinct token of every row, ordered by token, then
    row: the column-major order of bm25s's score matrix, so no second sort is needed."""
    lengths = np.diff(offsets)
    keys = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    keys |= tokens.astype(np.int64) << 32
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    if len(keys):
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    del first
    counts = np.diff(starts, append=len(keys)).astype(np.int32)
    keys = keys[starts]
    del starts
    return (keys & 0xFFFFFFFF).astype(np.int32), (keys >> 32).astype(np.int32), counts


class HashedVocab:
    """Token -> id for searching, as sorted 64-bit string hashes beside their ids.

    A Python dict of the vocabulary (~2.3M tokens at 1e5 chunks, mostly syllable pairs) held
    ~350 MB of a serving process; this holds ~28 MB. Python's ``hash`` is salted per process,
    which is fine: the table is built in the process that looks tokens up. A stranger token
    colliding with a known one is a 1-in-1e13 event per lookup, and would only add one term's
    score. Building an index still uses a plain dict (see ``LexicalIndex.update``).
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

    def __contains__(self, token: str) -> bool:
        return self.get(token) is not None

    def __getitem__(self, token: str) -> int:
        tid = self.get(token)
        if tid is None:
            raise KeyError(token)
        return tid

    def __len__(self) -> int:
        return len(self.ids)


class LexicalIndex:
    def __init__(self, bigrams: bool = True, k1: float = 1.2, b: float = 0.75):
        self.bigrams, self.k1, self.b = bigrams, k1, b
        self.ids = np.zeros(0, dtype=np.int64)
        self.models: dict[str, "bm25s.BM25"] = {}
        # Per stream, (token ids of every chunk concatenated, row offsets), row i = ids[i].
        # Loaded only when a build updates the index; searching never needs them.
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._folder: Path | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def tokens(self, text: str, stream: str, query: bool = False) -> list[str]:
        return lexical_tokens(text, folded=stream == "folded", bigrams=self.bigrams, query=query)

    def index(self, ids: Iterable[int], texts: Iterable[str]) -> None:
        """Replace the index with these chunks (``texts`` already carry their title)."""
        texts = list(texts)
        self.ids = np.asarray(list(ids), dtype=np.int64)
        for stream in STREAMS:
            vocab: dict[str, int] = {}
            self._fit(stream, vocab, *self._tokenize(texts, stream, vocab))

    def update(self, remove: Iterable[int], ids: Iterable[int], texts: Iterable[str]) -> bool:
        """Drop the chunks ``remove`` and add ``ids``/``texts``, tokenising only the added ones.

        False (and nothing changed) when this index cannot be updated: it was saved without
        token rows, or the new ids do not all follow the kept ones (rows must stay in id order,
        which search relies on). Then build it with ``index`` instead.
        """
        new_ids = np.asarray(list(ids), dtype=np.int64)
        texts = list(texts)
        keep = ~np.isin(self.ids, np.asarray(list(remove), dtype=np.int64))
        kept_ids = self.ids[keep]
        if len(new_ids) and (np.any(np.diff(new_ids) <= 0) or (len(kept_ids) and new_ids[0] <= kept_ids[-1])):
            return False
        rows = self._load_rows()
        if rows is None:
            return False
        for stream in STREAMS:
            tokens, offsets = rows[stream]
            vocab = self._build_vocab(stream)
            lengths = np.diff(offsets)[keep]
            kept = tokens[np.repeat(keep, np.diff(offsets))]
            add_tokens, add_offsets = self._tokenize(texts, stream, vocab)
            tokens = np.concatenate([kept, add_tokens])
            offsets = np.concatenate([[0], np.cumsum(lengths), len(kept) + add_offsets[1:]]).astype(np.int64)
            self._fit(stream, vocab, tokens, offsets)
        self.ids = np.concatenate([kept_ids, new_ids])
        return True

    def _tokenize(self, texts: list[str], stream: str, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of ``texts`` (new tokens are added to ``vocab``) and their row offsets."""
        # Packed int32 ids, not lists of strings (or of ints): those cost GBs at 1e5 chunks.
        ids = array("i")
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        for n, text in enumerate(texts):
            ids.extend(vocab.setdefault(t, len(vocab)) for t in self.tokens(text, stream))
            offsets[n + 1] = len(ids)
        return np.frombuffer(ids, dtype=np.int32).copy() if ids else np.zeros(0, dtype=np.int32), offsets

    def _fit(self, stream: str, vocab: dict[str, int], tokens: np.ndarray, offsets: np.ndarray) -> None:
        """The BM25 matrix of these token rows, as bm25s would build it, in a bm25s model."""
        n_docs = len(offsets) - 1
        if n_docs == 0:
            self.models[stream], self._rows[stream] = bm25s.BM25(k1=self.k1, b=self.b), (tokens, offsets)
            return
        tokens, vocab = _drop_unused(tokens, vocab)
        doc, tok, tf = _term_counts(tokens, offsets)
        df = np.bincount(tok, minlength=len(vocab))
        # bm25s "lucene": idf in float64 kept as float32, the term part in float64, scores float32
        # (the same operations, so the same bits as bm25s's builder).
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.diff(offsets).astype(np.float64)
        mean_length = lengths.mean()
        scores = np.empty(len(doc), dtype=np.float32)
        # In slices: float64 temporaries over every posting would cost GBs at 1e5 chunks.
        for a in range(0, len(doc), _SLICE):
            t = tf[a : a + _SLICE].astype(np.float64)
            norm = lengths[doc[a : a + _SLICE]]
            norm *= self.b
            norm /= mean_length
            norm += 1 - self.b
            norm *= self.k1
            norm += t
            np.divide(t, norm, out=norm)
            scores[a : a + _SLICE] = idf[tok[a : a + _SLICE]] * norm
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        self.models[stream] = self._model(vocab, {"data": scores, "indices": doc, "indptr": indptr}, n_docs)
        self._rows[stream] = (tokens, offsets)

    def _build_vocab(self, stream: str) -> dict[str, int]:
        """The vocabulary as a dict that a build can extend (a loaded index searches with a
        ``HashedVocab``, which cannot name its tokens)."""
        vocab = self.models[stream].vocab_dict
        if isinstance(vocab, dict):
            return vocab
        text = (self._folder / stream / VOCAB).read_text(encoding="utf-8")
        return {w: i for i, w in enumerate(text.split("\n"))} if text else {}

    def _load_rows(self) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
        if all(s in self._rows for s in STREAMS):
            return self._rows
        if self._folder is None or not len(self.ids):
            return None
        try:
            self._rows = {
                s: (np.load(self._folder / s / "tokens.npy"), np.load(self._folder / s / "offsets.npy")) for s in STREAMS
            }
        except FileNotFoundError:
            return None
        return self._rows

    def scores(self, query: str, stream: str) -> np.ndarray:
        """BM25 score of every indexed chunk (row order of ``self.ids``)."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        model = self.models[stream]
        # Each token looked up once (bm25s's get_scores would look each up twice more).
        found = (model.vocab_dict.get(t) for t in self.tokens(query, stream, query=True))
        token_ids = [i for i in found if i is not None]
        if not token_ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(model.get_scores_from_ids(token_ids), dtype=np.float32)

    def knows(self, token: str, stream: str) -> bool:
        """Whether some indexed chunk has this token (no copy of the vocabulary: ~1e6 entries)."""
        model = self.models.get(stream)
        return model is not None and len(self.ids) > 0 and token in model.vocab_dict

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
        if not len(self.ids):
            return
        for stream, model in self.models.items():
            sub = folder / stream
            sub.mkdir(exist_ok=True)
            for name in ("data", "indices", "indptr"):
                np.save(sub / f"{name}.npy", model.scores[name])
            words = [""] * len(model.vocab_dict)
            for word, i in model.vocab_dict.items():
                words[i] = word
            (sub / VOCAB).write_text("\n".join(words), encoding="utf-8")
            if stream in self._rows:  # else the next build tokenises every chunk again
                tokens, offsets = self._rows[stream]
                np.save(sub / "tokens.npy", tokens)
                np.save(sub / "offsets.npy", offsets)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        params = json.loads((folder / "params.json").read_text())
        lex = cls(**params)
        lex.ids = np.load(folder / "ids.npy")
        lex._folder = folder
        if not len(lex.ids):
            lex.index([], [])
            return lex
        for stream in STREAMS:
            sub = folder / stream
            if not (sub / VOCAB).exists():  # saved by bm25s
                model = bm25s.BM25.load(sub, show_progress=False, mmap=True)
                model.unique_token_ids_set = None  # see _model()
                lex.models[stream] = model
                continue
            text = (sub / VOCAB).read_text(encoding="utf-8")
            words = text.split("\n") if text else []  # no token is empty
            # Memory-mapped: a query reads only its tokens' columns, and those pages are the
            # kernel's to drop (the arrays are ~380 MB at 1e5 chunks, beside the model). An old
            # generation may be deleted while a bot still maps it; Linux keeps it readable.
            arrays = {name: np.asarray(np.load(sub / f"{name}.npy", mmap_mode="r")) for name in ("data", "indices", "indptr")}
            try:
                vocab = HashedVocab(words)
            except ValueError:  # a hash collision inside the vocabulary: never seen, but be exact
                vocab = dict(zip(words, range(len(words))))
            del words, text
            lex.models[stream] = lex._model(vocab, arrays, len(lex.ids))
        return lex

    def _model(self, vocab: "dict[str, int] | HashedVocab", arrays: dict[str, np.ndarray], n_docs: int) -> "bm25s.BM25":
        """A bm25s model around a score matrix we built or loaded (bm25s only scores queries)."""
        model = bm25s.BM25(k1=self.k1, b=self.b)
        model.scores = {**arrays, "num_docs": n_docs}
        model.vocab_dict = vocab
        model.nonoccurrence_array = None  # the "lucene" variant has none
        # Only bm25s's retrieve() reads this set (~100 MB at 1e5 chunks); we use get_scores.
        model.unique_token_ids_set = None
        return model
