"""One gate per provider endpoint, closed while a caller waits out a 429.

A 429 with ``Retry-After`` says "this key, this endpoint: nothing for N
seconds", not "this one request". If only the caller that received it waited,
the other workers of a ``chat_many`` (or other threads, or ``achat`` calls) would
keep sending and collect 429s of their own. So the caller that waits holds the
endpoint's gate closed for its wait, and every call to that endpoint waits at
the gate before sending. Requests already on the wire are not recalled.

The gate is event-driven, not clock-driven: it opens when the last holder's
wait ends, so an injected sleep (tests) moves every caller on together.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["Gate", "gate_for"]

POLL = 0.25
"""How often a caller at the gate checks whether its call was cancelled."""


class Gate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holders = 0
        self.waiting = 0
        """Callers parked at the gate now."""

    @property
    def closed(self) -> bool:
        return self._holders > 0

    @contextlib.contextmanager
    def closed_while(self) -> Iterator[None]:
        """Keep the gate closed for the ``with`` block (a 429's wait)."""
        with self._cond:
            self._holders += 1
        try:
            yield
        finally:
            with self._cond:
                self._holders -= 1
                self._cond.notify_all()

    def wait(self, give_up: Callable[[], None] | None = None) -> None:
        """Return once the gate is open; ``give_up`` is called meanwhile and may raise."""
        with self._cond:
            if not self._holders:
                return
            self.waiting += 1
            try:
                while self._holders:
                    if give_up is not None:
                        give_up()
                    self._cond.wait(POLL)
            finally:
                self.waiting -= 1


_lock = threading.Lock()
_gates: dict[tuple[str, str], Gate] = {}


def gate_for(provider_id: str, api_base: str) -> Gate:
    """The gate of this provider's endpoint (one per process)."""
    key = (provider_id, api_base)
    with _lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = Gate()
        return gate


def _reset() -> None:
    with _lock:
        _gates.clear()
