"""One pooled ``httpx.Client`` per (provider, effective base URL, credential), reused by every
built-in call from every thread.

A new client per call costs a TCP (and TLS) handshake each time; the official
SDKs keep one client, and so do we. A slot holds one live client per provider
and auth style; a call whose base URL or credential differs from the slot's
retires the old client and builds a new one, so a key is never sent over a
connection made for another host or another key. The key itself is not part of
the slot's identity: only a digest of it is compared.

Its connections can be cut by a cancelled call (see :mod:`._cancel`).

Retired clients are closed at interpreter exit (another thread may still be
reading from one), live ones too.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import threading
from dataclasses import dataclass

import httpx

from .._errors import TakopiError
from ._endpoint import ApiKeyCredentials, CodexCredentials, Credentials, Endpoint
from ._http import build_client

__all__ = ["ClientPool", "pool", "pooled_client"]

LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=60.0)
"""Enough for chat_many's concurrency; idle connections are dropped after a minute."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class _KeptKey:
    """The key a pooled client sends, read again only after the provider rejected it
    (changed in another process): the retry then carries the new key, and the next call
    moves to a client of that key."""

    def __init__(self, key: str, live: ApiKeyCredentials) -> None:
        self._key = key
        self._live = live

    def __call__(self) -> str:
        return self._key

    def read_again(self) -> None:
        if self._live.forget is not None:
            self._live.forget()
        with contextlib.suppress(TakopiError):  # removed meanwhile: the 401 stands
            self._key = self._live.get_key()


@dataclass
class _Slot:
    identity: tuple[str, str]
    """(api base and routes, credential digest)."""
    client: httpx.Client


class ClientPool:
    """Thread-safe map of slot → client; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str, str], _Slot] = {}
        self._retired: list[httpx.Client] = []
        self._registered = False

    def client(self, endpoint: Endpoint, credentials: Credentials) -> httpx.Client:
        """The pooled client for ``endpoint`` with ``credentials``.

        API keys are read once here: the client then carries that key (it is
        part of the slot's identity), so a changed key gets a new client.
        Codex tokens are read per request by the client's auth (they refresh).
        """
        fixed: Credentials
        style: str
        if isinstance(credentials, ApiKeyCredentials):
            key = credentials.get_key()
            kept = _KeptKey(key, credentials)
            fixed = ApiKeyCredentials(kept, credentials.style, kept.read_again)
            style, secret_id = credentials.style, _digest(key)
        elif isinstance(credentials, CodexCredentials):
            # The session id is a per-request header, not part of the pooled client.
            fixed = CodexCredentials(credentials.runtime, credentials.record, "")
            style, secret_id = "codex", "oauth"
        else:  # an unknown kind: no pooling
            return build_client(endpoint, credentials, limits=LIMITS)
        slot_key = (endpoint.provider_id, endpoint.provider_type, style)
        # A client's mounts come from the runtime's routes: another route, another client.
        identity = (f"{endpoint.api_base} {getattr(endpoint.runtime, 'routes', '')}", secret_id)
        with self._lock:
            slot = self._slots.get(slot_key)
            if slot is not None and slot.identity == identity:
                return slot.client
            if slot is not None:
                self._retired.append(slot.client)
            # Streams that a cancelled achat() or an interrupted batch can shut (see _cancel),
            # also those of routes (TAKOPI_NB_ROUTES) and of the environment's proxies.
            client = build_client(endpoint, fixed, limits=LIMITS, cancellable=True)
            self._slots[slot_key] = _Slot(identity, client)
            if not self._registered:
                atexit.register(self.close)
                self._registered = True
            return client

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    def close(self) -> None:
        """Close every client, live and retired; the next call builds new ones."""
        with self._lock:
            clients = [s.client for s in self._slots.values()] + self._retired
            self._slots.clear()
            self._retired = []
        for client in clients:
            with contextlib.suppress(Exception):  # closing at exit must never raise
                client.close()

    def __repr__(self) -> str:
        return f"<ClientPool {len(self)} clients>"


pool = ClientPool()


def pooled_client(endpoint: Endpoint, credentials: Credentials) -> httpx.Client:
    return pool.client(endpoint, credentials)


def _reset() -> None:
    pool.close()
