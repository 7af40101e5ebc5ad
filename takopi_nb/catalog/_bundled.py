"""The models.dev snapshot shipped inside the package (``takopi_nb/data``), the last resort
when neither the network nor a cache can give a catalog."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["Snapshot", "snapshot_bytes", "snapshot_info"]

SNAPSHOT_FILE = "models-dev-snapshot.json.gz"
META_FILE = "models-dev-snapshot.meta.json"


class Snapshot(NamedTuple):
    commit: str
    taken_at: float
    """When the snapshot's source commit was made (POSIX seconds)."""
    sha256: str
    """Of the uncompressed ``api.json``."""


def _read(name: str) -> bytes:
    return (Path(__file__).resolve().parent.parent / "data" / name).read_bytes()


def snapshot_info() -> Snapshot:
    """What the bundled snapshot is (small metadata file; raises OSError/ValueError if missing)."""
    meta: dict[str, Any] = json.loads(_read(META_FILE))
    taken = datetime.fromisoformat(str(meta["date"]).replace("Z", "+00:00")).timestamp()
    return Snapshot(str(meta["commit"]), taken, str(meta["sha256"]))


def snapshot_bytes() -> bytes:
    """The bundled ``api.json``, decompressed."""
    import gzip

    return gzip.decompress(_read(SNAPSHOT_FILE))
