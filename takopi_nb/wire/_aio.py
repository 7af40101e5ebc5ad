"""The async twins ``achat`` and ``aembed``, for a notebook's running event loop.

They run the synchronous calls on a dedicated thread pool, so they share the
pooled clients (one set of connections for sync and async use), work in any
event loop (ipykernel's, asyncio.run's, an anyio one on asyncio) and never
block it. A dedicated pool, not the loop's default executor: that one has
only ``cpu_count + 4`` threads, which would cap ``asyncio.gather`` of many calls;
and of daemon threads, so that a call still running never holds up the exit.

A thread cannot be stopped, so cancelling the awaiting task (or Ctrl-C under
``asyncio.run``) cancels the call's :class:`~._cancel.CallScope` instead: its
socket is shut down, the provider sees the connection closed, and the thread
and the pool slot are free again at once (see :mod:`._cancel`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ._cancel import CallScope, enter_scope
from ._daemon_pool import DaemonThreadPool
from ._results import ChatResult, ChatStream

__all__ = ["AsyncChatStream", "off_the_loop", "run_in_thread"]

R = TypeVar("R")
MAX_THREADS = 64

_lock = threading.Lock()
_executor: DaemonThreadPool | None = None


def _pool() -> DaemonThreadPool:
    global _executor
    with _lock:
        if _executor is None:
            _executor = DaemonThreadPool(MAX_THREADS, "takopi-async")
        return _executor


async def run_in_thread(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``await`` ``fn(*args, **kwargs)`` run on the pool, with the caller's context.

    Cancelled (or interrupted) while waiting, the call is cancelled too.
    """
    loop = asyncio.get_running_loop()
    scope = CallScope()

    def scoped() -> R:
        enter_scope(scope)  # in the copied context: the caller's own is untouched
        return fn(*args, **kwargs)

    call = functools.partial(contextvars.copy_context().run, scoped)
    future = loop.run_in_executor(_pool(), call)
    try:
        return await future
    except BaseException:
        if future.cancelled() or not future.done():  # not the call's own error
            scope.cancel()
        raise


async def off_the_loop(fn: Callable[..., R], *args: Any) -> R:
    """``await`` blocking ``fn(*args)`` in a daemon thread, in any event loop.

    On asyncio, this module's pool (anyio's own workers would outlive a loop whose
    main task never ends, as a kernel's, and hold up the exit); elsewhere (trio)
    anyio's threads, which are daemons there.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(fn, *args)
    # No call scope, and shielded: a token refresh under way must finish (and be stored)
    # even when the awaiting task is cancelled, or the rotated token would be lost.
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    return await asyncio.shield(loop.run_in_executor(_pool(), call))


_END = object()


class AsyncChatStream:
    """``async for chunk in await m.achat(..., stream=True)``: text chunks as they arrive.

    ``text``, ``usage``, ``cost`` and ``done`` are final once the stream is
    exhausted; ``await stream.aclose()`` (or ``async with``) drops it early.
    """

    def __init__(self, stream: ChatStream) -> None:
        self._stream = stream
        self._reads = 0

    def __aiter__(self) -> AsyncChatStream:
        return self

    def _next(self) -> object:
        self._reads += 1
        return next(self._stream, _END)

    async def __anext__(self) -> str:
        reads = self._reads
        try:
            chunk = await run_in_thread(self._next)
        except asyncio.CancelledError:
            # A cancelled read abandons the stream. A read under way had its socket shut by
            # its scope; one that never started would leave the answer open: close it here.
            if self._reads == reads:
                self._stream.close()
            raise
        if chunk is _END:
            raise StopAsyncIteration
        return str(chunk)

    async def aclose(self) -> None:
        await run_in_thread(self._stream.close)

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def result(self) -> ChatResult:
        """Read the rest and return the whole answer."""
        return await run_in_thread(self._stream.result)

    @property
    def text(self) -> str:
        return self._stream.text

    @property
    def usage(self) -> dict[str, Any] | None:
        return self._stream.usage

    @property
    def cost(self) -> float | None:
        return self._stream.cost

    @property
    def cached(self) -> bool:
        return self._stream.cached

    @property
    def model(self) -> str:
        return self._stream.model

    @property
    def done(self) -> bool:
        return self._stream.done

    def __repr__(self) -> str:
        return repr(self._stream).replace("<ChatStream", "<AsyncChatStream", 1)


def _reset() -> None:
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)
