"""BM25 over Vietnamese syllables (and bigrams), in an accented and a diacritics-free stream.

bm25s does the scoring; we give it our own tokens because its default pattern drops one-letter
syllables ("ở") and its English stopword list removes Vietnamese syllables ("an", "to", "do").

BM25 scores depend on every chunk (idf, average length), so the score matrix is recomputed on
every build, but from each chunk's token ids kept beside it: a build tokenises only new chunks
and recomputes the matrix in a few numpy passes (~2 s at 1e4 chunks). Rebuilding it with bm25s
from every chunk's text took ~35 s at 1e4 chunks on every build, and its Python lists of token
strings dominated the 4.5 GB peak of a 1e5-chunk build (measured on a busy 2-core machine).
The matrix is bit for bit the one bm25s builds (its "lucene" variant; ``retrieval.bm25_matrix``
builds it in blocks of rows); bm25s scores queries. This class holds both streams at once, as
searching wants; a build writes the same files one stream at a time (``retrieval.lexical_writer``).

On disk, per stream: the score matrix (``data``/``indices``/``indptr.npy``, column-major),
``vocab.txt`` (one token a line, in id order: JSON took seconds to write and read at 1e5
chunks), and every chunk's token ids (``tokens.npy``, ``offsets.npy``). Indexes saved by
bm25s itself (before the token ids were kept) still load, and are rebuilt by the next build.

``load`` reads the score matrices into memory rather than mapping them: a mapped file truncated
under a running bot killed it with SIGBUS (no exception, no log). That costs the matrices'
size in resident memory (~380 MB at 1e5 chunks; the pages a query touched were resident anyway).
A file that cannot be parsed, or whose shape disagrees with the others (a truncated
``vocab.txt`` would otherwise shift every token's column), is ``IndexDamaged`` naming it.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .bm25_matrix import drop_unused, score_matrix
from .errors import MissingDependency
from .hashed_vocab import HashedVocab
from .lexical_files import VOCAB, Damage, check_matrix, read_rows
from .query import ACCENTED, FOLDED
from .restore import vocabulary_forms
from .text import lexical_tokens

try:
    import bm25s
except ImportError as exc:  # pragma: no cover - declared dependency
    raise MissingDependency("lexical search needs bm25s: pip install bm25s") from exc

STREAMS = (ACCENTED, FOLDED)


class TokenRowsMissing(Exception):
    """The index was saved without its chunks' token rows, so it cannot be edited: build anew."""


def words_in_order(vocab: dict[str, int]) -> list[str]:
    """A vocabulary's tokens in id (column) order."""
    words = [""] * len(vocab)
    for word, i in vocab.items():
        words[i] = word
    return words


