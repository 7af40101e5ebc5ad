"""Book the calls frameworks send through the HTTP clients we hand them in ``tk.usage()``.

A response hook on those clients wraps each model call's body so that, once the
framework has read it to the end, the answer is parsed by the same readers as
``m.chat()``'s (JSON, or the event stream with its final usage chunk) and
booked under the ref with its catalog cost. Only the body bytes pass through;
the framework reads them unchanged. SDKs stop reading an event stream at its
last event (``[DONE]``, ``response.completed``) and close it: what was read is
booked on close when it holds a complete answer. An answer read only in part (a
stream the framework dropped) is not booked: its usage never arrived. A body
that cannot be parsed is skipped with a debug log, never an error in the
framework's call.

The anthropic SDK (behind ChatAnthropic and pydantic-ai's Anthropic model) sends
through these clients too, behind an httpx2 one (see :mod:`._anthropic_http`).
litellm and DSPy build their own HTTP clients and are not seen here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from ..wire import _anthropic, _openai_compat, _responses
from ..wire._calls import call_context
from ..wire._cost import usage_cost
from ..wire._endpoint import Endpoint
from ..wire._ledger import ledger
from ..wire._results import StreamState, normalise_usage
from ..wire._sse import iter_lines, iter_sse

__all__ = ["usage_hooks"]

log = logging.getLogger("takopi_nb.frameworks")

_READERS: dict[str, Any] = {
    "chat/completions": _openai_compat,
    "responses": _responses,
    "messages": _anthropic,
}

Book = Callable[[bytes], None]


def _kind(request: httpx.Request) -> str | None:
    """The call a request makes (a key of ``_READERS``, or ``embeddings``), if a model call."""
    if request.method != "POST":
        return None
    path = request.url.path.rstrip("/")
    for kind in (*_READERS, "embeddings"):
        if path.endswith("/" + kind):
            return kind
    return None


def _usage_of(kind: str, event_stream: bool, body: bytes, endpoint: Endpoint) -> tuple[Any, int]:
    """(normalised usage, tool calls asked for) of one complete answer."""
    if kind == "embeddings":
        doc = json.loads(body)
        return normalise_usage(doc.get("usage") if isinstance(doc, dict) else None), 0
    reader = _READERS[kind]
    ctx = call_context(endpoint, "framework call", kind)
    if not event_stream:
        result = reader.parse_response(json.loads(body), ctx)
        return result.usage, len(result.tool_calls)
    state = StreamState(model=endpoint.model_id)
    for _ in reader.read_stream(iter_sse(iter_lines([body])), state, ctx):
        pass
    if not state.complete:
        raise ValueError("the event stream was not read to its end")
    return state.usage, len(state.tool_calls)


def _booker(endpoint: Endpoint, kind: str, response: httpx.Response, *, raw: bool) -> Book:
    """Books a body: ``raw`` (as read from the wire, maybe compressed) or already decoded."""
    event_stream = "event-stream" in response.headers.get("content-type", "").lower()
    headers = response.headers

    def book(data: bytes) -> None:
        try:
            # Raw bytes may be compressed: let httpx decode them as the framework did.
            body = httpx.Response(200, headers=headers, content=data).content if raw else data
            usage, tool_calls = _usage_of(kind, event_stream, body, endpoint)
        except Exception as exc:  # never the framework's problem
            log.debug("%s: a framework's answer was not booked (%s)", endpoint.ref, exc)
            return
        cost = usage_cost(usage, endpoint.catalog_info)
        ledger.record(endpoint.ref, usage, cost, cached=False, tool_calls=tool_calls)

    return book


class _Body:
    """The bytes read so far; booked once, when read to the end or closed."""

    def __init__(self, book: Book) -> None:
        self._book = book
        self._parts: list[bytes] | None = []

    def add(self, chunk: bytes) -> None:
        if self._parts is not None:
            self._parts.append(chunk)

    def done(self) -> None:
        parts, self._parts = self._parts, None
        if parts:
            self._book(b"".join(parts))


class _Tee(httpx.SyncByteStream):
    def __init__(self, inner: Any, book: Book) -> None:
        self._inner = inner
        self._body = _Body(book)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._body.add(chunk)
            yield chunk
        self._body.done()

    def close(self) -> None:
        try:
            self._body.done()
        finally:
            self._inner.close()


class _AsyncTee(httpx.AsyncByteStream):
    def __init__(self, inner: Any, book: Book) -> None:
        self._inner = inner
        self._body = _Body(book)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._body.add(chunk)
            yield chunk
        self._body.done()

    async def aclose(self) -> None:
        try:
            self._body.done()
        finally:
            await self._inner.aclose()


def usage_hooks(endpoint: Endpoint, *, is_async: bool) -> dict[str, list[Any]]:
    """``event_hooks`` for an httpx client handed to a framework (see the module docstring)."""

    def wrap(response: httpx.Response) -> None:
        kind = _kind(response.request)
        if kind is None or not 200 <= response.status_code < 300:
            return
        try:
            read = response.content  # a transport's own answer (codex's JSON) comes read
        except httpx.ResponseNotRead:
            pass
        else:
            _booker(endpoint, kind, response, raw=False)(read)
            return
        book = _booker(endpoint, kind, response, raw=True)
        tee = _AsyncTee if is_async else _Tee
        response.stream = tee(response.stream, book)

    if not is_async:
        return {"response": [wrap]}

    async def awrap(response: httpx.Response) -> None:
        wrap(response)

    return {"response": [awrap]}
