"""Run blocking work off the event loop in daemon threads.

The server's work (file reads, keyring look-ups, catalog fetches of up to a
minute) runs in *daemon* threads rather than the loop's default executor:
Python joins executor threads at exit, so a fetch in flight would hold up the
server's shutdown; a daemon thread never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["in_daemon_thread", "start_in_daemon_thread"]

T = TypeVar("T")


def start_in_daemon_thread(
    work: Callable[[], T], name: str
) -> tuple[threading.Thread, asyncio.Future[T]]:
    """Start ``work`` in a daemon thread; the future (of the running loop) gets its outcome."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting coroutine, never lost
            error = exc
        # RuntimeError: the loop closed meanwhile (the server stopped); nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, result, error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, done


async def in_daemon_thread(work: Callable[[], T], name: str = "takopi-api") -> T:
    """``await`` the result of blocking ``work`` run in a daemon thread."""
    _, done = start_in_daemon_thread(work, name)
    return await done
