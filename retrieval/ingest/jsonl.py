"""JSONL files: one article a line, each JSON record turned into a ``Document``.

``document_from_record`` is the one-record step on its own, so that code holding records already
(a dataset loaded for evaluation) gets the same documents without writing a file.
"""

from __future__ import annotations

import json

from ..text import clean_whitespace
from .dates import find_date, iso_date
from .pages import is_chrome, join_lines
from .records import Document, FileProblem, ParseError


class RecordError(ValueError):
    """One JSON record that is not an article we can read; the message says why."""


# Optional fields and the JSON types they may have: a list or an object there (``"source":
# ["TTXVN"]``) would reach SQLite and fail the whole build, so the line is refused instead.
_TEXT_FIELDS = ("source", "author", "url")
_TEXT_OR_NUMBER_FIELDS = ("id", "date")  # "id": 17 and "date": 20231228 are common and fine


def document_from_record(rec: dict, path: str, line: int) -> Document:
    """The ``Document`` of one record read from line ``line`` of ``path``.

    ``title`` and ``text`` are required strings; ``url``, ``date``, ``source``, ``author``,
    ``id`` are optional. The doc id is ``path#id``, or ``path#L<line>`` without an id. Raises
    ``RecordError`` when the record (which may be any JSON value) is not a readable article.
    """
    if not isinstance(rec, dict) or not isinstance(rec.get("title"), str) or not isinstance(rec.get("text"), str):
        raise RecordError("needs string fields 'title' and 'text'")
    for name in _TEXT_FIELDS:
        if rec.get(name) is not None and not isinstance(rec[name], str):
            raise RecordError(f'field "{name}" must be text')
    for name in _TEXT_OR_NUMBER_FIELDS:
        value = rec.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise RecordError(f'field "{name}" must be text or a number')
    body = join_lines([ln for ln in clean_whitespace(rec["text"]).split("\n") if not is_chrome(ln)])
    if not body:
        raise RecordError("empty 'text'")
    doc_id = f"{path}#{rec['id']}" if rec.get("id") not in (None, "") else f"{path}#L{line}"
    title = clean_whitespace(rec["title"]).replace("\n", " ")
    return Document(
        doc_id=doc_id,
        title=title,
        text=body,
        path=path,
        date=iso_date(rec.get("date")) or find_date(title, body),
        source=rec.get("source") or None,
        author=rec.get("author") or None,
        url=rec.get("url") or None,
    )


def parse_jsonl(text: str, path: str) -> tuple[list[Document], list[FileProblem]]:
    """One article a line: ``title`` and ``text`` required; ``url``, ``date``, ``source``,
    ``author``, ``id`` optional. A broken line is reported and the others kept."""
    docs, problems = [], []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(FileProblem(where, f"invalid JSON ({exc.msg})"))
            continue
        try:
            doc = document_from_record(rec, path, n)
        except RecordError as exc:
            problems.append(FileProblem(where, str(exc)))
            continue
        if doc.doc_id in seen:
            problems.append(FileProblem(where, f"duplicate id {rec.get('id')!r}"))
            continue
        seen.add(doc.doc_id)
        docs.append(doc)
    if not docs and not problems:
        raise ParseError("empty file")
    return docs, problems
