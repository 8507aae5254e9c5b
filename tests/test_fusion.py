import numpy as np

from retrieval.fusion import fuse, ranks, rrf, zscore, zsum


def test_zscore():
    z = zscore(np.array([1.0, 2.0, 3.0]))
    assert np.allclose(z.mean(), 0) and np.allclose(z.std(), 1)
    assert np.all(zscore(np.array([5.0, 5.0])) == 0)


def test_zsum_lets_a_strong_dense_signal_overturn_a_weak_lexical_lead():
    lexical = np.array([10.0, 9.9, 1.0])
    dense = np.array([0.70, 0.95, 0.60])
    assert np.argmax(zsum(lexical, dense, 1.0, 0.5)) == 1
    assert np.argmax(zsum(lexical, dense, 1.0, 0.0)) == 0


def test_rrf_uses_only_ranks():
    assert list(ranks(np.array([0.1, 0.9, 0.5]))) == [3, 1, 2]
    a = rrf(np.array([3.0, 2.0, 1.0]), np.array([1.0, 3.0, 2.0]), 1.0, 1.0, k=60)
    assert np.isclose(a[0], 1 / 61 + 1 / 63)


def test_single_sided_methods():
    lex, den = np.array([1.0, 2.0]), np.array([0.9, 0.1])
    assert np.argmax(fuse("lexical", lex, den, 1, 1)) == 1
    assert np.argmax(fuse("dense", lex, den, 1, 1)) == 0
