"""The corpus folder: every supported file under it read and parsed into one ``Corpus``.

``load_corpus`` and ``read_files`` are the only functions of the ingestion package that touch the
file system.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..text import clean_whitespace, strip_controls
from .duplicates import distinct_pages, drop_duplicates
from .html import read_html
from .jsonl import parse_jsonl
from .pages import read_page
from .records import Corpus, FileProblem, PageReading, ParseError
from .roles import BODY, role_of

log = logging.getLogger(__name__)

_TEXT_PAGE_SUFFIXES = {".txt", ".md"}
_HTML_SUFFIXES = {".html", ".htm"}
PAGE_SUFFIXES = _TEXT_PAGE_SUFFIXES | _HTML_SUFFIXES
SUFFIXES = PAGE_SUFFIXES | {".jsonl"}

# Site furniture (menus, footer lines, widget labels) is short; a longer line that recurs across
# pages is more likely article text they share (a quoted statement, a common lead) and is kept.
_MAX_BOILERPLATE_CHARS = 200


def find_boilerplate(pages: list[str], min_files: int = 3, min_share: float = 0.3) -> frozenset[str]:
    """Short lines that recur across many distinct pages and read as article text: site furniture
    all the same (lines with another role, menus or markers, are judged by it on every page).

    Copies of one page (identical, or near-identical: ``distinct_pages``) count as one page, so
    that saving an article three times does not make its own lines "recurring".
    """
    if len(pages) < min_files:
        return frozenset()
    cleaned = [clean_whitespace(page) for page in pages]
    lines_of: dict[int, set[str]] = defaultdict(set)
    for page, first in zip(cleaned, distinct_pages(cleaned)):
        lines_of[first].update(ln for ln in page.split("\n") if ln and len(ln) <= _MAX_BOILERPLATE_CHARS)
    if len(lines_of) < min_files:
        return frozenset()
    counts = Counter(ln for lines in lines_of.values() for ln in lines)
    # The share rounded up (+0.999 rather than ceil, so float error in the product never adds a page).
    need = max(min_files, int(min_share * len(lines_of) + 0.999))
    return frozenset(ln for ln, c in counts.items() if c >= need and role_of(ln) == BODY)


def _read_text(raw: bytes) -> str:
    if not raw.strip():
        raise ParseError("empty file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (bad byte at offset {exc.start})") from None


@dataclass
class FileReading:
    """One file as ingestion read it: its pages' reading, or why it could not be read."""

    path: str
    reading: PageReading | None = None
    problems: list[FileProblem] = field(default_factory=list)  # the file, or lines of a .jsonl


def _read_all(files: list[tuple[str, Path]]) -> list[FileReading]:
    """Read and parse ``(name, path)`` files; boilerplate is judged across all the text pages."""
    texts: dict[str, tuple[str, str]] = {}
    out: dict[str, FileReading] = {}
    for rel, file in files:
        out[rel] = FileReading(rel)
        try:
            texts[rel] = (file.suffix.lower(), _read_text(file.read_bytes()))
        except (OSError, ParseError) as exc:
            out[rel].problems.append(FileProblem(rel, str(exc)))
    boilerplate = find_boilerplate([t for s, t in texts.values() if s in _TEXT_PAGE_SUFFIXES])
    for rel, (suffix, text) in texts.items():
        try:
            if suffix == ".jsonl":
                docs, problems = parse_jsonl(text, rel)
                out[rel].reading, out[rel].problems = PageReading(docs), problems
            elif suffix in _HTML_SUFFIXES:
                out[rel].reading = read_html(text, rel)
            else:
                out[rel].reading = read_page(text, rel, boilerplate)
        except ParseError as exc:
            out[rel].problems.append(FileProblem(rel, str(exc)))
    return list(out.values())


def read_files(paths: list[Path]) -> list[FileReading]:
    """Files read as ``load_corpus`` would read them together (``qabot inspect``)."""
    return _read_all([(str(p), Path(p)) for p in paths])


def load_corpus(root: Path) -> Corpus:
    """Every readable article under ``root``; unreadable files are reported, never fatal, and a
    page whose layout was not understood is indexed from its best guess and listed as uncertain."""
    corpus = Corpus()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    files = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if any(part.startswith(".") for part in file.relative_to(root).parts):
            continue
        suffix = file.suffix.lower()
        if strip_controls(rel) != rel:
            # Its name would drive the terminal showing the summary; and, cleaned, it could be
            # another file's name (document ids are file names).
            shown = "".join(c if strip_controls(c) == c else repr(c)[1:-1] for c in rel)
            corpus.skipped.append(FileProblem(shown, "control characters in the file name"))
            log.warning("skipping %s: control characters in the file name", shown)
            continue
        if suffix not in SUFFIXES:
            corpus.skipped.append(FileProblem(rel, f"unsupported file type {suffix or '(none)'}"))
            log.info("skipping %s: unsupported file type", rel)
            continue
        files.append((rel, file))
    for read in _read_all(files):
        corpus.failed.extend(read.problems)
        if read.reading is not None:
            corpus.documents.extend(read.reading.documents)
            if read.reading.uncertain:
                corpus.uncertain.append(FileProblem(read.path, read.reading.uncertain))
    # A text indexed twice would quote each passage twice; the first (in path order) is kept.
    corpus.documents, copies = drop_duplicates(corpus.documents)
    corpus.skipped.extend(copies)
    indexed = {doc.path for doc in corpus.documents}
    corpus.uncertain = [u for u in corpus.uncertain if u.path in indexed]
    for problem in corpus.failed:
        log.warning("could not ingest %s: %s", problem.path, problem.reason)
    return corpus
