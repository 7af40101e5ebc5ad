"""An ``httpx2`` client for the ``anthropic`` SDK, sending through takopi_nb's ``httpx`` one.

The SDK (2.x) runs on ``httpx2`` and refuses an ``httpx`` client, while takopi_nb's
clients (the auth that adds the credential per request, the hooks that book calls in
``tk.usage()``, routes and proxies) are ``httpx``. So the SDK gets its own default
``httpx2`` client with a transport that hands each request to ours and the answer back:
the body streams through unread (raw bytes, which httpx2 decodes as it would its own),
and a transport error becomes httpx2's of the same name, so the SDK's retries and
timeout errors behave as usual. (An SDK still on ``httpx`` gets ours as is: see
:func:`._clients.anthropic_sdk`; this module is imported only where httpx2 is installed.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2

__all__ = ["bridged"]


def bridged(default: type[Any], ours: httpx.Client | httpx.AsyncClient) -> Any:
    """``default(...)`` (the SDK's own httpx2 client class) sending through ``ours``."""
    if isinstance(ours, httpx.AsyncClient):
        return default(transport=_AsyncBridge(ours))
    return default(transport=_Bridge(ours))


def _request(request: httpx2.Request, content: bytes) -> httpx.Request:
    extensions = {k: v for k, v in request.extensions.items() if k == "timeout"}
    return httpx.Request(
        request.method,
        str(request.url),
        headers=request.headers.raw,
        content=content,
        extensions=extensions,
    )


def _response(request: httpx2.Request, response: httpx.Response, stream: Any) -> httpx2.Response:
    kept = ("http_version", "reason_phrase")
    return httpx2.Response(
        response.status_code,
        headers=response.headers.raw,
        stream=stream,
        request=request,
        extensions={k: v for k, v in response.extensions.items() if k in kept},
    )


def _translated(exc: httpx.HTTPError, request: httpx2.Request) -> Exception:
    twin = getattr(httpx2, type(exc).__name__, None)
    if not (isinstance(twin, type) and issubclass(twin, httpx2.RequestError)):
        twin = httpx2.TransportError
    return twin(str(exc), request=request)


class _Body(httpx2.SyncByteStream):
    def __init__(self, response: httpx.Response, request: httpx2.Request) -> None:
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_raw()
        except httpx.HTTPError as exc:
            raise _translated(exc, self._request) from exc

    def close(self) -> None:
        self._response.close()


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, response: httpx.Response, request: httpx2.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise _translated(exc, self._request) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class _Bridge(httpx2.BaseTransport):
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "<takopi_nb transport to its httpx client>"

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            response = self._client.send(_request(request, request.read()), stream=True)
        except httpx.HTTPError as exc:
            raise _translated(exc, request) from exc
        return _response(request, response, _Body(response, request))

    def close(self) -> None:
        self._client.close()


class _AsyncBridge(httpx2.AsyncBaseTransport):
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "<takopi_nb transport to its httpx client>"

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        content = await request.aread()
        try:
            response = await self._client.send(_request(request, content), stream=True)
        except httpx.HTTPError as exc:
            raise _translated(exc, request) from exc
        return _response(request, response, _AsyncBody(response, request))

    async def aclose(self) -> None:
        await self._client.aclose()
