"""The ingestion test set: news pages in many outlets' layouts, and the gate the ingester must pass.

``tests/pages/`` holds pages as a scraper saves them (the page's text, ``.txt``) or fetches them
(``.html``), in the layouts of VnExpress, Tuổi Trẻ, Thanh Niên, Dân trí, Pháp Luật TP.HCM, VOV,
TTXVN, VTV, Sài Gòn Giải Phóng, Hà Nội Mới and a long-form magazine. The news in them is invented.
``expected.json`` says, page by page, what a careful reader wants the citation bot to take from it:

- ``title``, ``date`` (ISO; ``--MM-DD`` when the page states no year anywhere), ``source`` (other
  accepted spellings in ``source_also``) and ``author`` of the page's main document, the one
  whose ``doc_id`` is the file name;
- ``body``: every paragraph of the article in order, exactly as the document's text must hold it:
  the lead included, the first line's source prefix ("TTO - ", "Hà Nội, 14/3 (TTXVN) - ") cut,
  photo captions and the byline left out; ``first``/``last``: the sentences the text starts and
  ends with;
- ``not_in_body``: navigation, share widgets, captions, reader comments, footers: in no document
  of the page;
- ``not_in_main``: headlines and leads of related stories (or of the next story's teaser): never
  in the main document, though they may become documents of their own (``<file>#2``, ...);
- ``questions``: asked through the real search. With a ``title``, a quote among the top 3 must
  contain ``answer`` and be shown under that title. With ``title`` null the answer is only in a
  comment or a related story: no hit shown under ``not_under`` (the page's title) may contain it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from retrieval.ingest import load_corpus
from retrieval.text import clean_whitespace

from .conftest import make_config, searcher_for

PAGES = Path(__file__).resolve().parent / "pages"
EXPECTED_FILE = PAGES / "expected.json"
EXPECTED: list[dict] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
HTML_SUFFIXES = {".html", ".htm"}

# The gate: what the ingester must reach on the whole set.
MIN_TITLE_ACCURACY = 1.0
MIN_DATE_ACCURACY = 1.0
MIN_BODY_PRECISION = 0.99
MIN_BODY_RECALL = 0.98
SHOWN = 4  # lines of each kind quoted in a page's report


# --- reading the pages as a person sees them ---------------------------------------------------

# Tags that sit inside a line of text; every other tag starts a new line.
_INLINE = "a|abbr|b|cite|code|em|i|img|label|mark|picture|q|s|small|source|span|strong|sub|sup|time|u"
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE})\b[^>]*>", re.IGNORECASE)
_INVISIBLE = re.compile(r"<(head|script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def visible_text(raw: str, suffix: str) -> str:
    """The page's text as a reader sees it: for HTML, tags stripped (inline ones joining their
    words, the others breaking lines) and entities decoded; whitespace cleaned as ingestion does."""
    if suffix.lower() in HTML_SUFFIXES:
        raw = _COMMENT.sub("", _INVISIBLE.sub("\n", raw))
        raw = html.unescape(_TAG.sub("\n", _INLINE_TAG.sub("", raw)))
    return clean_whitespace(raw)


def _page_text(entry: dict) -> str:
    path = PAGES / entry["file"]
    return visible_text(path.read_text(encoding="utf-8"), path.suffix)


# --- the expectations themselves ---------------------------------------------------------------

_DATE = re.compile(r"^(\d{4}|-)-\d{2}-\d{2}$")


def _expectation_problems(entry: dict) -> list[str]:
    """Typos and contradictions in one page's expectations."""
    name = entry.get("file", "?")
    path = PAGES / name
    if not path.is_file():
        return [f"{name}: no such page"]
    problems: list[str] = []

    def bad(msg: str) -> None:
        problems.append(f"{name}: {msg}")

    for key in ("layout", "title", "date", "source", "author", "first", "last", "body", "not_in_body", "questions"):
        if key not in entry:
            bad(f"missing key {key!r}")
    if problems:
        return problems
    page = _page_text(entry)
    body = entry["body"]
    title = entry["title"]
    if title not in page:
        bad(f"title not on the page: {title!r}")
    if not _DATE.match(entry["date"]):
        bad(f"date not ISO: {entry['date']!r}")
    if not body:
        bad("empty body")
        return problems
    if len(set(body)) != len(body):
        bad("a body line is listed twice")
    for line in body:
        if line != clean_whitespace(line) or "\n" in line:
            bad(f"body line not whitespace-clean: {line[:60]!r}")
        if line not in page:
            bad(f"body line not on the page: {line[:60]!r}")
    if not body[0].startswith(entry["first"]) or not entry["first"]:
        bad(f"first {entry['first'][:40]!r} does not start body[0]")
    if not body[-1].endswith(entry["last"]) or not entry["last"]:
        bad(f"last {entry['last'][:40]!r} does not end body[-1]")
    for key in ("not_in_body", "not_in_main"):
        for junk in entry.get(key, []):
            if junk not in page:
                bad(f"{key} line not on the page: {junk[:60]!r}")
            if any(junk in line for line in body) or junk in title:
                bad(f"{key} line is part of the article itself: {junk[:60]!r}")
    for q in entry["questions"]:
        answer = q["answer"]
        if q["title"] is not None:
            if q["title"] != title:
                bad(f"question {q['question']!r}: title is not the page's title")
            if not any(answer in line for line in body):
                bad(f"answer not in the body: {answer!r}")
        else:
            if q.get("not_under") != title:
                bad(f"question {q['question']!r}: not_under should be the page's title")
            if answer not in page or any(answer in line for line in body):
                bad(f"answer should be on the page but outside the body: {answer!r}")
            outside = entry["not_in_body"] + entry.get("not_in_main", [])
            if not any(answer in junk for junk in outside):
                bad(f"answer of a title-null question is in no not_in_body/not_in_main line: {answer!r}")
    return problems


