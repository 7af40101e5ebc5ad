"""A loopback models.dev: serves ``/api.json`` (the real snapshot by default) with knobs for
every failure the catalog must survive, and counts the requests.

Modes:
    ``"ok"``         200 with ``body`` (gzip-encoded when ``gzip`` is set; 304 when ``etag``
                     matches the request's If-None-Match)
    ``"error"``      ``status`` (500 by default) with a small JSON error
    ``"truncated"``  200 with only the first ``truncate_at`` bytes of the body (valid HTTP)
    ``"cut"``        the connection drops halfway through a chunked body (invalid HTTP)
    ``"html"``       200 with a captive-portal HTML page
    ``"garbage"``    200 with bytes that are not JSON
    ``"trickle"``    the body in small chunks, ``trickle_pause`` seconds apart
``delay`` makes every answer wait that long first (released at once by ``stop()``).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakes.http import LoopbackServer, Request, Response

PACKAGE_DATA = Path(__file__).resolve().parents[2] / "takopi_nb" / "data"
SNAPSHOT_SHA256 = "7e2ea8565f8c1ca0a62be7a2c3abc54a79b231d909a1e15c26492313b8175a68"


@cache
def snapshot_bytes() -> bytes:
    """The real models.dev ``api.json`` bundled in the package (2.4 MB, 147 providers)."""
    return gzip.decompress((PACKAGE_DATA / "models-dev-snapshot.json.gz").read_bytes())


def snapshot_doc() -> dict[str, Any]:
    """A fresh, mutable decoded copy of the snapshot, for building hostile variants."""
    import json

    doc: dict[str, Any] = json.loads(snapshot_bytes())
    return doc


def model_entry(model_id: str = "m", name: str | None = None, /, **fields: Any) -> dict[str, Any]:
    """A models.dev model with the fields every real entry has (``cost`` is optional there);
    ``fields`` add to them or replace them. The name defaults to the id in capitals."""
    entry: dict[str, Any] = {
        "id": model_id,
        "name": model_id.upper() if name is None else name,
        "attachment": False,
        "reasoning": False,
        "tool_call": True,
        "release_date": "2026-01-01",
        "last_updated": "2026-01-01",
        "modalities": {"input": ["text"], "output": ["text"]},
        "open_weights": False,
        "limit": {"context": 128000, "output": 16000},
    }
    entry.update(fields)
    return entry


class Clock:
    """An injectable wall clock (POSIX seconds) that only moves when told."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ModelsDevServer(LoopbackServer):
    def __init__(self, body: bytes | None = None) -> None:
        super().__init__({("GET", "/api.json"): self._api})
        self.body = snapshot_bytes() if body is None else body
        self.mode = "ok"
        self.status = 500
        self.delay = 0.0
        self.truncate_at: int | None = None
        self.trickle_pause = 0.2
        self.gzip = False
        self.etag: str | None = None
        self._release = threading.Event()
        # A dropped connection ("cut") ends its handler with an error on purpose: keep it quiet.
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api.json"

    @property
    def hits(self) -> int:
        return len(self.requests_to("/api.json"))

    def __enter__(self) -> ModelsDevServer:
        self.start()
        return self

    def hang(self, seconds: float = 60.0) -> None:
        """Accept requests but answer nothing for up to ``seconds`` (until ``release()``)."""
        self._release.clear()
        self.delay = seconds

    def release(self) -> None:
        self.delay = 0.0
        self._release.set()

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def _api(self, request: Request) -> Response:
        if self.delay:
            self._release.wait(self.delay)
        body = self.body
        if self.mode == "error":
            return Response.json({"error": "boom"}, status=self.status)
        if self.mode == "truncated":
            return Response(200, body[: self.truncate_at or len(body) // 2])
        if self.mode == "cut":
            return Response(200, self._cut(body))
        if self.mode == "html":
            page = b"<!DOCTYPE html><html><body>Sign in to the hotel Wi-Fi</body></html>"
            return Response(200, page, content_type="text/html")
        if self.mode == "garbage":
            return Response(200, b"\x00\x01 not json at all \xff")
        if self.mode == "trickle":
            return Response(200, self._trickle(body))
        headers = {"ETag": self.etag} if self.etag else {}
        if self.etag and request.header("If-None-Match") == self.etag:
            return Response(304, b"", headers)
        if self.gzip:
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(body)
        return Response(200, body, headers)

    @staticmethod
    def _cut(body: bytes) -> Iterator[bytes]:
        yield body[: len(body) // 2]
        raise ConnectionAbortedError("the fake drops the connection mid-body")

    def _trickle(self, body: bytes) -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]
            if self._release.wait(self.trickle_pause):
                return
