"""Make the Codex backend look like the plain Responses API to a framework's SDK client.

The backend takes only ``store: false``, ``stream: true`` and non-empty
``instructions``, and rejects ``max_output_tokens``; frameworks send what the
public API takes. This transport rewrites each ``POST …/responses`` body to the
backend's rules and, when the framework did not ask for a stream, reads the event
stream and answers with the final response object as JSON (its ``output`` filled
from the ``response.output_item.done`` events, which the backend may leave out of
the final object).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from ..wire._messages import DEFAULT_INSTRUCTIONS
from ..wire._sse import iter_lines, iter_sse, typed_events

__all__ = ["codex_body", "codex_transport", "response_from_events"]


def codex_body(body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the body as the backend takes it, whether the caller asked for a stream)."""
    wanted_stream = body.get("stream") is True
    body = dict(body)
    body.pop("max_output_tokens", None)
    body["store"] = False
    body["stream"] = True
    if not body.get("instructions"):
        body["instructions"] = DEFAULT_INSTRUCTIONS
    return body, wanted_stream


def response_from_events(chunks: Iterable[bytes]) -> tuple[int, dict[str, Any]]:
    """(status, JSON document) of a streamed answer: the final response, or the error."""
    items: list[Any] = []
    for kind, data in typed_events(iter_sse(iter_lines(chunks))):
        if kind == "response.output_item.done" and isinstance(data.get("item"), Mapping):
            items.append(data["item"])
        elif kind in ("response.completed", "response.incomplete", "response.done"):
            response = dict(data.get("response") or {})
            if not response.get("output"):
                response["output"] = items
            return 200, response
        elif kind in ("response.failed", "error"):
            failed = data.get("response") if isinstance(data.get("response"), Mapping) else data
            error = failed.get("error") if isinstance(failed, Mapping) else None
            return 400, {"error": error or {"message": "the Codex backend failed the request"}}
    return 502, {"error": {"message": "the Codex backend's event stream ended early"}}


def _rewrite(request: httpx.Request) -> tuple[httpx.Request, bool]:
    if request.method != "POST" or not request.url.path.endswith("/responses"):
        return request, True
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return request, True
    if not isinstance(body, dict):
        return request, True
    body, wanted_stream = codex_body(body)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    headers["accept"] = "text/event-stream"
    new = httpx.Request(
        request.method, request.url, headers=headers, json=body, extensions=request.extensions
    )
    return new, wanted_stream


def _as_json(
    request: httpx.Request, response: httpx.Response, chunks: Iterable[bytes]
) -> httpx.Response:
    status, doc = response_from_events(chunks)
    return httpx.Response(
        status,
        json=doc,
        request=request,
        extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
    )


def _is_stream(response: httpx.Response) -> bool:
    return response.status_code == 200 and "event-stream" in response.headers.get(
        "content-type", ""
    )


class _Sync(httpx.BaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request, wanted_stream = _rewrite(request)
        response = self._inner.handle_request(request)
        if wanted_stream or not _is_stream(response):
            return response
        try:
            return _as_json(request, response, list(response.stream))  # type: ignore[arg-type]
        finally:
            response.close()

    def close(self) -> None:
        self._inner.close()


class _Async(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        # One per event loop (see _loop_client), so its connections can be kept alive.
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request, wanted_stream = _rewrite(request)
        response = await self._inner.handle_async_request(request)
        if wanted_stream or not _is_stream(response):
            return response
        try:
            chunks = [chunk async for chunk in response.stream]  # type: ignore[union-attr]
            return _as_json(request, response, chunks)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._inner.aclose()


def codex_transport(*, is_async: bool) -> httpx.BaseTransport | httpx.AsyncBaseTransport:
    return _Async() if is_async else _Sync()
