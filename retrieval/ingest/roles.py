"""What a line of a scraped news page is, judged from the line itself: navigation, a dateline, a
share widget, a section marker, a caption, a byline, a footer... or article text.

Pages of different outlets put these in different places, so the rules look at what a line is
(separators, dates and times, sentence punctuation, the share of Vietnamese function words, known
markers), not at where it stands. ``retrieval.ingest.pages`` then reads the page top to bottom
with these roles.
"""

from __future__ import annotations

import re

from .dates import DATE_ONLY_LINE

# Roles of lines that are never article text. Markers of sections that end the article: nothing
# after them is the article's body (reader comments, related stories, the site's footer).
NAVIGATION = "navigation"
DATELINE = "dateline"
WIDGET = "share widget"
TAGS = "tags"
TAGS_LINE = "tag"
CAPTION = "photo caption"
COMMENTS = "comments"
RELATED = "related stories"
FOOTER = "footer"
URL = "url"
BYLINE = "byline"
SECTION_ENDS = (COMMENTS, RELATED, FOOTER, TAGS)
BODY = "body"

_FLAGS = re.IGNORECASE
# "Trang chủ | Thời sự | Thế giới", "Thời sự › Giao thông", "Trang chủ > Xã hội > Giáo dục":
# short segments between separators, none a sentence.
_SEPARATORS = re.compile(r"\s*(?:\||›|»|>|/|·|•)\s*")
_WIDGET_PATTERNS = [
    re.compile(p, _FLAGS)
    for p in (
        r"^(?:theo dõi|follow)\b.{0,40}\b(?:facebook|zalo|youtube|google news|tiktok)\b",
        r"^(?:quảng cáo|advertisement)\s*$",
        r"^(?:chia sẻ|share)\s*:?(?:\s*(?:facebook|twitter|zalo|email|in)\b.*)?$",
        r"^\d+\s*(?:lượt xem|lượt thích|bình luận|chia sẻ)\s*$",
        r"^lưu (?:vào|bài|tin)\b.{0,40}$",
    )
]
_TAGS = re.compile(r"^(?:(?:tags?|từ khóa|từ khoá|chủ đề|sự kiện|xem thêm|đọc thêm)\s*:|#\w[^#\n]{0,40}(?:#\w[^#\n]{0,40})*$)", _FLAGS)
# "Từ khóa" alone, the tags one a line after it: the article is over.
_TAGS_MARKER = re.compile(r"^(?:tags?|từ khóa|từ khoá|chủ đề|sự kiện)\s*$", _FLAGS)
_COMMENTS = re.compile(
    r"^(?:ý kiến(?: bạn đọc)?|bình luận|bạn đọc bình luận|bình luận của bạn đọc|ý kiến của bạn|gửi bình luận|viết bình luận|bạn nghĩ gì\??|"
    r"bình luận của bạn|thảo luận)\s*(?:\(\s*\d+\s*\))?\s*:?$",
    _FLAGS,
)
_RELATED = re.compile(
    r"^(?:(?:tin|bài|bài viết|video|tin tức) (?:liên quan|khác|cùng chuyên mục|mới nhất|mới|đọc nhiều|xem nhiều|nổi bật|"
    r"cùng chủ đề)|xem nhiều(?: nhất)?|đọc nhiều(?: nhất)?|đọc tiếp|đọc thêm|xem thêm|có thể bạn quan tâm|"
    r"tin tiêu điểm|tiêu điểm|mới nhất|nổi bật|tin nóng|bạn có thể quan tâm)\s*:?$",
    _FLAGS,
)
_FOOTER = re.compile(
    r"^(?:©|\(c\)\s|copyright\b|bản quyền (?:thuộc|©|\(c\)|\d{4})|tổng biên tập\s*:|phó tổng biên tập\s*:|"
    r"giấy phép (?:số|xuất bản|hoạt động|thiết lập|mxh)\b|cơ quan chủ quản\s*:|chịu trách nhiệm (?:xuất bản|nội dung)\s*:|"
    r"các đơn vị thông tin của\b|ghi rõ nguồn|.{0,40}\b(?:chỉ được phát hành lại|mọi hình thức sao chép|không được sao chép|"
    r"phát hành lại thông tin|sao chép hoặc phát hành))",
    _FLAGS,
)
# A footer line is short; a long paragraph that starts alike is article text.
_MAX_FOOTER_WORDS = 40
# A caption is a sentence or two; a long paragraph ending in "(Ảnh: ...)" is article text that a
# scraper glued a caption to, and is kept.
_MAX_CAPTION_WORDS = 45
_FOOTER_TAIL = re.compile(r"\brao vặt\s*$", _FLAGS)
_CAPTION = re.compile(
    r"^(?:ảnh|ảnh minh họa|ảnh minh hoạ|video|clip|đồ họa|đồ hoạ|infographic|nguồn ảnh)\s*:|"
    r"(?:\(\s*ảnh(?: minh họa| minh hoạ)?\s*:[^()]{1,60}\)\.?|(?:[-–—]|[.!?])\s*(?:ảnh|ảnh minh họa|ảnh minh hoạ)\s*:\s*[^.!?:]{1,40}\.?)\s*$",
    _FLAGS,
)
# An author credit as magazines and some papers print it: "Bài: Minh Anh - Ảnh: Quốc Tuấn",
# "Bài và ảnh: Thu Hằng", "Tác giả: ...", "Nhóm PV".
AUTHOR_CREDIT = re.compile(
    r"^(?:bài(?: và ảnh)?|bài, ảnh|tin(?:, ảnh| và ảnh)?|tác giả|thực hiện|ghi chép)\s*:\s*(?P<author>[^:–—-]{2,60}?)(?:\s*[-–—]\s*(?:ảnh|đồ họa|video)\s*:.*)?$",
    re.IGNORECASE,
)
# "Phạm Ngọc/VOV-Tây Bắc", "Thu Trang - Trung tâm Tin tức VTV24", "Minh Anh/TTXVN": a reporter's
# name (capitalised words) and the newsroom, with no sentence punctuation.
_NAME = r"[A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,4}"
AGENCY_BYLINE = re.compile(
    rf"^(?P<author>{_NAME})\s*(?:/\s*(?P<agency>[A-ZĐ][\w.+]*(?:\s*-\s*[\wÀ-ỹ ]{{2,30}})?)|"
    rf"[-–]\s*(?P<desk>(?:Trung tâm|Ban|Phòng|Đài|Báo|Tạp chí|Thông tấn|Phóng viên|PV|Nhóm)\b[^.!?:;]{{2,50}}))$"
)
_URL_LINE = re.compile(r"^(?:url\s*:\s*)?(?P<url>https?://\S+)$", _FLAGS)
_SENTENCE_END = re.compile(r"[.!?…:;\"”)]\s*$")
_WORD = re.compile(r"\w+")


