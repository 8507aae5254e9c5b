"""The records ingestion produces: articles, the files it could not read, and its parse error."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from ..text import strip_controls


@dataclass
class Document:
    """One article: cleaned text (what quotes are cut from) plus its metadata.

    Every text field is set without control or bidi-override characters (``strip_controls``),
    however the document is made or changed: its fields reach terminals (``qabot ask``), chat
    messages and logs, and a reader (HTML metadata, a JSONL field) may have missed one.
    """

    doc_id: str
    title: str
    text: str
    path: str
    date: str | None = None  # ISO "2023-12-28", or "--11-14" when the year is not stated
    source: str | None = None
    author: str | None = None
    url: str | None = None

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, strip_controls(value) if isinstance(value, str) else value)

    @property
    def content_hash(self) -> str:
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class FileProblem:
    """A file (or one line of it) that could not be ingested, and why."""

    path: str
    reason: str

    def __post_init__(self) -> None:
        # Shown in the index summary and the bot's reload report: no control character either.
        self.path, self.reason = strip_controls(self.path), strip_controls(self.reason)


@dataclass
class DroppedLine:
    """A line of a page that is not article text, and what it was taken for."""

    line: int  # 1-based, in the page's text after whitespace cleaning
    text: str
    reason: str  # the line's role: "navigation", "share widget", "comments", "related stories", ...


@dataclass
class PageReading:
    """What one page became: its documents, every line left out with the reason, and whether the
    layout was understood (``uncertain`` says why not; the best guess is still indexed)."""

    documents: list[Document]
    dropped: list[DroppedLine] = field(default_factory=list)
    uncertain: str | None = None


@dataclass
class Corpus:
    documents: list[Document] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)
    uncertain: list[FileProblem] = field(default_factory=list)  # indexed from a best guess


class ParseError(ValueError):
    """The file's content is not an article we can read."""
