"""Line roles and the page reader on lines of other outlets' layouts than the sample's."""

import pytest

from retrieval.ingest import read_page
from retrieval.ingest.dates import stamp_date
from retrieval.ingest.roles import (
    BODY,
    CAPTION,
    COMMENTS,
    DATELINE,
    FOOTER,
    NAVIGATION,
    RELATED,
    TAGS,
    TAGS_LINE,
    WIDGET,
    role_of,
)


@pytest.mark.parametrize(
    "line, role",
    [
        ("Trang chủ | Thời sự | Thế giới | Kinh doanh | Giải trí", NAVIGATION),
        ("Thời sự › Giao thông", NAVIGATION),
        ("Trang chủ > Xã hội > Giáo dục", NAVIGATION),
        ("Thứ tư, 6/3/2024, 14:20 (GMT+7)", DATELINE),
        ("14/03/2024 10:30 GMT+7", DATELINE),
        ("20/05/2024 09:00", DATELINE),
        ("Cập nhật: 10:30 ngày 14/03/2024", DATELINE),
        ("Facebook Zalo Sao chép liên kết", WIDGET),
        ("Chia sẻ:", WIDGET),
        ("Trả lời Thích", WIDGET),
        ("Tags: giao thông, cầu Thủ Thiêm 4", TAGS_LINE),
        ("Từ khóa", TAGS),
        ("#giaothong #hanoi", TAGS_LINE),
        ("Chia sẻ bài viết lên Facebook", WIDGET),
        ("Cỡ chữ: A- A+", WIDGET),
        ("00:00 / 04:12", WIDGET),
        ("11:40", BODY),
        ("Ý kiến (3)", COMMENTS),
        ("Bình luận", COMMENTS),
        ("Tin liên quan", RELATED),
        ("Xem nhiều", RELATED),
        ("Đọc tiếp", RELATED),
        ("© Copyright 2024 Báo Điện tử Tin Nhanh. Mọi quyền được bảo lưu.", FOOTER),
        ("Tổng biên tập: Nguyễn Văn A", FOOTER),
        ("Giấy phép số 548/GP-BTTTT cấp ngày 24/8/2021", FOOTER),
        ("Ảnh: Quốc Tuấn", CAPTION),
        ("Lãnh đạo thành phố cắt băng khánh thành cầu. (Ảnh: TTXVN)", CAPTION),
        ("Chiều 28/12, tại Hà Nội, Đảng ủy Khối tổ chức hội nghị.", BODY),
        ("Hội nghị báo cáo viên cấp Đảng ủy Khối các cơ quan Trung ương tháng 12/2023", BODY),
        ("Định hướng công tác tuyên truyền tháng 1-2/2024, cấp ủy các cấp tập trung tuyên truyền.", BODY),
        ("Theo đó, cầu dài 2,16 km, rộng 4 làn xe | 2 làn mỗi chiều.", BODY),
    ],
)
def test_a_line_is_judged_by_what_it_is(line, role):
    assert role_of(line) == role


def test_stamp_dates_with_and_without_year():
    assert stamp_date("Thứ tư, 6/3/2024, 14:20 (GMT+7)") == "2024-03-06"
    assert stamp_date("2024-05-20T08:00:00+07:00") == "2024-05-20"
    assert stamp_date("Chiều 28/12", title="Tổng kết năm 2023") == "2023-12-28"
    assert stamp_date("Chiều 28/12") == "--12-28"


NEWS_SITE = """Tin Nhanh
Trang chủ | Thời sự | Thế giới | Kinh doanh
Thời sự › Giao thông
Thứ tư, 6/3/2024, 14:20 (GMT+7)
Khởi công cầu Thủ Thiêm 4 nối TP Thủ Đức với quận 7
Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4 với tổng vốn đầu tư hơn 5.000 tỷ đồng.
Facebook Zalo Sao chép liên kết
Cầu dài 2,16 km, gồm 6 làn xe, dự kiến hoàn thành vào năm 2027.
Lãnh đạo thành phố dự lễ khởi công. Ảnh: Quốc Tuấn
Theo ban quản lý dự án, cầu sẽ giảm tải cho cầu Phú Mỹ.
Minh Anh
Tags: cầu Thủ Thiêm 4, giao thông
Ý kiến (2)
Nguyễn Văn Bình
Cầu này chắc phải 10 năm nữa mới xong, như cầu Thủ Thiêm 2.
Trả lời Thích
Tin liên quan
Thông xe cầu Thủ Thiêm 2 sau 7 năm thi công
Cầu Thủ Thiêm 2 chính thức thông xe sáng 30/4/2022.
© Copyright 2024 Tin Nhanh. Giấy phép số 548/GP-BTTTT
"""


