"""A BM25 stream's vocabulary while a build tokenises: ids by 64-bit string hash, words on disk.

``LexicalIndex`` keeps its vocabulary in a dict of token strings; at 1e5 chunks that is ~1.2M
strings a stream (mostly syllable pairs), ~200 MB of small Python objects that, once freed, stay
resident as fragmented heap. Here the build holds sorted hashes and their ids (12 bytes a token)
and writes each new word to a spool file as it is first seen: ids are given in first-seen order,
so the spool is the vocabulary in id order, and ``write`` filters it into ``vocab.txt``.

Python's ``hash`` of a string is salted per process, which is fine: the table lives and dies
with the build's process. Two tokens of one stream sharing a 64-bit hash (~1e-7 a build at 1e5
chunks) would be counted as one; among the live vocabulary's words, or among one batch's new
words, a shared hash is detected and refused (a new process draws a new salt). The live
vocabulary's words stay in its ``vocab.txt`` (``from_file``): only their hashes are read in.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from pathlib import Path

import numpy as np


class HashCollision(RuntimeError):
    """Two tokens share a hash in this process: run the build again (another salt)."""


class BuildVocab:
    def __init__(self, spool: Path, base: Path | None = None):
        self.spool, self.base = spool, base  # words in id order: those of ``base``, then spooled
        # newline="\n" here and when read back: a word is whatever lies between two "\n".
        self.file = open(spool, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed by write or close)
        self.hashes = np.zeros(0, dtype=np.int64)  # sorted
        self.ids = np.zeros(0, dtype=np.int32)  # id of each hash
        self.size = 0

    @classmethod
    def from_file(cls, spool: Path, path: Path) -> BuildVocab:
        """A vocabulary holding the words of ``path`` (``vocab.txt``: one a line, in id order)."""
        vocab = cls(spool, base=path)
        hashes = [np.fromiter(map(hash, words), dtype=np.int64, count=len(words)) for words in _lines(path)]
        all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.int64)
        del hashes
        order = np.argsort(all_hashes, kind="stable")
        vocab.hashes, vocab.ids, vocab.size = all_hashes[order], order.astype(np.int32), len(all_hashes)
        if len(vocab.hashes) > 1 and not np.all(np.diff(vocab.hashes)):
            vocab.close()
            raise HashCollision("two BM25 tokens share a hash in this process: run the build again")
        return vocab

    def __len__(self) -> int:
        return self.size

    def _append(self, words: Sequence[str], hashes: np.ndarray | None = None) -> None:
        """Give ``words`` (unknown, distinct) the next ids, in order."""
        if not len(words):
            return
        if hashes is None:
            hashes = np.fromiter(map(hash, words), dtype=np.int64, count=len(words))
        order = np.argsort(hashes, kind="stable")
        new_hashes = hashes[order]
        if np.any(new_hashes[1:] == new_hashes[:-1]) or np.any(self._find(new_hashes) >= 0):
            raise HashCollision("two BM25 tokens share a hash in this process: run the build again")
        at = np.searchsorted(self.hashes, new_hashes)
        self.hashes = np.insert(self.hashes, at, new_hashes)
        self.ids = np.insert(self.ids, at, (self.size + order).astype(np.int32))
        self.size += len(words)
        self.file.write("".join(w + "\n" for w in words))

    def _find(self, hashes: np.ndarray) -> np.ndarray:
        """Ids of these hashes, -1 where unknown."""
        if not len(self.hashes):
            return np.full(len(hashes), -1, dtype=np.int32)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        return np.where(self.hashes[at] == hashes, self.ids[at], -1).astype(np.int32)

    def ids_of(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of ``tokens`` (int32, in order); tokens never seen get the next ids in the order
        they first occur, as ``dict.setdefault(token, len(vocab))`` token by token would."""
        hashes = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens))
        ids = self._find(hashes)
        unknown = np.flatnonzero(ids < 0)
        if len(unknown):
            uniq, first, inverse = np.unique(hashes[unknown], return_index=True, return_inverse=True)
            if len(set(map(tokens.__getitem__, unknown))) != len(uniq):
                raise HashCollision("two BM25 tokens share a hash in this process: run the build again")
            by_first = np.argsort(first, kind="stable")  # new words in first-seen order
            rank = np.empty(len(uniq), dtype=np.int32)
            rank[by_first] = np.arange(len(uniq), dtype=np.int32)
            start = self.size
            self._append([tokens[i] for i in unknown[first[by_first]]], uniq[by_first])
            ids[unknown] = start + rank[inverse.reshape(-1)]
        return ids

    def write(self, path: Path, used: np.ndarray | None = None) -> int:
        """Write the words (those ``used`` marks, when given) to ``path``, one a line, in id
        order; returns how many. The spool is removed."""
        self.file.close()
        n, i = 0, 0
        with open(path, "w", encoding="utf-8", newline="\n") as dest:
            for source in (self.base, self.spool):
                if source is None:
                    continue
                for words in _lines(source):
                    i += len(words)
                    if used is not None:
                        words = list(compress(words, used[i - len(words) : i]))
                    if words:
                        dest.write(("\n" if n else "") + "\n".join(words))
                        n += len(words)
        self.spool.unlink()
        return n

    def close(self) -> None:
        self.file.close()
        self.spool.unlink(missing_ok=True)


def _lines(path: Path, size: int = 1 << 20):
    """The lines of a file of words (``\n``-separated, the last one may lack it) as lists, a
    MB at a time: reading line by line cost seconds at 1e6 words."""
    rest = ""
    with open(path, encoding="utf-8", newline="\n") as f:
        while chunk := f.read(size):
            words = (rest + chunk).split("\n")
            rest = words.pop()
            if words:
                yield words
    if rest:
        yield [rest]
