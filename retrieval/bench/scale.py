"""Sections 3-5, query latency, memory and index size at scale: Báo Mới articles chunked by the
product's chunker into indexes of 10k / 100k chunks with random unit vectors on the dense side,
queried through the bot's own ``Searcher``. Each scale is built and served in fresh processes so
their memory peaks do not mix."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

import numpy as np

from ..chunking import chunk_document
from ..config import Config
from ..embedder import QUERY, Embedder, load_embedder
from ..errors import IndexMismatch, IndexProblem
from ..generations import live_generation
from ..index import META_FILE, load_index
from ..indexer import build_index
from ..ingest import Document, RecordError, document_from_record
from ..manifest import check_manifest, manifest_for
from ..query import parse_query
from ..search import Searcher
from ..store import Store
from .data import bench_config, read_baomoi
from .disk import DiskUsage, index_disk_usage
from .embedders import RandomVectorEmbedder, warm_up
from .machine import in_fresh_process, peak_rss_mb

log = logging.getLogger(__name__)

# Questions searched before timing starts (and never timed): first-call costs are not latency.
WARMUP_QUESTIONS = 20
# Báo Mới articles per notional corpus file. The scale indexes are built from documents (they
# are about search, not file handling), with the ids they had when built from files of this many
# articles, ``baomoi-0000.jsonl#<id>``: indexes cached then stay valid.
ARTICLES_PER_SHARD = 1000


@dataclass
class ScaleBuild:
    chunks_wanted: int
    articles: int
    chunks: int
    seconds: float  # build_index from scratch (no embedding: random vectors)
    model_rss_mb: float  # peak after loading the embedding model, before the build
    peak_rss_mb: float  # peak of the whole build process, model included (as in qabot index, less reading files)
    built_at: str
    cached: bool = False  # figures recorded when the cached index was built


@dataclass
class QueryEmbedding:
    model: str
    queries: int
    p50_ms: float
    p95_ms: float
    rss_with_model_mb: float  # serving process peak once the model is loaded too: the bot's


@dataclass
class LatencyResult:
    chunks: int
    dim: int
    queries: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    with_hits: float  # share of questions that got at least one passage: a sanity check
    rss_loaded_mb: float  # peak after loading the index
    rss_serving_mb: float  # peak after the queries (index only, no model)
    embedding: QueryEmbedding | None = None
    backend: str = "local"  # index.backend (Milvus Lite: the engine's memory is its server process's)


@dataclass
class ScaleResult:
    build: ScaleBuild
    latency: LatencyResult
    disk: DiskUsage | None


def articles_for_chunks(records: Iterable[dict], n_chunks: int, count_tokens, cfg: Config) -> int:
    """How many leading articles the product's ingester and chunker turn into at least ``n_chunks``."""
    articles, total = 0, 0
    for rec in records:
        try:
            doc = document_from_record(rec, "x.jsonl", 1)
        except RecordError:
            pass  # not an article the ingester reads: it is taken, but makes no chunks
        else:
            total += len(chunk_document(doc.doc_id, doc.text, count_tokens, cfg.chunking.max_tokens, cfg.chunking.overlap_tokens))
        articles += 1
        if total >= n_chunks:
            break
    return articles


def scale_documents(records: Iterable[dict], per_file: int = ARTICLES_PER_SHARD) -> Iterator[Document]:
    """The documents the ingester reads from ``records`` written ``per_file`` a ``.jsonl`` file
    (``baomoi-0000.jsonl``, ``baomoi-0001.jsonl``, ...), made without writing the files: same
    ids, same content hashes."""
    seen: set[str] = set()
    for i, rec in enumerate(records):
        try:
            doc = document_from_record(rec, f"baomoi-{i // per_file:04d}.jsonl", i % per_file + 1)
        except RecordError:
            continue  # the ingester reports such a line and skips it
        if doc.doc_id not in seen:  # and keeps the first article of an id
            seen.add(doc.doc_id)
            yield doc


def scale_dir(work: Path, n_chunks: int, backend: str = "local") -> Path:
    """A scale's folder; each backend's index (and its cached build figures) apart."""
    return work / (f"scale-{n_chunks}" if backend == "local" else f"scale-{n_chunks}-{backend}")


