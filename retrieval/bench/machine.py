"""The machine a bench runs on, and memory peaks measured per process."""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass
class Machine:
    cpu: str
    cores: int
    ram_gb: float
    python: str
    torch: str | None
    load_average: tuple[float, float, float]  # other work on the machine makes timings noisy


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> Machine:
    cpu, ram_kb = platform.processor() or platform.machine(), 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kb = int(line.split()[1])
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return Machine(cpu, os.cpu_count() or 0, ram_kb / 1024 / 1024, platform.python_version(), _package_version("torch"), load)


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` across exec, so a
    fresh child started from a parent that holds the model reports the parent's peak (measured:
    a child of a 1.5 GB parent reports 1.5 GB, VmHWM 16 MB). ``ru_maxrss`` where there is no
    ``/proc``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def in_fresh_process(fn: Callable, *args):
    """``fn(*args)`` in a new interpreter (spawn, not fork): its memory peak is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()
