"""Hostile corpora (issue 11): copies of an article, and control or bidi characters in a page.

Copies must not change another article (a line on three copies of one page recurs on one page,
not three), duplicate texts are indexed once and reported, and no control character reaches a
document or ``qabot ask``'s output.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import unicodedata
from pathlib import Path

from bot.cli import main
from retrieval.indexer import index_corpus, open_searcher
from retrieval.ingest import find_boilerplate, load_corpus, read_page
from retrieval.text import clean_whitespace

from .conftest import SAMPLE, make_config

TITLE = "Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023"
LEAD = "Chiều 28/12, tại Hà Nội, Đảng ủy Khối các cơ quan Trung ương tổ chức Hội nghị báo cáo viên"
TEASER = "Đảng ủy Khối các cơ quan Trung ương quán triệt, tuyên truyền nội dung cuốn sách của Tổng Bí thư"
# ESC starting a "clear screen" sequence, BEL, NUL, and the right-to-left override.
HOSTILE = ("\x1b", "\x07", "\x00", "\u202e")
BAD = "\x1b[2J\x07\x00\u202e"
# What must reach no document and no output: C0/C1 controls but newline, DEL, bidi controls.
FORBIDDEN = {chr(c) for c in [*range(0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} | set(
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def _main(corpus) -> object:
    return next(d for d in corpus.documents if d.doc_id == SAMPLE.name)


# --- copies --------------------------------------------------------------------------------------


def test_byte_copies_leave_the_article_its_title_and_teaser_and_are_indexed_once(tmp_path, e5):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    # Named to sort after the original: the first file in path order is the one kept.
    shutil.copy(SAMPLE, folder / "sao-chep-1.txt")
    shutil.copy(SAMPLE, folder / "sao-chep-2.txt")

    corpus = load_corpus(folder)
    assert [(d.doc_id, d.title) for d in corpus.documents] == [(SAMPLE.name, TITLE), (f"{SAMPLE.name}#2", TEASER)]
    assert _main(corpus).text.startswith(LEAD)
    assert (_main(corpus).date, _main(corpus).author, _main(corpus).source) == ("2023-12-28", "Diệp Trương", "TTXVN")
    assert [(p.path, p.reason) for p in corpus.skipped] == [
        ("sao-chep-1.txt", f"same text as {SAMPLE.name}"),
        ("sao-chep-1.txt#2", f"same text as {SAMPLE.name}#2"),
        ("sao-chep-2.txt", f"same text as {SAMPLE.name}"),
        ("sao-chep-2.txt#2", f"same text as {SAMPLE.name}#2"),
    ]
    assert corpus.uncertain == []

    cfg = make_config(tmp_path, folder)
    summary = index_corpus(cfg, e5)
    assert summary.documents == 2 and len(summary.added) == 2
    assert {p.path for p in summary.skipped} == {"sao-chep-1.txt", "sao-chep-1.txt#2", "sao-chep-2.txt", "sao-chep-2.txt#2"}
    searcher, _ = open_searcher(cfg, e5, build_if_missing=False)
    answer = searcher.search("Hội nghị báo cáo viên tháng 12/2023 được tổ chức ở đâu?", top_k=5)
    assert answer.answered and answer.hits[0].doc.title == TITLE
    assert all(h.doc_id.startswith(SAMPLE.name) for h in answer.hits)


def test_near_copies_do_not_make_the_title_recurring(tmp_path):
    sample = _sample()
    share_count = sample.replace("Chia sẻ:", "Chia sẻ:\n315 lượt xem")  # saved again with a view count
    assert share_count != sample
    # A re-scrape: one sentence of a paragraph edited, and a line of the page's footer changed.
    edited = share_count.replace("báo cáo viên cấp cơ sở còn hạn chế", "báo cáo viên cấp cơ sở vẫn còn nhiều hạn chế")
    assert edited != share_count
    edited = edited.replace("Các đơn vị thông tin của TTXVN", "Các đơn vị thông tin của Thông tấn xã Việt Nam")
    pages = [sample, share_count, edited]
    assert find_boilerplate(pages) == frozenset()

    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in zip(["a-goc.txt", "b-luot-chia-se.txt", "c-cao-lai.txt"], pages):
        (folder / name).write_text(text, encoding="utf-8")
    corpus = load_corpus(folder)
    titles = {d.doc_id: d.title for d in corpus.documents}
    assert titles["a-goc.txt"] == TITLE and titles["a-goc.txt#2"] == TEASER
    # The edited re-scrape is another text, so it is indexed, under the same title (its teaser is a copy).
    assert titles["c-cao-lai.txt"] == TITLE
    # The view count is not in the article: its text is the original's.
    assert [(p.path, p.reason) for p in corpus.skipped] == [
        ("b-luot-chia-se.txt", "same text as a-goc.txt"),
        ("b-luot-chia-se.txt#2", "same text as a-goc.txt#2"),
        ("c-cao-lai.txt#2", "same text as a-goc.txt#2"),
    ]


def test_lines_recur_across_distinct_pages_not_copies():
    site = "Đăng ký nhận bản tin của Báo Cần Thơ"
    pages = [
        f"Cần Thơ mở rộng tuyến xe buýt số {i}\n\n"
        f"Sáng {i}/5, Sở Giao thông vận tải TP Cần Thơ đưa vào khai thác thêm {10 + i} xe buýt trên tuyến số {i}, "
        f"nối bến Ninh Kiều với huyện Phong Điền.\n\n{site}"
        for i in (1, 2)
    ]
    # Two articles saved three times each: the line is on two pages, not six.
    assert find_boilerplate(pages * 3) == frozenset()
    third = pages[0].replace("tuyến số 1", "tuyến số 3").replace("Sáng 1/5", "Sáng 3/5").replace("11 xe", "13 xe")
    third = third.replace("Ninh Kiều với huyện Phong Điền", "Cái Răng với quận Ô Môn qua cầu Cần Thơ")
    assert find_boilerplate(pages * 3 + [third]) == frozenset({site})


def test_near_duplicates_found_by_prefix_filtering_are_all_of_them():
    from retrieval.ingest import distinct_pages
    from retrieval.ingest.duplicates import NEAR_DUPLICATE, _sentences

    rng = random.Random(11)
    places, things = ["Hà Nội", "Huế", "Đà Nẵng", "Cần Thơ", "Hải Phòng"], ["cầu", "trường học", "bệnh viện", "chợ"]
    sentences = [f"Năm {2000 + i}, {rng.choice(places)} xây thêm {i % 7 + 1} {rng.choice(things)} mới." for i in range(40)]
    pages = []
    for _ in range(120):  # pages built from few sentences, so that many pairs are close to the threshold
        if pages and rng.random() < 0.6:  # a re-scrape of an earlier page: one sentence changed
            page = rng.choice(pages).split("\n")
            page[rng.randrange(len(page))] = rng.choice(sentences)
        else:
            page = rng.sample(sentences, rng.randint(4, 12))
        pages.append("\n".join(page))
    groups = distinct_pages(pages)

    units = [_sentences(p) for p in pages]
    parent = list(range(len(pages)))  # every pair compared, copies of copies joined

    def root(i):
        return i if parent[i] == i else root(parent[i])

    for i in range(len(pages)):
        for j in range(i):
            shared = sum(w for u, w in units[i].items() if u in units[j])
            union = sum(units[i].values()) + sum(units[j].values()) - shared
            if " ".join(pages[i].split()) == " ".join(pages[j].split()) or shared >= NEAR_DUPLICATE * union:
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    assert groups == [root(i) for i in range(len(pages))]
    # Not trivial: most pages differ in text, a third of them are near-duplicates of another.
    assert len({" ".join(p.split()) for p in pages}) > 110 and 40 < len(set(groups)) < 90


def test_the_title_and_first_paragraph_are_never_dropped_as_recurring():
    text = _sample()
    everything = frozenset(clean_whitespace(text).split("\n"))
    main = read_page(text, SAMPLE.name, everything).documents[0]
    assert main.title == TITLE and main.text.startswith(LEAD)
    # Only those two: the rest of the article does recur, as these counts say.
    assert "Theo đó, năm 2023" not in main.text


def test_a_daily_column_keeps_its_headline_and_a_recurring_widget_still_goes(tmp_path):
    headline = "Giá vàng hôm nay tại TP.HCM"
    widget = "Nhận tin mới nhất qua email mỗi sáng"
    prices = [(79, "tăng"), (78, "giảm"), (80, "tăng"), (77, "giảm")]
    for day, (price, move) in enumerate(prices, start=3):
        (tmp_path / f"gia-vang-{day}-6.txt").write_text(
            f"{headline}\n\n"
            f"Sáng {day}/6, giá vàng miếng SJC được các doanh nghiệp niêm yết ở mức {price} triệu đồng mỗi lượng, "
            f"{move} {day * 100}.000 đồng so với hôm qua.\n\nGiá vàng nhẫn {move} theo, giao dịch tại các cửa hàng chậm."
            f"\n\n{widget}",
            encoding="utf-8",
        )
    corpus = load_corpus(tmp_path)
    assert len(corpus.documents) == 4
    for doc in corpus.documents:
        assert doc.title == headline
        assert doc.text.startswith("Sáng ") and widget not in doc.text
    # A headline-like line recurring between a headline and the text is furniture: it goes.
    page = (tmp_path / "gia-vang-3-6.txt").read_text(encoding="utf-8").replace(f"{headline}\n\n", f"Vàng tăng giá\n\n{widget}\n\n")
    (tmp_path / "gia-vang-3-6.txt").write_text(page, encoding="utf-8")
    doc = next(d for d in load_corpus(tmp_path).documents if d.path == "gia-vang-3-6.txt")
    assert doc.title == "Vàng tăng giá" and doc.text.startswith("Sáng 3/6")


def test_duplicate_records_are_reported_and_the_fingerprint_is_exact_enough(tmp_path):
    text = "Sáng 8/5, giá lúa tại Cần Thơ tăng 200 đồng mỗi kg.\nNông dân phấn khởi vì được mùa, được giá."
    nfd_rewrapped = unicodedata.normalize("NFD", text.replace("\n", "  \n\n ").replace("Nông dân", "Nông\u00a0dân"))
    records = [
        {"id": 1, "title": "Giá lúa tăng", "text": text},
        {"id": 2, "title": "Giá lúa ở Cần Thơ tăng 200 đồng", "text": text},  # another headline, the same article
        {"id": 3, "title": "Giá lúa tăng", "text": nfd_rewrapped},
        {"id": 4, "title": "Giá lúa tăng", "text": text.replace("200", "300")},  # another article
    ]
    (tmp_path / "tin.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["tin.jsonl#1", "tin.jsonl#4"]
    assert [(p.path, p.reason) for p in corpus.skipped] == [
        ("tin.jsonl#2", "same text as tin.jsonl#1"),
        ("tin.jsonl#3", "same text as tin.jsonl#1"),
    ]
    assert corpus.failed == []

    from retrieval.ingest import duplicate_of, text_fingerprint

    assert text_fingerprint(text) == text_fingerprint(nfd_rewrapped) == text_fingerprint(f"\u202e{text}\x1b")
    # A respelling ("hoà"/"hòa": where the tone mark sits) is an edit, not a copy.
    assert text_fingerprint(f"{text} Hai bên hoà giải.") != text_fingerprint(f"{text} Hai bên hòa giải.")
    for other in (text.lower(), text.replace("200", "300"), text.replace("kg.", "kg"), text.replace("Cần Thơ", "Cần Thơ Cần Thơ")):
        assert text_fingerprint(other) != text_fingerprint(text)
    # For an upload: is a new document's text one the index has already?
    new = dataclasses.replace(corpus.documents[0], doc_id="tai-len.txt", path="tai-len.txt", title="Lúa được giá")
    assert duplicate_of(new, corpus.documents).doc_id == "tin.jsonl#1"
    assert duplicate_of(corpus.documents[0], corpus.documents) is None  # not a copy of itself
    assert duplicate_of(dataclasses.replace(new, text="Giá cà phê giảm."), corpus.documents) is None


# --- control and bidi characters -----------------------------------------------------------------


def _hostile_corpus(folder: Path) -> None:
    folder.mkdir()
    (folder / "cau.txt").write_text(
        f"Khởi công cầu Thủ Thiêm 4{BAD} nối TP Thủ Đức với quận 7\n\n"
        f"TTO - Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4{BAD} dài 2,16 km nối TP Thủ Đức với quận 7, vốn hơn 5.000 tỷ đồng.\n\n"
        "Cầu\tdự kiến hoàn thành năm 2028, giúp giảm tải cho cầu Thủ Thiêm 2.\r\n",
        encoding="utf-8",
    )
    (folder / "mua.md").write_text(
        f"# Mưa lớn{BAD} ở Hà Nội, nhiều tuyến phố ngập sâu\n\n"
        f"Mưa lớn từ rạng sáng 22/7 khiến nhiều tuyến phố{BAD} nội thành Hà Nội ngập sâu, giao thông ùn tắc kéo dài.",
        encoding="utf-8",
    )
    (folder / "phao-hoa.html").write_text(
        f"""<html><head><title>Lễ hội pháo hoa{BAD} Đà Nẵng 2024</title>