def test_expectations_match_the_pages():
    """expected.json describes the pages that are there, and only what is on them."""
    problems = [p for entry in EXPECTED for p in _expectation_problems(entry)]
    files = [e["file"] for e in EXPECTED]
    if len(set(files)) != len(files):
        problems.append("a page is listed twice in expected.json")
    on_disk = {p.name for p in PAGES.iterdir() if p.is_file() and p != EXPECTED_FILE}
    if on_disk != set(files):
        problems.append(
            f"pages without expectations: {sorted(on_disk - set(files))}; "
            f"expectations without pages: {sorted(set(files) - on_disk)}"
        )
    assert not problems, "\n".join(problems)


def test_the_set_covers_enough_layouts_and_questions():
    html_pages = [e for e in EXPECTED if Path(e["file"]).suffix in HTML_SUFFIXES]
    questions = [q for e in EXPECTED for q in e["questions"]]
    assert len(EXPECTED) >= 18
    assert len({e["layout"] for e in EXPECTED}) >= 9
    assert len(html_pages) >= 6 and len(EXPECTED) - len(html_pages) >= 6
    assert len(questions) >= 30
    assert sum(q["title"] is None for q in questions) >= 5
    assert any(not any(ch.isalpha() and ord(ch) > 127 for ch in q["question"]) for q in questions)
    assert any(e["date"].startswith("--") for e in EXPECTED)


# --- the gate ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory) -> Path:
    """A copy of tests/pages/ without expected.json: the corpus folder the product reads."""
    folder = tmp_path_factory.mktemp("pages") / "corpus"
    folder.mkdir()
    for page in PAGES.iterdir():
        if page.is_file() and page != EXPECTED_FILE:
            shutil.copy(page, folder / page.name)
    return folder


@pytest.fixture(scope="module")
def corpus(corpus_folder):
    return load_corpus(corpus_folder)


def _short(text: str | None, n: int = 70) -> str:
    if text is None:
        return "None"
    text = text.replace("\n", " ⏎ ")
    return repr(text if len(text) <= n else text[: n - 1] + "…")


def _same_person(got: str | None, want: str | None) -> bool:
    if got is None or want is None:
        return got is want
    return clean_whitespace(got).casefold() == clean_whitespace(want).casefold()


