"""The real ``Application`` long-polling in a thread of its own, for code that drives it from
outside (the bench, the tests) and stays synchronous."""

from __future__ import annotations

import asyncio
import threading

from .server import FakeTelegram


class RunningBot:
    """A real ``Application`` long-polling in its own thread and event loop, like ``run_polling``
    does it (post_init / post_shutdown included), so its drivers (the bench, the tests) can stay synchronous."""

    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bot-loop", daemon=True)

    def _run(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.updater.start_polling(timeout=1)
        await self.app.start()

    async def _stop(self) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        if self.app.post_shutdown:
            await self.app.post_shutdown(self.app)

    async def _idle(self, checks: int) -> None:
        app, quiet = self.app, 0
        while quiet < checks:
            # Every update put into the queue is marked done only once its handlers returned.
            await app.update_queue.join()
            if app.update_queue.empty() and app.update_processor.current_concurrent_updates == 0:
                quiet += 1
            else:
                quiet = 0
            await asyncio.sleep(0.01)

    def wait_idle(self, fake: FakeTelegram, timeout: float = 30.0, checks: int = 3) -> None:
        """Block until the bot has handled everything ``fake`` queued for it: every update taken
        by the updater, and the Application idle (empty queue, no update being processed) for
        ``checks`` looks in a row. Work a handler left running in the background (a reload) is
        not waited for."""
        fake.wait_taken(timeout)
        self._run(self._idle(checks), timeout)

    def start(self) -> RunningBot:
        self.thread.start()
        self._run(self._start())
        return self

    def stop(self) -> None:
        try:
            self._run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
