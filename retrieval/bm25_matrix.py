"""The BM25 score matrix of kept token rows, built in blocks of rows.

The matrix is bm25s's "lucene" one, bit for bit (the same float operations per posting), in its
column-major layout: ``indptr`` over token ids, ``indices`` the chunk rows of each token,
ascending, ``data`` the scores.

Built in blocks so its memory is the result plus one block: sorting (row, token) keys of every
token of every chunk at once took ~670 MB over the result at 1e5 chunks (int64 keys, their
sort, the distinct positions and counts, all alive together). Two passes over the blocks: the
first counts each token's chunks (the column sizes), the second drops every posting straight
into its place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Tokens per block: bounds the int64 keys and float64 temporaries (~25 MB at 1<<19).
BLOCK_TOKENS = 1 << 19
# Postings a build writes per pass (``save_score_matrix``): data and indices of a 1e5-chunk
# stream (~25M postings, 200 MB) held at once were most of the build's peak after the rows.
SEGMENT_POSTINGS = 6 << 20


def drop_unused(tokens: np.ndarray, vocab: dict[str, int]) -> tuple[np.ndarray, dict[str, int]]:
    """Token ids renumbered over the tokens still present: after removals the vocabulary (and
    what the bot takes as "words the corpus knows") is what a fresh build would have. A
    writable ``tokens`` is renumbered in place."""
    used = used_mask(tokens, len(vocab))
    if used is None:
        return tokens, vocab
    out = tokens if tokens.flags.writeable else tokens.copy()
    new_id = renumber_in_place(out, used)
    return out, {t: int(new_id[i]) for t, i in vocab.items() if used[i]}


def used_mask(tokens: np.ndarray, n_words: int) -> np.ndarray | None:
    """Which of ``n_words`` ids occur in ``tokens``; None when all of them do."""
    # A mask, not np.bincount: bincount copies every token id to int64 first (240 MB at 1e5
    # chunks).
    used = np.zeros(n_words, dtype=bool)
    used[tokens] = True
    return None if used.all() else used


def renumber_in_place(tokens: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Renumber ``tokens`` over the ``used`` ids, keeping their order; returns old -> new id."""
    new_id = (np.cumsum(used) - 1).astype(np.int32)
    # In slices: a whole-array take or fancy index copies every id to int64 first.
    for a in range(0, len(tokens), BLOCK_TOKENS):
        tokens[a : a + BLOCK_TOKENS] = new_id[tokens[a : a + BLOCK_TOKENS]]
    return new_id


def _blocks(offsets: np.ndarray):
    """(first row, end row) of consecutive rows holding about ``BLOCK_TOKENS`` tokens each."""
    n_rows = len(offsets) - 1
    first = 0
    while first < n_rows:
        end = int(np.searchsorted(offsets, offsets[first] + BLOCK_TOKENS, side="right")) - 1
        end = min(max(end, first + 1), n_rows)
        yield first, end
        first = end


