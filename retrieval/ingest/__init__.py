"""Corpus ingestion: files in, clean ``Document`` records out.

Scraped news pages of any outlet arrive with page furniture around the article (menus, date
stamps, share widgets, captions, comments, related stories, the publisher's footer) and, on wire
pages, the teaser of a *different* story after the byline. Parsing is pure (text in, documents
out); ``load_corpus`` and ``read_files`` are the only functions here that touch the file system.

One job a module: ``records`` (the dataclasses and ``ParseError``), ``roles`` (what one line of a
page is), ``dates`` (date stamps, datelines, metadata dates), ``pages`` (reading a plain-text
page), ``html`` (reading an HTML page, with ``html_tree``, ``html_cut`` and ``html_meta``),
``jsonl`` (one JSON article a line), ``duplicates`` (copies of a text, and of a page) and
``folder`` (walking the corpus folder).
"""

from .dates import find_date, iso_date
from .duplicates import distinct_pages, drop_duplicates, duplicate_of, text_fingerprint
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
    "distinct_pages",
    "document_from_record",
    "drop_duplicates",
    "duplicate_of",
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
    "text_fingerprint",
]
