"""Send one host's HTTP calls to another address: a test and deployment seam.

``TAKOPI_NB_ROUTES`` (read when a config's runtime is made) holds pairs
``FROM=TO`` separated by spaces or commas, each side an origin
(``scheme://host[:port]``)::

    TAKOPI_NB_ROUTES="https://api.openai.com=http://127.0.0.1:8123"

A built-in client for a provider whose API base is at ``FROM`` then connects to
``TO`` instead, directly (no proxy), with the same path, query, headers and
credential. Nothing else changes: the Base URL, the origin a key is bound to
and every message still name ``FROM``. Tests use it to put a loopback fake
behind a type's *default* endpoint (api.openai.com…) without a Base URL
override; a deployment can use it to reach a vendor through an internal relay
that expects the vendor's own requests. The credential goes to ``TO``: set it
only to an address you trust with it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import httpx

from .._errors import ConfigError
from ._endpoint import Origin

__all__ = ["ENV_VAR", "AsyncRoutedTransport", "RoutedTransport", "parse_routes", "route_mounts"]

ENV_VAR = "TAKOPI_NB_ROUTES"


def _origin(text: str, pair: str) -> Origin:
    parts = httpx.URL(text) if "://" in text else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.host
        or parts.path not in ("", "/")
        or parts.query
    ):
        raise ConfigError(
            f"{ENV_VAR} has {pair!r}, whose side {text!r} is not an origin. Write each route "
            "as FROM=TO with two origins such as https://api.openai.com=http://127.0.0.1:8123 "
            "(scheme, host and port only), separated by spaces or commas."
        )
    return Origin.of(text)


@functools.lru_cache(maxsize=16)
def parse_routes(spec: str) -> dict[str, Origin]:
    """``{str(FROM origin): TO origin}`` of a ``TAKOPI_NB_ROUTES`` value; ConfigError if malformed."""
    routes: dict[str, Origin] = {}
    for pair in re.split(r"[\s,]+", spec.strip()):
        if not pair:
            continue
        source, sep, target = pair.partition("=")
        if not sep:
            raise ConfigError(
                f"{ENV_VAR} has {pair!r}, which is not FROM=TO. Example: "
                f"{ENV_VAR}='https://api.openai.com=http://127.0.0.1:8123'."
            )
        routes[str(_origin(source, pair))] = _origin(target, pair)
    return routes


def _rerouted(request: httpx.Request, target: Origin) -> httpx.Request:
    url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
    return httpx.Request(
        request.method,
        url,
        headers=request.headers,
        stream=request.stream,
        extensions=request.extensions,
    )


class RoutedTransport(httpx.BaseTransport):
    """Connects to ``target`` whatever origin the request names (it is mounted for one),
    through ``inner`` (a plain ``httpx.HTTPTransport`` unless given)."""

    def __init__(
        self, target: Origin, inner: httpx.BaseTransport | None = None, **kwargs: Any
    ) -> None:
        self.target = target
        self._inner = inner if inner is not None else httpx.HTTPTransport(**kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(_rerouted(request, self.target))

    def close(self) -> None:
        self._inner.close()


class AsyncRoutedTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`RoutedTransport`."""

    def __init__(self, target: Origin, **kwargs: Any) -> None:
        self.target = target
        self._inner = httpx.AsyncHTTPTransport(**kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(_rerouted(request, self.target))

    async def aclose(self) -> None:
        await self._inner.aclose()


def route_mounts(
    spec: str,
    origin: Origin,
    *,
    is_async: bool,
    limits: httpx.Limits | None = None,
    inner: Callable[[], httpx.BaseTransport] | None = None,
) -> dict[str, Any]:
    """httpx ``mounts`` that send calls to ``origin`` where ``spec`` routes it; {} if nowhere.

    A mount for the exact origin outranks the ``https://`` mount of a proxy taken
    from the environment, so the route holds behind ``HTTPS_PROXY`` too. ``inner``
    makes the transport a sync route connects through (the pool's cancellable one).
    """
    if not spec:
        return {}
    target = parse_routes(spec).get(str(origin))
    if target is None:
        return {}
    kwargs: dict[str, Any] = {"limits": limits} if limits is not None else {}
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport
    if is_async:
        transport = AsyncRoutedTransport(target, **kwargs)
    else:
        transport = RoutedTransport(target, inner() if inner is not None else None, **kwargs)
    return {str(origin): transport}  # httpx matches a default port only when left out
