"""Every test runs with its own Jupyter dirs, cache, keyring and no outside network."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest

from tests.fakes.keyring_backend import MemoryKeyring

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

ISOLATED_VARS = (
    "TAKOPI_NB_CONFIG",
    "TAKOPI_NB_CATALOG_URL",
    "TAKOPI_NB_OFFLINE",
    "TAKOPI_NB_CODEX_ISSUER",
    "TAKOPI_NB_ROUTES",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_PLATFORM_DIRS",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENCODE_API_KEY",
    "ZAI_API_KEY",
    "ZHIPU_API_KEY",
    "AI_GATEWAY_API_KEY",
)


def default_routes(target: str) -> str:
    """A ``TAKOPI_NB_ROUTES`` value sending every built-in type's default host to ``target``."""
    from takopi_nb import PROVIDER_TYPES
    from takopi_nb._validation import origin_of

    origins = {
        origin_of(url)
        for info in PROVIDER_TYPES.values()
        for url in (info.default_base_url, info.fallback_base_url)
    }
    origins.add("https://ai-gateway.vercel.sh")
    return " ".join(f"{origin}={target}" for origin in sorted(origins))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every takopi_nb and Jupyter location into ``tmp_path``."""
    for name in ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    for sub in ("jupyter-config", "jupyter-data", "jupyter-runtime", "cache"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home / "jupyter-config"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home / "jupyter-data"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(home / "jupyter-runtime"))
    monkeypatch.setenv("TAKOPI_NB_CACHE_DIR", str(home / "cache"))
    # Never the real ~/.codex: a Codex CLI sign-in of the machine must not show up in tests.
    monkeypatch.setenv("CODEX_HOME", str(home / "codex"))
    # The catalog must never reach models.dev from a test: an unroutable loopback port.
    monkeypatch.setenv("TAKOPI_NB_CATALOG_URL", "http://127.0.0.1:9/api.json")
    monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", "http://127.0.0.1:9")
    # Nor a provider's default host (a picker asks it in the background when a key is set):
    # each is routed to the same unroutable port. A test puts its fake there instead.
    monkeypatch.setenv("TAKOPI_NB_ROUTES", default_routes("http://127.0.0.1:9"))
    yield home
    from takopi_nb import _reset_for_tests

    _reset_for_tests()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def no_outside_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections to anything but loopback, so a test can never reach a real service."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        is_ip = self.family in (socket.AF_INET, socket.AF_INET6)
        loopback = isinstance(host, str) and (
            host.startswith("127.") or host in ("::1", "localhost")
        )
        if is_ip and isinstance(host, str) and not loopback:
            raise OSError(f"test tried to reach {host!r}: only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """A fresh IPython shell with ``%load_ext takopi_nb`` (tests of the magics)."""
    from tests.shells import takopi_shell  # IPython only for the tests that ask for a shell

    with takopi_shell() as made:
        yield made


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
