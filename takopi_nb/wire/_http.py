"""httpx plumbing: the auth, clients that keep the credential home, and bounded retries.

- :class:`ProviderAuth` adds the credential only to requests for the provider's
  own origin; for codex it also recovers from one 401 (refresh, retry once).
- Clients from :func:`build_client` drop every credential header from any
  request (a redirect hop included) that leaves that origin. httpx itself drops
  only ``Authorization`` on a cross-origin redirect, not ``x-api-key`` or
  ``ChatGPT-Account-ID``; a request hook runs for every hop, proxies included.
- :func:`send` retries 408/429/5xx and failed connects with bounded backoff,
  honouring ``Retry-After``; the sleep is injectable through :class:`RetryPolicy`.
  A 429's wait closes the endpoint's gate (:mod:`._gate`): every other call to
  that endpoint waits too, instead of collecting 429s of its own.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._errors import ProviderRequestError
from ._cancel import cancellable_sleep, checkpoint
from ._endpoint import Credentials, Endpoint, Origin
from ._errors import (
    CallContext,
    error_for_response,
    error_for_transport,
    parse_retry_after,
    provider_detail,
    retry_is_pointless,
)
from ._gate import Gate
from ._scrub import CREDENTIAL_HEADERS

__all__ = [
    "DEFAULT_TIMEOUT",
    "ProviderAuth",
    "RetryPolicy",
    "build_async_client",
    "build_client",
    "guarded_bytes",
    "send",
    "sent_secrets",
]

log = logging.getLogger("takopi_nb.wire")

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=15.0)
"""Long reads: a reasoning model may think for minutes before the first byte."""
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        ours = version("takopi_nb")
    except Exception:
        ours = "0"
    return f"takopi_nb/{ours} httpx/{httpx.__version__}"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most ``max_retries`` more attempts, waits capped.

    A ``Retry-After`` longer than ``max_retry_after`` is not waited for: the
    error is raised at once with ``retry_after`` set.
    """

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], None] = field(default=cancellable_sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)
    on_retry: Callable[[int | None, float | None], None] | None = field(default=None, repr=False)
    """Told (status or None for a failed connect, Retry-After) before each retry's wait;
    ``chat_many`` lowers its concurrency here."""

    def delay(self, retry: int, retry_after: float | None) -> float | None:
        """Seconds before retry number ``retry`` (0-based), or None to give up now."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.max_delay, self.base_delay * (2.0**retry))
        return float(backoff * (0.5 + 0.5 * self.jitter()))


DEFAULT_RETRY = RetryPolicy()
"""What calls use unless told otherwise; tests replace it to skip the waiting."""


def default_retry() -> RetryPolicy:
    return DEFAULT_RETRY


class ProviderAuth(httpx.Auth):
    """Adds the provider's credential to requests for its origin, nothing to any other.

    For codex, a 401 from the provider's origin leads to one token recovery
    (reload or refresh, by the codex module) and exactly one retry.
    """

    requires_request_body = True

    def __init__(self, credentials: Credentials, origin: Origin) -> None:
        self._credentials = credentials
        self._origin = origin

    def __repr__(self) -> str:
        return f"<ProviderAuth for {self._origin}>"

    def _in_scope(self, request: httpx.Request) -> bool:
        return self._origin.allows(str(request.url))

    @staticmethod
    def _was_ours(response: httpx.Response, sent: Mapping[str, str]) -> bool:
        """The 401 came from a request that still carried our credential (no redirect away)."""
        if response.status_code != 401:
            return False
        auth = sent.get("Authorization")
        return auth is not None and response.request.headers.get("authorization") == auth

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._in_scope(request):
            yield request
            return
        sent = self._credentials.headers()
        request.headers.update(sent)
        response = yield request
        if self._was_ours(response, sent) and self._credentials.recover(sent):
            request.headers.update(self._credentials.headers())
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> Any:  # AsyncGenerator[httpx.Request, httpx.Response]
        from ._aio import off_the_loop

        await request.aread()
        if not self._in_scope(request):
            yield request
            return
        # Reading the keyring or refreshing a token blocks: keep it off the event loop.
        sent = await off_the_loop(self._credentials.headers)
        request.headers.update(sent)
        response = yield request
        if self._was_ours(response, sent) and await off_the_loop(self._credentials.recover, sent):
            request.headers.update(await off_the_loop(self._credentials.headers))
            yield request


def _strip_hook(origin: Origin) -> Callable[[httpx.Request], None]:
    def strip_off_origin_credentials(request: httpx.Request) -> None:
        if not origin.allows(str(request.url)):
            for name in CREDENTIAL_HEADERS:
                if name in request.headers:
                    del request.headers[name]

    return strip_off_origin_credentials


def _cancellable_kwargs(kwargs: dict[str, Any]) -> Callable[[], httpx.BaseTransport]:
    """Make every connection of a sync client cuttable by a cancelled call (see ``_cancel``):
    its own transport and the proxies of the environment, which httpx would otherwise skip
    once it is given a transport. Returns the maker of transports for routes."""
    from ._cancel import cancellable_proxy_mounts, cancellable_transport

    limits: httpx.Limits = kwargs.get("limits") or httpx.Limits(
        max_connections=100, max_keepalive_connections=20
    )
    kwargs.setdefault("transport", cancellable_transport(limits))
    if kwargs.get("trust_env", True) and kwargs.get("proxy") is None:
        kwargs["mounts"] = {**cancellable_proxy_mounts(limits), **dict(kwargs.get("mounts") or {})}
    return lambda: cancellable_transport(limits)


def _client_kwargs(
    endpoint: Endpoint,
    credentials: Credentials,
    kwargs: dict[str, Any],
    *,
    is_async: bool,
    cancellable: bool = False,
) -> dict[str, Any]:
    origin = endpoint.origin
    hooks = dict(kwargs.pop("event_hooks", None) or {})
    strip = _strip_hook(origin)
    if is_async:

        async def astrip(request: httpx.Request) -> None:
            strip(request)

        first: Any = astrip
    else:
        first = strip
    hooks["request"] = [first, *hooks.get("request", [])]
    headers = {"User-Agent": _user_agent(), **dict(kwargs.pop("headers", None) or {})}
    kwargs.setdefault("base_url", endpoint.api_base + "/")
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("follow_redirects", True)
    kwargs.setdefault("auth", ProviderAuth(credentials, origin))
    inner = _cancellable_kwargs(kwargs) if cancellable and not is_async else None
    spec = getattr(endpoint.runtime, "routes", "")
    if spec:  # TAKOPI_NB_ROUTES: see _routes
        from ._routes import route_mounts

        mounts = route_mounts(
            spec, origin, is_async=is_async, limits=kwargs.get("limits"), inner=inner
        )
        kwargs["mounts"] = {**mounts, **dict(kwargs.get("mounts") or {})}
    return {"event_hooks": hooks, "headers": headers, **kwargs}


def build_client(
    endpoint: Endpoint, credentials: Credentials, *, cancellable: bool = False, **kwargs: Any
) -> httpx.Client:
    """An ``httpx.Client`` on the provider's API base with its auth; kwargs go to httpx.

    ``cancellable``: every connection it makes (direct, routed, through a proxy of the
    environment) is one a cancelled call can cut (see ``_cancel``).
    """
    return httpx.Client(
        **_client_kwargs(endpoint, credentials, kwargs, is_async=False, cancellable=cancellable)
    )


def build_async_client(
    endpoint: Endpoint, credentials: Credentials, **kwargs: Any
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` twin of :func:`build_client`."""
    return httpx.AsyncClient(**_client_kwargs(endpoint, credentials, kwargs, is_async=True))


