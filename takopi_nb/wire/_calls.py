"""The built-in ``chat()`` and ``embed()``: pick the protocol, send, read, hand back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from .._errors import EmbeddingsNotSupportedError, ProviderRequestError
from .._provider_types import PROVIDER_TYPES
from . import _anthropic as anthropic
from . import _gemini as gemini
from . import _openai_compat as openai_compat
from . import _responses as responses
from ._cache import cache_key, response_cache
from ._cancel import checkpoint
from ._cost import usage_cost
from ._endpoint import Credentials, Endpoint, WireProtocol
from ._errors import CallContext, error_for_transport, provider_detail
from ._gate import gate_for
from ._http import (
    DEFAULT_TIMEOUT,
    RetryPolicy,
    default_retry,
    guarded_bytes,
    send,
    sent_secrets,
)
from ._ledger import ledger
from ._messages import normalise_messages
from ._pool import pooled_client
from ._protocol import ChatRequest, ChatWire
from ._results import ChatResult, ChatStream, EmbeddingResult, StreamState, normalise_usage
from ._scrub import quote
from ._sse import iter_lines, iter_sse
from ._tools import parse_tool_call, tool_specs, tools_for_wire

__all__ = ["call_context", "chat", "embed"]

_WIRES: dict[WireProtocol, Any] = {
    "chat_completions": openai_compat,
    "anthropic_messages": anthropic,
    "responses": responses,
    "codex": responses,
    "gemini": gemini,
}
EMBED_BATCH = {"zai": 64}
DEFAULT_EMBED_BATCH = 256
DEFAULT_EMBED_CONCURRENCY = 4


def call_context(endpoint: Endpoint, what: str, path: str = "") -> CallContext:
    return CallContext(
        who=endpoint.who,
        provider_id=endpoint.provider_id,
        model_id=endpoint.model_id,
        url=f"{endpoint.api_base}/{path}" if path else endpoint.api_base,
        base_url=endpoint.api_base,
        codex=endpoint.is_codex,
        env_vars=() if endpoint.is_codex else endpoint.env_vars,
        what=what,
    )


def _options(
    params: dict[str, Any], policy: RetryPolicy | None = None
) -> tuple[httpx.Timeout, RetryPolicy]:
    """Pop the transport options (not API parameters) ``timeout`` and ``max_retries``."""
    timeout = params.pop("timeout", None)
    if timeout is None:
        resolved = DEFAULT_TIMEOUT
    elif isinstance(timeout, httpx.Timeout):
        resolved = timeout
    else:
        resolved = httpx.Timeout(float(timeout))
    policy = policy or default_retry()
    retries = params.pop("max_retries", None)
    if retries is not None:
        policy = dataclasses.replace(policy, max_retries=max(0, int(retries)))
    return resolved, policy


def _json_body(response: httpx.Response, ctx: CallContext) -> Any:
    try:
        body = response.read()
    except httpx.TimeoutException:
        raise error_for_transport(ctx, "timeout", "") from None
    except httpx.TransportError as exc:
        raise error_for_transport(ctx, "broken", type(exc).__name__) from None
    try:
        return json.loads(body)
    except ValueError:
        # The secrets this request carried: a gateway may echo its own header (x-api-key),
        # which no credential pattern recognises.
        said = quote(provider_detail(body).message or "an empty body", sent_secrets(response))
        raise ProviderRequestError(
            f"{ctx.who} answered the {ctx.what} with something that is not JSON ({said}). "
            f"Check the Base URL {ctx.base_url}: it should be the API address.",
            status=response.status_code,
            provider_id=ctx.provider_id,
        ) from None


def _is_event_stream(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    return "json" not in kind


def _until_complete(chunks: Iterator[str], state: StreamState, ctx: CallContext) -> Iterator[str]:
    for chunk in chunks:
        if chunk:
            yield chunk
    if not state.complete:
        raise error_for_transport(ctx, "broken", "the event stream ended early")


def _post(
    endpoint: Endpoint,
    credentials: Credentials,
    spec: ChatRequest,
    ctx: CallContext,
    policy: RetryPolicy,
    timeout: httpx.Timeout,
) -> httpx.Response:
    """``spec`` sent over the provider's pooled client, with retries; the body is unread."""
    return send(
        pooled_client(endpoint, credentials),
        "POST",
        spec.path,
        ctx=ctx,
        json=spec.body,
        params=spec.query,
        headers=spec.headers,
        policy=policy,
        origin=endpoint.origin,
        timeout=timeout,
        gate=gate_for(endpoint.provider_id, endpoint.api_base),
    )


