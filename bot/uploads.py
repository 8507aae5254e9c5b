"""Articles admins send to the bot: checked, then written into the corpus folder under a safe
name, never replacing a different file."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from retrieval.ingest import SUFFIXES

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's download limit
WRONG_TYPE, TOO_LARGE, NOT_TEXT = "type", "size", "encoding"  # why an upload is refused


@dataclass
class SavedUpload:
    name: str  # file name inside the corpus folder
    clash: str | None = None  # an existing file with this name but other content, left alone
    same: bool = False  # identical content was already there; nothing written


def refusal_before_download(file_name: str | None, size: int | None) -> str | None:
    """Why a file cannot be an article, judged from its name and size (None: fetch it)."""
    if Path(file_name or "").suffix.lower() not in SUFFIXES:
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
    stem, suffix = os.path.splitext(name)
    suffix = re.sub(r"[^a-z0-9.]", "", suffix.lower())[:10]
    stem = re.sub(r"[^\w.\-]+", "-", stem, flags=re.UNICODE).strip(".-_")[:80].strip(".-_")
    return (stem or default) + suffix


def save_upload(folder: Path, original: str, data: bytes) -> SavedUpload:
    """Write ``data`` into ``folder`` under a safe name, never replacing a different file."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(original)
    stem, suffix = os.path.splitext(name)
    target = folder / name
    clash = None
    if target.exists():
        if target.read_bytes() == data:
            return SavedUpload(name, same=True)
        clash = name
    # Written under a hidden name first (ingestion skips dot files), then linked into place:
    # a reload never reads half a file, and os.link refuses to replace an existing one.
    tmp = folder / f".upload-{secrets.token_hex(8)}.tmp"
    tmp.write_bytes(data)
    try:
        n = 1
        while True:
            candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
            if n > 1 and candidate.exists() and candidate.read_bytes() == data:
                return SavedUpload(candidate.name, clash=clash, same=True)
            try:
                os.link(tmp, candidate)
                return SavedUpload(candidate.name, clash=clash)
            except FileExistsError:
                clash = clash or name
                n += 1
    finally:
        tmp.unlink(missing_ok=True)
