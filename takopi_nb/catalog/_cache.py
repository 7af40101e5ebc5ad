"""Catalog cache files: where they live, reading them, atomic writes under a cross-process lock.

``<cache dir>/catalog/`` holds ``models-dev.v1.cache`` (the last download),
``bundled.v1.cache`` (the package snapshot, indexed here only when the package's own
pre-indexed copy is unusable) and the lock file. Readers never take the lock: writes replace files atomically, so a
reader sees the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._index import FORMAT

if TYPE_CHECKING:
    import logging

__all__ = ["CacheFiles", "log", "read_bytes"]


def log() -> logging.Logger:
    import logging

    return logging.getLogger("takopi_nb.catalog")


class CacheFiles:
    """The catalog's files under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.download = directory / f"models-dev.v{FORMAT}.cache"
        self.bundled = directory / f"bundled.v{FORMAT}.cache"
        self.lock_path = directory / "models-dev.lock"

    @classmethod
    def default(cls) -> CacheFiles:
        from .._paths import cache_dir

        return cls(cache_dir() / "catalog")

    def write(self, path: Path, data: bytes) -> None:
        """Atomically replace ``path`` (temp file in the same directory, then ``os.replace``)."""
        from .._fileio import atomic_write_bytes

        atomic_write_bytes(path, data)

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        """Hold the cross-process catalog lock; yields False if it could not be had in time
        (or the directory is read-only): the caller goes on, since writes are atomic anyway."""
        from .._errors import ConfigError
        from .._fileio import file_lock

        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(file_lock(self.lock_path, timeout=timeout))
                held = True
            except (ConfigError, OSError) as exc:
                log().info("catalog cache lock not taken (%s); going on without it", exc)
                held = False
            yield held


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log().warning("cannot read the catalog cache %s: %s", path, exc)
        return None
