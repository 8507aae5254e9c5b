"""Articles admins send to the bot: checked, then written into the corpus folder under a safe
name, never replacing a different file."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import httpx
from telegram import File
from telegram.error import NetworkError

from retrieval.ingest import SUFFIXES

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's download limit
WRONG_TYPE, TOO_LARGE, NOT_TEXT = "type", "size", "encoding"  # why an upload is refused


@dataclass
class SavedUpload:
    name: str  # file name inside the corpus folder
    clash: str | None = None  # an existing file with this name but other content, left alone
    same: bool = False  # identical content was already there; nothing written


def _split(name: str) -> tuple[str, str]:
    """(stem, suffix) of a bare file name, the suffix being everything from the last dot: unlike
    ``os.path.splitext``, "..txt" and ".txt" are a ".txt" file with an empty stem, so a name
    checked as .txt is saved as .txt."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, dot + suffix) if dot else (name, "")


def refusal_before_download(file_name: str | None, size: int | None) -> str | None:
    """Why a file cannot be an article, judged from its name and size (None: fetch it)."""
    if _split(safe_filename(file_name or ""))[1] not in SUFFIXES:
        return WRONG_TYPE
    if size and size > MAX_UPLOAD_BYTES:
        return TOO_LARGE
    return None


def refusal_of_content(data: bytes) -> str | None:
    """Why downloaded bytes cannot be an article (None: save them)."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return NOT_TEXT
    return None


def safe_filename(original: str, default: str = "bai-viet") -> str:
    """A plain file name from whatever a client sent: no folders, no leading dots, no oddities."""
    name = unicodedata.normalize("NFC", original or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, suffix = _split(name)
    suffix = re.sub(r"[^a-z0-9.]", "", suffix.lower())[:10]
    stem = re.sub(r"[^\w.\-]+", "-", stem, flags=re.UNICODE).strip(".-_")[:80].strip(".-_")
    return (stem or default) + suffix


async def download(file: File, limit: int = MAX_UPLOAD_BYTES) -> bytes | None:
    """The file's bytes, or None when it is larger than ``limit``: counted while downloading, as
    neither the update nor getFile has to state a size (and a stated one need not be true)."""
    if file.file_size and file.file_size > limit:
        return None
    path = file.file_path or ""
    if not path.startswith(("http://", "https://")):  # a local Bot API server hands out paths
        if Path(path).stat().st_size > limit:
            return None
        return Path(path).read_bytes()
    data = bytearray()
    try:
        async with httpx.AsyncClient(timeout=60.0) as client, client.stream("GET", path) as response:
            if response.status_code != 200:
                # Not the URL in the message: it holds the bot token.
                raise NetworkError(f"file download failed with HTTP {response.status_code}")
            async for part in response.aiter_bytes():
                data += part
                if len(data) > limit:
                    return None
    except httpx.HTTPError as exc:
        raise NetworkError(f"file download failed: {type(exc).__name__}") from None
    return bytes(data)


def same_file_in(folder: Path, data: bytes) -> str | None:
    """The name (relative to ``folder``) of an article file there with exactly these bytes."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return rel.as_posix()
    return None


def save_upload(folder: Path, original: str, data: bytes) -> SavedUpload:
    """Write ``data`` into ``folder`` under a safe name, never replacing a different file, and
    not at all when a file there already has these bytes (``same``: its name is returned)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(original)
    stem, suffix = _split(name)
    existing = same_file_in(folder, data)
    if existing is not None:
        return SavedUpload(existing, same=True)
    target = folder / name
    clash = name if target.exists() else None
    # Written under a hidden name first (ingestion skips dot files), then linked into place:
    # a reload never reads half a file, and os.link refuses to replace an existing one.
    tmp = folder / f".upload-{secrets.token_hex(8)}.tmp"
    tmp.write_bytes(data)
    try:
        n = 1
        while True:
            candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
            try:
                os.link(tmp, candidate)
                return SavedUpload(candidate.name, clash=clash)
            except FileExistsError:
                clash = clash or name
                n += 1
    finally:
        tmp.unlink(missing_ok=True)