def _finish(endpoint: Endpoint, result: ChatResult, key: str | None) -> ChatResult:
    """Price a complete answer, book it in the ledger and, when asked, cache it."""
    result.cost = usage_cost(result.usage, endpoint.catalog_info)
    ledger.record(
        endpoint.ref, result.usage, result.cost, cached=False, tool_calls=len(result.tool_calls)
    )
    if key is not None:
        response_cache().put(
            key,
            {
                "text": result.text,
                "usage": result.usage,
                "model": result.model,
                "finish_reason": result.finish_reason,
                "tool_calls": [call.wire() for call in result.tool_calls],
            },
        )
    return result


_TOOL_CHOICE = {
    "anthropic_messages": {"auto": {"type": "auto"}, "required": {"type": "any"}},
}


def _with_tools(protocol: WireProtocol, endpoint: Endpoint, params: dict[str, Any]) -> None:
    """Put ``tools`` (and a plain ``tool_choice``) into ``params`` in the protocol's spelling."""
    specs = tool_specs(params.pop("tools", None))
    if not specs:
        return
    if protocol == "gemini":
        raise ProviderRequestError(
            f"{endpoint.who}: the built-in chat does not send tools to Gemini-format models "
            f"such as {endpoint.model_id!r} yet. Use a model of another family, or a framework "
            "hand-off (m.langchain(), m.pydantic_ai()).",
            provider_id=endpoint.provider_id,
        )
    params["tools"] = tools_for_wire(protocol, specs)
    choice = params.get("tool_choice")
    if isinstance(choice, str):
        if protocol == "anthropic_messages" and choice == "none":
            params.pop("tool_choice")  # Anthropic's 'none' is leaving the tools out
            params.pop("tools")
        else:
            params["tool_choice"] = _TOOL_CHOICE.get(protocol, {}).get(choice, choice)


def _from_cache(endpoint: Endpoint, doc: dict[str, Any]) -> ChatResult | None:
    text = doc.get("text")
    if not isinstance(text, str):
        return None
    usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else None
    calls = [
        parse_tool_call(str(c["id"]), str(c["function"]["name"]), c["function"]["arguments"])
        for c in doc.get("tool_calls") or ()
    ]
    ledger.record(endpoint.ref, usage, 0.0, cached=True, tool_calls=len(calls))
    return ChatResult(
        text,
        usage=usage,
        model=str(doc.get("model") or endpoint.model_id),
        finish_reason=doc.get("finish_reason"),
        cost=0.0,
        cached=True,
        tool_calls=calls,
    )


def _as_stream(result: ChatResult) -> ChatStream:
    state = StreamState(
        result.model,
        result.usage,
        result.finish_reason,
        complete=True,
        cost=result.cost,
        cached=result.cached,
        tool_calls=result.tool_calls,
    )
    return ChatStream(iter([result.text] if result.text else []), state, lambda: None)


