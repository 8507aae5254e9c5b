"""Article dates: from a news dateline, or from a date field in metadata, as ISO strings."""

from __future__ import annotations

import re

# "Chiều 28/12, tại Hà Nội, ..." / "Ngày 3/2/2024, ..." / "Hà Nội, 28/12 (TTXVN) - ..."
_DATELINE = re.compile(
    r"^(?:(?:sáng|chiều|tối|trưa|đêm|rạng sáng|hôm nay|ngày|hôm)\s+(?:ngày\s+)?|[^\W\d_][\w .]{0,30},\s*(?:ngày\s+)?)?"
    r"(?P<d>\d{1,2})\s*/\s*(?P<m>\d{1,2})(?:\s*/\s*(?P<y>\d{4}))?\b",
    re.IGNORECASE,
)
_TITLE_YEAR = re.compile(r"\b(?:(?P<m>\d{1,2})\s*[/-]\s*)?(?P<y>(?:19|20)\d{2})\b")


def _date_iso(day: int, month: int, year: int | None) -> str | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def find_date(title: str, body: str) -> str | None:
    """Date from the dateline, with the year from the dateline, the title or the text."""
    first = body.split("\n", 1)[0]
    m = _DATELINE.match(first)
    if not m:
        return None
    day, month = int(m["d"]), int(m["m"])
    year = int(m["y"]) if m["y"] else None
    if year is None:
        years = [(int(t["m"]) if t["m"] else None, int(t["y"])) for t in _TITLE_YEAR.finditer(title)]
        same_month = [y for mo, y in years if mo == month]
        if same_month or years:
            year = (same_month or [y for _, y in years])[0]
    if year is None:
        stated = re.search(rf"\b{day}/{month}/((?:19|20)\d\d)\b", body)
        year = int(stated.group(1)) if stated else None
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
