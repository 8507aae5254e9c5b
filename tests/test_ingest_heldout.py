"""A held-out measurement of the page reader: pages it was never tuned on.

``tests/pages_heldout/`` holds 14 pages (10 ``.txt`` as a scraper saves a page's text, 4 ``.html``)
in the layouts of outlets that are NOT in ``tests/pages/``: Nhân Dân, Lao Động (an interview),
Người Lao Động, Tiền Phong (a list-style article), VietNamNet, Znews (a live blog), Công an Nhân
dân, Quân đội Nhân dân, Báo Cần Thơ (no date stamp, a dateline in the lead), Báo Giao thông,
Vietnam+, Báo Chính phủ, Báo Đà Nẵng and Tạp chí Công Thương. The news in them is invented.
They were written, with their ``expected.json``, before anyone looked at the reader's rules,
and must never be used to tune them: once a rule is changed to pass one of these pages, the
pages stop measuring anything.

``expected.json`` has the format described in ``tests/test_ingest_pages.py``. The figures are
the same as that module's gate; they are computed here by a small local implementation because
test modules do not import each other (the shared metric code belongs in ``tests/conftest.py``).
A gate that fails here is reported, not hidden: a failing assertion is marked ``xfail`` (not
strict) so the suite stays green, and ``pytest -s -rxX`` shows the figures and every difference.
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

PAGES = Path(__file__).resolve().parent / "pages_heldout"
EXPECTED_FILE = PAGES / "expected.json"
EXPECTED: list[dict] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))

# The tuned set's gate, applied unchanged to pages the reader has never seen.
GATE = {"title": 1.0, "date": 1.0, "precision": 0.99, "recall": 0.98}
HELD_OUT = "held-out pages: measured, not tuned"

_INLINE = re.compile(
    r"</?(?:a|abbr|b|cite|code|em|i|img|label|mark|picture|q|s|small|source|span|strong|sub|sup|time|u)\b[^>]*>",
    re.IGNORECASE,
)
_HIDDEN = re.compile(
    r"<(head|script|style|noscript|template)\b.*?</\1\s*>|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)


def _seen(entry: dict) -> str:
    """The page as a reader sees it (HTML: inline tags joined, block tags breaking lines)."""
    path = PAGES / entry["file"]
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = html.unescape(
            re.sub(r"<[^>]*>", "\n", _INLINE.sub("", _HIDDEN.sub("\n", raw)))
        )
    return clean_whitespace(raw)


def _norm(text: str | None) -> str | None:
    return None if text is None else clean_whitespace(text).casefold()


# --- the expectations are about the pages that are there -----------------------------------------


def test_heldout_expectations_match_the_pages():
    problems = []
    for e in EXPECTED:
        page, body, name = _seen(e), e["body"], e["file"]
        problems += [f"{name}: title not on the page"] * (e["title"] not in page)
        problems += [
            f"{name}: body line not on the page: {ln[:50]!r}"
            for ln in body
            if ln not in page
        ]
        problems += [
            f"{name}: first/last"
            for ok in (body[0].startswith(e["first"]), body[-1].endswith(e["last"]))
            if not ok
        ]
        for junk in e["not_in_body"] + e["not_in_main"]:
            if junk not in page or any(junk in ln for ln in body) or junk in e["title"]:
                problems.append(
                    f"{name}: junk line off the page or inside the article: {junk[:50]!r}"
                )
        for q in e["questions"]:
            in_body = any(q["answer"] in ln for ln in body)
            outside = any(q["answer"] in j for j in e["not_in_body"] + e["not_in_main"])
            if (q["title"] == e["title"] and not in_body) or (
                q["title"] is None
                and (in_body or not outside or q["not_under"] != e["title"])
            ):
                problems.append(
                    f"{name}: question {q['question']!r} does not fit the page"
                )
    on_disk = {p.name for p in PAGES.iterdir() if p.is_file() and p != EXPECTED_FILE}
    if on_disk != {e["file"] for e in EXPECTED}:
        problems.append("pages and expectations differ")
    assert not problems, "\n".join(problems)


def test_heldout_set_is_the_promised_shape():
    html_pages = [e for e in EXPECTED if e["file"].endswith(".html")]
    assert len(EXPECTED) - len(html_pages) == 10 and len(html_pages) == 4
    assert all(len(e["questions"]) == 2 for e in EXPECTED)


# --- the measurement -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("heldout") / "corpus"
    folder.mkdir()
    for e in EXPECTED:
        shutil.copy(PAGES / e["file"], folder / e["file"])
    return folder


def measure(corpus, expected: list[dict]) -> tuple[dict, list[str]]:
    """Field accuracies, body-line precision/recall, leaked lines; and one report per differing page."""
    n = dict.fromkeys(
        [
            "title",
            "date",
            "source",
            "author",
            "out",
            "out_ok",
            "exp",
            "exp_ok",
            "leaks",
        ],
        0,
    )
    report = []
    for e in expected:
        docs = [d for d in corpus.documents if d.path == e["file"]]
        main = next((d for d in docs if d.doc_id == e["file"]), None)
        n["exp"] += len(e["body"])
        if main is None:
            report.append(f"{e['file']}: no main document")
            continue
        sources = [
            _norm(s) for s in [e["source"], *e.get("source_also", [])] if s is not None
        ] or [None]
        checks = {
            "title": (main.title, _norm(main.title) == _norm(e["title"])),
            "date": (main.date, main.date == e["date"]),
            "source": (main.source, _norm(main.source) in sources),
            "author": (main.author, _norm(main.author) == _norm(e["author"])),
        }
        lines = []
        for field, (got, ok) in checks.items():
            n[field] += ok
            if not ok:
                lines.append(f"  {field}: got {got!r}, want {e[field]!r}")
        out = [clean_whitespace(ln) for ln in main.text.split("\n") if ln.strip()]
        want = set(e["body"])
        n["out"] += len(out)
        n["out_ok"] += sum(ln in want for ln in out)
        n["exp_ok"] += sum(ln in set(out) for ln in e["body"])
        lines += [f"  missing {ln[:90]!r}" for ln in e["body"] if ln not in set(out)]
        lines += [f"  extra   {ln[:90]!r}" for ln in out if ln not in want]
        leaks = [(j, d.doc_id) for j in e["not_in_body"] for d in docs if j in d.text]
        leaks += [(j, main.doc_id) for j in e["not_in_main"] if j in main.text]
        n["leaks"] += len(leaks)
        lines += [f"  leak    {j[:70]!r} in {doc_id}" for j, doc_id in leaks]
        if lines:
            report.append(f"{e['file']} [{e['layout']}]\n" + "\n".join(lines))
    pages = len(expected)
    figures = {f: n[f] / pages for f in ("title", "date", "source", "author")}
    figures.update(
        pages=pages,
        precision=n["out_ok"] / n["out"] if n["out"] else 0.0,
        recall=n["exp_ok"] / n["exp"],
        leaks=n["leaks"],
        lines=f"{n['out_ok']}/{n['out']} output lines expected, {n['exp_ok']}/{n['exp']} expected lines found",
    )
    return figures, report


def _summary(f: dict) -> str:
    return (
        f"held-out, {f['pages']} pages: title {f['title']:.2f}, date {f['date']:.2f}, source {f['source']:.2f}, "
        f"author {f['author']:.2f}, body precision {f['precision']:.3f}, recall {f['recall']:.3f} "
        f"({f['lines']}), leaked lines {f['leaks']}"
    )


@pytest.mark.xfail(strict=False, reason=HELD_OUT)
def test_heldout_ingestion_gate(corpus_folder):
    figures, report = measure(load_corpus(corpus_folder), EXPECTED)
    summary = _summary(figures)
    print("\n" + summary + "\n\n" + "\n".join(report))
    passed = all(figures[k] >= v for k, v in GATE.items()) and figures["leaks"] == 0
    assert passed, summary + "\n\n" + "\n".join(report)


# --- the questions, through the real search --------------------------------------------------------


def _wrong(searcher, questions: list[dict]) -> list[str]:
    wrong = []
    for q in questions:
        under = q["title"] or q["not_under"]
        hits = searcher.search(q["question"], top_k=3 if q["title"] else 10).hits
        found = any(
            q["answer"] in h.quote and clean_whitespace(h.doc.title) == under
            for h in hits
        )
        if found != bool(q["title"]):
            shown = "; ".join(
                f"{h.doc.title[:40]!r}: {h.quote[:60]!r}" for h in hits[:3]
            )
            wrong.append(
                f"{q['question']!r} ({'under' if q['title'] else 'NOT under'} its title): {shown}"
            )
    return wrong


def _questions_report(searcher, what: str, questions: list[dict]) -> None:
    wrong = _wrong(searcher, questions)
    titled = sum(q["title"] is not None for q in questions)
    bad_titled = sum("(under its title)" in w for w in wrong)
    summary = (
        f"held-out questions, {what}: {len(questions) - len(wrong)} of {len(questions)} right "
        f"({titled - bad_titled} of {titled} quoted under their title, "
        f"{len(questions) - titled - (len(wrong) - bad_titled)} of {len(questions) - titled} kept off it)"
    )
    print("\n" + summary + "\n" + "\n".join(wrong))
    assert not wrong, summary + "\n" + "\n".join(wrong)


@pytest.mark.xfail(strict=False, reason=HELD_OUT)
def test_heldout_questions_through_ingestion(corpus_folder, tmp_path_factory, e5):
    searcher = searcher_for(
        make_config(tmp_path_factory.mktemp("heldout-index"), corpus_folder), e5
    )
    _questions_report(
        searcher, "through ingestion", [q for e in EXPECTED for q in e["questions"]]
    )


def test_heldout_questions_are_fair(tmp_path_factory, e5):
    """Were ingestion perfect (the expected text indexed), would the search quote every answer?"""
    tmp = tmp_path_factory.mktemp("heldout-oracle")
    folder = tmp / "corpus"
    folder.mkdir()
    rows = [
        {"id": e["file"], "title": e["title"], "text": "\n\n".join(e["body"])}
        for e in EXPECTED
    ]
    (folder / "expected.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
        encoding="utf-8",
    )
    searcher = searcher_for(make_config(tmp, folder), e5)
    _questions_report(
        searcher,
        "oracle text",
        [q for e in EXPECTED for q in e["questions"] if q["title"]],
    )
