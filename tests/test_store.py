"""Store: documents, chunk spans and the manifest in SQLite."""

from __future__ import annotations

import sqlite3

import pytest

from retrieval.chunking import Chunk
from retrieval.ingest import Document
from retrieval.store import Store, StoredChunk

HOI_NGHI = Document(
    "hoi-nghi",
    "Hội nghị báo cáo viên tháng 12/2023",
    "Chiều 28/12, tại Hà Nội, Đảng ủy Khối tổ chức Hội nghị báo cáo viên. Đồng chí Trưởng ban phát biểu khai mạc.",
    "hoi-nghi.txt",
    "2023-12-28",
    "TTXVN",
)
TU_LIEN = Document(
    "tu-lien",
    "Hà Nội khởi công cầu Tứ Liên",
    "Sáng 19/5/2024, Hà Nội khởi công cầu Tứ Liên. Cầu dài khoảng 5,2 km.",
    "tin.jsonl",
    "2024-05-19",
    "Hà Nội mới",
    url="https://hanoimoi.example.vn/cau-tu-lien",
)
KHONG_NAM = Document("khong-nam", "Lễ hội hoa xuân ở Huế", "Ngày 14/11, Huế khai mạc lễ hội hoa xuân.", "hue.txt", "--11-14")
KHONG_NGAY = Document("khong-ngay", "Giá lúa tăng", "Giá lúa ở Cần Thơ tăng mạnh.", "lua.txt")


def spans(doc: Document, *at: str) -> list[Chunk]:
    """Chunks of ``doc`` cut where each of ``at`` begins (the last one ends with the text)."""
    cuts = [doc.text.index(a) for a in at]
    ends = [*cuts, len(doc.text)]
    starts = [0, *cuts]
    return [Chunk(doc.doc_id, i, s, e) for i, (s, e) in enumerate(zip(starts, ends))]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "meta.sqlite")
    yield s
    s.close()


def test_chunk_ids_increase_and_are_never_reused(store):
    a = store.add_document(HOI_NGHI, spans(HOI_NGHI, "Đồng chí"))
    b = store.add_document(TU_LIEN, spans(TU_LIEN, "Cầu dài"))
    assert a == [1, 2] and b == [3, 4]
    assert store.remove_document(TU_LIEN.doc_id) == b  # the newest ids go
    assert store.remove_document(HOI_NGHI.doc_id) == a
    store.commit()
    again = store.add_document(TU_LIEN, spans(TU_LIEN))
    assert again == [5]  # not 1 (nor 3): AUTOINCREMENT keeps counting past deleted rows
    assert store.chunks(a + b) == []


def test_chunks_come_in_the_asked_order_with_exact_spans(store):
    a = store.add_document(HOI_NGHI, spans(HOI_NGHI, "Đồng chí"))
    b = store.add_document(TU_LIEN, spans(TU_LIEN, "Cầu dài"))
    got = store.chunks([b[1], a[0], 999, b[0]])  # an unknown id is left out
    assert [c.chunk_id for c in got] == [b[1], a[0], b[0]]
    assert all(isinstance(c, StoredChunk) for c in got)
    assert [c.text for c in got] == [
        "Cầu dài khoảng 5,2 km.",
        "Chiều 28/12, tại Hà Nội, Đảng ủy Khối tổ chức Hội nghị báo cáo viên. ",
        "Sáng 19/5/2024, Hà Nội khởi công cầu Tứ Liên. ",
    ]
    assert (got[0].doc_id, got[0].start, got[0].end) == ("tu-lien", TU_LIEN.text.index("Cầu dài"), len(TU_LIEN.text))
    assert got[0].doc == TU_LIEN
    assert store.chunks([]) == []


def test_hashes_and_counts(store):
    store.add_document(HOI_NGHI, spans(HOI_NGHI, "Đồng chí"))
    store.add_document(TU_LIEN, spans(TU_LIEN))
    assert store.hashes() == {"hoi-nghi": HOI_NGHI.content_hash, "tu-lien": TU_LIEN.content_hash}
    assert store.counts() == (2, 3)
    store.remove_document("hoi-nghi")
    assert store.counts() == (1, 1)
    assert store.hashes() == {"tu-lien": TU_LIEN.content_hash}
    with pytest.raises(KeyError):
        store.document("hoi-nghi")