# Words of share bars, players and page tools ("Chia sẻ bài viết lên Facebook", "Cỡ chữ: A- A+",
# "Lắng nghe bài viết", "Xem thêm cập nhật cũ hơn"): a short line made of them is a widget.
_WIDGET_VOCAB = frozenset(
    "chia sẻ facebook zalo twitter x email e mail gửi bài viết qua lên mạng xã hội sao chép liên kết đường dẫn link "
    "copy lưu vào của tôi nghe lắng cỡ chữ a in bình luận góp ý theo dõi trên google news tải app đăng nhập ký "
    "thích trả lời báo cáo vi phạm xem thêm cập nhật tục cũ hơn mới nhất đang tự động phát youtube tiktok "
    "messenger telegram viber trang chủ quay lại lên đầu share đọc aa".split()
)
_MAX_WIDGET_WORDS = 10
_MAX_WIDGET_CHARS = 12 * _MAX_WIDGET_WORDS
_MEDIA_PLAYER = re.compile(r"^\d{1,2}:\d{2}\s*/\s*\d{1,2}:\d{2}$")


def _is_widget(line: str) -> bool:
    if len(line) > _MAX_WIDGET_CHARS:
        return False
    words = [w.lower() for w in _WORD.findall(line)]
    if _MEDIA_PLAYER.match(line):
        return True
    if not words or len(words) > _MAX_WIDGET_WORDS or line.rstrip().endswith((".", "?", "!")):
        return False
    return sum(w in _WIDGET_VOCAB for w in words) >= 0.8 * len(words)


# Every role but navigation is a short line; a line longer than this, with no menu separator,
# is article text without further checks (most lines are: this keeps reading a corpus fast).
_MAX_ROLE_WORDS = 45
_MENU_CHARS = frozenset("|›»>")


