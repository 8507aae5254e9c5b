"""A build streams: chunk texts are embedded a few batches at a time and their vectors go into the
index as they are made, BM25 is written stream by stream in blocks, and none of it changes what
is built: the same files, the same scores, the same search results as all at once."""

import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

import retrieval.bm25_matrix
import retrieval.build_vocab
import retrieval.lexical_writer
import retrieval.vector_writer
from retrieval.bench import RandomVectorEmbedder
from retrieval.bm25_matrix import score_matrix, score_segments
from retrieval.build_vocab import BuildVocab, HashCollision
from retrieval.chunking import embedding_text
from retrieval.dense import DenseIndex
from retrieval.generations import live_generation
from retrieval.index import load_index
from retrieval.indexer import build_index
from retrieval.ingest import document_from_record
from retrieval.lexical import STREAMS, LexicalIndex
from retrieval.search import Searcher
from retrieval.store import Store
from retrieval.text import lexical_tokens
from retrieval.vector_writer import VectorWriter

from .conftest import articles, make_config, whitespace_tokens
from .test_lexical import QUESTIONS, TEXTS, scores


class CallSizes(RandomVectorEmbedder):
    """The bench's stand-in embedder, recording how many texts each call brought."""

    def __init__(self, batch_size: int = 4):
        super().__init__(384, "test", whitespace_tokens, batch_size=batch_size)
        self.calls: list[int] = []

    def encode(self, texts, kind):
        self.calls.append(len(texts))
        return super().encode(texts, kind)


def documents(records):
    return [document_from_record(r, "tin.jsonl", n) for n, r in enumerate(records, 1)]


def small_chunks(tmp_path: Path, name: str):
    return make_config(tmp_path / name, tmp_path / "corpus", chunking={"max_tokens": 40, "overlap_tokens": 10})


