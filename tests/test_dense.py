"""DenseIndex: inner-product search over unit vectors under stable chunk ids, flat (exact) or
IVF with 8-bit codes, and the choice between them."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from retrieval.config import IndexConfig
from retrieval.dense import FLAT, IVF, DenseIndex, file_kind, needs_refit, nlist_for
from retrieval.errors import IndexDamaged

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
    _, _, query = data
    empty = DenseIndex(DIM)
    empty.add(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32))
    assert len(empty) == 0
    found, scores = empty.search(query, 5)
    assert found.shape == scores.shape == (0,) and found.dtype == np.int64


def _damaged(dense: DenseIndex, tmp_path, cut: int):
    """``dense`` saved, then cut to ``cut`` bytes (from the end when negative) or, for 0, overwritten."""
    path = tmp_path / "dense.faiss"
    dense.save(path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else b"\xa5" * len(data))
    return path


@pytest.mark.parametrize("kind, cut", [("index", 0), ("index", 10), ("index", -100), ("ivf", 0), ("ivf", 100), ("ivf", -100)])
def test_a_damaged_file_is_index_damaged_without_its_path(request, tmp_path, kind, cut):
    # ``index`` is flat; ``ivf`` (defined below) the k-means lists with 8-bit codes.
    path = _damaged(request.getfixturevalue(kind), tmp_path, cut)
    with pytest.raises(IndexDamaged) as err:
        DenseIndex.load(path)
    assert str(err.value) == "index damaged: dense.faiss; run qabot index --rebuild"
    assert err.value.path == path
    if kind == "index":
        assert err.value.detail.startswith("RuntimeError")  # FAISS's words, for the log


# --- IVF (k-means lists, 8-bit codes) and the choice between it and flat ---------------------

IVF_DIM = 32


def clustered(n_clusters: int, per: int, seed: int = 7):
    """Unit vectors in tight clusters (cosine ~0.9 within one), ids sparse and shuffled, and
    queries next to stored vectors, as a question sits next to its passage."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, IVF_DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.repeat(centres, per, axis=0) + 0.3 * rng.standard_normal((n_clusters * per, IVF_DIM)).astype(np.float32) / np.sqrt(IVF_DIM)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = rng.permutation(n_clusters * per).astype(np.int64) * 3 + 11
    q = x[rng.choice(len(x), 50, replace=False)] + 0.2 * rng.standard_normal((50, IVF_DIM)).astype(np.float32) / np.sqrt(IVF_DIM)
    return ids, x, q / np.linalg.norm(q, axis=1, keepdims=True)


def cfg_of(**kw) -> IndexConfig:
    return IndexConfig(**kw)


def as_ivf(ids, vectors, **kw) -> DenseIndex:
    flat = DenseIndex(IVF_DIM)
    flat.add(ids, vectors)
    made = flat.fitted(cfg_of(dense="ivf", **kw))
    assert made.kind == IVF and made is not flat
    return made


@pytest.fixture(scope="module")
def blobs():
    return clustered(40, 100)


@pytest.fixture
def ivf(blobs):
    ids, x, _ = blobs
    return as_ivf(ids, x)


def test_auto_is_flat_below_the_threshold_and_ivf_from_it(blobs):
    ids, x, _ = blobs
    flat = DenseIndex(IVF_DIM)
    flat.add(ids[:999], x[:999])
    cfg = cfg_of(ivf_min_vectors=1000)
    assert flat.fitted(cfg) is flat  # below: left as it is, nothing copied
    flat.add(ids[999:1000], x[999:1000])
    made = flat.fitted(cfg)
    assert made.kind == IVF and len(made) == 1000 and made.nlist == nlist_for(1000) == 25
    assert sorted(made.ids().tolist()) == sorted(ids[:1000].tolist())
    # Back to flat only below half the threshold: no flapping around it.
    made.remove(ids[:400].tolist())
    assert made.fitted(cfg) is made
    made.remove(ids[400:501].tolist())
    back = made.fitted(cfg)
    assert back.kind == FLAT and sorted(back.ids().tolist()) == sorted(ids[501:1000].tolist())
    # Forced kinds ignore the size; an empty index stays flat (nothing to train on).
    assert back.fitted(cfg_of(dense="flat", ivf_min_vectors=1)) is back
    assert back.fitted(cfg_of(dense="ivf", ivf_min_vectors=10**9)).kind == IVF
    assert DenseIndex(IVF_DIM).fitted(cfg_of(dense="ivf")).kind == FLAT


