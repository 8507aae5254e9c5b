"""The index the bot serves from: searches in worker threads, reloads in the background.

The live index and everything derived from it sit in one immutable ``_Live`` record that is
replaced by a single assignment, so a search always runs against one consistent generation even
while a reload swaps in the next one; searches already running finish on the old one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from retrieval.config import Config
from retrieval.embedder import Embedder
from retrieval.indexer import IndexProblem, IndexSummary, build_index, live_generation, load_index, manifest_for
from retrieval.search import Answer, Searcher, content_tokens
from retrieval.text import has_diacritics

log = logging.getLogger(__name__)


class NotReady(Exception):
    """No index is loaded, so nothing can be searched."""


class ReloadRunning(Exception):
    """A reload was asked for while another one is still running."""


@dataclass
class CorpusFacts:
    documents: int
    chunks: int
    first_date: str | None
    last_date: str | None


@dataclass
class ReloadReport:
    """How a reload ended: the index summary, or ``error`` (then the old index still serves)."""

    finished_at: datetime
    summary: IndexSummary | None = None
    error: str | None = None


@dataclass
class ReloadProgress:
    stage: str = "reading"  # reading → embedding → loading
    done: int = 0
    total: int = 0


@dataclass
class StatusFacts:
    facts: CorpusFacts | None
    model: str | None
    built_at: str | None
    uptime_seconds: float
    questions: int
    answered: int
    last_reload: ReloadReport | None
    reloading: bool


@dataclass(frozen=True)
class _Live:
    searcher: Searcher
    facts: CorpusFacts
    model: str | None
    built_at: str | None


_LETTERS = re.compile(r"^[a-z]+$")


class QAService:
    def __init__(self, cfg: Config, embedder: Embedder, workers: int | None = None):
        self.cfg, self.embedder = cfg, embedder
        workers = workers or min(4, os.cpu_count() or 2)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qabot-search")
        # One reload thread: a reload never takes a search worker.
        self._reload_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qabot-reload")
        self._live: _Live | None = None
        self._reloading = False
        self.progress = ReloadProgress()
        self.started = time.monotonic()
        self.questions = 0
        self.answered = 0
        self.last_reload: ReloadReport | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def open(self, build_if_missing: bool = True) -> None:
        """Load the live index (building it first when there is none yet). Blocking."""
        if build_if_missing and live_generation(self.cfg.index.path) is None:
            log.info("no index at %s yet: building it from %s", self.cfg.index.path, self.cfg.corpus.path)
            build_index(self.cfg, self.embedder)
        self._swap(load_index(self.cfg.index.path, manifest_for(self.cfg, self.embedder)))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reload_pool.shutdown(wait=False, cancel_futures=True)

    def _swap(self, loaded) -> None:
        docs, chunks = loaded.store.counts()
        first, last = loaded.store.date_range()
        self._live = _Live(
            searcher=Searcher(loaded, self.embedder, self.cfg.retrieval),
            facts=CorpusFacts(docs, chunks, first, last),
            model=loaded.manifest.get("model"),
            built_at=loaded.manifest.get("built_at"),
        )
        log.info("serving index %s: %d documents, %d chunks", loaded.path.name, docs, chunks)

    # --- questions ---------------------------------------------------------------------------

    @property
    def facts(self) -> CorpusFacts | None:
        return self._live.facts if self._live else None

    async def ask(self, question: str, offset: int = 0, top_k: int | None = None) -> Answer:
        """Search off the event loop; ``offset`` > 0 pages through an earlier question."""
        live = self._live
        if live is None:
            raise NotReady("chưa có chỉ mục; quản trị viên cần chạy /reload hoặc qabot index")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._pool, live.searcher.search, question, top_k, offset)
        if offset == 0:
            self.questions += 1
            self.answered += int(answer.answered)
        return answer

    def diacritics_would_help(self, question: str) -> bool:
        """The question was typed without marks, yet in words the corpus writes (with marks)."""
        live = self._live
        if live is None or has_diacritics(question):
            return False
        words = [t for t in content_tokens(question) if _LETTERS.match(t)]
        lexical = live.searcher.index.lexical
        return any(lexical.knows(w, "folded") for w in words)

    # --- reload ------------------------------------------------------------------------------

    @property
    def reloading(self) -> bool:
        return self._reloading

    async def reload(self) -> ReloadReport:
        """Bring the index in line with the corpus folder, then swap it in; the old one serves
        until then, and stays if anything fails."""
        if self._reloading:
            raise ReloadRunning()
        self._reloading = True
        self.progress = ReloadProgress()
        loop = asyncio.get_running_loop()
        try:
            try:
                summary, loaded = await loop.run_in_executor(self._reload_pool, self._rebuild)
            except (IndexProblem, OSError, ValueError) as exc:
                report = ReloadReport(finished_at=datetime.now(timezone.utc), error=str(exc) or type(exc).__name__)
                log.warning("reload failed: %s", report.error)
            except Exception as exc:
                log.error("reload failed", exc_info=exc)
                report = ReloadReport(finished_at=datetime.now(timezone.utc), error=f"lỗi không mong đợi ({type(exc).__name__}: {exc})")
            else:
                self._swap(loaded)
                report = ReloadReport(datetime.now(timezone.utc), summary=summary)
            self.last_reload = report
            return report
        finally:
            self._reloading = False

    def _rebuild(self):
        summary = build_index(self.cfg, self.embedder, on_embedded=self._on_embedded)
        self.progress = ReloadProgress("loading", self.progress.done, self.progress.total)
        return summary, load_index(self.cfg.index.path, manifest_for(self.cfg, self.embedder))

    def _on_embedded(self, done: int, total: int) -> None:
        # Called from the reload thread; replacing the record is atomic for the reader.
        self.progress = ReloadProgress("embedding", done, total)

    # --- status ------------------------------------------------------------------------------

    def status(self) -> StatusFacts:
        live = self._live
        return StatusFacts(
            facts=live.facts if live else None,
            model=live.model if live else self.embedder.name,
            built_at=live.built_at if live else None,
            uptime_seconds=time.monotonic() - self.started,
            questions=self.questions,
            answered=self.answered,
            last_reload=self.last_reload,
            reloading=self._reloading,
        )


# --- uploads -------------------------------------------------------------------------------------


@dataclass
class SavedUpload:
    name: str  # file name inside the corpus folder
    clash: str | None = None  # an existing file with this name but other content, left alone
    same: bool = False  # identical content was already there; nothing written


def safe_filename(original: str, default: str = "bai-viet") -> str:
    """A plain file name from whatever a client sent: no folders, no leading dots, no oddities."""
    name = unicodedata.normalize("NFC", original or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, suffix = os.path.splitext(name)
    suffix = re.sub(r"[^a-z0-9.]", "", suffix.lower())[:10]
    stem = re.sub(r"[^\w.\-]+", "-", stem, flags=re.UNICODE).strip(".-_")[:80].strip(".-_")
    return (stem or default) + suffix


def save_upload(folder: Path, original: str, data: bytes) -> SavedUpload:
    """Write ``data`` into ``folder`` under a safe name, never replacing a different file."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(original)
    stem, suffix = os.path.splitext(name)
    target = folder / name
    clash = None
    if target.exists():
        if target.read_bytes() == data:
            return SavedUpload(name, same=True)
        clash = name
    # Written under a hidden name first (ingestion skips dot files), then linked into place:
    # a reload never reads half a file, and os.link refuses to replace an existing one.
    tmp = folder / f".upload-{secrets.token_hex(8)}.tmp"
    tmp.write_bytes(data)
    try:
        n = 1
        while True:
            candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
            if n > 1 and candidate.exists() and candidate.read_bytes() == data:
                return SavedUpload(candidate.name, clash=clash, same=True)
            try:
                os.link(tmp, candidate)
                return SavedUpload(candidate.name, clash=clash)
            except FileExistsError:
                clash = clash or name
                n += 1
    finally:
        tmp.unlink(missing_ok=True)