def sent_secrets(
    response: httpx.Response | None, request: httpx.Request | None = None
) -> list[str]:
    """The credential values the requests behind ``response`` carried, for scrubbing."""
    requests: list[httpx.Request] = []
    if response is not None:
        requests.extend(r.request for r in response.history)
        requests.append(response.request)
    if request is not None:
        requests.append(request)
    found: list[str] = []
    for req in requests:
        for name in CREDENTIAL_HEADERS:
            value = req.headers.get(name)
            if value:
                found.append(value)
                if value[:7].lower() == "bearer ":
                    found.append(value[7:])
    return found


def _read_timeout(timeout: httpx.Timeout | float | None) -> float | None:
    if isinstance(timeout, httpx.Timeout):
        read: float | None = timeout.read
        return read
    return timeout


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    ctx: CallContext,
    json: Any = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
    origin: Origin | None = None,
    timeout: httpx.Timeout | None = None,
    gate: Gate | None = None,
) -> httpx.Response:
    """Send with retries; return a 2xx response whose body is not read yet (close it).

    ``timeout`` overrides the client's for this call (pooled clients are shared).
    ``gate``: the endpoint's 429 gate, waited at before each attempt and held
    closed during a 429's wait. Anything else becomes a TakopiError: see
    :mod:`takopi_nb.wire._errors`.
    """
    policy = policy or default_retry()
    limits = timeout or client.timeout
    extra: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    retry = 0
    while True:
        checkpoint()
        if gate is not None:
            gate.wait(checkpoint)
        request = client.build_request(
            method, url, json=json, params=params, headers=headers, **extra
        )
        try:
            response = client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            if retry < policy.max_retries:
                delay = policy.delay(retry, None) or 0.0
                if policy.on_retry is not None:
                    policy.on_retry(None, None)
                log.info(
                    "%s: cannot connect (%s); retry in %.1f s", ctx.who, type(exc).__name__, delay
                )
                policy.sleep(delay)
                retry += 1
                continue
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connect"
            raise error_for_transport(
                ctx,
                kind,
                str(exc),
                timeout=limits.connect,
                attempts=retry + 1,
                secrets=sent_secrets(None, request),
            ) from None
        except httpx.TimeoutException:
            raise error_for_transport(
                ctx, "timeout", "", timeout=_read_timeout(limits), attempts=retry + 1
            ) from None
        except httpx.TooManyRedirects:
            raise ProviderRequestError(
                f"{ctx.who} redirected the {ctx.what} too many times. Check the Base URL "
                f"{ctx.base_url} in %takopi providers.",
                provider_id=ctx.provider_id,
            ) from None
        except httpx.TransportError as exc:
            raise error_for_transport(
                ctx,
                "other",
                f"{type(exc).__name__}: {exc}",
                attempts=retry + 1,
                secrets=sent_secrets(None, request),
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return response
        try:
            body = response.read()
        except httpx.HTTPError:
            body = b""
        finally:
            response.close()
        detail = provider_detail(body)
        if status in RETRY_STATUSES and not retry_is_pointless(status, detail):
            retry_after = parse_retry_after(response.headers)
            wait = policy.delay(retry, retry_after) if retry < policy.max_retries else None
            if wait is not None:
                if policy.on_retry is not None:
                    policy.on_retry(status, retry_after)
                log.info("%s answered HTTP %s; retry in %.1f s", ctx.who, status, wait)
                pause = gate.closed_while() if gate and status == 429 else contextlib.nullcontext()
                with pause:
                    policy.sleep(wait)
                retry += 1
                continue
        redirected_to = None
        check = origin or Origin.of(str(request.url))
        if response.history and not check.allows(str(response.url)):
            redirected_to = str(Origin.of(str(response.url)))
        raise error_for_response(
            ctx,
            status,
            dict(response.headers),
            body,
            secrets=sent_secrets(response, request),
            attempts=retry + 1,
            redirected_to=redirected_to,
        )


def guarded_bytes(
    response: httpx.Response, ctx: CallContext, timeout: float | None = None
) -> Iterator[bytes]:
    """The body as it arrives; a read timeout or a broken connection becomes a TakopiError."""
    try:
        yield from response.iter_bytes()
    except httpx.TimeoutException:
        raise error_for_transport(ctx, "timeout", "", timeout=timeout) from None
    except httpx.TransportError as exc:
        raise error_for_transport(ctx, "broken", type(exc).__name__) from None
