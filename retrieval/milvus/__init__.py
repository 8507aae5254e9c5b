"""The Milvus backend: the same index in Milvus Lite (embedded, a local ``.db`` file) or a Milvus
server or cluster (an ``http://host:19530`` ``index.uri``), through one client, ``pymilvus``.

``retrieval.milvus.terms`` turns our BM25 into sparse vectors, ``db`` owns the collections and
the rows' generations, ``writer`` builds, ``reader`` serves (``MilvusIndex``). Imported only when
``index.backend: milvus``: pymilvus is an optional dependency (``pip install 'qabot[milvus]'``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ..config import Config, IndexConfig
from ..errors import IndexDamaged, IndexMismatch, IndexMissing
from ..manifest import check_manifest
from .db import EngineError, MilvusDb, engine_errors
from .reader import MilvusIndex
from .terms import CorpusStats

log = logging.getLogger(__name__)


def connect(index: IndexConfig) -> MilvusDb:
    """The configured Milvus, with the token from ``index.token_env`` when that is set."""
    token = os.environ.get(index.token_env) if index.token_env else None
    if "://" not in index.milvus_uri:
        if not os.environ.get("HOME"):  # its server dies at start without one, saying nothing useful
            raise EngineError("Milvus Lite needs the HOME environment variable set (e.g. in the service's unit file)")
        Path(index.milvus_uri).parent.mkdir(parents=True, exist_ok=True)  # Milvus Lite wants it
    return MilvusDb(index.milvus_uri, index.collection, token)


def build_in_milvus(documents: Iterable, cfg: Config, embedder, **options):
    """``indexer.build_index`` for ``index.backend: milvus``."""
    from .writer import build_milvus

    db = connect(cfg.index)
    try:
        with engine_errors(db.uri):
            return build_milvus(documents, cfg, embedder, db, **options)
    finally:
        db.close()


def migrate_local(cfg: Config, embedder):
    """Copy the local index at ``index.path`` into an empty Milvus as its first build, nothing
    embedded (``writer.migrate``). None when there is nothing to copy: no local index, one of
    other settings (the build then embeds anew), or a Milvus index that has a build already."""
    from ..generations import live_generation
    from ..index import load_index
    from ..manifest import manifest_for
    from .writer import migrate

    if live_generation(cfg.index.path) is None:
        return None
    db = connect(cfg.index)
    try:
        with engine_errors(db.uri):
            if db.exists() and db.live() is not None:
                return None
        try:
            local = load_index(cfg.index.path, manifest_for(cfg, embedder))
        except IndexMismatch as exc:
            log.warning("the local index cannot be copied into Milvus: %s", exc)
            return None
        try:
            with engine_errors(db.uri):
                return migrate(local, cfg, db)
        finally:
            local.close()
    finally:
        db.close()


def milvus_built(index: IndexConfig) -> bool:
    """Whether a build was ever published there."""
    db = connect(index)
    try:
        with engine_errors(db.uri):
            return db.exists() and db.live() is not None
    finally:
        db.close()


def open_milvus(index: IndexConfig, wanted: dict | None = None) -> MilvusIndex:
    """The published build, checked against the ``wanted`` manifest if given."""
    db = connect(index)
    try:
        with engine_errors(db.uri):
            live = db.live() if db.exists() else None
            text = db.read_stats(live[0]) if live is not None else None
        if live is None:
            raise IndexMissing(f"no index in Milvus at {index.shown_uri} ({index.collection}); build it with: qabot index")
        gen, manifest = live
        if wanted is not None:
            check_manifest(manifest, wanted, index.shown_uri)
        try:
            stats = CorpusStats.loads(text or "")
        except ValueError as exc:
            raise IndexDamaged(f"{index.collection}_records stats/{gen}", index.shown_uri, str(exc)) from None
    except BaseException:
        db.close()
        raise
    return MilvusIndex(db, gen, manifest, stats)