def test_ivf_is_made_again_when_it_outgrows_its_lists(blobs):
    ids, x, _ = blobs
    small = as_ivf(ids[:400], x[:400])
    assert small.nlist == nlist_for(400) == 10
    small.add(ids[400:700], x[400:700])
    assert small.fitted(cfg_of(dense="ivf")) is small  # 700 vectors ask for 17 lists: under 2x
    small.add(ids[700:], x[700:])
    grown = small.fitted(cfg_of(dense="ivf"))  # 4,000 ask for 63
    assert grown is not small and grown.nlist == 63 and len(grown) == len(ids)


def test_ivf_recall_against_flat_at_the_default_nprobe(blobs):
    ids, x, queries = blobs
    flat = DenseIndex(IVF_DIM)
    flat.add(ids, x)
    ivf = as_ivf(ids, x)
    assert ivf.nlist == 63 and ivf.nprobe == 19  # ceil(0.3 * 63)

    def recall():
        return np.mean([len(np.intersect1d(ivf.search(q, 100)[0], flat.search(q, 100)[0])) / 100 for q in queries])

    assert recall() >= 0.98
    ivf.probe_share = 1 / ivf.nlist  # one list per question: clusters straddle lists, so this must lose some
    assert recall() < 0.95


def test_ivf_removed_ids_are_gone_and_can_come_back(ivf, blobs):
    ids, x, _ = blobs
    gone = ids[[3, 17, 2000, 3999]]
    ivf.remove(gone.tolist())
    assert len(ivf) == len(ids) - 4
    ivf.probe_share = 1.0  # every list: a removed id cannot hide in an unprobed one
    for row in (3, 17, 2000, 3999):
        found, _ = ivf.search(x[row], 100)
        assert ids[row] not in found.tolist()
    with pytest.raises(RuntimeError):
        ivf.scores(x[3], gone[:1])
    ivf.add(gone, x[[3, 17, 2000, 3999]])
    assert len(ivf) == len(ids)
    for row in (3, 17, 2000, 3999):
        assert ivf.search(x[row], 1)[0].tolist() == [ids[row]]


def test_ivf_scores_are_close_to_exact_and_agree_with_its_search(ivf, blobs):
    ids, x, queries = blobs
    pick = np.array([25, 0, 3100, 8])
    got = ivf.scores(queries[0], ids[pick])
    np.testing.assert_allclose(got, x[pick] @ queries[0], atol=5e-3)  # codes round (fp16 here; sq8 too)
    found, scores = ivf.search(queries[0], 10)
    np.testing.assert_allclose(ivf.scores(queries[0], found), scores, rtol=1e-4, atol=1e-5)


def test_ivf_save_and_load(ivf, blobs, tmp_path):
    ids, _, queries = blobs
    ivf.remove([int(ids[5])])
    ivf.save(tmp_path / "dense.faiss")
    assert file_kind(tmp_path / "dense.faiss") == IVF
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.kind == IVF and loaded.dim == IVF_DIM and len(loaded) == len(ivf)
    assert loaded.nprobe == ivf.nprobe and loaded.nlist == ivf.nlist and loaded.probe_share == pytest.approx(19 / 63)
    for q in queries[:5]:
        for got, want in zip(loaded.search(q, 20), ivf.search(q, 20)):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(loaded.scores(queries[0], ids[10:14]), ivf.scores(queries[0], ids[10:14]))
    assert sorted(loaded.ids().tolist()) == sorted(ivf.ids().tolist())


