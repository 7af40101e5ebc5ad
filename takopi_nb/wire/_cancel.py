"""Stopping a call that runs on a worker thread: ``achat`` cancelled, a batch interrupted.

The built-in calls are synchronous httpx calls; ``achat`` runs them on a thread
pool and ``chat_many`` on worker threads. Cancelling the awaiting task (or an
interrupt) cannot stop a thread, and a thread blocked in ``recv()`` waiting for
the answer would otherwise hold its pooled connection and its thread until the
provider answered, minutes later for a reasoning model.

So each such call runs inside a :class:`CallScope` (a context variable). The
pooled clients' network streams note which scope is reading or writing them;
:meth:`CallScope.cancel` shuts those sockets down, which ends the blocked
``recv()`` at once (the provider sees the connection closed) and makes httpcore
drop the connection instead of returning it to the pool. Retry waits and the
429 gate (:mod:`._gate`) end early too, and :func:`checkpoint` keeps a cancelled
call from sending anything more.

A stream is released from its scope when the response is closed, before the
connection goes back to the pool, so cancelling a call can never shut a
connection another call has taken over since.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = [
    "CallCancelled",
    "CallScope",
    "cancellable_proxy_mounts",
    "cancellable_sleep",
    "cancellable_transport",
    "checkpoint",
    "current_scope",
]


class CallCancelled(Exception):
    """Raised on a worker thread whose call was cancelled; nobody waits for its result."""


class CallScope:
    """One cancellable call (or a batch worker's run of calls); see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: set[_TrackedStream] = set()
        self._children: list[CallScope] = []
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if cancelled meanwhile."""
        return self._event.wait(seconds)

    def child(self) -> CallScope:
        """A scope cancelled with this one (a batch's worker inside a cancellable call)."""
        scope = CallScope()
        with self._lock:
            if self._event.is_set():
                scope._event.set()
            else:
                self._children.append(scope)
        return scope

    def cancel(self) -> None:
        """Stop the call: shut its sockets down; later sends and waits give up."""
        with self._lock:
            self._event.set()
            streams, self._streams = self._streams, set()
            children, self._children = self._children, []
        for stream in streams:
            stream.shut_down()
        for child in children:
            child.cancel()

    def _attach(self, stream: _TrackedStream) -> None:
        with self._lock:
            if self._event.is_set():
                raise httpcore.ReadError("the call was cancelled")
            self._streams.add(stream)

    def _release(self, stream: _TrackedStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def release_all(self) -> None:
        """The call is over: its connections are no longer its own."""
        with self._lock:
            self._streams.clear()


_scope: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar(
    "takopi_nb_call_scope", default=None
)


def current_scope() -> CallScope | None:
    return _scope.get()


def enter_scope(scope: CallScope) -> None:
    """Make ``scope`` the current one of this context (a worker thread's or a copied one)."""
    _scope.set(scope)


def checkpoint() -> None:
    """Raise :class:`CallCancelled` if the current call was cancelled."""
    scope = _scope.get()
    if scope is not None and scope.cancelled:
        raise CallCancelled


def cancellable_sleep(seconds: float) -> None:
    """``time.sleep`` that a cancelled call wakes from (then :func:`checkpoint` raises)."""
    scope = _scope.get()
    if scope is None:
        time.sleep(seconds)
    elif scope.wait(seconds):
        raise CallCancelled


class _TrackedStream(httpcore.NetworkStream):
    """A network stream that tells the current call's scope it is in use."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self._owner: CallScope | None = None

    def _claim(self) -> None:
        scope = _scope.get()
        if scope is not self._owner:
            if self._owner is not None:
                self._owner._release(self)
            self._owner = scope
        if scope is not None:
            scope._attach(self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._claim()
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._claim()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self.release()
        self._inner.close()

    def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner._release(self)

    def shut_down(self) -> None:
        sock = self._inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            # socket.socket's own shutdown, also for an SSLSocket, whose own would first
            # drop its TLS state under the blocked reader. OSError: already closed.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _TrackedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _TrackingBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _TrackedStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _TrackedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _ReleasingStream(httpx.SyncByteStream):
    """A response body that, once closed, releases its connection from the call's scope
    before httpcore hands the connection to another call."""

    def __init__(self, inner: httpx.SyncByteStream, scope: CallScope) -> None:
        self._inner = inner
        self._scope = scope

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        self._scope.release_all()
        self._inner.close()


class _CancellableTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` over a connection pool (direct or through a proxy) whose
    streams are tracked."""

    def __init__(self, limits: httpx.Limits, proxy: httpx.Proxy | None = None) -> None:
        # Not super().__init__(): it would build (and here throw away) a pool and an SSL context.
        # What follows is httpx's own choice of pool, with the tracking backend added.
        sizes: dict[str, Any] = {
            "ssl_context": httpx.create_ssl_context(),
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "network_backend": _TrackingBackend(),
        }
        if proxy is None:
            self._pool = httpcore.ConnectionPool(**sizes)
            return
        url = httpcore.URL(
            scheme=proxy.url.raw_scheme,
            host=proxy.url.raw_host,
            port=proxy.url.port,
            target=proxy.url.raw_path,
        )
        if proxy.url.scheme in ("http", "https"):
            self._pool = httpcore.HTTPProxy(
                proxy_url=url,
                proxy_auth=proxy.raw_auth,
                proxy_headers=proxy.headers.raw,
                proxy_ssl_context=proxy.ssl_context,
                **sizes,
            )
        else:  # socks5, socks5h (httpx.Proxy refuses anything else)
            self._pool = httpcore.SOCKSProxy(proxy_url=url, proxy_auth=proxy.raw_auth, **sizes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        checkpoint()
        response = super().handle_request(request)
        scope = _scope.get()
        if scope is not None:
            assert isinstance(response.stream, httpx.SyncByteStream)
            response.stream = _ReleasingStream(response.stream, scope)
        return response


def cancellable_transport(
    limits: httpx.Limits, proxy: httpx.Proxy | None = None
) -> httpx.HTTPTransport:
    return _CancellableTransport(limits, proxy)


def cancellable_proxy_mounts(limits: httpx.Limits) -> dict[str, httpx.HTTPTransport | None]:
    """httpx ``mounts`` for the proxies of the environment (``HTTPS_PROXY``, ``NO_PROXY``...),
    over cancellable transports.

    An ``httpx.Client`` given its own ``transport=`` ignores the environment's proxies, so
    a client built on :func:`cancellable_transport` mounts these itself: the same patterns
    httpx would mount, each proxy's connections cut by a cancelled call like direct ones.
    """
    # httpx's own reading of the environment (urllib's getproxies, NO_PROXY patterns), so
    # the pooled client goes through exactly the proxies a plain httpx.Client would use.
    from httpx._utils import get_environment_proxies

    return {
        pattern: None if url is None else cancellable_transport(limits, httpx.Proxy(url))
        for pattern, url in get_environment_proxies().items()
    }
