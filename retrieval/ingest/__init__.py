"""Corpus ingestion: files in, clean ``Document`` records out.

Scraped news pages arrive with page chrome (share widgets, menus, the publisher's footer) and,
after the byline, the teaser of a *different* story. Parsing is pure (text in, documents out);
``load_corpus`` is the only function here that touches the file system.

One job a module: ``records`` (the dataclasses and ``ParseError``), ``dates`` (datelines and
metadata dates), ``pages`` (plain-text pages), ``html`` (HTML pages), ``jsonl`` (one JSON
article a line) and ``folder`` (walking the corpus folder).
"""

from .dates import find_date, iso_date
from .folder import PAGE_SUFFIXES, SUFFIXES, FileReading, find_boilerplate, load_corpus, read_files
from .html import parse_html, read_html
from .jsonl import RecordError, document_from_record, parse_jsonl
from .pages import is_chrome, parse_page, read_page
from .records import Corpus, Document, DroppedLine, FileProblem, PageReading, ParseError

__all__ = [
    "PAGE_SUFFIXES",
    "SUFFIXES",
    "Corpus",
    "Document",
    "DroppedLine",
    "FileProblem",
    "FileReading",
    "PageReading",
    "ParseError",
    "RecordError",
    "document_from_record",
    "find_boilerplate",
    "find_date",
    "is_chrome",
    "iso_date",
    "load_corpus",
    "parse_html",
    "parse_jsonl",
    "parse_page",
    "read_files",
    "read_html",
    "read_page",
]