def test_a_news_site_page_gives_its_headline_date_author_and_only_the_article():
    reading = read_page(NEWS_SITE, "tin-nhanh.txt")
    [doc] = reading.documents
    assert doc.title == "Khởi công cầu Thủ Thiêm 4 nối TP Thủ Đức với quận 7"
    assert (doc.date, doc.author) == ("2024-03-06", "Minh Anh")
    assert doc.text.split("\n") == [
        "Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4 với tổng vốn đầu tư hơn 5.000 tỷ đồng.",
        "Cầu dài 2,16 km, gồm 6 làn xe, dự kiến hoàn thành vào năm 2027.",
        "Theo ban quản lý dự án, cầu sẽ giảm tải cho cầu Phú Mỹ.",
    ]
    reasons = {d.text: d.reason for d in reading.dropped}
    assert reasons["Trang chủ | Thời sự | Thế giới | Kinh doanh"] == NAVIGATION
    assert reasons["Cầu này chắc phải 10 năm nữa mới xong, như cầu Thủ Thiêm 2."] == COMMENTS
    assert reasons["Cầu Thủ Thiêm 2 chính thức thông xe sáng 30/4/2022."] == RELATED
    assert reasons["© Copyright 2024 Tin Nhanh. Giấy phép số 548/GP-BTTTT"] == FOOTER
    assert reasons["Tin Nhanh"] == "before the headline"
    assert reading.uncertain is None


@pytest.mark.parametrize(
    "first, source, rest",
    [
        ("TTO - Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4.", "TTO", "Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4."),
        ("(Dân trí) - Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4.", "Dân trí", "Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4."),
        ("PLO- Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4.", "PLO", "Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4."),
        ("VOV.VN - Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4.", "VOV.VN", "Sáng 6/3, TP.HCM khởi công cầu Thủ Thiêm 4."),
        ("TP.HCM, 6/3/2024 (TTXVN) - Sáng nay, thành phố khởi công cầu Thủ Thiêm 4.", "TTXVN", "Sáng nay, thành phố khởi công cầu Thủ Thiêm 4."),
    ],
)
def test_a_source_lead_in_is_the_source_and_not_the_quote(first, source, rest):
    page = f"Khởi công cầu Thủ Thiêm 4 nối TP Thủ Đức với quận 7\n\n{first}\n\nCầu dài 2,16 km, gồm 6 làn xe."
    [doc] = read_page(page, "a.txt").documents
    assert doc.source == source and doc.text.startswith(rest)
    assert doc.date in ("2024-03-06", "--03-06")


def test_a_sentence_that_only_mentions_a_source_keeps_its_text():
    page = "Khánh thành nhà ga mới ở sân bay Nội Bài\n\nLượng khách qua Cảng Hàng không quốc tế Nội Bài (HKQT) - Hà Nội sẽ đạt kỷ lục."
    [doc] = read_page(page, "a.txt").documents
    assert doc.text.startswith("Lượng khách qua") and doc.source is None


def test_a_page_not_understood_is_indexed_from_its_best_guess_and_listed(tmp_path):
    from retrieval.ingest import load_corpus

    (tmp_path / "la.txt").write_text(
        "Sáng nay, tại trụ sở phường, người dân đã đến làm thủ tục cấp căn cước rất đông từ sớm và phải chờ lâu.\n"
        "Phường đã bố trí thêm cán bộ tiếp nhận hồ sơ.",
        encoding="utf-8",
    )
    corpus = load_corpus(tmp_path)
    [doc] = corpus.documents
    assert doc.text == "Phường đã bố trí thêm cán bộ tiếp nhận hồ sơ."
    assert [p.path for p in corpus.uncertain] == ["la.txt"] and "headline" in corpus.uncertain[0].reason
