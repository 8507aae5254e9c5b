"""The index the bot serves from: searches in worker threads, reloads in the background.

The live searcher is replaced by a single assignment, so a search always runs against one
consistent generation even while a reload swaps in the next one; searches already running finish
on the old one.

Damaged index files: a reload goes through the same ``index_corpus`` as ``qabot index``, which
rebuilds damaged parts of the live generation without being asked (``IndexSummary.repaired``);
the index in memory (held entirely in memory, so damage on disk cannot reach it) serves until
the repaired one is loaded and verified, and stays if anything fails. Admins get a short reason
without server paths; the detail goes to the log. At start (``open``) a damaged index is
refused with ``IndexDamaged`` (``qabot serve`` exits 2 with "index damaged: <file>; run qabot
index --rebuild"), not repaired: a repair can mean re-embedding every chunk, which an operator
should start knowingly, and there is no older index to serve meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath

from retrieval.batching import QueryBatcher
from retrieval.config import Config
from retrieval.embedder import Embedder, usable_cores
from retrieval.errors import IndexDamaged, IndexProblem
from retrieval.followup import ContextAnswer, Turn, search_in_context
from retrieval.index import IndexStats
from retrieval.indexer import IndexSummary, index_corpus, open_searcher
from retrieval.ingest import Document, text_fingerprint
from retrieval.query import FOLDED
from retrieval.search import Answer, Searcher

log = logging.getLogger(__name__)

# Search threads: one a core. A search is CPU work from end to end (the question's embedding runs
# single-threaded, side by side with the others': ``Embedder.parallel_calls``), so more threads
# only take turns at the GIL, and in no order: measured here, 20 users asking at once, p95 207 ms
# at 105 questions/s with 2 threads, 251 ms with 4, ~340 ms at 86/s with 16; the queue before a
# pool of two hands out searches first come, first served.
SEARCH_WORKERS = max(2, usable_cores())
_LETTERS = re.compile(r"^[a-z]+$")
# An absolute path in an error message (FAISS and OSError quote them): not for chat messages.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/\\])(?:[A-Za-z]:)?(?:[/\\][^\s'\"/\\:;,()]+)+[/\\]?")
REASON_LIMIT = 200


def short_reason(exc: BaseException) -> str:
    """One line for the admins about why a reload failed: no server paths (a path is reduced to
    its last part), no multi-line C++ diagnostics; the full text goes to the log."""
    if isinstance(exc, IndexDamaged):
        return str(exc)  # names the file relative to the generation already
    if isinstance(exc, OSError) and exc.strerror:
        name = PurePath(str(exc.filename)).name if exc.filename else ""
        return exc.strerror + (f" ({name})" if name else "")
    lines = str(exc).strip().splitlines()
    text = _ABSOLUTE_PATH.sub(lambda m: PurePath(m.group()).name or "…", lines[0] if lines else "")
    text = text or type(exc).__name__
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


def _fingerprints(index) -> dict[str, str]:
    out: dict[str, str] = {}
    for doc_id, text in index.texts():
        out.setdefault(text_fingerprint(text), doc_id)
    return out


class NotReady(Exception):
    """No index is loaded, so nothing can be searched."""


class ReloadRunning(Exception):
    """A reload was asked for while another one is still running."""


@dataclass
class ReloadReport:
    """How a reload ended: the index summary, or ``error`` (then the old index still serves)."""

    finished_at: datetime
    summary: IndexSummary | None = None
    error: str | None = None
    unexpected: bool = False  # the error is a bug or fault, not a problem with the corpus or index


@dataclass
class ReloadProgress:
    stage: str = "reading"  # reading → embedding → loading
    done: int = 0
    total: int = 0


@dataclass
class StatusFacts:
    stats: IndexStats | None
    model: str | None
    uptime_seconds: float
    questions: int
    answered: int
    last_reload: ReloadReport | None
    reloading: bool


@dataclass(frozen=True)
class _Live:
    searcher: Searcher
    stats: IndexStats
    # text fingerprint -> doc_id of the served documents, made on the first upload check
    fingerprints: dict[str, str] = field(default_factory=dict, compare=False)


class QAService:
    def __init__(self, cfg: Config, embedder: Embedder, workers: int | None = None):
        self.cfg = cfg
        self.embedder = QueryBatcher(embedder, cfg.embedding.query_batch_ms / 1000)
        workers = workers or SEARCH_WORKERS
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
        """Load the live index (building it first when there is none yet). Blocking. A damaged
        one raises ``IndexDamaged`` (see the module docstring for why it is not repaired here)."""
        searcher, built = open_searcher(self.cfg, self.embedder, build_if_missing=build_if_missing)
        if built is not None:
            log.info("built the first index: %d documents, %d chunks", built.documents, built.chunks)
        self._swap(searcher)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reload_pool.shutdown(wait=False, cancel_futures=True)

    def _swap(self, searcher: Searcher) -> None:
        stats = searcher.index.stats()
        self._live = _Live(searcher, stats)
        log.info("serving index built %s: %d documents, %d chunks", stats.built_at, stats.documents, stats.chunks)

    # --- questions ---------------------------------------------------------------------------

    @property
    def stats(self) -> IndexStats | None:
        return self._live.stats if self._live else None

    async def ask(self, question: str, offset: int = 0, top_k: int | None = None, context: Turn | None = None) -> Answer:
        """Search off the event loop; ``offset`` > 0 pages through an earlier question;
        ``context``: the conversation's previous turn (see ``ask_in_context``)."""
        return (await self.ask_in_context(question, context, offset, top_k)).answer

    async def ask_in_context(
        self, question: str, context: Turn | None, offset: int = 0, top_k: int | None = None
    ) -> ContextAnswer:
        """``ask``, saying whether the previous turn was used: a question that carries little of
        its own ("Bệnh nhân bị bệnh gì?") is searched with it (``retrieval.followup``)."""
        live = self._live
        if live is None:
            raise NotReady()
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            self._pool, search_in_context, live.searcher, question, context, self.cfg.followup, top_k, offset
        )
        if offset == 0:
            self.questions += 1
            self.answered += int(result.answer.answered)
        return result

    def diacritics_would_help(self, answer: Answer) -> bool:
        """The question was typed without marks, yet in words the corpus writes (with marks)."""
        live = self._live
        if live is None or answer.query.accented:
            return False
        words = [t for t in answer.query.topic if _LETTERS.match(t)]
        return any(live.searcher.index.knows(w, FOLDED) for w in words)

    async def indexed_copies(self, documents: list[Document]) -> dict[str, str]:
        """For each of ``documents`` whose text the served index already holds under another
        id: its doc_id -> the indexed doc_id (an upload that would only be indexed twice)."""
        live = self._live
        if live is None or not documents:
            return {}
        loop = asyncio.get_running_loop()
        if not live.fingerprints:
            # Reading every text takes a while on a big index: once per generation, off the loop.
            known = await loop.run_in_executor(self._pool, _fingerprints, live.searcher.index)
            live.fingerprints.update(known)
        copies = {}
        for doc in documents:
            indexed = live.fingerprints.get(text_fingerprint(doc.text))
            if indexed is not None and indexed != doc.doc_id:
                copies[doc.doc_id] = indexed
        return copies

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
                summary, searcher = await loop.run_in_executor(self._reload_pool, self._rebuild)
            except (IndexProblem, OSError, ValueError) as exc:
                report = ReloadReport(finished_at=datetime.now(timezone.utc), error=short_reason(exc))
                detail = f" ({exc.path}: {exc.detail})" if isinstance(exc, IndexDamaged) else ""
                log.warning("reload failed: %s%s", exc, detail)
            except Exception as exc:
                log.error("reload failed", exc_info=exc)
                report = ReloadReport(datetime.now(timezone.utc), error=f"{type(exc).__name__}: {short_reason(exc)}", unexpected=True)
            else:
                self._swap(searcher)
                report = ReloadReport(datetime.now(timezone.utc), summary=summary)
            self.last_reload = report
            return report
        finally:
            self._reloading = False

    def _rebuild(self) -> tuple[IndexSummary, Searcher]:
        # Repairs damaged files of the live generation too; the new one is verified on loading.
        summary = index_corpus(self.cfg, self.embedder, on_embedded=self._on_embedded)
        if summary.repaired:
            log.warning("reload repaired damaged index files: %s", ", ".join(summary.repaired))
        self.progress = ReloadProgress("loading", self.progress.done, self.progress.total)
        return summary, open_searcher(self.cfg, self.embedder, build_if_missing=False)[0]

    async def follow_builds(self, every: float) -> None:
        """Serve the newest published build: every ``every`` seconds, swap in one that another
        process published (``qabot index``; the indexer of replicas sharing one Milvus). Runs
        until cancelled; a failed check is logged and tried again."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every)
            if self._reloading or self._live is None:
                continue
            try:
                searcher = await loop.run_in_executor(self._reload_pool, self._newer_searcher)
            except Exception as exc:  # the engine unreachable for a while: keep serving, retry
                log.warning("could not check for a newer index build: %s", short_reason(exc))
                continue
            if searcher is not None and not self._reloading:
                self._swap(searcher)

    def _newer_searcher(self) -> Searcher | None:
        index = self._live.searcher.index
        latest = index.latest_build_id()
        if latest == index.build_id():
            return None
        log.info("another process published index build %s: serving it", latest)
        return open_searcher(self.cfg, self.embedder, build_if_missing=False)[0]

    def _on_embedded(self, done: int, total: int) -> None:
        # Called from the reload thread; replacing the record is atomic for the reader.
        self.progress = ReloadProgress("embedding", done, total)

    # --- status ------------------------------------------------------------------------------

    def status(self) -> StatusFacts:
        live = self._live
        return StatusFacts(
            stats=live.stats if live else None,
            model=live.stats.model if live else self.embedder.name,
            uptime_seconds=time.monotonic() - self.started,
            questions=self.questions,
            answered=self.answered,
            last_reload=self.last_reload,
            reloading=self._reloading,
        )
