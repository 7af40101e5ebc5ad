"""Fixtures for the Codex sign-in tests: a loopback ChatGPT fake and a runtime pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from takopi_nb._secrets import SecretStore
from tests.fakes.codex_server import FakeChatGPT

PID = "chatgpt"


@pytest.fixture
def fake() -> Iterator[FakeChatGPT]:
    with FakeChatGPT(interval="0") as server:
        yield server


@pytest.fixture
def chatgpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatGPT]:
    """A ChatGPT fake that the process-wide config signs in with (TAKOPI_NB_CODEX_ISSUER)."""
    with FakeChatGPT() as server:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", server.issuer)
        yield server


@pytest.fixture
def runtime(fake: FakeChatGPT) -> SimpleNamespace:
    return SimpleNamespace(secrets=SecretStore(), codex_issuer=fake.issuer)


@pytest.fixture
def record(fake: FakeChatGPT) -> SimpleNamespace:
    return SimpleNamespace(id=PID, type="codex", effective_base_url=fake.codex_base)
