"""Article dates: from a news dateline, or from a date field in metadata, as ISO strings."""

from __future__ import annotations

import re

# "Chiều 28/12, tại Hà Nội, ..." / "Ngày 3/2/2024, ..." / "Hà Nội, 28/12 (TTXVN) - ..."
_DATELINE = re.compile(
    r"^(?:(?:sáng|chiều|tối|trưa|đêm|rạng sáng|hôm nay|ngày|hôm)\s+(?:ngày\s+)?|[^\W\d_][\w .]{0,30},\s*(?:ngày\s+)?)?"
    r"(?P<d>\d{1,2})\s*/\s*(?P<m>\d{1,2})(?:\s*/\s*(?P<y>\d{4}))?\b",
    re.IGNORECASE,
)
_LEAD_YEAR = re.compile(r"\bnăm ((?:19|20)\d\d)\b", re.IGNORECASE)
_TITLE_YEAR = re.compile(r"\b(?:(?P<m>\d{1,2})\s*[/-]\s*)?(?P<y>(?:19|20)\d{2})\b")
# A line that is only a date stamp, as news sites print it under the headline:
# "Thứ tư, 6/3/2024, 14:20 (GMT+7)", "14/03/2024 10:30 GMT+7", "20/05/2024 09:00",
# "Cập nhật: 10:30 ngày 14/03/2024", "2024-05-20T08:00:00+07:00", "Chiều 28/12".
_STAMP_WORDS = (
    r"(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|2|3|4|5|6|7)|chủ\s+nhật|t[2-7]|cn|cập\s+nhật|đăng|ngày\s+đăng|xuất\s+bản|"
    r"published|updated|lúc|ngày|sáng|chiều|tối|trưa|đêm|gmt\s*[+-]\s*\d{1,2}|utc\s*[+-]?\s*\d{0,2}|"
    r"(?P<date>\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{4})?|\d{4}-\d{2}-\d{2}(?:t[\d:.+-]+)?)|\d{1,2}\s*[:h]\s*\d{2}(?::\d{2})?)"
)
DATE_ONLY_LINE = re.compile(rf"^(?=.*\d\s*[/.-]\s*\d)(?:[\s,|·•()\[\]:-]*{_STAMP_WORDS})+[\s,|·•()\[\]:-]*$", re.IGNORECASE)
_STAMP_DATE = re.compile(r"(?P<y1>\d{4})-(?P<m1>\d{2})-(?P<d1>\d{2})|(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})(?:\s*[/.-]\s*(?P<y>\d{4}))?")


def _date_iso(day: int, month: int, year: int | None) -> str | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def stamp_date(line: str, title: str = "", body: str = "") -> str | None:
    """The date of a date-stamp line (``DATE_ONLY_LINE``), the year found as ``find_date`` does
    when the stamp has none."""
    m = _STAMP_DATE.search(line)
    if m is None:
        return None
    if m["y1"]:
        return _date_iso(int(m["d1"]), int(m["m1"]), int(m["y1"]))
    return _with_year(int(m["d"]), int(m["m"]), int(m["y"]) if m["y"] else None, title, body)


def find_date(title: str, body: str) -> str | None:
    """Date from the dateline, with the year from the dateline, the title or the text."""
    first = body.split("\n", 1)[0]
    m = _DATELINE.match(first)
    if not m:
        return None
    return _with_year(int(m["d"]), int(m["m"]), int(m["y"]) if m["y"] else None, title, body)


def _with_year(day: int, month: int, year: int | None, title: str, body: str) -> str | None:
    if year is None:
        years = [(int(t["m"]) if t["m"] else None, int(t["y"])) for t in _TITLE_YEAR.finditer(title)]
        same_month = [y for mo, y in years if mo == month]
        if same_month or years:
            year = (same_month or [y for _, y in years])[0]
    if year is None:
        stated = re.search(rf"\b{day}/{month}/((?:19|20)\d\d)\b", body)
        year = int(stated.group(1)) if stated else None
    if year is None:
        # "... trong quý I năm 2024": the newest year the lead paragraph speaks of.
        lead = body.split("\n", 1)[0]
        years = [int(y) for y in _LEAD_YEAR.findall(lead)]
        year = max(years) if years else None
    return _date_iso(day, month, year)


def iso_date(value: str | None) -> str | None:
    """A metadata date ("20231228", "2023-12-28T08:00", "28/12/2023") as ISO; other text as is."""
    if not value:
        return None
    value = str(value).strip()
    if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value):
        return "-".join(m.groups())
    if m := re.match(r"(\d{4})-(\d{2})-(\d{2})", value):
        return "-".join(m.groups())
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value):
        return _date_iso(int(m[1]), int(m[2]), int(m[3]))
    return value