class LexicalIndex:
    """Both BM25 streams over one set of chunk ids, with the verbs every part of an index has:
    ``add``, ``remove``, ``search``, ``scores``, ``save``, ``load``.

    Edits (``add``/``remove``) only change the kept token rows; the score matrices are refitted
    once, before the next search or save, so a build that removes and adds pays for one fit.
    """

    def __init__(self, bigrams: bool = True, k1: float = 1.2, b: float = 0.75):
        self.bigrams, self.k1, self.b = bigrams, k1, b
        self.ids = np.zeros(0, dtype=np.int64)  # row i of every matrix is chunk ids[i], ascending
        self.models: dict[str, bm25s.BM25] = {}
        # Per stream, (token ids of every chunk concatenated, row offsets) and the vocabulary as a
        # dict a build can extend. None on a loaded index until an edit needs them: searching
        # never does. An index saved without rows cannot be edited (TokenRowsMissing).
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] | None = {
            s: (np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64)) for s in STREAMS
        }
        self._vocabs: dict[str, dict[str, int]] | None = {s: {} for s in STREAMS}
        self._folder: Path | None = None
        self._stale = True  # the matrices do not reflect the rows yet
        # Folded syllable -> accented forms and the syllables' total chunk frequency, for
        # restoring the marks of unmarked questions (``retrieval.restore``); made from the
        # accented vocabulary at load (its words are gone after it) or on first use.
        self._forms: tuple[dict[str, tuple[str, ...]], float] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def tokens(self, text: str, stream: str) -> list[str]:
        """The tokens a chunk's text is indexed under in ``stream``."""
        return lexical_tokens(text, folded=stream == FOLDED, bigrams=self.bigrams)

    # --- editing --------------------------------------------------------------------------------

    def add(self, ids: Iterable[int], texts: Iterable[str]) -> None:
        """Index these chunks (``texts`` already carry their title). Ids must be above every kept
        id and ascending (SQLite's AUTOINCREMENT ids are), so rows stay in id order."""
        new_ids = np.asarray(list(ids), dtype=np.int64)
        texts = list(texts)
        if not len(new_ids):
            return
        if np.any(np.diff(new_ids) <= 0) or (len(self.ids) and new_ids[0] <= self.ids[-1]):
            raise ValueError("chunk ids must be ascending and above every indexed id")
        self._editable()
        for stream in STREAMS:
            tokens, offsets = self._rows[stream]
            add_tokens, add_offsets = self._tokenize(texts, stream, self._vocabs[stream])
            self._rows[stream] = (
                np.concatenate([tokens, add_tokens]),
                np.concatenate([offsets, offsets[-1] + add_offsets[1:]]).astype(np.int64),
            )
        self.ids = np.concatenate([self.ids, new_ids])
        self._stale = True

    def remove(self, ids: Iterable[int]) -> None:
        """Drop these chunks (ids not indexed are ignored)."""
        keep = ~np.isin(self.ids, np.asarray(list(ids), dtype=np.int64))
        if keep.all():
            return
        self._editable()
        for stream in STREAMS:
            tokens, offsets = self._rows[stream]
            lengths = np.diff(offsets)
            self._rows[stream] = (
                tokens[np.repeat(keep, lengths)],
                np.concatenate([[0], np.cumsum(lengths[keep])]).astype(np.int64),
            )
        self.ids = self.ids[keep]
        self._stale = True

    def load_rows(self) -> None:
        """Read the token rows a build edits now (``IndexDamaged`` if one is damaged); an index
        saved without them is fine: its next build tokenises every chunk."""
        try:
            self._editable()
        except TokenRowsMissing:
            pass

    def _editable(self) -> None:
        """Load the token rows and extendable vocabularies of a loaded index."""
        if self._rows is not None and self._vocabs is not None:
            return
        if self._folder is None or not all((self._folder / s / "tokens.npy").exists() for s in STREAMS):
            raise TokenRowsMissing("this BM25 index was saved without token rows")
        damaged = Damage(self._folder)
        rows, vocabs = {}, {}
        for s in STREAMS:
            tokens, offsets, vocabs[s] = read_rows(damaged, s, len(self.ids))
            rows[s] = (tokens, offsets)
        self._rows, self._vocabs = rows, vocabs

    def _tokenize(self, texts: list[str], stream: str, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of ``texts`` (new tokens are added to ``vocab``) and their row offsets."""
        # Packed int32 ids, not lists of strings (or of ints): those cost GBs at 1e5 chunks.
        ids = array("i")
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        for n, text in enumerate(texts):
            ids.extend(vocab.setdefault(t, len(vocab)) for t in self.tokens(text, stream))
            offsets[n + 1] = len(ids)
        return np.frombuffer(ids, dtype=np.int32).copy() if ids else np.zeros(0, dtype=np.int32), offsets

    def _fitted(self) -> None:
        """Refit the score matrices after edits."""
        if not self._stale:
            return
        for stream in STREAMS:
            tokens, vocab = drop_unused(self._rows[stream][0], self._vocabs[stream])
            self._rows[stream] = (tokens, self._rows[stream][1])
            self._vocabs[stream] = vocab
            self.models[stream] = self._fit(vocab, *self._rows[stream])
        self._stale = False
        self._forms = None

    def _fit(self, vocab: dict[str, int], tokens: np.ndarray, offsets: np.ndarray) -> bm25s.BM25:
        """The BM25 matrix of these token rows, as bm25s would build it, in a bm25s model."""
        n_docs = len(offsets) - 1
        if n_docs == 0:
            return bm25s.BM25(k1=self.k1, b=self.b)
        return self._model(vocab, score_matrix(tokens, offsets, len(vocab), self.k1, self.b), n_docs)

    # --- searching ------------------------------------------------------------------------------

    def _vocab_ids(self, tokens: Sequence[str], stream: str) -> np.ndarray:
        """Ids of ``tokens`` in the stream's vocabulary, -1 where unknown, in one lookup: each
        numpy call lets go of the GIL, and with searches side by side getting it back took a
        third of a search's time when each token was looked up alone."""
        vocab = self.models[stream].vocab_dict
        if isinstance(vocab, HashedVocab):
            return vocab.get_many(tokens)
        return np.fromiter((vocab.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))

    def _token_ids(self, tokens: Iterable[str], stream: str) -> list[int]:
        """Ids of the query tokens the stream knows, in query order (repeats kept, as BM25 counts
        a repeated query token twice)."""
        tokens = list(tokens)
        return [i for i in self._vocab_ids(tokens, stream).tolist() if i >= 0] if tokens else []

    def search(self, tokens: Sequence[str], k: int, stream: str, include: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of up to ``k`` chunks with a positive BM25 score for the query tokens (in
        no particular order: callers fuse and sort). With ``include``, those chunks are added
        (ids ascending, then): their scores come from the same single scoring pass."""
        self._fitted()
        scores = self._all_scores(tokens, stream)
        k = min(k, len(scores))
        rows = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
        rows = rows[scores[rows] > 0]
        if include is None:
            return self.ids[rows], scores[rows]
        ids = np.union1d(self.ids[rows], include)
        found = np.searchsorted(self.ids, ids)
        known = found < len(self.ids)
        known[known] = self.ids[found[known]] == ids[known]
        out = np.zeros(len(ids), dtype=np.float32)
        out[known] = scores[found[known]] if len(scores) else 0
        return ids, out

    def _all_scores(self, tokens: Sequence[str], stream: str) -> np.ndarray:
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        token_ids = self._token_ids(tokens, stream)
        if not token_ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.models[stream].get_scores_from_ids(token_ids), dtype=np.float32)

    def scores(self, tokens: Sequence[str], ids: np.ndarray, stream: str) -> np.ndarray:
        """BM25 scores of the given chunks: the very values a full scoring gives them (float32
        sums in query-token order, as bm25s adds them), at the cost of a binary search per token
        and chunk instead of a pass over every posting."""
        self._fitted()
        out = np.zeros(len(ids), dtype=np.float32)
        if not len(ids) or not len(self.ids):
            return out
        rows = np.searchsorted(self.ids, np.asarray(ids, dtype=np.int64))
        found = rows < len(self.ids)
        found[found] = self.ids[rows[found]] == np.asarray(ids)[found]
        rows = rows.astype(self.models[stream].scores["indices"].dtype)
        m = self.models[stream].scores
        for tid in self._token_ids(tokens, stream):
            a, b = int(m["indptr"][tid]), int(m["indptr"][tid + 1])
            postings = m["indices"][a:b]  # rows holding the token, ascending
            pos = np.searchsorted(postings, rows)
            hit = found & (pos < len(postings))
            hit[hit] = postings[pos[hit]] == rows[hit]
            out[hit] += m["data"][a + pos[hit]]
        return out

    def knows(self, token: str, stream: str) -> bool:
        """Whether some indexed chunk has this token (no copy of the vocabulary: ~1e6 entries)."""
        self._fitted()
        model = self.models.get(stream)
        return model is not None and len(self.ids) > 0 and token in model.vocab_dict

    def idf(self, token: str, stream: str) -> float:
        """BM25 idf of a token; an unseen token gets the highest idf the corpus can give."""
        return self.idfs([token], stream)[0]

    def idfs(self, tokens: Sequence[str], stream: str) -> list[float]:
        """``idf`` of each of ``tokens``, looked up together."""
        n = len(self.ids)
        return [math.log(1 + (n - df + 0.5) / (df + 0.5)) for df in self.freqs(tokens, stream).tolist()]

    def freqs(self, tokens: Sequence[str], stream: str) -> np.ndarray:
        """Number of chunks holding each token (0: unknown), in one vectorised lookup."""
        self._fitted()
        model = self.models.get(stream)
        if model is None or not len(self.ids) or not len(tokens):
            return np.zeros(len(tokens), dtype=np.int64)
        ids = self._vocab_ids(tokens, stream)
        indptr = model.scores["indptr"]
        known = ids >= 0
        out = np.zeros(len(tokens), dtype=np.int64)
        out[known] = indptr[ids[known] + 1] - indptr[ids[known]]
        return out

    def syllable_forms(self) -> tuple[dict[str, tuple[str, ...]], float]:
        """(folded syllable -> accented forms, most frequent first; total chunk frequency of
        the accented syllables): what ``retrieval.restore`` needs beside ``freqs``."""
        self._fitted()
        if self._forms is None:
            model = self.models.get(ACCENTED)
            vocab = model.vocab_dict if model is not None and len(self.ids) else {}
            if isinstance(vocab, HashedVocab):
                raise RuntimeError("syllable forms of a loaded index are made at load (restoring=True)")
            words = words_in_order(vocab)
            self._forms = vocabulary_forms(words, model.scores["indptr"] if words else np.zeros(1, dtype=np.int64))
        return self._forms

    # --- files ----------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        if self._rows is None:
            # Loaded and never edited (a build that repairs only the vectors): a loaded
            # vocabulary is hashes, so the matrices are refitted from the kept token rows.
            try:
                self._editable()
                self._stale = True
            except TokenRowsMissing:
                pass  # saved by bm25s: its vocabulary is a plain dict, written as it is
        self._fitted()
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
            (sub / VOCAB).write_text("\n".join(words_in_order(model.vocab_dict)), encoding="utf-8")
            if self._rows is not None:  # else the next build tokenises every chunk again
                tokens, offsets = self._rows[stream]
                np.save(sub / "tokens.npy", tokens)
                np.save(sub / "offsets.npy", offsets)

    @classmethod
    def load(cls, folder: Path, restoring: bool = True) -> LexicalIndex:
        """The index saved in ``folder``, in memory; ``IndexDamaged`` naming the first file that
        cannot be read or disagrees with the others. ``restoring=False`` (a build, which never
        restores a question) skips the table ``syllable_forms`` needs: ~0.3 s at 1e5 chunks."""
        damaged = Damage(folder)
        with damaged.reading("params.json"):
            params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
            lex = cls(bigrams=bool(params["bigrams"]), k1=float(params["k1"]), b=float(params["b"]))
        with damaged.reading("ids.npy"):
            ids = np.load(folder / "ids.npy")
        if ids.ndim != 1 or ids.dtype != np.int64 or (len(ids) > 1 and np.any(np.diff(ids) <= 0)):
            raise damaged("ids.npy", f"not ascending int64 chunk ids ({ids.dtype}, shape {ids.shape})")
        if not len(ids):
            return lex
        lex.ids, lex._folder, lex._rows, lex._vocabs, lex._stale = ids, folder, None, None, False
        for stream in STREAMS:
            sub = folder / stream
            if not (sub / VOCAB).exists():  # saved by bm25s
                with damaged.reading(f"{stream}/"):
                    model = bm25s.BM25.load(sub, show_progress=False, mmap=False)
                model.unique_token_ids_set = None  # see _model()
                lex.models[stream] = model
                continue
            with damaged.reading(f"{stream}/{VOCAB}"):
                text = (sub / VOCAB).read_text(encoding="utf-8")
            words = text.split("\n") if text else []  # no token is empty
            arrays = {}
            for name in ("data", "indices", "indptr"):
                with damaged.reading(f"{stream}/{name}.npy"):
                    arrays[name] = np.load(sub / f"{name}.npy")
            check_matrix(damaged, stream, arrays, len(words), len(ids))
            if stream == ACCENTED and restoring:  # the words are dropped below: hashes keep no strings
                lex._forms = vocabulary_forms(words, arrays["indptr"])
            try:
                vocab = HashedVocab(words)
            except ValueError:  # a hash collision inside the vocabulary: never seen, but be exact
                vocab = dict(zip(words, range(len(words))))
            del words, text
            lex.models[stream] = lex._model(vocab, arrays, len(lex.ids))
        return lex

    def _model(self, vocab: dict[str, int] | HashedVocab, arrays: dict[str, np.ndarray], n_docs: int) -> bm25s.BM25:
        """A bm25s model around a score matrix we built or loaded (bm25s only scores queries)."""
        model = bm25s.BM25(k1=self.k1, b=self.b)
        model.scores = {**arrays, "num_docs": n_docs}
        model.vocab_dict = vocab
        model.nonoccurrence_array = None  # the "lucene" variant has none
        # Only bm25s's retrieve() reads this set (~100 MB at 1e5 chunks); we use get_scores.
        model.unique_token_ids_set = None
        return model
