"""Questions asked at the same moment embedded in one encoder call.

The bot searches in a small thread pool, and each search embeds its question: under load the
calls queue on the model one by one, and twenty people asking at once wait for twenty encoder
calls. The encoder costs about the same for one short question as for a batch of twenty (it is
bound by per-call overhead and matrix sizes well under the CPU's width), so ``QueryBatcher``
lets a question wait a few milliseconds for others and sends them together.

Leader and followers: the first question to arrive waits ``window`` seconds, then takes the
encoder (waiting there while an earlier batch runs, which lets its own batch grow), takes every
question queued by then and embeds them in one call; the others just wait for their vector.
Passages (indexing, a reload while serving) go straight through: they come batched already.

An encoder that gains nothing from batches (``Embedder.batch_gain`` false: the int8 ONNX one
embeds each text alone so its vector never depends on its neighbours) takes questions without
the wait, as many at once as it has single-threaded calls to run side by side
(``Embedder.parallel_calls``, one a core); the rest queue rather than fight over the same cores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .embedder import QUERY, Embedder


@dataclass
class _Request:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: Exception | None = None


class QueryBatcher(Embedder):
    """``inner`` with concurrent query ``encode`` calls merged (see the module docstring)."""

    def __init__(self, inner: Embedder, window: float = 0.003, max_batch: int = 64):
        self.inner, self.name, self.dim, self.batch_size = inner, inner.name, inner.dim, inner.batch_size
        self.window, self.max_batch = window, max_batch
        # An encoder that does not gain from batches is only kept to its useful concurrency.
        self._slots = None if inner.batch_gain else threading.BoundedSemaphore(max(1, inner.parallel_calls))
        self._lock = threading.Lock()  # guards the queue and the leader flag
        self._encoder = threading.Lock()  # one encoder call at a time
        self._queue: list[_Request] = []
        self._leading = False
        self.calls = 0  # encoder calls made for queries (for benchmarks and tests)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        if kind != QUERY or self.window <= 0:
            # Not behind the encoder lock: a reload's passage batches (a second each) must not
            # hold up questions.
            return self.inner.encode(texts, kind)
        if self._slots is not None:
            with self._slots:
                with self._lock:
                    self.calls += 1
                return self.inner.encode(texts, kind)
        request = _Request(list(texts))
        with self._lock:
            self._queue.append(request)
            lead = not self._leading
            self._leading = self._leading or lead
        if lead:
            self._lead()
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _lead(self) -> None:
        """Collect the questions that arrive within the window, then embed them together."""
        time.sleep(self.window)
        with self._encoder:
            with self._lock:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                # Questions beyond max_batch (or arriving from now on) need a leader of their own.
                self._leading = False
                orphans = bool(self._queue)
            self.calls += 1
            try:
                vectors = self.inner.encode([t for r in batch for t in r.texts], QUERY)
                at = 0
                for r in batch:
                    r.vectors, at = vectors[at : at + len(r.texts)], at + len(r.texts)
            except Exception as exc:  # noqa: BLE001 - re-raised in every waiting question, not only the leader
                for r in batch:
                    r.error = exc
            finally:
                for r in batch:
                    r.done.set()
        if orphans:
            self._adopt()

    def _adopt(self) -> None:
        """Lead the questions left over from a full batch, unless another leader already does."""
        with self._lock:
            if self._leading or not self._queue:
                return
            self._leading = True
        self._lead()