def _source_ok(got: str | None, entry: dict) -> bool:
    if entry["source"] is None:
        return got is None
    return any(_same_person(got, s) for s in [entry["source"], *entry.get("source_also", [])])


def measure(corpus, expected: list[dict]) -> tuple[dict, list[str]]:
    """Figures over the whole set, and a report of every page that differs from its expectation."""
    counts = dict.fromkeys(
        ["pages", "title", "date", "source", "author", "first", "last", "out", "out_ok", "exp", "exp_ok", "leaks"], 0
    )
    report: list[str] = []
    failed = {p.path: p.reason for p in corpus.failed}
    for entry in expected:
        name = entry["file"]
        counts["pages"] += 1
        docs = [d for d in corpus.documents if d.path == name]
        main = next((d for d in docs if d.doc_id == name), None)
        exp_lines = [clean_whitespace(ln) for ln in entry["body"]]
        counts["exp"] += len(exp_lines)
        lines: list[str] = []
        if main is None:
            why = failed.get(name, "no document with doc_id == file name")
            report.append(f"{name} [{entry['layout']}]\n  no main document: {why}")
            continue
        title_ok = clean_whitespace(main.title) == clean_whitespace(entry["title"])
        fields = [
            ("title", title_ok, main.title, entry["title"]),
            ("date", main.date == entry["date"], main.date, entry["date"]),
            ("source", _source_ok(main.source, entry), main.source, entry["source"]),
            ("author", _same_person(main.author, entry["author"]), main.author, entry["author"]),
        ]
        for field, ok, got, want in fields:
            counts[field] += ok
            if not ok:
                lines.append(f"  {field}: got {_short(got)} want {_short(want)}")
        out = [clean_whitespace(ln) for ln in main.text.split("\n") if ln.strip()]
        out_ok = [ln for ln in out if ln in set(exp_lines)]
        exp_ok = [ln for ln in exp_lines if ln in set(out)]
        counts["out"] += len(out)
        counts["out_ok"] += len(out_ok)
        counts["exp_ok"] += len(exp_ok)
        missing = [ln for ln in exp_lines if ln not in set(out)]
        extra = [ln for ln in out if ln not in set(exp_lines)]
        if missing or extra:
            lines.append(
                f"  body: {len(missing)} of {len(exp_lines)} expected lines missing, {len(extra)} of {len(out)} lines extra"
            )
            lines += [f"    missing {_short(ln)}" for ln in missing[:SHOWN]]
            lines += [f"    extra   {_short(ln)}" for ln in extra[:SHOWN]]
        for field, ok, got in (
            ("first", main.text.startswith(entry["first"]), main.text[:70]),
            ("last", main.text.endswith(entry["last"]), main.text[-70:]),
        ):
            counts[field] += ok
            if not ok:
                lines.append(
                    f"  {field}: text {'starts' if field == 'first' else 'ends'} {_short(got)}, want {_short(entry[field])}"
                )
        leaks = [(junk, d.doc_id) for junk in entry["not_in_body"] for d in docs if junk in d.text]
        leaks += [(junk, main.doc_id) for junk in entry.get("not_in_main", []) if junk in main.text]
        counts["leaks"] += len(leaks)
        if leaks:
            lines.append(f"  leaks: {len(leaks)} lines that are not this article's text are in its documents")
            lines += [f"    {_short(junk, 60)} in {doc_id}" for junk, doc_id in leaks[:SHOWN]]
        if lines:
            report.append(f"{name} [{entry['layout']}]\n" + "\n".join(lines))
    n = counts["pages"] or 1
    figures = {
        "pages": counts["pages"],
        "title": counts["title"] / n,
        "date": counts["date"] / n,
        "source": counts["source"] / n,
        "author": counts["author"] / n,
        "first": counts["first"] / n,
        "last": counts["last"] / n,
        "precision": counts["out_ok"] / counts["out"] if counts["out"] else 0.0,
        "recall": counts["exp_ok"] / counts["exp"] if counts["exp"] else 0.0,
        "leaks": counts["leaks"],
    }
    return figures, report


