import pytest

from retrieval.errors import IndexBusy, IndexMismatch, IndexMissing
from retrieval.generations import BuildLock, live_generation
from retrieval.index import load_index
from retrieval.indexer import index_corpus, open_searcher
from retrieval.manifest import manifest_for
from retrieval.search import Searcher

from .conftest import FailingEmbedder, make_config

EXTRA = """Khánh thành cầu Rạch Miễu 2 nối Tiền Giang và Bến Tre

Sáng 5/3/2024, tại Bến Tre, cầu Rạch Miễu 2 được khánh thành sau ba năm thi công. Cây cầu dài 17 km, tổng vốn đầu tư hơn 5.000 tỷ đồng.

Thanh Hà (TTXVN)
"""


def chunk_ids(cfg, embedder):
    index = load_index(cfg.index.path, manifest_for(cfg, embedder))
    rows = index.store.db.execute("SELECT doc_id, chunk_id FROM chunks").fetchall()
    out = {}
    for doc_id, cid in rows:
        out.setdefault(doc_id, set()).add(cid)
    return out, index


def test_first_build_then_nothing_to_do(cfg, e5):
    first = index_corpus(cfg, e5)
    assert sorted(first.added) == ["hoi-nghi-bao-cao-vien-12-2023.txt", "hoi-nghi-bao-cao-vien-12-2023.txt#2"]
    assert first.chunks_embedded == first.chunks > 0
    again = index_corpus(cfg, e5)
    assert (again.added, again.changed, again.removed, again.chunks_embedded) == ([], [], [], 0)
    assert again.unchanged == 2
    assert again.generation == first.generation


def test_editing_one_article_reembeds_only_its_chunks(cfg, e5, corpus_dir):
    (corpus_dir / "cau.txt").write_text(EXTRA, encoding="utf-8")
    index_corpus(cfg, e5)
    before, _ = chunk_ids(cfg, e5)
    (corpus_dir / "cau.txt").write_text(EXTRA.replace("17 km", "18 km"), encoding="utf-8")
    summary = index_corpus(cfg, e5)
    assert summary.changed == ["cau.txt"] and summary.unchanged == 2
    after, index = chunk_ids(cfg, e5)
    assert summary.chunks_embedded == len(after["cau.txt"])
    for doc_id in ("hoi-nghi-bao-cao-vien-12-2023.txt", "hoi-nghi-bao-cao-vien-12-2023.txt#2"):
        assert after[doc_id] == before[doc_id]
    assert not after["cau.txt"] & before["cau.txt"]
    assert len(index.dense) == sum(len(v) for v in after.values()) == len(index.lexical)
    hit = Searcher(index, e5, cfg.retrieval).search("Cầu Rạch Miễu 2 dài bao nhiêu km?").hits[0]
    assert "18 km" in hit.quote


def test_deleting_an_article_removes_it_from_dense_and_lexical(cfg, e5, corpus_dir):
    (corpus_dir / "cau.txt").write_text(EXTRA, encoding="utf-8")
    index_corpus(cfg, e5)
    before, _ = chunk_ids(cfg, e5)
    (corpus_dir / "cau.txt").unlink()
    summary = index_corpus(cfg, e5)
    assert summary.removed == ["cau.txt"] and summary.chunks_embedded == 0
    after, index = chunk_ids(cfg, e5)
    gone = before["cau.txt"]
    assert "cau.txt" not in after
    assert not set(index.lexical.ids.tolist()) & gone
    qvec = e5.embed(["cầu Rạch Miễu"], "query")[0]
    ids, _ = index.dense.search(qvec, 100)
    assert not set(ids.tolist()) & gone
    answer = Searcher(index, e5, cfg.retrieval).search("Cầu Rạch Miễu 2 khánh thành khi nào?")
    assert all(h.doc_id != "cau.txt" for h in answer.hits)
    assert not answer.answered


