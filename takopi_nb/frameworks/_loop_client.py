"""An async HTTP client that keeps its connections per event loop.

A connection kept alive by ``httpx`` belongs to the event loop that opened it. The
frameworks we hand an async client run on different loops: a notebook's own loop
(top-level ``await agent.run()``), pydantic-ai's and the Agents SDK's ``run_sync()``
(one lasting loop per thread), or ``asyncio.run()`` per call (a new loop each time).
One shared pool would hand a later loop a connection of a closed one, and no pool at
all opens a new connection (a TLS handshake to a real provider) for every call.

So the client handed over only builds requests; each request is sent by a client of
the running loop's own, made on first use there with the same settings (auth that
adds the credential, the hooks that book usage, routes, proxies) and dropped with
its loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["LoopLocalClient"]


class _NotSent(httpx.AsyncBaseTransport):
    """The handed-over client's own transport: every request goes to a loop's client."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("LoopLocalClient sends through the running loop's client")


class LoopLocalClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose ``send`` uses ``make()``'s client of the running loop.

    The first client is made at once: its base URL, headers and timeout are what
    ``build_request`` needs to build the same requests, and the first loop to send uses it.
    """

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        first = make()
        super().__init__(
            transport=_NotSent(),
            base_url=first.base_url,
            headers=first.headers,
            timeout=first.timeout,
        )
        self._make = make
        self._unclaimed: httpx.AsyncClient | None = first
        self._lock = threading.Lock()
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._by_loop = weakref.WeakKeyDictionary()

    def loop_client(self) -> httpx.AsyncClient:
        """The running loop's sending client (made on first use)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._by_loop.get(loop)
            if client is None or client.is_closed:
                # A closed loop's client can never send again: let it go with its loop.
                for old in [old for old in self._by_loop if old.is_closed()]:
                    del self._by_loop[old]
                client, self._unclaimed = self._unclaimed or self._make(), None
                self._by_loop[loop] = client
        return client

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await self.loop_client().send(request, **kwargs)

    async def aclose(self) -> None:
        """Close this loop's client (others close with their loops)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            client = self._by_loop.pop(loop, None) if loop is not None else None
        if client is not None:
            await client.aclose()
        await super().aclose()
