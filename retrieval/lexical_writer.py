"""A build's BM25 folder, written one stream at a time from the staged store.

``LexicalIndex`` holds both streams' token rows, vocabularies and score matrices at once, which
is what searching wants. A build wants none of that at the same time: here each stream is
tokenised (only its new chunks, read back from the staged SQLite store, unless every chunk must
be tokenised again), refitted, written and dropped before the next, so a build holds one
stream's rows, vocabulary and matrix at a time. The files are the very ones ``LexicalIndex.save``
writes for the same chunks (``tests/test_streaming_build.py`` compares them byte for byte).
"""

from __future__ import annotations

import json
import logging
import shutil
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .bm25_matrix import renumber_in_place, save_score_matrix, used_mask
from .build_vocab import BuildVocab
from .chunking import embedding_text
from .config import LexicalConfig
from .lexical import STREAMS, LexicalIndex
from .lexical_files import VOCAB, Damage, check_token_ids, read_token_rows
from .store import Store

log = logging.getLogger(__name__)

# Chunk texts tokenised per call: bounds the texts and token strings alive at once (~15 MB).
TEXTS_PER_BATCH = 512
# A stream's new words, in id order, while it is tokenised (``BuildVocab``); removed after.
_SPOOL = "vocab.spool"


def _live_ids(live: Path) -> np.ndarray | None:
    """The live BM25 folder's chunk ids, or None when its rows cannot be reused (saved by bm25s,
    before token rows were kept)."""
    damaged = Damage(live)
    with damaged.reading("ids.npy"):
        ids = np.load(live / "ids.npy")
    if len(ids) and not all((live / s / "tokens.npy").exists() for s in STREAMS):
        log.info("BM25 index without token rows: tokenising every chunk once")
        return None
    return ids


def _batches(store: Store, after: int | None) -> Iterator[tuple[list[int], list[str]]]:
    """(chunk ids, embedding texts) of the store's chunks above id ``after`` (all: None)."""
    ids: list[int] = []
    texts: list[str] = []
    for chunk_id, title, text in store.iter_chunks(after=after):
        ids.append(chunk_id)
        texts.append(embedding_text(title, text))
        if len(texts) >= TEXTS_PER_BATCH:
            yield ids, texts
            ids, texts = [], []
    if texts:
        yield ids, texts


def write_lexical(
    folder: Path, cfg: LexicalConfig, store: Store, live: Path | None, removed_ids: list[int], retokenize: bool
) -> int:
    """Write the BM25 folder of the chunks ``store`` holds into ``folder``; returns their count.

    ``live`` is the live generation's BM25 folder (None: a first build): its token rows are
    reused for the chunks kept (all but ``removed_ids``), and only chunks with higher ids, the
    new ones, are tokenised. ``retokenize`` (BM25 settings changed, or the folder damaged)
    tokenises every chunk of ``store``."""
    lex = LexicalIndex(cfg.bigrams, cfg.k1, cfg.b)  # tokenises as the index it writes would
    live_ids = None if live is None or retokenize else _live_ids(live)
    if live_ids is not None:
        keep = ~np.isin(live_ids, np.asarray(removed_ids, dtype=np.int64))
        after = int(live_ids[-1]) if len(live_ids) else None
        kept_ids = live_ids[keep]
    else:
        keep, after, kept_ids = None, None, np.zeros(0, dtype=np.int64)
    folder.mkdir(parents=True, exist_ok=True)
    ids = None
    for stream in STREAMS:
        (folder / stream).mkdir(exist_ok=True)
        tokens, lengths, vocab = _kept_rows(live, stream, live_ids, keep, folder / stream / _SPOOL)
        try:
            new_ids: list[int] = []
            for batch_ids, texts in _batches(store, after):
                new_ids += batch_ids
                lengths.append(_tokenize(lex, texts, stream, vocab, tokens))
            if ids is None:
                ids = np.concatenate([kept_ids, np.asarray(new_ids, dtype=np.int64)])
            elif len(new_ids) != len(ids) - len(kept_ids):
                raise RuntimeError("the store's chunks changed while the BM25 index was written")
            if not len(ids):
                vocab.close()
                shutil.rmtree(folder / stream)  # an empty index has no stream folders
                continue
            offsets = np.zeros(len(ids) + 1, dtype=np.int64)
            np.cumsum(np.concatenate(lengths), out=offsets[1:])
            # A view of the packed ids, no copy (a copy at 1e5 chunks is 120 MB a stream).
            rows = np.frombuffer(tokens, dtype=np.int32)
            used = _renumber(rows, len(vocab))
            n_words = vocab.write(folder / stream / VOCAB, used)
        except BaseException:
            vocab.close()
            raise
        np.save(folder / stream / "tokens.npy", rows)
        np.save(folder / stream / "offsets.npy", offsets)
        save_score_matrix(folder / stream, rows, offsets, n_words, lex.k1, lex.b)
        del rows, tokens
    ids = ids if ids is not None else np.zeros(0, dtype=np.int64)
    np.save(folder / "ids.npy", ids)
    (folder / "params.json").write_text(json.dumps({"bigrams": lex.bigrams, "k1": lex.k1, "b": lex.b}))
    return len(ids)


def _kept_rows(
    live: Path | None, stream: str, live_ids: np.ndarray | None, keep: np.ndarray | None, spool: Path
) -> tuple[array, list[np.ndarray], BuildVocab]:
    """(token ids, [row lengths], vocabulary) of the live rows a build keeps in ``stream``; the
    ids packed in an ``array`` the new chunks' tokens are appended to (it grows in place)."""
    packed = array("i")
    if live_ids is None or not len(live_ids):
        return packed, [], BuildVocab(spool)
    damaged = Damage(live)
    tokens, offsets = read_token_rows(damaged, stream, len(live_ids))
    with damaged.reading(f"{stream}/{VOCAB}"):
        vocab = BuildVocab.from_file(spool, live / stream / VOCAB)
    check_token_ids(damaged, stream, tokens, len(vocab))
    lengths = np.diff(offsets)
    if not keep.all():
        tokens = tokens[np.repeat(keep, lengths)]
        lengths = lengths[keep]
    packed.frombytes(memoryview(np.ascontiguousarray(tokens, dtype=np.int32)).cast("B"))
    return packed, [lengths], vocab


def _tokenize(lex: LexicalIndex, texts: list[str], stream: str, vocab: BuildVocab, out: array) -> np.ndarray:
    """Append the token ids of ``texts`` to ``out`` (new tokens join ``vocab``); their lengths."""
    rows = [lex.tokens(text, stream) for text in texts]
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    flat = [t for row in rows for t in row]
    del rows
    out.frombytes(memoryview(vocab.ids_of(flat)).cast("B"))
    return lengths


def _renumber(tokens: np.ndarray, n_words: int) -> np.ndarray | None:
    """Renumber ``tokens`` in place over the words still used (after removals, the vocabulary
    is what a fresh build would have); the mask of used words, None when all are."""
    used = used_mask(tokens, n_words)
    if used is not None:
        renumber_in_place(tokens, used)
    return used