def test_the_query_nprobe_is_per_call_not_on_the_shared_index(ivf, blobs):
    _, _, queries = blobs
    saved = ivf.index.nprobe
    other = DenseIndex(IVF_DIM, ivf.index, probe_share=1.0)  # a second reader of the same FAISS index
    exhaustive = other.search(queries[0], 100)
    assert ivf.index.nprobe == saved  # searching did not change what other readers see
    flat = DenseIndex(IVF_DIM)
    flat.add(*(np.concatenate(p) for p in zip(*ivf.batches(1000))))
    np.testing.assert_array_equal(np.sort(exhaustive[0]), np.sort(flat.search(queries[0], 100)[0]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: faiss.IndexFlatIP(IVF_DIM),  # a FAISS index, but not one of our kinds
        lambda: faiss.IndexIDMap(faiss.IndexFlatIP(IVF_DIM)),  # cannot hand back a vector
        lambda: faiss.IndexIVFFlat(faiss.IndexFlatIP(IVF_DIM), IVF_DIM, 4, faiss.METRIC_INNER_PRODUCT),
        lambda: faiss.IndexIVFScalarQuantizer(  # ours, but without the id -> code hash table
            faiss.IndexFlatIP(IVF_DIM), IVF_DIM, 4, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        ),
    ],
)
def test_other_faiss_indexes_are_index_damaged(make, blobs, tmp_path):
    index = make()
    if not index.is_trained:
        index.train(blobs[1])
    path = tmp_path / "dense.faiss"
    faiss.write_index(index, str(path))
    with pytest.raises(IndexDamaged) as err:
        DenseIndex.load(path)
    assert err.value.file == "dense.faiss" and ("holds a" in err.value.detail or "hash table" in err.value.detail)


def test_needs_refit_reads_the_kind_from_the_file(ivf, index, tmp_path):
    ivf.save(tmp_path / "ivf.faiss")
    index.save(tmp_path / "flat.faiss")
    assert not needs_refit(tmp_path / "flat.faiss", 40, cfg_of())
    assert needs_refit(tmp_path / "flat.faiss", 40, cfg_of(dense="ivf"))
    assert needs_refit(tmp_path / "flat.faiss", 40, cfg_of(ivf_min_vectors=40))
    assert not needs_refit(tmp_path / "ivf.faiss", len(ivf), cfg_of(dense="ivf"))
    assert needs_refit(tmp_path / "ivf.faiss", len(ivf), cfg_of(dense="flat"))
    assert not needs_refit(tmp_path / "missing.faiss", 40, cfg_of(dense="ivf"))  # damage is found elsewhere


def test_fp16_codes_score_nearly_exactly_and_a_change_of_codes_remakes(blobs, tmp_path):
    ids, x, queries = blobs
    sq8 = as_ivf(ids, x, ivf_codes="sq8")
    assert sq8.codes == "sq8" and sq8.fitted(cfg_of(dense="ivf", ivf_codes="sq8")) is sq8
    fp16 = sq8.fitted(cfg_of(dense="ivf", ivf_codes="fp16"))
    assert fp16 is not sq8 and fp16.codes == "fp16" and len(fp16) == len(sq8)
    # Re-made from the 8-bit vectors: as close to exact as those were, no closer.
    np.testing.assert_allclose(fp16.scores(queries[1], ids[:50]), x[:50] @ queries[1], atol=5e-3)
    exact = as_ivf(ids, x)
    assert exact.codes == IndexConfig.ivf_codes == "fp16"
    np.testing.assert_allclose(exact.scores(queries[1], ids[:50]), x[:50] @ queries[1], atol=2e-4)
    exact.save(tmp_path / "fp16.faiss")
    assert DenseIndex.load(tmp_path / "fp16.faiss").codes == "fp16"
    assert needs_refit(tmp_path / "fp16.faiss", len(ids), cfg_of(dense="ivf", ivf_codes="sq8"))
    assert not needs_refit(tmp_path / "fp16.faiss", len(ids), cfg_of(dense="ivf", ivf_codes="fp16"))


@pytest.mark.parametrize("bad", [{"ivf_codes": "pq"}, {"dense": "hnsw"}, {"ivf_probe_share": 0.0}, {"ivf_probe_share": 1.5}, {"ivf_min_vectors": 0}])
def test_config_refuses_other_dense_settings(tmp_path, bad):
    from retrieval.config import ConfigError, parse_config

    with pytest.raises(ConfigError):
        parse_config({"index": bad}, tmp_path)


BRIDGE = """Khánh thành cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre

Sáng 5/3/2024, tại Bến Tre, cầu Rạch Miễu 2 được khánh thành sau ba năm thi công. Cây cầu dài 17 km, tổng vốn đầu tư hơn 5.000 tỷ đồng.

Thanh Hà (TTXVN)
"""