def build_scale(cfg: Config, data_root: Path, work: Path, n_chunks: int, rebuild: bool = False) -> ScaleBuild:
    """The index of ~``n_chunks`` Báo Mới chunks (random vectors), built once and cached.

    Meant for a fresh process: its peak memory is the build's. The real model is loaded, as
    ``qabot index`` does, because chunks are sized in its tokens. The articles reach the index
    as documents straight from the data file; no corpus folder is written or read."""
    real = load_embedder(cfg.embedding, install=True)
    model_rss = peak_rss_mb()
    embedder = RandomVectorEmbedder(real.dim, real.name, real.count_tokens)
    folder = scale_dir(work, n_chunks, cfg.index.backend)
    index, record = folder / "index", folder / "build.json"
    # Which articles make n chunks depends on the chunker and the model's tokens.
    chunking = {**manifest_for(cfg, embedder)["chunking"], "model": real.name}
    selection_file = folder / "selection.json"
    try:
        selection = json.loads(selection_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        selection = {}
    if selection.get("chunking") == chunking and selection.get("chunks_wanted") == n_chunks:
        articles = selection["articles"]
    else:
        log.info("choosing Báo Mới articles for %d chunks", n_chunks)
        articles = articles_for_chunks(read_baomoi(data_root), n_chunks, real.count_tokens, cfg)
        folder.mkdir(parents=True, exist_ok=True)
        selection_file.write_text(json.dumps({"chunks_wanted": n_chunks, "articles": articles, "chunking": chunking}), encoding="utf-8")
    documents = list(scale_documents(islice(read_baomoi(data_root), articles)))
    bcfg = bench_config(cfg, index)
    cached = _scale_build_record(record, n_chunks)
    if cached is not None and not rebuild and _index_matches(bcfg, embedder):
        summary = build_index(documents, bcfg, embedder)  # a no-op unless the articles changed
        if not summary.chunks_embedded:
            return replace(cached, cached=True)
    summary = build_index(documents, bcfg, embedder, rebuild=True)
    result = ScaleBuild(
        chunks_wanted=n_chunks,
        articles=summary.documents,
        chunks=summary.chunks,
        seconds=summary.seconds,
        model_rss_mb=model_rss,
        peak_rss_mb=peak_rss_mb(),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    record.write_text(json.dumps(asdict(result)), encoding="utf-8")
    return result


def _scale_build_record(path: Path, n_chunks: int) -> ScaleBuild | None:
    try:
        build = ScaleBuild(**json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    return build if build.chunks_wanted == n_chunks else None


def _index_matches(cfg: Config, embedder: Embedder) -> bool:
    """Whether the live index was built with exactly these settings, BM25 ones included."""
    if cfg.index.backend == "milvus":
        from ..milvus import open_milvus

        try:
            open_milvus(cfg.index, manifest_for(cfg, embedder)).close()
        except IndexProblem:
            return False
        return True
    gen = live_generation(cfg.index.path)
    if gen is None:
        return False
    store = Store(gen / META_FILE, readonly=True)
    try:
        check_manifest(store.manifest(), manifest_for(cfg, embedder), gen)
    except IndexMismatch:
        return False
    finally:
        store.close()
    return True


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000, q)) if len(seconds) else 0.0


def serve_scale(cfg: Config, index_root: Path, questions: Sequence[str], embed_queries: int = 0) -> LatencyResult:
    """Time ``Searcher.search`` (the bot's code path: BM25, FAISS, fusion, grouping, SQLite,
    highlighting) per question, with query vectors that cost nothing to make.

    Meant for a fresh process that loads only the index, like a bot process before its model.
    With ``embed_queries``, the real model is then loaded and that many questions are embedded
    one at a time, so query embedding is reported on its own."""
    if cfg.index.backend == "milvus":
        from ..milvus import open_milvus

        index = open_milvus(bench_config(cfg, index_root).index)
    else:
        index = load_index(index_root)
    try:
        rss_loaded = peak_rss_mb()
        dim = int(index.manifest["dim"])
        embedder = RandomVectorEmbedder(dim, index.manifest.get("model", "?"))
        searcher = Searcher(index, embedder, cfg.retrieval)
        top_k = cfg.telegram.passages_per_reply  # what the bot asks for
        warm, timed = list(questions[:WARMUP_QUESTIONS]), list(questions[WARMUP_QUESTIONS:]) or list(questions)
        # Vectors made up front, for the very text the searcher embeds, so no embedding is timed.
        embedder.encode([searcher.parse(q).embedding_text for q in timed], QUERY)
        for q in warm:
            searcher.search(q, top_k=top_k)
        times, with_hits = [], 0
        for q in timed:
            t0 = time.perf_counter()
            answer = searcher.search(q, top_k=top_k)
            times.append(time.perf_counter() - t0)
            with_hits += bool(answer.hits)
        result = LatencyResult(
            chunks=len(index),
            dim=dim,
            queries=len(times),
            p50_ms=percentile_ms(times, 50),
            p95_ms=percentile_ms(times, 95),
            mean_ms=float(np.mean(times)) * 1000 if times else 0.0,
            max_ms=max(times) * 1000 if times else 0.0,
            with_hits=with_hits / max(len(times), 1),
            rss_loaded_mb=rss_loaded,
            rss_serving_mb=peak_rss_mb(),
            backend=cfg.index.backend,
        )
        if embed_queries:
            result.embedding = bench_query_embedding(cfg, timed[:embed_queries])
        return result
    finally:
        index.close()


def bench_query_embedding(cfg: Config, questions: Sequence[str]) -> QueryEmbedding:
    """Latency of embedding one question with the configured model, as the bot does per question."""
    embedder = load_embedder(cfg.embedding, install=True)
    warm_up(embedder)
    texts = [parse_query(q).embedding_text for q in questions]  # what the searcher embeds
    times = []
    for text in texts:
        t0 = time.perf_counter()
        embedder.embed([text], QUERY)
        times.append(time.perf_counter() - t0)
    return QueryEmbedding(embedder.name, len(times), percentile_ms(times, 50), percentile_ms(times, 95), peak_rss_mb())


def bench_scale(
    cfg: Config, data_root: Path, work: Path, n_chunks: int, questions: Sequence[str], embed_queries: int = 0, rebuild: bool = False
) -> ScaleResult:
    """Build (or reuse) one scale's index in a fresh process, then serve it in another."""
    build = in_fresh_process(build_scale, cfg, data_root, work, n_chunks, rebuild)
    index = scale_dir(work, n_chunks, cfg.index.backend) / "index"
    latency = in_fresh_process(serve_scale, cfg, index, list(questions), embed_queries)
    return ScaleResult(build, latency, index_disk_usage(index))
