"""The opt-in response cache: re-running a notebook does not pay twice for the same request.

Entries live as small JSON files under ``<cache dir>/responses/``. The key is a
digest of the provider type, the effective API base URL, the path and the
request body (the model is in it), never the credential or anything derived
from it, so a cache directory holds no secret. Only complete answers are
written: errors and streams that ended early never are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["ResponseCache", "cache_key", "clear_cache", "response_cache"]

_SKIP_IN_KEY = frozenset({"prompt_cache_key"})
"""Routing hints that do not change the answer."""


def cache_key(kind: str, provider_type: str, api_base: str, path: str, body: Any) -> str:
    """A hex digest naming one request; the same request gives the same key in any process."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in _SKIP_IN_KEY}
    text = json.dumps(
        [1, kind, provider_type, api_base.rstrip("/"), path, body],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """JSON documents by key in ``directory`` (created on first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                doc = json.load(handle)
        except (OSError, ValueError):
            return None  # missing, or a torn/corrupt entry: a miss, never an error
        return doc if isinstance(doc, dict) else None

    def put(self, key: str, doc: dict[str, Any]) -> None:
        """Write atomically; a cache that cannot be written is skipped, not fatal."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(doc, handle, ensure_ascii=False)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return

    def clear(self) -> int:
        """Delete every entry; returns how many were removed."""
        removed = 0
        if not self.directory.is_dir():
            return 0
        for entry in self.directory.glob("*/*.json"):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed += 1
        return removed

    def __len__(self) -> int:
        if not self.directory.is_dir():
            return 0
        return sum(1 for _ in self.directory.glob("*/*.json"))


def response_cache() -> ResponseCache:
    """The cache in the takopi_nb cache dir (``TAKOPI_NB_CACHE_DIR`` honoured at each call)."""
    from .._paths import cache_dir

    return ResponseCache(cache_dir() / "responses")


def clear_cache() -> int:
    """``tk.clear_cache()``: forget every cached response; returns how many were removed."""
    return response_cache().clear()
