"""Small file helpers shared by the config file, the secrets file and the caches."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import BaseFileLock

__all__ = ["atomic_write_bytes", "file_lock", "stat_signature"]

StatSignature = tuple[int, int, int] | None


def stat_signature(path: Path) -> StatSignature:
    """A cheap fingerprint of a file's version: (inode, mtime ns, size), or None when absent.

    Writers replace files atomically, so every write gives a new inode.
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a torn one.

    The temp file is created next to the target (same file system), flushed to
    disk and then moved over the target with :func:`os.replace`.
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 30.0) -> Iterator[BaseFileLock]:
    """Hold an exclusive cross-process lock on ``path`` (a separate ``.lock`` file)."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=timeout)
    try:
        with lock:
            yield lock
    except Timeout:
        from ._errors import ConfigError

        raise ConfigError(
            f"Another process has held the lock {path} for over {timeout:.0f} s. "
            "If no other kernel is saving, delete that lock file and retry."
        ) from None
