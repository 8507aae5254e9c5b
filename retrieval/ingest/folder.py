"""The corpus folder: every supported file under it read and parsed into one ``Corpus``.

``load_corpus`` and ``read_files`` are the only functions of the ingestion package that touch the
file system.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..text import clean_whitespace
from .html import read_html
from .jsonl import parse_jsonl
from .pages import read_page
from .records import Corpus, FileProblem, PageReading, ParseError

log = logging.getLogger(__name__)

_TEXT_PAGE_SUFFIXES = {".txt", ".md"}
_HTML_SUFFIXES = {".html", ".htm"}
PAGE_SUFFIXES = _TEXT_PAGE_SUFFIXES | _HTML_SUFFIXES
SUFFIXES = PAGE_SUFFIXES | {".jsonl"}

# Site furniture (menus, footer lines, widget labels) is short; a longer line that recurs across
# pages is more likely article text they share (a quoted statement, a common lead) and is kept.
_MAX_BOILERPLATE_CHARS = 200


def find_boilerplate(pages: list[str], min_files: int = 3, min_share: float = 0.3) -> frozenset[str]:
    """Short lines that recur across many pages: site furniture, not article text."""
    if len(pages) < min_files:
        return frozenset()
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({ln for ln in clean_whitespace(page).split("\n") if ln and len(ln) <= _MAX_BOILERPLATE_CHARS})
    # The share rounded up (+0.999 rather than ceil, so float error in the product never adds a page).
    need = max(min_files, int(min_share * len(pages) + 0.999))
    return frozenset(ln for ln, c in counts.items() if c >= need)


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
    for problem in corpus.failed:
        log.warning("could not ingest %s: %s", problem.path, problem.reason)
    return corpus