def same_files(a: Path, b: Path) -> None:
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_the_matrix_built_in_small_blocks_is_the_one_built_at_once(monkeypatch):
    rows = [lexical_tokens(t, folded=False, bigrams=True) for t in TEXTS * 7]
    vocab: dict[str, int] = {}
    tokens = np.asarray([vocab.setdefault(t, len(vocab)) for row in rows for t in row], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    whole = score_matrix(tokens, offsets, len(vocab), 1.2, 0.75)
    monkeypatch.setattr(retrieval.bm25_matrix, "BLOCK_TOKENS", 7)  # a block is a row or two
    blocks = score_matrix(tokens, offsets, len(vocab), 1.2, 0.75)
    for name in ("data", "indices", "indptr"):
        assert blocks[name].dtype == whole[name].dtype and np.array_equal(blocks[name], whole[name]), name
    indptr, segments = score_segments(tokens, offsets, len(vocab), 1.2, 0.75, budget=9)
    parts = list(segments)
    assert len(parts) > 3 and max(len(d) for d, _ in parts) <= max(9, int(np.diff(indptr).max()))
    assert np.array_equal(np.concatenate([d for d, _ in parts]), whole["data"])
    assert np.array_equal(np.concatenate([i for _, i in parts]), whole["indices"])
    assert int(whole["indptr"][-1]) == sum(len(set(r)) for r in rows)


def test_vectors_reach_the_index_as_they_are_made(monkeypatch):
    monkeypatch.setattr(retrieval.vector_writer, "EMBED_TEXTS", 10)  # two batches of 4 a flush
    embedder, dense = CallSizes(batch_size=4), DenseIndex(384)
    texts = [f"Tin số {i}: giá lúa ở Cần Thơ" for i in range(30)]
    progress: list[tuple[int, int]] = []
    writer = VectorWriter(embedder, dense, len(texts), on_embedded=lambda done, total: progress.append((done, total)))
    waiting, indexed = [], []
    for i, text in enumerate(texts):
        writer.add([100 + i], [text])
        waiting.append(len(writer.texts))
        indexed.append(len(dense))
    assert max(waiting) < 8 and indexed[-1] == 24  # flushed while texts kept coming
    writer.finish()
    assert len(dense) == 30 and max(embedder.calls) == 4
    assert progress[-1] == (30, 30) and all(a[0] < b[0] for a, b in pairwise(progress))
    # The vectors of embedding everything at once, under their ids.
    want = RandomVectorEmbedder(384, "test").embed(texts)
    assert np.array_equal(np.vstack([dense.index.reconstruct(i) for i in range(100, 130)]), want)


def test_a_build_in_small_batches_gives_the_index_built_at_once(tmp_path, monkeypatch):
    records = articles(24)
    built = {}
    for name, embed_texts, rows, block in (("once", 10**9, 10**9, 1 << 30), ("batches", 8, 5, 64)):
        monkeypatch.setattr(retrieval.bm25_matrix, "SEGMENT_POSTINGS", block)
        monkeypatch.setattr(retrieval.vector_writer, "EMBED_TEXTS", embed_texts)
        monkeypatch.setattr(retrieval.lexical_writer, "TEXTS_PER_BATCH", rows)
        monkeypatch.setattr(retrieval.bm25_matrix, "BLOCK_TOKENS", block)
        cfg, embedder = small_chunks(tmp_path, name), CallSizes(batch_size=4)
        progress: list[tuple[int, int]] = []
        summary = build_index(documents(records), cfg, embedder, on_embedded=lambda d, t, log=progress: log.append((d, t)))
        assert summary.chunks_embedded == summary.chunks > 8 * 4  # several flushes
        assert max(embedder.calls) <= 4 and sum(embedder.calls) == summary.chunks
        assert progress[-1] == (summary.chunks, summary.chunks)
        built[name] = (cfg, embedder)
    gens = {name: live_generation(cfg.index.path) for name, (cfg, _) in built.items()}
    same_files(gens["once"] / "lexical", gens["batches"] / "lexical")
    assert (gens["once"] / "dense.faiss").read_bytes() == (gens["batches"] / "dense.faiss").read_bytes()
    answers = {}
    for name, (cfg, embedder) in built.items():
        index = load_index(cfg.index.path)
        searcher = Searcher(index, embedder, cfg.retrieval)
        answers[name] = [[(h.chunk.chunk_id, h.score, h.quote, h.highlight) for h in searcher.search(q, top_k=5).hits] for q in QUESTIONS]
        index.close()
    assert answers["once"] == answers["batches"] and any(answers["once"])


def test_a_build_writes_the_bm25_files_lexical_index_would(tmp_path, monkeypatch, stand_in_embedder):
    monkeypatch.setattr(retrieval.lexical_writer, "TEXTS_PER_BATCH", 5)
    monkeypatch.setattr(retrieval.bm25_matrix, "BLOCK_TOKENS", 64)
    monkeypatch.setattr(retrieval.bm25_matrix, "SEGMENT_POSTINGS", 50)  # the files in many passes
    cfg = small_chunks(tmp_path, "built")
    records = articles(10)
    build_index(documents(records), cfg, stand_in_embedder)
    gen = live_generation(cfg.index.path)
    store = Store(gen / "meta.sqlite", readonly=True)
    rows = list(store.iter_chunks())
    store.close()
    fresh = LexicalIndex()
    fresh.add([r[0] for r in rows], [embedding_text(r[1], r[2]) for r in rows])
    fresh.save(tmp_path / "fresh")
    same_files(gen / "lexical", tmp_path / "fresh")

    # An edit, a deletion and an addition: the live rows are kept, only new chunks tokenised.
    shutil.copytree(gen / "lexical", tmp_path / "before")
    records[2] = dict(records[2], text=records[2]["text"] + "\nGiá vé tàu Tết tăng mạnh.")
    records = records[:5] + records[6:] + articles(12)[10:]
    build_index(documents(records), cfg, stand_in_embedder)
    gen = live_generation(cfg.index.path)
    store = Store(gen / "meta.sqlite", readonly=True)
    rows = list(store.iter_chunks())
    store.close()
    edited = LexicalIndex.load(tmp_path / "before", restoring=False)
    last = int(edited.ids[-1])
    edited.remove(sorted(set(edited.ids.tolist()) - {r[0] for r in rows}))
    new = [r for r in rows if r[0] > last]
    edited.add([r[0] for r in new], [embedding_text(r[1], r[2]) for r in new])
    edited.save(tmp_path / "edited")
    same_files(gen / "lexical", tmp_path / "edited")
    served = load_index(cfg.index.path).lexical
    for q in QUESTIONS:
        for stream in STREAMS:
            assert np.array_equal(scores(served, q)[stream], scores(edited, q)[stream])


def test_a_build_vocabulary_gives_the_ids_a_dict_would(tmp_path):
    rows = [lexical_tokens(t, folded=True, bigrams=True) for t in TEXTS * 3]
    (tmp_path / "live.txt").write_text("giá\nlúa_mì", encoding="utf-8")
    vocab = BuildVocab.from_file(tmp_path / "spool", tmp_path / "live.txt")  # a live vocabulary
    want = {"giá": 0, "lúa_mì": 1}
    expected = [[want.setdefault(t, len(want)) for t in row] for row in rows]
    got = [vocab.ids_of(row).tolist() for row in rows]
    assert got == expected and len(vocab) == len(want)
    used = np.ones(len(want), dtype=bool)
    used[[1, 5]] = False
    assert vocab.write(tmp_path / "vocab.txt", used) == len(want) - 2
    words = sorted(want, key=want.get)
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8").split("\n") == [w for i, w in enumerate(words) if used[i]]
    assert not (tmp_path / "spool").exists()


def test_new_words_sharing_a_hash_are_refused_not_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(retrieval.build_vocab, "hash", lambda word: len(word), raising=False)
    (tmp_path / "live.txt").write_text("một\nhai_ba", encoding="utf-8")
    vocab = BuildVocab.from_file(tmp_path / "spool", tmp_path / "live.txt")
    assert vocab.ids_of(["hai_ba", "một"]).tolist() == [1, 0]
    with pytest.raises(HashCollision):
        vocab.ids_of(["một", "chín", "mười"])  # two new words, one hash
    vocab.close()
    (tmp_path / "live2.txt").write_text("năm\nsáu", encoding="utf-8")
    with pytest.raises(HashCollision):
        BuildVocab.from_file(tmp_path / "spool2", tmp_path / "live2.txt")
