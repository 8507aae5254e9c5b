import json
from pathlib import Path

import pytest

from retrieval.ingest import (
    ParseError,
    RecordError,
    document_from_record,
    find_boilerplate,
    find_date,
    load_corpus,
    parse_html,
    parse_jsonl,
    parse_page,
)

from .conftest import SAMPLE

CHROME = ["Chia sẻ:", "Rao vặt", "Các đơn vị thông tin của TTXVN"]


@pytest.fixture(scope="module")
def sample_docs():
    return parse_page(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)


def test_sample_page_yields_article_and_separate_teaser(sample_docs):
    main, teaser = sample_docs
    assert main.title == "Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023"
    assert main.text.startswith("Chiều 28/12, tại Hà Nội")
    assert main.text.endswith("Đại hội đại biểu toàn quốc Hội Sinh viên Việt Nam lần thứ XI…")
    assert "14/11" not in main.text and "cuốn sách" not in main.text
    assert teaser.title == "Đảng ủy Khối các cơ quan Trung ương quán triệt, tuyên truyền nội dung cuốn sách của Tổng Bí thư"
    assert teaser.text.startswith("Sáng 14/11, tại Hà Nội")
    assert teaser.doc_id != main.doc_id


def test_sample_metadata(sample_docs):
    main, teaser = sample_docs
    assert main.date == "2023-12-28"
    assert (main.author, main.source) == ("Diệp Trương", "TTXVN")
    assert teaser.date == "--11-14"  # the teaser states no year
    assert teaser.author is None


def test_chrome_and_duplicate_lines_removed(sample_docs):
    for doc in sample_docs:
        for junk in CHROME + ["Diệp Trương (TTXVN)"]:
            assert junk not in doc.text
    # The teaser's title is printed twice on the page; it must not survive into its text.
    assert sample_docs[1].title not in sample_docs[1].text


def test_quote_text_is_the_article_own_text(sample_docs):
    raw = " ".join(SAMPLE.read_text(encoding="utf-8").split(" "))
    raw = "\n".join(" ".join(line.split()) for line in raw.split("\n"))  # only whitespace is normalised
    for para in sample_docs[0].text.split("\n\n"):
        assert para in raw


def test_content_hash_is_stable_and_sensitive(sample_docs):
    again = parse_page(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)
    assert again[0].content_hash == sample_docs[0].content_hash
    edited = parse_page(SAMPLE.read_text(encoding="utf-8").replace("Chiều 28/12", "Sáng 28/12"), SAMPLE.name)
    assert edited[0].content_hash != sample_docs[0].content_hash
    assert edited[1].content_hash == sample_docs[1].content_hash


@pytest.mark.parametrize(
    "title,first_line,expected",
    [
        ("Hội nghị tháng 12/2023", "Chiều 28/12, tại Hà Nội, hội nghị diễn ra.", "2023-12-28"),
        ("Tin tức", "Ngày 3/2/2024, lễ kỷ niệm diễn ra.", "2024-02-03"),
        ("Tin tức", "Hà Nội, 5/9 (TTXVN) - Sáng nay khai giảng.", "--09-05"),
        ("Tin tức", "Không có ngày tháng ở đây.", None),
    ],
)
def test_find_date(title, first_line, expected):
    assert find_date(title, first_line) == expected


def test_html_article_extracted_without_scripts_or_menus():
    html = """<html><head><title>Báo X</title>
    <meta property="og:url" content="https://example.vn/bai-viet-1">
    <meta property="article:published_time" content="2024-03-05T08:00:00+07:00">
    <script>var tracking = "Chia sẻ";</script></head>
    <body><nav><a href="/">Trang chủ</a> <a>Thời sự</a></nav>
    <article><h1>Khánh thành cầu Rạch Miễu 2</h1>
    <p>Sáng 5/3, tại Bến Tre, cầu Rạch <b>Miễu 2</b> được khánh thành.</p>
    <p>Cây cầu dài 17 km.</p><div class="share">Chia sẻ:</div></article>
    <footer>Bản quyền thuộc Báo X</footer></body></html>"""
    (doc,) = parse_html(html, "cau.html")
    assert doc.title == "Khánh thành cầu Rạch Miễu 2"
    assert doc.text == "Sáng 5/3, tại Bến Tre, cầu Rạch Miễu 2 được khánh thành.\n\nCây cầu dài 17 km."
    assert doc.url == "https://example.vn/bai-viet-1"
    assert doc.date == "2024-03-05"


def test_jsonl_keeps_good_lines_and_reports_bad_ones():
    lines = [
        json.dumps({"id": 7, "title": "Giá lúa tăng", "text": "Giá lúa tại Cần Thơ tăng 5%.", "date": "20210304", "source": "Dân Trí"}, ensure_ascii=False),
        "{not json",
        json.dumps({"title": "Thiếu nội dung"}, ensure_ascii=False),
        json.dumps({"title": "Không id", "text": "Bài viết không có id."}, ensure_ascii=False),
    ]
    docs, problems = parse_jsonl("\n".join(lines), "tin.jsonl")
    assert [d.doc_id for d in docs] == ["tin.jsonl#7", "tin.jsonl#L4"]
    assert docs[0].date == "2021-03-04" and docs[0].source == "Dân Trí"
    assert [p.path for p in problems] == ["tin.jsonl:2", "tin.jsonl:3"]
    assert "invalid JSON" in problems[0].reason


