"""Waiting for what another thread or process makes true: poll a check until a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T],
    what: str = "condition",
    *,
    timeout: float = 60.0,
    interval: float = 0.05,
) -> T:
    """Call ``check`` until it returns something true, and return that.

    Fails after ``timeout`` seconds naming ``what``. The default is generous on purpose: the
    machines running the tests are shared and loaded, and a passing check returns at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