def _priced_stream(
    endpoint: Endpoint, chunks: Iterator[str], state: StreamState, key: str | None
) -> Iterator[str]:
    """Pass chunks through; once the answer is complete, price, book and cache it.

    A stream closed early or broken off never reaches the end of this
    generator, so it is never cached.
    """
    parts: list[str] = []
    for chunk in chunks:
        parts.append(chunk)
        yield chunk
    done = _finish(
        endpoint,
        ChatResult(
            "".join(parts),
            usage=state.usage,
            model=state.model,
            finish_reason=state.finish_reason,
            tool_calls=state.tool_calls,
        ),
        key,
    )
    state.cost = done.cost


def chat(
    endpoint: Endpoint,
    prompt_or_messages: object,
    *,
    system: str | None = None,
    stream: bool = False,
    params: dict[str, Any] | None = None,
    policy: RetryPolicy | None = None,
) -> ChatResult | ChatStream:
    """Send one chat request over the provider's pooled client. See :func:`takopi_nb.wire.chat`.

    ``policy`` replaces the default retry policy (``chat_many`` passes one that
    lowers its concurrency on 429s); ``max_retries`` in ``params`` still applies.
    """
    params = dict(params or {})
    use_cache = bool(params.pop("cache", False))
    timeout, policy = _options(params, policy)
    messages = normalise_messages(prompt_or_messages, system)
    protocol = endpoint.protocol()
    wire: ChatWire = _WIRES[protocol]
    _with_tools(protocol, endpoint, params)
    if protocol == "codex":
        spec: ChatRequest = responses.codex_request(
            endpoint, messages, stream=stream, params=params
        )
    else:
        spec = wire.chat_request(endpoint, messages, stream=stream, params=params)
    key = None
    if use_cache:
        # The wire form of the answer (JSON or SSE) does not change it: one key for both.
        body = {k: v for k, v in spec.body.items() if k not in ("stream", "stream_options")}
        key = cache_key("chat", endpoint.provider_type, endpoint.api_base, spec.path, body)
        doc = response_cache().get(key)
        hit = _from_cache(endpoint, doc) if doc is not None else None
        if hit is not None:
            return _as_stream(hit) if stream else hit
    ctx = call_context(endpoint, "chat request", spec.path)
    response = _post(endpoint, endpoint.credentials(protocol), spec, ctx, policy, timeout)

    if not spec.sse or not _is_event_stream(response):
        try:
            doc = _json_body(response, ctx)
        finally:
            response.close()
        result = _finish(endpoint, wire.parse_response(doc, ctx), key)
        return _as_stream(result) if stream else result

    state = StreamState(model=endpoint.model_id)
    lines = iter_lines(guarded_bytes(response, ctx, timeout.read))
    chunks = _until_complete(wire.read_stream(iter_sse(lines), state, ctx), state, ctx)
    priced = _priced_stream(endpoint, chunks, state, key)
    if stream:
        return ChatStream(priced, state, response.close)
    try:
        text = "".join(priced)
    finally:
        response.close()
    return ChatResult(
        text,
        usage=state.usage,
        model=state.model,
        finish_reason=state.finish_reason,
        cost=state.cost,
        tool_calls=state.tool_calls,
    )


def _embedding_credentials(endpoint: Endpoint) -> Credentials:
    kind = PROVIDER_TYPES[endpoint.provider_type]
    if endpoint.is_codex or not kind.embeddings:
        able = ", ".join(t for t, info in PROVIDER_TYPES.items() if info.embeddings)
        raise EmbeddingsNotSupportedError(
            f"{endpoint.who} has no embeddings: sign-in-with-ChatGPT Codex serves chat only. "
            f"Use an embedding model of a provider of type {able}."
        )
    if kind.wire == "anthropic":
        if not endpoint.overridden:
            raise EmbeddingsNotSupportedError(
                f"{endpoint.who}: Anthropic has no embeddings API. Use an embedding model of "
                "another provider (e.g. an openai provider's text-embedding-3-small) for "
                "embed() and cfg.embedding_model, or give this provider the Base URL of a "
                "proxy that serves OpenAI-style /embeddings."
            )
        # A proxy in front of Anthropic: OpenAI-style embeddings; send the key both ways.
        return endpoint.key_credentials("bearer+anthropic")
    return endpoint.key_credentials("bearer")


