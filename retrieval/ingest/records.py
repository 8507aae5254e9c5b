"""The records ingestion produces: articles, the files it could not read, and its parse error."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass
class Document:
    """One article: cleaned text (what quotes are cut from) plus its metadata."""

    doc_id: str
    title: str
    text: str
    path: str
    date: str | None = None  # ISO "2023-12-28", or "--11-14" when the year is not stated
    source: str | None = None
    author: str | None = None
    url: str | None = None

    @property
    def content_hash(self) -> str:
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class FileProblem:
    """A file (or one line of it) that could not be ingested, and why."""

    path: str
    reason: str


@dataclass
class Corpus:
    documents: list[Document] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)


class ParseError(ValueError):
    """The file's content is not an article we can read."""
