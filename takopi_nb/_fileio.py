"""Small file helpers shared by the config file, the secrets file and the caches."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import BaseFileLock

__all__ = [
    "NotAFileError",
    "atomic_write_bytes",
    "file_lock",
    "read_regular_file",
    "stat_signature",
]

StatSignature = tuple[int, int, int] | None

_held = threading.local()
"""Lock paths this thread holds, so that a nested ``file_lock`` of the same path is a no-op."""


class NotAFileError(OSError):
    """The path exists but is a folder, a FIFO, a device…: never read or replaced."""


def stat_signature(path: Path | str) -> StatSignature:
    """A cheap fingerprint of a file's version: (inode, mtime ns, size), or None when absent.

    Writers replace files atomically, so every write gives a new inode.
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        # Unreadable (a folder without search permission): a value that never equals a real one.
        return (-1, 0, 0)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def read_regular_file(path: Path) -> bytes:
    """The bytes of ``path``; :class:`NotAFileError` unless it is a regular file.

    Opened non-blocking, so a FIFO put in place of the file cannot hang the
    reader; the type is checked on the open descriptor, so a swap in between
    cannot trick it.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise NotAFileError(f"{path} is {kind}")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _target(path: Path) -> Path:
    """Where a write to ``path`` must go: through a symlink to its target, so the link stays."""
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files a killed writer of ``path`` left behind.

    Only called by writers holding ``path``'s lock: no other writer of this file
    can be mid-write, so every temp file of this name is an orphan.
    """
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        prefix = f".{path.name}."
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644, locked: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a torn one.

    The temp file is created next to the target (same file system), flushed to
    disk and then moved over the target with :func:`os.replace`. A symlinked
    ``path`` keeps its link: its target is replaced. ``locked`` says the caller
    holds the file's lock, so temp files left by killed writers are removed.
    """
    import tempfile

    path = _target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise IsADirectoryError(21, "a folder is where the file should be", str(path))
    if locked:
        _remove_stale_temps(path)
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
def file_lock(path: Path, timeout: float = 30.0) -> Iterator[BaseFileLock | None]:
    """Hold an exclusive cross-process lock on ``path`` (a separate ``.lock`` file).

    Re-entrant within a thread: a nested call for a path this thread already
    holds yields at once (a second lock object on the same file would wait for
    the first, i.e. for itself).
    """
    from filelock import FileLock, Timeout

    from ._errors import ConfigError

    key = os.path.abspath(path)
    held: set[str] = _held.__dict__.setdefault("paths", set())
    if key in held:
        yield None
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "a folder is where the lock file should be", str(path))
        lock = FileLock(str(path), timeout=timeout)
        lock.acquire()
    except Timeout:
        raise ConfigError(
            f"Another process has held the lock {path} for over {timeout:.0f} s. "
            "If no other kernel is saving, delete that lock file and retry."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot take the lock file {path} ({exc.strerror or type(exc).__name__}). Make "
            f"{path.parent} a writable folder (and {path.name} a file, not a folder); "
            "nothing was changed."
        ) from None
    held.add(key)
    try:
        yield lock
    finally:
        held.discard(key)
        lock.release()