def test_the_indexer_builds_ivf_past_the_threshold_and_switches_without_embedding(tmp_path, corpus_dir, e5):
    """Through the real indexer: a tiny ivf_min_vectors makes the built index IVF; a change of
    kind re-makes the dense part with nothing embedded; edits and searches work on IVF."""
    import json

    from retrieval.index import DENSE_FILE, load_index
    from retrieval.indexer import index_corpus, open_searcher
    from retrieval.manifest import manifest_for

    from .conftest import articles, make_config

    (corpus_dir / "cau.txt").write_text(BRIDGE, encoding="utf-8")
    (corpus_dir / "tin.jsonl").write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles(4)), encoding="utf-8")
    flat_cfg = make_config(tmp_path, corpus_dir)
    first = index_corpus(flat_cfg, e5)
    dense_file = lambda: load_index(flat_cfg.index.path).path / DENSE_FILE
    assert file_kind(dense_file()) == FLAT and first.chunks >= 6

    ivf_cfg = make_config(tmp_path, corpus_dir, index={"ivf_min_vectors": 6, "ivf_probe_share": 1.0})
    switched = index_corpus(ivf_cfg, e5)
    assert switched.chunks_embedded == 0 and switched.generation != first.generation
    assert file_kind(dense_file()) == IVF
    searcher, _ = open_searcher(ivf_cfg, e5, build_if_missing=False)
    assert searcher.index.dense.kind == IVF and searcher.index.dense.nprobe == searcher.index.dense.nlist
    answer = searcher.search("Cầu Rạch Miễu 2 dài bao nhiêu km?")
    assert answer.answered and answer.hits[0].doc_id == "cau.txt" and "17 km" in answer.hits[0].quote
    searcher.index.close()
    assert index_corpus(ivf_cfg, e5).generation == switched.generation  # nothing to do: stays IVF

    # An edit on the IVF index: the old chunks removed from it, the new ones added to its lists.
    before = set(load_index(ivf_cfg.index.path).dense.ids().tolist())
    (corpus_dir / "cau.txt").write_text(BRIDGE.replace("17 km", "18 km"), encoding="utf-8")
    edited = index_corpus(ivf_cfg, e5)
    assert edited.changed == ["cau.txt"] and 0 < edited.chunks_embedded < edited.chunks
    index = load_index(ivf_cfg.index.path, manifest_for(ivf_cfg, e5))
    assert index.dense.kind == IVF and len(index.dense) == edited.chunks
    assert len(before - set(index.dense.ids().tolist())) == edited.chunks_embedded
    index.close()
    searcher, _ = open_searcher(ivf_cfg, e5, build_if_missing=False)
    assert "18 km" in searcher.search("Cầu Rạch Miễu 2 dài bao nhiêu km?").hits[0].quote
    searcher.index.close()

    back = index_corpus(make_config(tmp_path, corpus_dir, index={"dense": "flat"}), e5)
    assert back.chunks_embedded == 0 and file_kind(dense_file()) == FLAT


def test_the_bench_compares_flat_and_ivf_and_names_the_target(tmp_path):
    from retrieval.bench import ivf as bench

    vectors = bench.clustered_vectors(20_020, dim=64)
    keep, held = bench.held_out(vectors, 20)
    assert len(keep) == 20_000 and not set(keep) & set(held)
    sq8, fp16 = bench.compare("clustered", vectors[keep], vectors[held], 0.4, tmp_path)
    assert (sq8.codes, fp16.codes) == ("sq8", "fp16") and fp16.recall >= sq8.recall
    # One and two bytes a dimension against four (plus 24 bytes of id and id hash table each).
    assert sq8.ivf_bytes < 0.4 * sq8.flat_bytes < fp16.ivf_bytes < 0.6 * fp16.flat_bytes
    result = sq8
    assert result.nlist == nlist_for(20_000) and result.vectors == 20_000
    assert 0.9 < result.recall <= 1.0 and set(result.sweep) == set(bench.SWEEP)
    assert result.sweep[0.05][0] < result.sweep[0.4][0] == result.recall and result.nprobe == 57  # ceil(0.4 * 141)
    text = "\n".join(bench.ivf_lines([sq8, fp16]))
    assert f"target ≥ {bench.TARGET_RECALL:g}: {'met' if result.recall >= bench.TARGET_RECALL else 'MISSED'}" in text
    assert not list(tmp_path.iterdir())  # the sized files are not left behind
