"""The bench's data: the shared news files read into ingester records, and the corpus folders and
configurations the sections index them under."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from ..config import Config

DANTRI_FILE = Path("dantri-news/uvn_dantri_2653.jsonl.gz")
BAOMOI_FILE = Path("baomoi-news/baomoi_35k.jsonl.gz")
QUESTIONS_FILE = Path("vinewsqa-dev/queries.jsonl")
# The files each bench section reads.
SECTION_FILES = {
    "throughput": (DANTRI_FILE,),
    "incremental": (DANTRI_FILE,),
    "latency": (BAOMOI_FILE, QUESTIONS_FILE),
}


class BenchDataMissing(FileNotFoundError):
    """The shared benchmark data folder (or a file in it) is not there."""


def check_data(root: Path, sections: Iterable[str] | None = None) -> Path:
    """``root`` resolved, once every file the chosen sections (all by default) read is known to exist."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise BenchDataMissing(
            f"benchmark data folder not found: {root} (the shared data, ../shared/data from the "
            "project root; pass --data DIR)"
        )
    chosen = SECTION_FILES if sections is None else sections
    missing = sorted({str(f) for s in chosen for f in SECTION_FILES[s] if not (root / f).is_file()})
    if missing:
        raise BenchDataMissing(f"benchmark data folder {root} lacks: {', '.join(missing)}")
    return root


def read_dantri(root: Path, limit: int | None = None) -> list[dict]:
    """Dân Trí articles as records of the ingester's ``.jsonl`` fields."""
    out = []
    with gzip.open(root / DANTRI_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out.append(
                {
                    "id": rec["doc_id"],
                    "title": rec["title"],
                    "text": rec["text"],
                    "url": rec.get("url"),
                    "date": rec.get("date"),
                    "source": "Dân Trí",
                }
            )
            if limit is not None and len(out) >= limit:
                break
    return out


def read_baomoi(root: Path) -> Iterator[dict]:
    """Báo Mới articles as ingester records: the lead (sapo) opens the text."""
    with gzip.open(root / BAOMOI_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            text = "\n".join(p for p in (rec.get("sapo"), rec.get("body")) if p and p.strip())
            if rec.get("title") and text:
                yield {"id": str(rec["id"]), "title": rec["title"], "text": text, "source": "Báo Mới"}


def read_questions(root: Path, n: int) -> list[str]:
    """The first ``n`` distinct questions of ViNewsQA dev: real questions people wrote."""
    seen: dict[str, None] = {}
    with open(root / QUESTIONS_FILE, encoding="utf-8") as f:
        for line in f:
            seen.setdefault(json.loads(line)["text"].strip(), None)
            if len(seen) >= n:
                break
    return list(seen)


def spread_sample(items: Sequence, n: int) -> list:
    """``n`` items evenly spaced over ``items``: the Dân Trí file is grouped by topic."""
    if n >= len(items):
        return list(items)
    return [items[int(i * len(items) / n)] for i in range(n)]


def jsonl_line(rec: dict) -> str:
    return json.dumps({k: v for k, v in rec.items() if v is not None}, ensure_ascii=False) + "\n"


def write_corpus(folder: Path, files: dict[str, str]) -> int:
    """Make ``folder`` hold exactly ``files`` (name -> text); only differing files are written, so
    a re-run over an unchanged corpus writes nothing and keeps its timestamps. Returns files written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file() and old.name not in files:
            old.unlink()
    written = 0
    for name, text in files.items():
        path = folder / name
        try:
            if path.read_text(encoding="utf-8") == text:
                continue
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        path.write_text(text, encoding="utf-8")
        written += 1
    return written


def article_files(records: Sequence[dict]) -> dict[str, str]:
    """One ``.jsonl`` file per article, as an admin would drop them into the corpus folder."""
    return {f"{rec['id']}.jsonl": jsonl_line(rec) for rec in records}


def bench_config(cfg: Config, index: Path, corpus: Path | None = None) -> Config:
    """``cfg`` with the bench's index folder, and its corpus folder when the section has one."""
    cfg = replace(cfg, index=replace(cfg.index, path=index))
    return cfg if corpus is None else replace(cfg, corpus=replace(cfg.corpus, path=corpus))
