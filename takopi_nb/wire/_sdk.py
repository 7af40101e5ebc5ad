"""Hand-off to the official ``openai`` and ``anthropic`` SDKs.

``openai_kwargs()`` / ``anthropic_kwargs()`` give ``base_url``, ``api_key`` and
``default_headers`` for the SDK constructors; ``openai_client()`` /
``anthropic_client()`` build the clients (when the packages are installed) with
an HTTP client that drops credential headers on any request leaving the
provider's origin, as the built-in clients do.

The kwargs are a snapshot: for codex the access token is the current one
(refreshed first when it expires within 5 minutes); build a new client after a
long pause, or use ``m.chat()`` / ``m.client()``, which refresh on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Imported here, not only by the SDKs: the openai SDK inspects sys.modules["httpx"], and a
# catalog refresh thread may be importing it at that moment (a half-initialised module).
import httpx  # noqa: F401

from .._errors import ProviderRequestError
from ._endpoint import Endpoint, Origin
from ._scrub import CREDENTIAL_HEADERS

__all__ = ["anthropic_client", "anthropic_kwargs", "openai_client", "openai_kwargs"]

# Per-call headers of the codex backend that do not belong in an SDK's defaults.
_NOT_DEFAULTS = {
    "authorization",
    "accept",
    "content-type",
    "content-length",
    "session_id",
    "conversation_id",
}


def openai_kwargs(endpoint: Endpoint) -> dict[str, Any]:
    """Keyword arguments for ``openai.OpenAI(...)``.

    Every type works: OpenAI-compatible providers directly (Vercel's default
    base becomes its OpenAI-compatible route), Anthropic through its
    OpenAI-compatible endpoint, and codex with the ChatGPT access token and
    account headers (use ``client.responses.create(..., store=False,
    stream=True, instructions=...)``; the backend has no chat completions).
    """
    if endpoint.is_codex:
        headers = endpoint.credentials("codex").headers()
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = auth[7:] if auth[:7].lower() == "bearer " else auth
        defaults = {k: v for k, v in headers.items() if k.lower() not in _NOT_DEFAULTS}
        return {"base_url": endpoint.api_base, "api_key": token, "default_headers": defaults}
    return {
        "base_url": endpoint.api_base,
        "api_key": endpoint.key_source()(),
        "default_headers": {},
    }


def anthropic_base(api_base: str) -> str:
    """The Anthropic SDK appends ``/v1/messages`` itself: drop our ``/v1``."""
    base = api_base.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def anthropic_kwargs(endpoint: Endpoint) -> dict[str, Any]:
    """Keyword arguments for ``anthropic.Anthropic(...)``.

    For anthropic providers, and for gateways that also speak Anthropic
    Messages (OpenCode Zen's Claude models, OpenRouter, Vercel). The base URL is
    ours without its trailing ``/v1``, which the SDK adds back.
    """
    if endpoint.is_codex:
        raise ProviderRequestError(
            f"{endpoint.who} is a ChatGPT sign-in: the Codex backend does not speak the "
            "Anthropic API. Use m.openai_kwargs() (Responses API) or m.chat().",
            provider_id=endpoint.provider_id,
        )
    return {
        "base_url": anthropic_base(endpoint.api_base),
        "api_key": endpoint.key_source()(),
        "default_headers": {},
    }


def _scoped_http_client(module: Any, origin: Origin) -> Any:
    """The SDK's own default HTTP client, plus a hook that drops credentials off-origin."""
    factory = getattr(module, "DefaultHttpxClient", None)
    if factory is None:
        return None

    def strip(request: Any) -> None:
        if not origin.allows(str(request.url)):
            for name in CREDENTIAL_HEADERS:
                if name in request.headers:
                    del request.headers[name]

    try:
        return factory(event_hooks={"request": [strip]})
    except TypeError:
        return None


def _require(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        raise ImportError(
            f"The {name} package is not installed: pip install {name} "
            "(or pip install 'takopi_nb[sdk]'), or use m.chat() / m.client() instead."
        ) from None


def _sdk_client(
    package: str,
    cls: str,
    make_options: Callable[[Endpoint], dict[str, Any]],
    endpoint: Endpoint,
    kwargs: dict[str, Any],
) -> Any:
    """``package.cls(...)`` built from ``make_options``, with an HTTP client that keeps the
    credential on the provider's origin; ``kwargs`` override or add constructor arguments."""
    sdk = _require(package)
    options = make_options(endpoint)
    if "http_client" not in kwargs:
        http_client = _scoped_http_client(sdk, endpoint.origin)
        if http_client is not None:
            options["http_client"] = http_client
    options.update(kwargs)
    return getattr(sdk, cls)(**options)


def openai_client(endpoint: Endpoint, **kwargs: Any) -> Any:
    """``openai.OpenAI`` for this provider; ``kwargs`` override or add constructor arguments."""
    return _sdk_client("openai", "OpenAI", openai_kwargs, endpoint, kwargs)


def anthropic_client(endpoint: Endpoint, **kwargs: Any) -> Any:
    """``anthropic.Anthropic`` for this provider; ``kwargs`` override constructor arguments."""
    return _sdk_client("anthropic", "Anthropic", anthropic_kwargs, endpoint, kwargs)