def _summary(f: dict) -> str:
    return (
        f"{f['pages']} pages: title {f['title']:.2f}, date {f['date']:.2f}, source {f['source']:.2f}, "
        f"author {f['author']:.2f}, body precision {f['precision']:.3f}, recall {f['recall']:.3f}, "
        f"first {f['first']:.2f}, last {f['last']:.2f}, leaked lines {f['leaks']}"
    )


def test_ingestion_gate(corpus):
    """Every page's title and date right, its body nearly exactly, and nothing else in it."""
    figures, report = measure(corpus, EXPECTED)
    summary = _summary(figures)
    print(summary)
    gate = (
        figures["title"] >= MIN_TITLE_ACCURACY
        and figures["date"] >= MIN_DATE_ACCURACY
        and figures["precision"] >= MIN_BODY_PRECISION
        and figures["recall"] >= MIN_BODY_RECALL
        and figures["leaks"] == 0
    )
    assert gate, summary + "\n\n" + "\n".join(report)


# --- answering questions through the real search -----------------------------------------------


@pytest.fixture(scope="module")
def searcher(corpus_folder, tmp_path_factory, e5):
    return searcher_for(make_config(tmp_path_factory.mktemp("pages-index"), corpus_folder), e5)


@pytest.fixture(scope="module")
def oracle_searcher(tmp_path_factory, e5):
    """A search over the articles exactly as expected.json says they must come out of ingestion."""
    tmp = tmp_path_factory.mktemp("pages-oracle")
    folder = tmp / "corpus"
    folder.mkdir()
    records = [{"id": e["file"], "title": e["title"], "text": "\n\n".join(e["body"])} for e in EXPECTED]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    (folder / "expected.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return searcher_for(make_config(tmp, folder), e5)


def _question_failures(searcher, questions: list[dict]) -> list[str]:
    failures = []
    for q in questions:
        if q["title"] is not None:
            hits = searcher.search(q["question"], top_k=3).hits
            if any(q["answer"] in h.quote and clean_whitespace(h.doc.title) == q["title"] for h in hits):
                continue
            want = f"{q['answer']!r} under {q['title']!r}"
        else:
            hits = searcher.search(q["question"], top_k=10).hits
            if not any(q["answer"] in h.quote and clean_whitespace(h.doc.title) == q["not_under"] for h in hits):
                continue
            want = f"{q['answer']!r} NOT under {q['not_under']!r}"
        shown = "\n".join(f"    {h.doc.title[:50]!r}: {_short(h.quote, 80)}" for h in hits[:3]) or "    (no hits)"
        failures.append(f"{q['question']!r}: want {want}; got\n{shown}")
    return failures


def test_questions_are_answerable_from_the_expected_text(oracle_searcher):
    """The questions are fair: were ingestion perfect, the real search would quote every answer
    under its title. A failure here is the search's or the question's, not the ingester's."""
    questions = [q for entry in EXPECTED for q in entry["questions"] if q["title"] is not None]
    failures = _question_failures(oracle_searcher, questions)
    assert not failures, f"{len(failures)} of {len(questions)} questions wrong\n\n" + "\n".join(failures)


def test_questions_are_quoted_under_the_right_title(searcher):
    """Through the product's own ingestion of the pages: each answer quoted under its article's
    title, and what only a comment or a related story says never shown as the article's."""
    questions = [q for entry in EXPECTED for q in entry["questions"]]
    failures = _question_failures(searcher, questions)
    titled = sum(q["title"] is not None for q in questions)
    wrong_titled = sum(" NOT under " not in f.split("; got")[0] for f in failures)
    summary = (
        f"{len(failures)} of {len(questions)} questions wrong: {wrong_titled} of {titled} not quoted under "
        f"their title, {len(failures) - wrong_titled} of {len(questions) - titled} quoted from a comment "
        "or related story under the article's title"
    )
    print(summary)
    assert not failures, summary + "\n\n" + "\n".join(failures)
