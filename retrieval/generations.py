"""An index folder on disk: generations, the pointer to the live one, and the build lock.

::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    gen-<n>/           one complete index (see ``retrieval.index``)
    gen-<n>.tmp/       a generation being written; never read, removed by the next build
    .lock              held while a build runs

A build writes a whole new generation beside the live one and only then points ``CURRENT`` at
it, so a crash or Ctrl-C at any moment leaves the previous generation live and intact, and
readers never see a half-written index.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from pathlib import Path

from .errors import IndexBusy

CURRENT = "CURRENT"


def live_generation(root: Path) -> Path | None:
    """The folder of the live generation, or None when nothing was ever published."""
    try:
        name = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    gen = root / name
    return gen if gen.is_dir() else None


class BuildLock:
    """At most one build per index folder, across processes (``IndexBusy`` otherwise)."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.file = open(root / ".lock", "w")

    def __enter__(self):
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise IndexBusy("another index build is running on this index") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def stage(root: Path) -> Path:
    """A new, empty generation folder to write into (under the lock), after clearing the
    leftovers of interrupted builds."""
    for stale in root.glob("*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = root / f"gen-{time.time_ns()}.tmp"
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path) -> Path:
    """Make the staged generation ``tmp`` the live one, durably; then drop the older ones."""
    _fsync_tree(tmp)
    root = tmp.parent
    final = tmp.with_suffix("")
    tmp.rename(final)
    _fsync_dir(root)
    pointer = root / (CURRENT + ".new")
    pointer.write_text(final.name)
    with open(pointer, "rb") as f:
        os.fsync(f.fileno())
    os.replace(pointer, root / CURRENT)
    _fsync_dir(root)
    for gen in root.glob("gen-*"):
        if gen.name != final.name and not gen.name.endswith(".tmp"):
            shutil.rmtree(gen, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
        else:
            _fsync_dir(p)
    _fsync_dir(path)
