"""The corpus folder: every supported file under it read and parsed into one ``Corpus``.

``load_corpus`` is the only function of the ingestion package that touches the file system.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from ..text import clean_whitespace
from .html import parse_html
from .jsonl import parse_jsonl
from .pages import parse_page
from .records import Corpus, FileProblem, ParseError

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


def load_corpus(root: Path) -> Corpus:
    """Every readable article under ``root``; unreadable files are reported, never fatal."""
    corpus = Corpus()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    texts: dict[str, tuple[str, str]] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if any(part.startswith(".") for part in file.relative_to(root).parts):
            continue
        suffix = file.suffix.lower()
        if suffix not in SUFFIXES:
            corpus.skipped.append(FileProblem(rel, f"unsupported file type {suffix or '(none)'}"))
            log.info("skipping %s: unsupported file type", rel)
            continue
        try:
            texts[rel] = (suffix, _read_text(file.read_bytes()))
        except (OSError, ParseError) as exc:
            corpus.failed.append(FileProblem(rel, str(exc)))
    boilerplate = find_boilerplate([t for s, t in texts.values() if s in _TEXT_PAGE_SUFFIXES])
    for rel, (suffix, text) in texts.items():
        try:
            if suffix == ".jsonl":
                docs, problems = parse_jsonl(text, rel)
                corpus.failed.extend(problems)
            elif suffix in _HTML_SUFFIXES:
                docs = parse_html(text, rel)
            else:
                docs = parse_page(text, rel, boilerplate)
        except ParseError as exc:
            corpus.failed.append(FileProblem(rel, str(exc)))
            continue
        corpus.documents.extend(docs)
    for problem in corpus.failed:
        log.warning("could not ingest %s: %s", problem.path, problem.reason)
    return corpus
