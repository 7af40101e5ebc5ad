"""Using a resolved model: HTTP auth and clients, SDK hand-off, built-in chat and embeddings.

``ResolvedModel`` methods delegate here. Three wire protocols (DESIGN §7):
OpenAI-compatible chat completions and embeddings (openai, openrouter,
deepseek, opencode, zai, vercel), Anthropic Messages (anthropic), and Codex
Responses over SSE (codex). OpenCode Zen models whose catalog entry names
another AI-SDK package use that package's wire format under the same base URL:
``@ai-sdk/anthropic`` → Anthropic Messages, ``@ai-sdk/openai`` → OpenAI
Responses, ``@ai-sdk/google`` → Gemini ``generateContent``.

Rules kept everywhere:

- The credential goes only to the origin of the provider's base URL. Requests
  elsewhere, redirect hops included, carry no credential header.
- Errors are :class:`~takopi_nb.TakopiError` subclasses that say what to do;
  provider text is quoted with secrets masked.
- 408/429/5xx and failed connects are retried a bounded number of times with
  backoff, honouring ``Retry-After``.
- Vercel's default base URL is the AI SDK route (``/v3/ai``); HTTP calls then
  use the gateway's OpenAI-compatible route ``https://ai-gateway.vercel.sh/v1``.
- ``embed()`` on an anthropic provider: Anthropic has no embeddings API, so it
  raises :class:`~takopi_nb._errors.EmbeddingsNotSupportedError`, unless the
  provider has a Base URL override (a proxy), which is then sent an
  OpenAI-style ``POST {base}/embeddings``.

httpx is imported only when one of these functions is called.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_attributes
from ._results import ChatResult, ChatStream, ConnectionResult, EmbeddingResult

if TYPE_CHECKING:
    import httpx

    from ._aio import AsyncChatStream
    from ._ledger import usage
    from ._many import ChatBatch
    from ._tool_loop import ToolRun, ToolStep
    from ._tools import ToolCall

__all__ = [
    "AsyncChatStream",
    "ChatBatch",
    "ChatResult",
    "ChatStream",
    "ConnectionResult",
    "EmbeddingResult",
    "ToolCall",
    "ToolRun",
    "ToolStep",
    "achat",
    "aembed",
    "anthropic_client",
    "anthropic_kwargs",
    "api_base_url",
    "chat",
    "chat_many",
    "clear_cache",
    "embed",
    "headers",
    "make_async_client",
    "make_auth",
    "make_client",
    "openai_client",
    "openai_kwargs",
    "run_tools",
    "test_connection",
    "usage",
    "wire_protocol",
]

_LAZY = {
    "ChatBatch": "_many",
    "AsyncChatStream": "_aio",
    "usage": "_ledger",
    "ToolCall": "_tools",
    "ToolRun": "_tool_loop",
    "ToolStep": "_tool_loop",
}
__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, __all__)


def _endpoint_for(model: Any) -> Any:
    from ._endpoint import endpoint_for_model

    return endpoint_for_model(model)


def wire_protocol(model: Any) -> str:
    """``chat_completions`` | ``anthropic_messages`` | ``responses`` | ``codex`` | ``gemini``."""
    return str(_endpoint_for(model).protocol())


def api_base_url(model: Any) -> str:
    """Where HTTP calls go: the base URL, or for Vercel's default its OpenAI-compatible route."""
    return str(_endpoint_for(model).api_base)


def headers(model: Any) -> dict[str, str]:
    """The credential headers this model's calls carry, in its wire format's style.

    ``Authorization: Bearer`` for OpenAI-compatible calls; ``x-api-key`` and
    ``anthropic-version`` for Anthropic Messages (including opencode's Claude
    models); ``x-goog-api-key`` for opencode's Gemini models; the ChatGPT token
    and account headers for codex (refreshed when near expiry).
    """
    return dict(_endpoint_for(model).credentials().headers())


def make_auth(model: Any) -> httpx.Auth:
    """An ``httpx.Auth`` adding the credential to requests for the provider's origin only.

    For codex it refreshes the token near expiry and, after a 401, recovers and
    retries once.
    """
    from ._http import ProviderAuth

    endpoint = _endpoint_for(model)
    return ProviderAuth(endpoint.credentials(), endpoint.origin)