def _embed_batch(
    endpoint: Endpoint,
    credentials: Credentials,
    batch: list[str],
    params: dict[str, Any],
    timeout: httpx.Timeout,
    policy: RetryPolicy,
    use_cache: bool,
) -> tuple[list[list[float]], dict[str, Any] | None, str, bool]:
    """(vectors, usage, model, cached) of one embeddings request."""
    spec = openai_compat.embeddings_request(endpoint, batch, params)
    key = None
    if use_cache:
        key = cache_key("embed", endpoint.provider_type, endpoint.api_base, spec.path, spec.body)
        doc = response_cache().get(key)
        if doc is not None and isinstance(doc.get("vectors"), list):
            usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else None
            return doc["vectors"], usage, str(doc.get("model") or endpoint.model_id), True
    ctx = call_context(endpoint, "embeddings request", "embeddings")
    response = _post(endpoint, credentials, spec, ctx, policy, timeout)
    try:
        doc = _json_body(response, ctx)
    finally:
        response.close()
    vectors, raw_usage = openai_compat.parse_embeddings(doc, len(batch), ctx)
    usage = normalise_usage(raw_usage)
    model = str(doc["model"]) if isinstance(doc, dict) and doc.get("model") else endpoint.model_id
    if key is not None:
        response_cache().put(key, {"vectors": vectors, "usage": usage, "model": model})
    return vectors, usage, model, False


def embed(
    endpoint: Endpoint, texts: str | Iterable[str], params: dict[str, Any] | None = None
) -> EmbeddingResult:
    """Embed ``texts``. See :func:`takopi_nb.wire.embed`.

    Long inputs go out in batches of ``batch_size``, ``concurrency`` at a time,
    through the same machinery as ``chat_many`` (progress bar in notebooks when
    there is more than one batch); the first failed batch's error is raised.
    """
    from ._batch import run_batch

    params = dict(params or {})
    use_cache = bool(params.pop("cache", False))
    concurrency = int(params.pop("concurrency", DEFAULT_EMBED_CONCURRENCY))
    progress = params.pop("progress", None)
    timeout, policy = _options(params)
    batch_size = int(params.pop("batch_size", 0) or EMBED_BATCH.get(endpoint.provider_type, 0))
    batch_size = batch_size or DEFAULT_EMBED_BATCH
    items = [texts] if isinstance(texts, str) else list(texts)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"embed() takes strings; item {index} is {type(text).__name__}.")
    credentials = _embedding_credentials(endpoint)
    result = EmbeddingResult()
    result.model = endpoint.model_id
    if not items:
        return result
    batches = [items[start : start + batch_size] for start in range(0, len(items), batch_size)]

    def one(batch: list[str], batch_policy: RetryPolicy) -> Any:
        return _embed_batch(endpoint, credentials, batch, params, timeout, batch_policy, use_cache)

    if len(batches) == 1:
        outcomes: list[Any] = [one(batches[0], policy)]
    else:
        run = run_batch(
            one,
            batches,
            concurrency=concurrency,
            progress=progress,
            what="embed",
            policy=policy,
        )
        checkpoint()  # cancelled (aembed): CallCancelled, nobody waits for the result
        if run.interrupted:
            raise KeyboardInterrupt
        outcomes = run.outcomes
    totals: dict[str, Any] = {}
    all_cached = True
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        vectors, usage, model, cached = outcome
        result.extend(vectors)
        result.model = model
        all_cached = all_cached and cached
        if cached:
            continue
        for key, value in (usage or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    result.usage = totals or None
    result.cached = all_cached
    result.cost = 0.0 if all_cached else usage_cost(result.usage, endpoint.catalog_info)
    ledger.record(endpoint.ref, result.usage, result.cost, cached=all_cached)
    return result
