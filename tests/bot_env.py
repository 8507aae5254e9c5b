"""A bot of a test's own: the real Application long-polling a fake Bot API server over loopback,
a QAService over a copy of an index built once per module, and real SQLite feedback. Every test
gets its own copy of corpus and index, so tests share no state and pass in any order."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application
from bot.fake_bot_api import TOKEN, FakeTelegram, RunningBot
from bot.feedback import FeedbackStore
from bot.service import QAService
from retrieval.config import Config
from retrieval.embedder import Embedder
from retrieval.indexer import index_corpus

from .conftest import make_config


@dataclass
class Env:
    fake: FakeTelegram
    bot: RunningBot
    cfg: Config
    service: QAService
    corpus: Path
    feedback: FeedbackStore
    tmp: Path

    def wait_idle(self) -> None:
        """Until the bot has handled every update sent so far (no timing guesses)."""
        self.bot.wait_idle(self.fake)


def build_corpus(tmp: Path, embedder: Embedder, files: dict[str, str | Path], index: dict | None = None) -> tuple[Path, Path]:
    """A corpus folder of ``files`` (name: text, or a file to copy) and its index, with ``index``
    settings if given (``{"backend": "milvus"}``: a Milvus Lite file in the index folder):
    (corpus, index folder)."""
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copy(content, corpus / name)
        else:
            (corpus / name).write_text(content, encoding="utf-8")
    cfg = make_config(tmp, corpus, index=index or {})
    index_corpus(cfg, embedder)
    return corpus, cfg.index.path


@contextlib.contextmanager
def running_bot(
    built: tuple[Path, Path], tmp_path: Path, embedder: Embedder, retrieval: dict | None = None, index: dict | None = None, **telegram
) -> Iterator[Env]:
    """A bot over a copy of ``built`` (corpus, index), configured with ``telegram`` settings (and
    ``retrieval`` and ``index`` ones, if given)."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built[0], corpus)
    shutil.copytree(built[1], index_dir)
    fake = FakeTelegram().start()
    sections = {"retrieval": retrieval} if retrieval else {}
    if index:
        sections["index"] = index
    cfg = make_config(
        tmp_path, corpus, telegram={"base_url": fake.base_url, "base_file_url": fake.base_file_url, **telegram}, **sections
    )
    service = QAService(cfg, embedder)
    feedback = FeedbackStore(tmp_path / "feedback.sqlite")
    bot = None
    try:
        service.open(build_if_missing=False)  # loads the copied index; embeds nothing
        bot = RunningBot(build_application(cfg, service, TOKEN, feedback=feedback)).start()
        yield Env(fake, bot, cfg, service, corpus, feedback, tmp_path)
    finally:
        if bot is not None:
            bot.stop()
        service.close()
        feedback.close()
        fake.stop()
