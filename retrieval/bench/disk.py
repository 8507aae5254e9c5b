"""What an index takes on disk, by kind of file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..generations import live_generation
from ..index import DENSE_FILE, LEXICAL_DIR, META_FILE

# The BM25 files that hold every chunk's token ids rather than what search reads.
TOKEN_ROW_FILES = ("tokens.npy", "offsets.npy")


@dataclass
class DiskUsage:
    sqlite: int = 0
    faiss: int = 0
    bm25: int = 0  # score matrix and vocabulary: what search reads
    bm25_rows: int = 0  # every chunk's token ids, kept so a build tokenises only new chunks
    other: int = 0

    @property
    def total(self) -> int:
        return self.sqlite + self.faiss + self.bm25 + self.bm25_rows + self.other


def index_disk_usage(index_root: Path) -> DiskUsage | None:
    """Bytes of the live generation by kind; None when there is no index."""
    gen = live_generation(index_root)
    if gen is None:
        return None
    usage = DiskUsage()
    for p in gen.rglob("*"):
        if not p.is_file():
            continue
        size = p.stat().st_size
        rel = p.relative_to(gen)
        if rel.parts[0] == LEXICAL_DIR and p.name in TOKEN_ROW_FILES:
            usage.bm25_rows += size
        elif rel.parts[0] == LEXICAL_DIR:
            usage.bm25 += size
        elif p.name.startswith(META_FILE):  # with SQLite's -wal and -shm files, if any
            usage.sqlite += size
        elif p.name == DENSE_FILE:
            usage.faiss += size
        else:
            usage.other += size
    return usage