def test_document_from_record_matches_a_jsonl_line():
    rec = {
        "id": "vn-12",
        "title": "Hà Nội  mở thêm\ntuyến buýt điện",
        "text": "Sáng 2/3, Sở Giao thông vận tải Hà Nội khai trương tuyến buýt điện mới.\nChia sẻ:\nTuyến dài 25 km, qua phố cổ.",
        "date": "2024-03-02T08:00:00+07:00",
        "source": "Tuổi Trẻ",
    }
    doc = document_from_record(rec, "tin.jsonl", 5)
    assert doc.doc_id == "tin.jsonl#vn-12" and doc.path == "tin.jsonl"
    assert doc.title == "Hà Nội mở thêm tuyến buýt điện"
    assert doc.text == "Sáng 2/3, Sở Giao thông vận tải Hà Nội khai trương tuyến buýt điện mới.\nTuyến dài 25 km, qua phố cổ."
    assert (doc.date, doc.source, doc.author, doc.url) == ("2024-03-02", "Tuổi Trẻ", None, None)
    (from_file,), _ = parse_jsonl("\n" * 4 + json.dumps(rec, ensure_ascii=False), "tin.jsonl")
    assert from_file == doc


def test_document_from_record_rejects_a_non_string_title_as_parse_jsonl_does():
    rec = {"title": ["Bão số 3", "đổ bộ"], "text": "Bão số 3 đổ bộ vào Quảng Ninh – Hải Phòng."}
    with pytest.raises(RecordError) as err:
        document_from_record(rec, "tin.jsonl", 1)
    _, (problem,) = parse_jsonl(json.dumps(rec, ensure_ascii=False), "tin.jsonl")
    assert str(err.value) == problem.reason == "needs string fields 'title' and 'text'"


def test_empty_page_is_an_error():
    with pytest.raises(ParseError):
        parse_page("  \n\n ", "rong.txt")


def test_lines_repeated_across_many_pages_are_boilerplate():
    pages = [f"Tin số {i}\n\nNội dung riêng {i}.\n\nĐăng ký nhận bản tin của chúng tôi" for i in range(5)]
    assert find_boilerplate(pages) == frozenset({"Đăng ký nhận bản tin của chúng tôi"})


def test_load_corpus_reports_bad_files_and_keeps_the_rest(tmp_path: Path):
    (tmp_path / "good.txt").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Tiêu đề\n\nNội dung".encode("utf-16-le"))
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# Bài phụ\n\nChiều 1/6, một sự kiện diễn ra.", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert {d.doc_id for d in corpus.documents} == {"good.txt", "good.txt#2", "sub/b.md"}
    assert {p.path for p in corpus.failed} == {"latin1.txt", "empty.md"}
    assert "UTF-8" in next(p.reason for p in corpus.failed if p.path == "latin1.txt")
    assert [p.path for p in corpus.skipped] == ["photo.jpg"]
    assert next(d for d in corpus.documents if d.doc_id == "sub/b.md").title == "Bài phụ"


def test_caption_in_brackets_is_not_a_byline():
    page = "\n\n".join(
        ["Khai mạc kỳ họp Quốc hội", "Sáng 20/5, kỳ họp thứ 7 khai mạc.", "Toàn cảnh phiên khai mạc (ảnh trên)"]
        + [f"Đoạn nội dung thứ {i} của bài." for i in range(10)]
        + ["Minh Anh (VOV)"]
    )
    (doc,) = parse_page(page, "qh.txt")
    assert "Đoạn nội dung thứ 9" in doc.text and "Toàn cảnh phiên khai mạc (ảnh trên)" in doc.text
    assert (doc.author, doc.source) == ("Minh Anh", "VOV")


def test_source_lines_and_sentences_starting_with_theo():
    page = "Tiêu đề\n\nTheo Bộ Y tế, số ca mắc giảm.\n\nNội dung tiếp.\n\nNguồn: Sức khỏe & Đời sống"
    (doc,) = parse_page(page, "a.txt")
    assert doc.text == "Theo Bộ Y tế, số ca mắc giảm.\n\nNội dung tiếp."
    assert doc.source == "Sức khỏe & Đời sống"


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("source", ["TTXVN"], 'field "source" must be text'),
        ("author", {"tên": "Diệp Trương"}, 'field "author" must be text'),
        ("url", ["https://baotintuc.vn/a.htm"], 'field "url" must be text'),
        ("date", [2023, 12, 28], 'field "date" must be text or a number'),
        ("id", True, 'field "id" must be text or a number'),
    ],
)
def test_a_wrongly_typed_field_refuses_its_line_only(tmp_path, field, value, reason):
    good = {"title": "Hội nghị báo cáo viên tháng 12/2023", "text": "Chiều 28/12, tại Hà Nội, hội nghị được tổ chức."}
    bad = dict(good, title="Bài có trường sai kiểu", **{field: value})
    # Another text: the same one twice would be indexed once (a copy, reported as skipped).
    later = dict(good, id=7, date=20231228, text="Sáng 29/12, hội nghị thảo luận ở tổ về công tác năm 2024.")
    (tmp_path / "tin.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in (good, bad, later)) + "\n",
        encoding="utf-8",
    )
    corpus = load_corpus(tmp_path)
    assert [(p.path, p.reason) for p in corpus.failed] == [("tin.jsonl:2", reason)]
    assert [d.doc_id for d in corpus.documents] == ["tin.jsonl#L1", "tin.jsonl#7"]
    assert corpus.documents[1].date == "2023-12-28"
