"""Files that hold personal data or state: private (0600) and replaced durably.

A file is replaced by writing a temp file beside it, fsyncing it, renaming it
over the old one and fsyncing the folder, so that a crash or a full disk
leaves the old content or the new, never half (as git writes its files).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
TEMP_SUFFIX = ".tmp"
_HASH_BLOCK = 1 << 20


def md5_of_file(path: Path) -> tuple[str, int]:
    """(hex MD5, size) of a file, read a block at a time."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def fsync_folder(folder: Path) -> None:
    """Make the folder's entries durable: a rename is not, until its folder is synced."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_durably(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (0600): temp file, fsync, rename, fsync the folder."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX,
                                         dir=path.parent)
    try:
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    fsync_folder(path.parent)


def create_private(path: Path) -> IO[bytes]:
    """Create `path` exclusively with mode 0600 (it will hold personal data)."""
    # O_EXCL: never write into a file someone else created (or linked) there.
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")