def test_date_range_ignores_dates_without_a_year(store):
    assert store.date_range() == (None, None)
    for doc in (KHONG_NAM, TU_LIEN, KHONG_NGAY, HOI_NGHI):
        store.add_document(doc, spans(doc))
    assert store.date_range() == ("2023-12-28", "2024-05-19")


def test_manifest_round_trip(store):
    values = {"model": "multilingual-e5-small", "dim": 384, "chunking": {"max_tokens": 200}, "ghi_chú": "tiếng Việt có dấu"}
    store.set_manifest(values)
    assert store.manifest() == values
    store.set_manifest({"dim": 768})
    assert store.manifest() == {**values, "dim": 768}


def test_backup_is_an_equal_database(store, tmp_path):
    ids = store.add_document(HOI_NGHI, spans(HOI_NGHI, "Đồng chí")) + store.add_document(TU_LIEN, spans(TU_LIEN))
    store.set_manifest({"model": "e5", "built_at": "2024-05-19T08:00:00+00:00"})
    store.commit()
    store.backup_to(tmp_path / "copy.sqlite")
    copy = Store(tmp_path / "copy.sqlite", readonly=True)
    try:
        assert copy.manifest() == store.manifest()
        assert copy.hashes() == store.hashes() and copy.counts() == store.counts() == (2, 3)
        assert [(c.chunk_id, c.text, c.doc) for c in copy.chunks(ids)] == [(c.chunk_id, c.text, c.doc) for c in store.chunks(ids)]
        assert list(copy.iter_chunks()) == list(store.iter_chunks())
    finally:
        copy.close()


def test_a_readonly_store_refuses_writes(store, tmp_path):
    store.add_document(HOI_NGHI, spans(HOI_NGHI))
    store.commit()
    ro = Store(tmp_path / "meta.sqlite", readonly=True)
    try:
        assert ro.counts() == (1, 1)
        with pytest.raises(sqlite3.OperationalError):
            ro.add_document(TU_LIEN, spans(TU_LIEN))
        with pytest.raises(sqlite3.OperationalError):
            ro.set_manifest({"model": "khác"})
        with pytest.raises(sqlite3.OperationalError):
            ro.remove_document(HOI_NGHI.doc_id)
        assert ro.hashes() == {"hoi-nghi": HOI_NGHI.content_hash}
    finally:
        ro.close()


def test_a_damaged_readonly_store_is_index_damaged_at_open_and_at_query_time(store, tmp_path):
    from retrieval.errors import IndexDamaged

    store.add_document(HOI_NGHI, spans(HOI_NGHI, "Đồng chí"))
    store.commit()
    path = tmp_path / "meta.sqlite"
    served = Store(path, readonly=True)
    assert served.counts() == (1, 2)
    data = bytearray(path.read_bytes())
    data[:16] = b"\xa5" * 16  # the header: SQLite no longer knows the file
    path.write_bytes(bytes(data))
    with pytest.raises(IndexDamaged, match=r"^index damaged: meta.sqlite; run qabot index --rebuild$"):
        Store(path, readonly=True).manifest()
    served.close()


def test_a_store_cut_under_an_open_reader_is_index_damaged_at_query_time(store, tmp_path):
    from retrieval.errors import IndexDamaged

    store.add_document(HOI_NGHI, spans(HOI_NGHI, "Đồng chí"))
    store.commit()
    served = Store(tmp_path / "meta.sqlite", readonly=True)
    assert [c.doc_id for c in served.chunks([1, 2])] == ["hoi-nghi", "hoi-nghi"]
    with open(tmp_path / "meta.sqlite", "r+b") as f:
        f.truncate(0)
    served._docs.clear()
    with pytest.raises(IndexDamaged, match="meta.sqlite"):  # an exception for the bot, not a crash
        served.chunks([1])
    served.close()
