"""The picker's view of what the provider's endpoint serves, fetched off the kernel's thread.

The panel never waits for an endpoint: :meth:`EndpointList.load` returns at
once, the list (or the reason there is none, in plain words) arrives on a
worker thread, and ``on_change`` is called then. A newer load supersedes an
older one still in flight, so a Base URL edited twice shows the second answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._switches import offline_by_env

if TYPE_CHECKING:
    from .._endpoint_models import EndpointModels

__all__ = ["EndpointList"]


class EndpointList:
    """``provider.endpoint_models()`` for a widget: non-blocking, never raising."""

    def __init__(self, provider: Any, on_change: Callable[[], None]) -> None:
        self.provider = provider
        self._on_change = on_change
        self.models: EndpointModels | None = None
        self.error: str | None = None
        self.loading = False
        self.held_back: str | None = None
        """The origin the key is held back for (the Base URL moved); nothing is asked then."""
        self.done = threading.Event()
        """Set when no fetch is in flight (tests and scripts wait on it)."""
        self.done.set()
        self._generation = 0
        self._closed = False
        self._lock = threading.Lock()

    @property
    def overridden(self) -> bool:
        return bool(self.provider.base_url)

    def _wanted(self) -> bool:
        # Codex lists its plan's models through its own path; without a key there is no list.
        if self.provider.type == "codex":
            return False
        if not self.overridden and offline_by_env():
            return False  # offline: a local server behind a Base URL may still be asked
        return self.provider.credential_source is not None

    def _held_back(self) -> str | None:
        source = self.provider.credential_source
        if source is None:
            return None
        runtime = self.provider._config.runtime
        held: str | None = runtime.held_back(self.provider.record, source)
        return held

    def load(self, refresh: bool = False) -> None:
        """Start fetching (or take a fresh cached list); returns at once."""
        from .._endpoint_models import cached_endpoint_models

        with self._lock:
            self._generation += 1
            generation = self._generation
            wanted = self._wanted()
            self.held_back = self._held_back() if wanted else None
            if not wanted or self.held_back is not None:
                # A held-back key is explained (at length) by the form's Credentials: asking
                # would only repeat that error here.
                self.models, self.error, self.loading = None, None, False
                self.done.set()
                cached = None
                start = False
            else:
                config = self.provider._config
                cached = (
                    None
                    if refresh
                    else cached_endpoint_models(config.runtime, self.provider.record)
                )
                start = cached is None
                if cached is not None:
                    self.models, self.error, self.loading = cached, None, False
                    self.done.set()
                else:
                    self.loading = True
                    self.done.clear()
        self._changed()  # "asking…" (or the cached list) is shown before any answer
        if start:
            threading.Thread(
                target=self._fetch,
                args=(generation, refresh),
                name=f"takopi-endpoint-models-{self.provider.id}",
                daemon=True,
            ).start()

    def _fetch(self, generation: int, refresh: bool) -> None:
        models: EndpointModels | None = None
        error: str | None = None
        try:
            models = self.provider.endpoint_models(refresh=refresh)
        except Exception as exc:  # shown in the picker; a worker thread must not raise
            error = " ".join(str(exc).split()) or type(exc).__name__
        with self._lock:
            current = generation == self._generation and not self._closed
            if current:
                self.models, self.error, self.loading = models, error, False
        if current:
            try:
                self._changed()
            finally:
                self.done.set()  # after the widget has shown it

    def _changed(self) -> None:
        if not self._closed:
            self._on_change()

    def describe(self) -> str:
        """One plain-text line for the picker's status."""
        if self.held_back is not None:
            return (
                "The model list waits for the key: confirm the new host under Credentials "
                "to send it there."
            )
        if self.loading:
            if not self.overridden:
                return "Asking which models your key can use…"
            return "Asking the endpoint which models it serves…"
        if self.error:
            if not self.overridden:  # the catalog is shown unmarked meanwhile
                return f"Could not list the models your key can use: {self.error}"
            return f"The endpoint's model list is unavailable: {self.error}"
        if self.models is None:
            return ""
        known = sum(1 for m in self.models if m.in_catalog)
        count = f"{len(self.models)} model{'s' if len(self.models) != 1 else ''}"
        if self.overridden:
            return f"Served by this endpoint: {count} ({known} in the catalog)."
        return f"Your key can list {count}; they are marked ● below."

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self.done.set()
