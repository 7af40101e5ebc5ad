"""Fixtures for the wire-protocol tests."""

from __future__ import annotations

import pytest

from takopi_nb.wire import _http as wire_http


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries sleep through this list instead of the clock; the jitter is fixed at its top."""
    slept: list[float] = []
    monkeypatch.setattr(
        wire_http, "DEFAULT_RETRY", wire_http.RetryPolicy(sleep=slept.append, jitter=lambda: 1.0)
    )
    return slept
