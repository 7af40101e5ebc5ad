"""The kernel's Interrupt, arriving while a batch of calls is on the wire."""

from __future__ import annotations

import _thread
import itertools
import threading
from collections.abc import Callable

from tests.fakes.http import Request, Response


def interrupt_on_arrival(
    at: int, *, stall_after: int, stall: Callable[[Request], object]
) -> Callable[[Request], Response | None]:
    """An intercept for a fake: the ``at``-th request to arrive interrupts the main thread (a
    KeyboardInterrupt there, as the Interrupt button raises in a kernel), and every request
    after the ``stall_after``-th goes through ``stall`` before it is answered as usual."""
    arrivals = itertools.count(1)
    lock = threading.Lock()

    def intercept(request: Request) -> Response | None:
        with lock:
            mine = next(arrivals)
        if mine == at:
            _thread.interrupt_main()
        if mine > stall_after:
            stall(request)
        return None

    return intercept
