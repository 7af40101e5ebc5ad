"""The models.dev snapshot shipped inside the package (``takopi_nb/data``), the last resort
when neither the network nor a cache can give a catalog.

Two files hold it: the raw ``api.json`` (gzip) and the same catalog already in the stored
form of ``_index`` (gzip, ~110 KB). A fresh kernel reads the second: decompressing it takes
a few ms, where parsing the raw 2.4 MB took ~150 ms and more under load. The raw file is
the source of truth; ``python -m takopi_nb.catalog._bundled`` rebuilds the index from it,
and a test keeps the two from drifting apart.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["Snapshot", "build_index", "snapshot_bytes", "snapshot_index", "snapshot_info"]

SNAPSHOT_FILE = "models-dev-snapshot.json.gz"
META_FILE = "models-dev-snapshot.meta.json"
INDEX_FILE = "models-dev-snapshot.index.gz"


class Snapshot(NamedTuple):
    commit: str
    taken_at: float
    """When the snapshot's source commit was made (POSIX seconds)."""
    sha256: str
    """Of the uncompressed ``api.json``."""


def _path(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / "data" / name


def _gunzip(data: bytes) -> bytes:
    import zlib  # gzip's own module costs an import of its own; zlib is loaded already

    return zlib.decompress(data, wbits=31)


def snapshot_info() -> Snapshot:
    """What the bundled snapshot is (small metadata file; raises OSError/ValueError if missing)."""
    meta: dict[str, Any] = json.loads(_path(META_FILE).read_bytes())
    taken = datetime.fromisoformat(str(meta["date"]).replace("Z", "+00:00")).timestamp()
    return Snapshot(str(meta["commit"]), taken, str(meta["sha256"]))


def snapshot_bytes() -> bytes:
    """The bundled ``api.json``, decompressed (raises OSError or zlib.error if unusable)."""
    return _gunzip(_path(SNAPSHOT_FILE).read_bytes())


def snapshot_index() -> bytes:
    """The bundled catalog in the stored form of ``_index`` (unchecked: ``Index`` checks it).

    Raises OSError or zlib.error when the file is missing or damaged.
    """
    return _gunzip(_path(INDEX_FILE).read_bytes())


def build_index(snap: Snapshot) -> bytes:
    """The stored form of the raw snapshot, as :func:`snapshot_index` should hold it.

    Raises OSError, zlib.error or ``CatalogDataError`` when the raw snapshot is unusable.
    """
    from ._index import encode
    from ._parse import load_json, parse_catalog

    parsed = parse_catalog(load_json(snapshot_bytes()))
    return encode(parsed, {"origin": "bundled", "sha256": snap.sha256, "commit": snap.commit})


def _write_index() -> None:
    """Rebuild the shipped index after the raw snapshot was updated."""
    import gzip

    data = build_index(snapshot_info())
    _path(INDEX_FILE).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"wrote {_path(INDEX_FILE)} ({len(data):,} bytes uncompressed)")


if __name__ == "__main__":
    _write_index()