def make_client(model: Any, **httpx_kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` with ``base_url`` = the API base, the auth, redirects followed
    (credentials never leave the origin) and long timeouts; kwargs go to ``httpx.Client``."""
    from ._http import build_client

    endpoint = _endpoint_for(model)
    return build_client(endpoint, endpoint.credentials(), **httpx_kwargs)


def make_async_client(model: Any, **httpx_kwargs: Any) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` twin of :func:`make_client`."""
    from ._http import build_async_client

    endpoint = _endpoint_for(model)
    return build_async_client(endpoint, endpoint.credentials(), **httpx_kwargs)


def openai_kwargs(model: Any) -> dict[str, Any]:
    """``base_url``, ``api_key``, ``default_headers`` for ``openai.OpenAI(**kwargs)``."""
    from ._sdk import openai_kwargs as build

    return build(_endpoint_for(model))


def anthropic_kwargs(model: Any) -> dict[str, Any]:
    """``base_url``, ``api_key``, ``default_headers`` for ``anthropic.Anthropic(**kwargs)``."""
    from ._sdk import anthropic_kwargs as build

    return build(_endpoint_for(model))


def openai_client(model: Any, **kwargs: Any) -> Any:
    """An ``openai.OpenAI`` client (the package must be installed)."""
    from ._sdk import openai_client as build

    return build(_endpoint_for(model), **kwargs)


def anthropic_client(model: Any, **kwargs: Any) -> Any:
    """An ``anthropic.Anthropic`` client (the package must be installed)."""
    from ._sdk import anthropic_client as build

    return build(_endpoint_for(model), **kwargs)


def chat(
    model: Any,
    prompt_or_messages: Any,
    *,
    system: str | None = None,
    stream: bool = False,
    **params: Any,
) -> ChatResult | ChatStream:
    """Send a prompt (or a list of ``{"role", "content"}`` messages) and return the answer.

    Returns a :class:`ChatResult` (a ``str`` with ``.usage``, ``.cost``,
    ``.cached``, ``.model``, ``.finish_reason``, ``.raw``, ``.tool_calls``), or
    with ``stream=True`` a :class:`ChatStream` yielding text chunks (``.text``,
    ``.usage``, ``.cost`` and ``.tool_calls`` are final once exhausted).
    ``params`` go into the request body (``temperature``, ``max_tokens``, ...),
    except ``timeout`` (seconds), ``max_retries`` and ``cache`` (True: answer
    identical requests from the disk cache), which control the call.

    ``tools=[...]`` takes Python functions (schema from the signature and
    docstring) and OpenAI-style function tools, sent in the protocol's own form;
    the model's calls come back as :class:`ToolCall` objects. To answer them,
    append ``result.message`` and ``call.result(value)`` for each call to the
    messages and call again (or let :func:`run_tools` do it).
    """
    from ._calls import chat as run

    return run(
        _endpoint_for(model), prompt_or_messages, system=system, stream=stream, params=params
    )


def run_tools(
    model: Any,
    prompt_or_messages: Any,
    tools: Any,
    *,
    max_steps: int = 5,
    system: str | None = None,
    show: Any = True,
    **params: Any,
) -> ToolRun:
    """Chat with ``tools`` (Python functions) until the model answers in text.

    Each round runs the functions the model asked for and sends their results
    back; ``show`` (True: print) sees each :class:`ToolStep`. Returns a
    :class:`ToolRun`: the final text with ``steps``, ``messages``, ``usage``,
    ``cost`` (summed over rounds) and ``complete`` (False when ``max_steps``
    rounds ran out). Errors of a tool, unknown tools and malformed arguments are
    sent back to the model in plain words.
    """
    from ._calls import chat as one_round
    from ._tool_loop import run_tools as run

    endpoint = _endpoint_for(model)

    def round_(messages: Any, **kwargs: Any) -> Any:
        return one_round(endpoint, messages, params=kwargs)

    return run(
        round_,
        prompt_or_messages,
        tools,
        max_steps=max_steps,
        system=system,
        show=show,
        params=params,
    )


def embed(model: Any, texts: str | Iterable[str], **params: Any) -> EmbeddingResult:
    """One vector per text, in order (a ``list`` of ``list[float]`` with ``.usage``, ``.cost``).

    Large inputs are sent in batches (``batch_size=``), ``concurrency=`` (4) at
    a time, with a progress bar in notebooks (``progress=``); ``cache=True``
    answers identical batches from the disk cache; other ``params`` go into the
    request body (e.g. ``dimensions``).
    """
    from ._calls import embed as run

    return run(_endpoint_for(model), texts, params)


def chat_many(
    model: Any,
    items: Iterable[Any],
    *,
    concurrency: int = 8,
    progress: Any = None,
    system: str | None = None,
    **params: Any,
) -> ChatBatch:
    """One chat call per item (prompt or message list), ``concurrency`` at a time.

    Returns a :class:`ChatBatch` aligned with ``items``. ``progress``: None
    shows a bar in notebooks only, True/False force it, a callable is given a
    ``BatchProgress`` after each item. ``params`` as for :func:`chat`.
    """
    from ._many import chat_many as run

    return run(
        _endpoint_for(model),
        items,
        concurrency=concurrency,
        progress=progress,
        system=system,
        params=params,
    )


async def achat(
    model: Any,
    prompt_or_messages: Any,
    *,
    system: str | None = None,
    stream: bool = False,
    **params: Any,
) -> ChatResult | AsyncChatStream:
    """The async twin of :func:`chat`; with ``stream=True`` an :class:`AsyncChatStream`."""
    from ._aio import AsyncChatStream, run_in_thread

    result = await run_in_thread(
        chat, model, prompt_or_messages, system=system, stream=stream, **params
    )
    if isinstance(result, ChatStream):
        return AsyncChatStream(result)
    return result


async def aembed(model: Any, texts: str | Iterable[str], **params: Any) -> EmbeddingResult:
    """The async twin of :func:`embed`."""
    from ._aio import run_in_thread

    if not isinstance(texts, str):
        texts = list(texts)  # read the caller's iterable here, not on another thread
    return await run_in_thread(
        embed, model, texts, progress=params.pop("progress", False), **params
    )


def clear_cache() -> int:
    """Delete every cached response (``cache=True``); returns how many were removed."""
    from ._cache import clear_cache as run

    return run()


def test_connection(runtime: Any, record: Any, **options: Any) -> ConnectionResult:
    """Check a provider: list its models, or send a tiny request where listing is unsupported."""
    from ._connection import test_connection as run

    return run(runtime, record, **options)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _reset() -> None:
    """Close the pooled clients and the async threads; forget the usage ledger (tests)."""
    import sys

    for name in ("_pool", "_aio", "_ledger"):
        module = sys.modules.get(f"{__name__}.{name}")
        reset = getattr(module, "_reset", None)
        if reset is not None:
            reset()