<meta property="og:site_name" content="Báo{BAD} Đà Nẵng"><meta name="author" content="Minh{BAD} Anh">
<meta property="og:url" content="https://baodanang.vn/{BAD}phao-hoa.html"></head>
<body><h1>Lễ hội pháo hoa{BAD} Đà Nẵng 2024</h1><article>
<p>Tối 8/6, lễ hội pháo hoa quốc tế Đà Nẵng{BAD} 2024 khai mạc bên sông Hàn với sáu đội đến từ nhiều quốc gia.</p>
<p>Ban tổ chức cho biết thành phố đón hơn 1,2 triệu lượt khách trong tháng 6.</p></article></body></html>""",
        encoding="utf-8",
    )
    record = {
        "id": f"lua{BAD}",
        "title": f"Giá lúa{BAD} tại Cần Thơ tăng",
        "text": f"Sáng 8/5, giá lúa{BAD} tại Cần Thơ tăng 200 đồng mỗi kg.",
        "source": f"TTXVN{BAD}",
        "author": f"Thu{BAD} Hà",
        "url": f"https://baocantho.vn/{BAD}lua",
        "date": "2024-05-08",
    }
    (folder / "tin.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")


def test_no_control_or_bidi_character_reaches_a_document(tmp_path):
    _hostile_corpus(tmp_path / "corpus")
    (tmp_path / "corpus" / "emoji.txt").write_text(
        "Gia đình\u200d người Việt đón Tết xa quê\n\n"
        + unicodedata.normalize("NFD", "Hòa cùng không khí đón Tết, ")
        + "nhiều gia đình người Việt ở Đức 👨\u200d👩\u200d👧 gói bánh chưng, thắp hương tổ tiên.",
        encoding="utf-8",
    )
    corpus = load_corpus(tmp_path / "corpus")
    assert corpus.failed == []
    docs = {d.path: d for d in corpus.documents}
    assert set(docs) == {"cau.txt", "mua.md", "phao-hoa.html", "tin.jsonl", "emoji.txt"}
    for doc in corpus.documents:
        for name, value in dataclasses.asdict(doc).items():
            assert not FORBIDDEN & set(value or ""), (doc.doc_id, name, value)
    assert docs["cau.txt"].title == "Khởi công cầu Thủ Thiêm 4[2J nối TP Thủ Đức với quận 7"
    assert docs["cau.txt"].source == "TTO" and "Cầu dự kiến hoàn thành năm 2028" in docs["cau.txt"].text
    assert docs["mua.md"].title == "Mưa lớn[2J ở Hà Nội, nhiều tuyến phố ngập sâu"
    assert (docs["phao-hoa.html"].source, docs["phao-hoa.html"].author) == ("Báo[2J Đà Nẵng", "Minh[2J Anh")
    lua = docs["tin.jsonl"]
    assert (lua.doc_id, lua.title, lua.source, lua.author) == ("tin.jsonl#lua[2J", "Giá lúa[2J tại Cần Thơ tăng", "TTXVN[2J", "Thu[2J Hà")
    # Joiners in emoji sequences stay, and marks compose once nothing stands between them and their letter.
    assert "👨\u200d👩\u200d👧" in docs["emoji.txt"].text and docs["emoji.txt"].text.startswith("Hòa cùng")


def test_a_file_named_with_control_characters_is_skipped_and_shown_escaped(tmp_path):
    (tmp_path / "tin\x1b[31m\u202etxt.exe.txt").write_text("Tiêu đề bài\n\nSáng 1/6, một sự kiện diễn ra ở Huế.", encoding="utf-8")
    (tmp_path / "tin.txt").write_text("Tiêu đề bài\n\nSáng 1/6, một sự kiện diễn ra ở Huế.", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["tin.txt"]
    assert [(p.path, p.reason) for p in corpus.skipped] == [("tin\\x1b[31m\\u202etxt.exe.txt", "control characters in the file name")]


def test_qabot_index_and_ask_print_no_control_character(tmp_path, capsys, e5):
    _hostile_corpus(tmp_path / "corpus")
    config = tmp_path / "config.yaml"
    config.write_text("corpus:\n  path: corpus\nindex:\n  path: index\n", encoding="utf-8")
    assert main(["index", "--config", str(config)]) == 0
    indexed = capsys.readouterr()
    assert "4 added" in indexed.out
    for question in ("Cầu Thủ Thiêm 4 dài bao nhiêu km?", "Giá lúa tại Cần Thơ tăng bao nhiêu?"):
        for json_flag in ([], ["--json"]):
            assert main(["ask", "--config", str(config), *json_flag, question]) == 0
            out = capsys.readouterr()
            assert "Thủ Thiêm 4" in out.out or "Giá lúa" in out.out
            assert not FORBIDDEN & set(out.out.replace("\n", "")), out.out
            assert "\\u001b" not in out.out and "\\u202e" not in out.out  # nor escaped in the JSON
            # stderr carries the model's progress bars (carriage returns): only the page's characters are looked for.
            assert not any(ch in out.err for ch in HOSTILE[1:]) and "\x1b[2J" not in out.err
    assert not FORBIDDEN & set(indexed.out.replace("\n", ""))
    assert not any(ch in indexed.err for ch in HOSTILE[1:]) and "\x1b[2J" not in indexed.err