def test_corrupt_file_is_reported_and_the_rest_indexes(cfg, e5, corpus_dir):
    (corpus_dir / "hong.txt").write_bytes(b"\xff\xfe\x00T\x00i\x00\xea")
    (corpus_dir / "hong.jsonl").write_text('{"title": "A", "text": "B"}\n{broken\n', encoding="utf-8")
    summary = index_corpus(cfg, e5)
    reasons = {p.path: p.reason for p in summary.failed}
    assert "hong.txt" in reasons and "UTF-8" in reasons["hong.txt"]
    assert "hong.jsonl:2" in reasons
    assert summary.documents == 3


def test_index_built_with_another_model_is_refused(cfg, e5, minilm):
    index_corpus(cfg, e5)
    with pytest.raises(IndexMismatch, match="qabot index --rebuild"):
        load_index(cfg.index.path, manifest_for(cfg, minilm))
    with pytest.raises(IndexMismatch):
        index_corpus(cfg, minilm)
    rebuilt = index_corpus(cfg, minilm, rebuild=True)
    assert rebuilt.chunks_embedded == rebuilt.chunks
    load_index(cfg.index.path, manifest_for(cfg, minilm))


def test_other_chunking_settings_are_refused(tmp_path, corpus_dir, e5):
    index_corpus(make_config(tmp_path, corpus_dir), e5)
    other = make_config(tmp_path, corpus_dir, chunking={"max_tokens": 120})
    with pytest.raises(IndexMismatch, match="chunking"):
        load_index(other.index.path, manifest_for(other, e5))


def test_interrupted_build_leaves_previous_index_live(cfg, e5, corpus_dir):
    first = index_corpus(cfg, e5)
    (corpus_dir / "cau.txt").write_text(EXTRA, encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        index_corpus(cfg, FailingEmbedder(e5, after=0))
    assert live_generation(cfg.index.path).name == first.generation
    index = load_index(cfg.index.path, manifest_for(cfg, e5))
    assert index.store.counts() == (2, first.chunks)
    # The next build picks up where the corpus is, and no temporary folder is left behind.
    summary = index_corpus(cfg, e5)
    assert summary.added == ["cau.txt"]
    assert not list(cfg.index.path.glob("*.tmp"))
    assert len(list(cfg.index.path.glob("gen-*"))) == 1


def test_missing_index_is_a_clear_error(cfg):
    with pytest.raises(IndexMissing, match="qabot index"):
        load_index(cfg.index.path)


def test_empty_corpus_builds_an_empty_index(tmp_path, e5):
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = make_config(tmp_path, empty)
    summary = index_corpus(cfg, e5)
    assert summary.documents == 0
    index = load_index(cfg.index.path, manifest_for(cfg, e5))
    answer = Searcher(index, e5, cfg.retrieval).search("Hội nghị ở đâu?")
    assert not answer.answered and answer.hits == []


def test_changing_only_bm25_settings_reuses_every_vector(tmp_path, corpus_dir, e5):
    first = index_corpus(make_config(tmp_path, corpus_dir), e5)
    other = make_config(tmp_path, corpus_dir, lexical={"bigrams": False})
    with pytest.raises(IndexMismatch, match="lexical"):
        load_index(other.index.path, manifest_for(other, e5))
    summary = index_corpus(other, e5)
    assert summary.chunks_embedded == 0 and summary.generation != first.generation
    index = load_index(other.index.path, manifest_for(other, e5))
    assert index.manifest["lexical"]["bigrams"] is False
    assert Searcher(index, e5, other.retrieval).search("Hội nghị báo cáo viên tổ chức ở đâu?").answered


def test_open_searcher_builds_only_when_there_is_no_index(cfg, e5):
    with pytest.raises(IndexMissing):
        open_searcher(cfg, e5, build_if_missing=False)
    searcher, built = open_searcher(cfg, e5)
    assert built is not None and built.documents == 2 and built.chunks_embedded == built.chunks
    assert searcher.search("Hội nghị báo cáo viên tổ chức ở đâu?").answered
    again, built = open_searcher(cfg, e5)
    assert built is None and len(again.index) == len(searcher.index)


def test_a_second_build_while_one_runs_is_refused(cfg, e5):
    with BuildLock(cfg.index.path):
        with pytest.raises(IndexBusy):
            index_corpus(cfg, e5)
    assert index_corpus(cfg, e5).documents == 2  # the lock is free again
