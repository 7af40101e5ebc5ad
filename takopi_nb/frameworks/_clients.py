"""What every hand-off shares: lazy imports with a clear error, and SDK clients whose
HTTP client carries the credential, so the framework object never holds it.

The ``openai`` and ``anthropic`` SDK clients built here get a placeholder API key and
an ``httpx`` client (for the anthropic SDK, behind an ``httpx2`` one) whose auth
(takopi_nb's, the one ``m.client()`` uses) puts the real credential on each request
to the provider's origin, and nowhere else. A
ChatGPT (codex) token is refreshed near expiry and after a 401, and the Codex
backend is made to look like the plain Responses API (see
:mod:`._codex_transport`). The model calls those clients carry are booked in
``tk.usage()`` with their cost (see :mod:`._usage`).
"""

from __future__ import annotations

import importlib
from typing import Any

from .._errors import MissingDependencyError, ProviderRequestError

__all__ = [
    "PLACEHOLDER_KEY",
    "anthropic_http_client",
    "anthropic_sdk",
    "gemini_unsupported",
    "http_client",
    "openai_sdk",
    "require",
    "unsupported",
]

PLACEHOLDER_KEY = "takopi-nb-adds-the-credential-per-request"
"""What the SDKs are given as api_key: the real one is added by the HTTP client's auth."""


def require(module: str, package: str, method: str) -> Any:
    """Import ``module``, or say which package to install for ``method``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{method} needs the {package} package, which is not installed: run "
            f"pip install {package} (or pip install 'takopi_nb[frameworks]' for every "
            "framework), then call it again."
        ) from None


def http_client(model: Any, *, is_async: bool, protocol: Any = None) -> Any:
    """An httpx client whose auth adds the credential in ``protocol``'s style (default:
    the model's own), only for the provider's origin."""
    import httpx

    from ..wire._endpoint import endpoint_for_model
    from ..wire._http import build_async_client, build_client
    from ._usage import usage_hooks

    endpoint = endpoint_for_model(model)
    credentials = endpoint.credentials(protocol)
    hooks = usage_hooks(endpoint, is_async=is_async)
    timeout = None  # the SDKs pass their own per request
    if not is_async:
        options = _transport_options(endpoint, is_async=False)
        return build_client(endpoint, credentials, timeout=timeout, event_hooks=hooks, **options)
    from ._loop_client import LoopLocalClient

    # One SSL context for every loop's client: making one costs more than a loopback call.
    verify = httpx.create_ssl_context()

    def make() -> httpx.AsyncClient:
        options = _transport_options(endpoint, is_async=True)
        return build_async_client(
            endpoint, credentials, timeout=timeout, event_hooks=hooks, verify=verify, **options
        )

    return LoopLocalClient(make)


def _transport_options(endpoint: Any, *, is_async: bool) -> dict[str, Any]:
    if not endpoint.is_codex:
        return {}
    from ._codex_transport import codex_transport

    return {"transport": codex_transport(is_async=is_async)}


def openai_sdk(model: Any, method: str, *, is_async: bool = True, protocol: Any = None) -> Any:
    """``openai.AsyncOpenAI`` (or ``OpenAI``) for the model's provider, credential-free."""
    sdk = require("openai", "openai", method)
    from ..wire import api_base_url

    cls = sdk.AsyncOpenAI if is_async else sdk.OpenAI
    return cls(
        api_key=PLACEHOLDER_KEY,
        base_url=api_base_url(model),
        http_client=http_client(model, is_async=is_async, protocol=protocol),
    )


def anthropic_http_client(sdk: Any, model: Any, *, is_async: bool) -> Any:
    """``http_client=`` for the ``anthropic`` SDK's clients: ours, behind the SDK's own
    ``httpx2`` client where the SDK runs on httpx2 (see :mod:`._anthropic_http`)."""
    import httpx

    ours = http_client(model, is_async=is_async)
    default = sdk.DefaultAsyncHttpxClient if is_async else sdk.DefaultHttpxClient
    if issubclass(default, httpx.Client | httpx.AsyncClient):
        return ours
    from ._anthropic_http import bridged

    return bridged(default, ours)


def anthropic_sdk(model: Any, method: str, *, is_async: bool = True, **options: Any) -> Any:
    """``anthropic.AsyncAnthropic`` (or ``Anthropic``) for the model's provider,
    credential-free like :func:`openai_sdk`; ``options`` go to the constructor."""
    sdk = require("anthropic", "anthropic", method)
    from ..wire import api_base_url
    from ..wire._sdk import anthropic_base

    # A missing key is said now, where to put it included: the SDK would turn the
    # error of its first request into a bare "Connection error." after its retries.
    model.api_key()
    options = {
        "api_key": PLACEHOLDER_KEY,
        "base_url": anthropic_base(api_base_url(model)),
        **options,
        "http_client": anthropic_http_client(sdk, model, is_async=is_async),
    }
    return (sdk.AsyncAnthropic if is_async else sdk.Anthropic)(**options)


def unsupported(model: Any, method: str, why: str) -> Exception:
    return ProviderRequestError(
        f"{method} cannot serve {model.ref}: {why}", provider_id=model.provider_id
    )


def gemini_unsupported(model: Any, method: str) -> Exception:
    return unsupported(
        model,
        method,
        "the model is served in Gemini format, which this hand-off does not cover yet. "
        "Use m.chat(), or another model of the provider.",
    )
