"""DenseIndex: exact inner-product search over unit vectors under stable chunk ids."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.dense import DenseIndex

DIM = 16


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def data():
    """40 random unit vectors under sparse, non-contiguous ids, and a query."""
    rng = np.random.default_rng(20231228)
    ids = np.arange(40, dtype=np.int64) * 7 + 1000
    return ids, unit(rng, 40), unit(rng, 1)[0]


@pytest.fixture
def index(data):
    ids, vectors, _ = data
    dense = DenseIndex(DIM)
    dense.add(ids, vectors)
    return dense


def expected(ids, vectors, query, k):
    """The brute-force answer: ids and dot products of the k nearest, best first."""
    dots = vectors @ query
    order = np.argsort(-dots)[:k]
    return ids[order], dots[order]


def test_search_returns_the_nearest_first(index, data):
    ids, vectors, query = data
    got_ids, got_scores = index.search(query, 10)
    want_ids, want_scores = expected(ids, vectors, query, 10)
    assert got_ids.tolist() == want_ids.tolist()
    np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(got_scores) <= 0)
    # A stored vector is its own nearest neighbour.
    top, score = index.search(vectors[17], 1)
    assert top.tolist() == [ids[17]] and score[0] == pytest.approx(1.0, abs=1e-5)


def test_removed_ids_never_come_back(index, data):
    ids, vectors, query = data
    gone = [int(ids[3]), int(ids[17]), int(ids[39])]
    index.remove(gone)
    assert len(index) == 37
    found, _ = index.search(query, 100)
    assert len(found) == 37 and not set(gone) & set(found.tolist())
    nearest, _ = index.search(vectors[17], 1)
    assert nearest.tolist() != [ids[17]]
    keep = ~np.isin(ids, gone)
    assert found.tolist() == expected(ids[keep], vectors[keep], query, 100)[0].tolist()
    index.remove([])  # nothing to remove is no error
    assert len(index) == 37


def test_scores_are_the_dot_products_in_the_asked_order(index, data):
    ids, vectors, query = data
    pick = [25, 0, 31, 8]
    got = index.scores(query, ids[pick])
    np.testing.assert_allclose(got, vectors[pick] @ query, rtol=1e-5, atol=1e-6)
    assert index.scores(query, np.zeros(0, dtype=np.int64)).shape == (0,)


def test_save_and_load_give_the_same_results(index, data, tmp_path):
    ids, _, query = data
    index.remove([int(ids[5])])
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.dim == DIM and len(loaded) == len(index) == 39
    for got, want in zip(loaded.search(query, 12), index.search(query, 12)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(loaded.scores(query, ids[10:14]), index.scores(query, ids[10:14]))


def test_k_larger_than_the_index_returns_all_of_it(data):
    ids, vectors, query = data
    small = DenseIndex(DIM)
    small.add(ids[:5], vectors[:5])
    found, scores = small.search(query, 100)
    assert sorted(found.tolist()) == sorted(ids[:5].tolist())
    assert found.tolist() == expected(ids[:5], vectors[:5], query, 5)[0].tolist()
    assert len(scores) == 5 and np.all(found >= 0)


def test_an_empty_index_finds_nothing(data):
    ids, _, query = data
    empty = DenseIndex(DIM)
    empty.add(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32))
    assert len(empty) == 0
    found, scores = empty.search(query, 5)
    assert found.shape == scores.shape == (0,) and found.dtype == np.int64


@pytest.mark.parametrize("cut", [0, 10, -100])
def test_a_damaged_file_is_index_damaged_without_its_path(index, tmp_path, cut):
    from retrieval.errors import IndexDamaged

    path = tmp_path / "dense.faiss"
    index.save(path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else b"\xa5" * len(data))
    with pytest.raises(IndexDamaged) as err:
        DenseIndex.load(path)
    assert str(err.value) == "index damaged: dense.faiss; run qabot index --rebuild"
    assert err.value.path == path and err.value.detail.startswith("RuntimeError")  # FAISS's words, for the log
