"""Plain-text and JSON renderings of an ``Answer`` (the CLI's; the bot renders its own HTML)."""

from __future__ import annotations

from .search import Answer, Hit

NO_ANSWER = "Không tìm thấy nội dung liên quan trong kho bài viết."


def display_date(iso: str | None) -> str | None:
    """"2023-12-28" → "28/12/2023"; "--11-14" (year unknown) → "14/11"."""
    if not iso:
        return None
    if iso.startswith("--") and len(iso) == 7:
        return f"{iso[5:7]}/{iso[2:4]}"
    parts = iso[:10].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    return iso


def date_and_source(hit: Hit) -> str:
    """"28/12/2023 · TTXVN", leaving out what the article does not state."""
    return " · ".join(x for x in (display_date(hit.date), hit.source) if x)


def citation(hit: Hit) -> str:
    """"Title (28/12/2023 · TTXVN)": what a user copies when citing the passage."""
    extra = date_and_source(hit)
    return f"{hit.title} ({extra})" if extra else hit.title


def marked_quote(hit: Hit, left: str, right: str) -> str:
    a, b = hit.highlight
    return hit.quote[:a] + left + hit.quote[a:b] + right + hit.quote[b:]


def answer_text(answer: Answer, bold: bool = False) -> str:
    """What the bot would say, as terminal text; the answering sentence between markers."""
    if not answer.answered:
        return NO_ANSWER
    left, right = ("\033[1m", "\033[0m") if bold else ("**", "**")
    blocks = []
    for hit in answer.hits:
        lines = [f"{hit.rank}. {citation(hit)}"]
        if hit.url:
            lines.append(f"   {hit.url}")
        lines += ["   > " + ln for ln in marked_quote(hit, left, right).split("\n")]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def answer_json(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "answered": answer.answered,
        "passages": [
            {
                "rank": h.rank,
                "score": h.score,
                "doc_id": h.doc_id,
                "title": h.title,
                "date": h.date,
                "source": h.source,
                "url": h.url,
                "quote": h.quote,
                "highlight": list(h.highlight),
            }
            for h in (answer.hits if answer.answered else [])
        ],
    }