def role_of(line: str) -> str:
    """The role of one non-empty, whitespace-cleaned line."""
    if len(line) > 4 * _MAX_ROLE_WORDS and word_count(line) > _MAX_ROLE_WORDS and not _MENU_CHARS & set(line):
        return BODY
    if line.endswith((".", "…", "!", "?")) and word_count(line) > _MAX_WIDGET_WORDS:
        # A sentence of some length can only be a footer line or a caption (the common case, fast).
        if _FOOTER.match(line) and word_count(line) <= _MAX_FOOTER_WORDS:
            return FOOTER
        return CAPTION if _CAPTION.search(line) and word_count(line) <= _MAX_CAPTION_WORDS else BODY
    if _URL_LINE.match(line):
        return URL
    if AGENCY_BYLINE.match(line) or AUTHOR_CREDIT.match(line):
        return BYLINE
    if _COMMENTS.match(line):
        return COMMENTS
    if _RELATED.match(line):
        return RELATED
    if (_FOOTER.match(line) or _FOOTER_TAIL.search(line)) and word_count(line) <= _MAX_FOOTER_WORDS:
        return FOOTER
    if _TAGS.match(line):
        return TAGS_LINE
    if _TAGS_MARKER.match(line):
        return TAGS
    if _is_widget(line) or any(p.match(line) for p in _WIDGET_PATTERNS):
        return WIDGET
    if DATE_ONLY_LINE.match(line):
        return DATELINE
    if is_navigation(line):
        return NAVIGATION
    if _CAPTION.search(line) and word_count(line) <= _MAX_CAPTION_WORDS:
        return CAPTION
    return BODY


# Section names of Vietnamese news sites: a line made mostly of them is a menu, separators or not
# ("Thời sự Thế giới Kinh tế Đời sống Sức khỏe ...").
_SECTIONS = re.compile(
    r"\b(?:thời sự|thế giới|kinh tế|kinh doanh|đời sống|sức khỏe|sức khoẻ|giới trẻ|giáo dục|du lịch|văn hóa|văn hoá|"
    r"giải trí|thể thao|công nghệ|xe|video|pháp luật|xã hội|chính trị|bất động sản|khoa học|số hóa|ý kiến|bạn đọc|"
    r"tâm sự|thư giãn|podcast|lao động|việc làm|nhịp sống trẻ|quân sự|môi trường|quốc tế|trong nước|tài chính|"
    r"chứng khoán|ô tô|xe máy|gia đình|ẩm thực|nghệ thuật|âm nhạc|điện ảnh|thời trang|mới nhất|tin nóng|đô thị|"
    r"nông nghiệp|y tế|an ninh|hình sự|góc nhìn|tiêu dùng|doanh nghiệp|thị trường|bóng đá|sao|phim|truyền hình|"
    r"multimedia|infographic|emagazine|tuyển sinh|du học|trang chủ|media|magazine|longform|đặc biệt|pháp đình|"
    r"dân sinh|nhà đất|thông tin|truyền thông|văn nghệ|chuyển động|sống khỏe|sống xanh|tiêu điểm|cộng đồng)\b",
    re.IGNORECASE,
)
_MIN_MENU_SECTIONS = 4
_MIN_MENU_SHARE = 0.6  # of the line's words inside section names


def is_navigation(line: str) -> bool:
    """A menu bar or breadcrumb: two or more short, unpunctuated segments between separators, or
    a run of section names."""
    if not _SENTENCE_END.search(line):
        names = _SECTIONS.findall(line)
        if len(names) >= _MIN_MENU_SECTIONS and sum(word_count(n) for n in names) >= _MIN_MENU_SHARE * word_count(line):
            return True
    parts = [p for p in _SEPARATORS.split(line) if p]
    if len(parts) < 2 or len(parts) == len(line.split()):
        return False
    return all(word_count(p) <= 4 and not _SENTENCE_END.search(p) and not any(c.isdigit() for c in p) for p in parts)


def is_sentence(line: str) -> bool:
    """Ends like a sentence (a headline or a label usually does not)."""
    return bool(_SENTENCE_END.search(line))


def word_count(line: str) -> int:
    return len(_WORD.findall(line))


def url_in(line: str) -> str | None:
    m = _URL_LINE.match(line)
    return m["url"] if m else None