def _distinct(tokens: np.ndarray, offsets: np.ndarray, first: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(token id, row, count) of every distinct token of rows ``first..end``, ordered by token,
    then row."""
    part = tokens[offsets[first] : offsets[end]]
    keys = np.repeat(np.arange(first, end, dtype=np.int64), np.diff(offsets[first : end + 1]))
    keys |= part.astype(np.int64) << 32
    keys.sort()
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else np.zeros(0, dtype=np.int64)
    counts = np.diff(starts, append=len(keys)).astype(np.int32)
    keys = keys[starts]
    return (keys >> 32).astype(np.int32), (keys & 0xFFFFFFFF).astype(np.int32), counts


def _columns(indptr: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive token-id ranges of at most ``budget`` postings each (a token with more is a
    range of its own)."""
    n_words, out, first = len(indptr) - 1, [], 0
    while first < n_words:
        end = int(np.searchsorted(indptr, indptr[first] + budget, side="right")) - 1
        end = min(max(end, first + 1), n_words)
        out.append((first, end))
        first = end
    return out


def score_segments(tokens: np.ndarray, offsets: np.ndarray, n_words: int, k1: float, b: float, budget: int | None = None):
    """``(indptr, segments)``: the matrix's column pointers, and an iterator of its ``(data,
    indices)`` a range of columns at a time, in order (concatenated, the whole matrix). With a
    ``budget`` of postings a segment, only one segment is ever in memory; each costs a pass
    over the rows."""
    n_docs = len(offsets) - 1
    df = np.zeros(n_words, dtype=np.int64)
    # The first pass's sorted blocks are kept while they are few (a small index, as after an
    # edit, then sorts once); past a budget they are dropped and the second pass sorts again.
    kept: list | None = []
    kept_postings = 0
    for first, end in _blocks(offsets):
        block = _distinct(tokens, offsets, first, end)
        df += np.bincount(block[0], minlength=n_words)
        if kept is not None:
            kept.append(block)
            kept_postings += len(block[0])
            if kept_postings > (budget or SEGMENT_POSTINGS) // 2:
                kept = None
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    # "lucene": idf in float64 kept as float32, the term part in float64, scores float32.
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    del df
    lengths = np.diff(offsets).astype(np.float64)
    mean_length = lengths.mean() if n_docs else 0.0
    columns = _columns(indptr, budget) if budget else [(0, n_words)]

    def segments():
        for c0, c1 in columns:
            base = int(indptr[c0])
            data = np.empty(int(indptr[c1]) - base, dtype=np.float32)
            indices = np.empty(len(data), dtype=np.int32)
            fill = indptr[c0:c1] - base  # next free place in each token's column
            for n, (first, end) in enumerate(_blocks(offsets)):
                tok, row, tf = kept[n] if kept is not None else _distinct(tokens, offsets, first, end)
                if (c0, c1) != (0, n_words):  # ordered by token: the range is one slice
                    a, z = np.searchsorted(tok, (c0, c1))
                    tok, row, tf = tok[a:z] - c0, row[a:z], tf[a:z]
                # A posting's place: its column's next free place plus its rank among the
                # block's postings of the same token (rows ascend within a block, blocks ascend).
                new_token = np.concatenate(([True], tok[1:] != tok[:-1])) if len(tok) else np.zeros(0, dtype=bool)
                group_start = np.flatnonzero(new_token)
                sizes = np.diff(group_start, append=len(tok))
                place = fill[tok] + (np.arange(len(tok), dtype=np.int64) - np.repeat(group_start, sizes))
                fill[tok[group_start]] += sizes
                t = tf.astype(np.float64)
                norm = lengths[row]
                norm *= b
                norm /= mean_length
                norm += 1 - b
                norm *= k1
                norm += t
                np.divide(t, norm, out=norm)
                data[place] = idf[tok + c0] * norm
                indices[place] = row
            yield data, indices

    return indptr, segments()


def score_matrix(tokens: np.ndarray, offsets: np.ndarray, n_words: int, k1: float, b: float) -> dict[str, np.ndarray]:
    """``data``, ``indices``, ``indptr`` of the BM25 matrix of these token rows (row ``i`` is
    ``tokens[offsets[i]:offsets[i + 1]]``, ids below ``n_words``), in memory."""
    indptr, segments = score_segments(tokens, offsets, n_words, k1, b)
    data, indices = next(segments)
    return {"data": data, "indices": indices, "indptr": indptr}


def save_score_matrix(folder: Path, tokens: np.ndarray, offsets: np.ndarray, n_words: int, k1: float, b: float) -> None:
    """``score_matrix`` written to ``data.npy``, ``indices.npy``, ``indptr.npy`` in ``folder``
    (the files ``np.save`` writes) ``SEGMENT_POSTINGS`` postings at a time."""
    indptr, segments = score_segments(tokens, offsets, n_words, k1, b, SEGMENT_POSTINGS)
    np.save(folder / "indptr.npy", indptr)
    n = int(indptr[-1])
    with open(folder / "data.npy", "wb") as data_file, open(folder / "indices.npy", "wb") as indices_file:
        for f, dtype in ((data_file, np.float32), (indices_file, np.int32)):
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": (n,)}
            np.lib.format.write_array_header_1_0(f, header)
        for data, indices in segments:
            data_file.write(data.tobytes())
            indices_file.write(indices.tobytes())
