"""The built-in ``chat()`` and ``embed()``: pick the protocol, send, read, hand back."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from .._errors import EmbeddingsNotSupportedError, ProviderRequestError
from .._provider_types import PROVIDER_TYPES
from . import _anthropic as anthropic
from . import _gemini as gemini
from . import _openai_compat as openai_compat
from . import _responses as responses
from ._endpoint import ApiKeyCredentials, Credentials, Endpoint, WireProtocol
from ._errors import CallContext, error_for_transport, provider_detail
from ._http import (
    DEFAULT_TIMEOUT,
    RetryPolicy,
    build_client,
    default_retry,
    guarded_bytes,
    send,
    sent_secrets,
)
from ._messages import normalise_messages
from ._protocol import ChatRequest, ChatWire
from ._results import ChatResult, ChatStream, EmbeddingResult, StreamState, normalise_usage
from ._scrub import quote
from ._sse import iter_lines, iter_sse

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


def _options(params: dict[str, Any]) -> tuple[httpx.Timeout, RetryPolicy]:
    """Pop the transport options (not API parameters) ``timeout`` and ``max_retries``."""
    timeout = params.pop("timeout", None)
    if timeout is None:
        resolved = DEFAULT_TIMEOUT
    elif isinstance(timeout, httpx.Timeout):
        resolved = timeout
    else:
        resolved = httpx.Timeout(float(timeout))
    policy = default_retry()
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


def chat(
    endpoint: Endpoint,
    prompt_or_messages: object,
    *,
    system: str | None = None,
    stream: bool = False,
    params: dict[str, Any] | None = None,
) -> ChatResult | ChatStream:
    """Send one chat request. See :func:`takopi_nb.wire.chat`."""
    params = dict(params or {})
    timeout, policy = _options(params)
    messages = normalise_messages(prompt_or_messages, system)
    protocol = endpoint.protocol()
    wire: ChatWire = _WIRES[protocol]
    if protocol == "codex":
        spec: ChatRequest = responses.codex_request(
            endpoint, messages, stream=stream, params=params
        )
    else:
        spec = wire.chat_request(endpoint, messages, stream=stream, params=params)
    session_id = str(uuid.uuid4()) if protocol == "codex" else None
    credentials = endpoint.credentials(protocol, session_id=session_id)
    ctx = call_context(endpoint, "chat request", spec.path)
    client = build_client(endpoint, credentials, timeout=timeout)
    try:
        response = send(
            client,
            "POST",
            spec.path,
            ctx=ctx,
            json=spec.body,
            params=spec.query,
            headers=spec.headers,
            policy=policy,
            origin=endpoint.origin,
        )
    except BaseException:
        client.close()
        raise

    def close() -> None:
        response.close()
        client.close()

    if not spec.sse or not _is_event_stream(response):
        try:
            doc = _json_body(response, ctx)
        finally:
            close()
        result = wire.parse_response(doc, ctx)
        if not stream:
            return result
        state = StreamState(result.model, result.usage, result.finish_reason, complete=True)
        return ChatStream(iter([result.text] if result.text else []), state, lambda: None)

    state = StreamState(model=endpoint.model_id)
    lines = iter_lines(guarded_bytes(response, ctx, timeout.read))
    chunks = _until_complete(wire.read_stream(iter_sse(lines), state, ctx), state, ctx)
    if stream:
        return ChatStream(chunks, state, close)
    try:
        text = "".join(chunks)
    finally:
        close()
    return ChatResult(text, usage=state.usage, model=state.model, finish_reason=state.finish_reason)


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
        return ApiKeyCredentials(endpoint.key_source(), "bearer+anthropic")
    return ApiKeyCredentials(endpoint.key_source(), "bearer")


def embed(
    endpoint: Endpoint, texts: str | Iterable[str], params: dict[str, Any] | None = None
) -> EmbeddingResult:
    """Embed ``texts``. See :func:`takopi_nb.wire.embed`."""
    params = dict(params or {})
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
    totals: dict[str, Any] = {}
    ctx = call_context(endpoint, "embeddings request", "embeddings")
    with build_client(endpoint, credentials, timeout=timeout) as client:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            spec = openai_compat.embeddings_request(endpoint, batch, params)
            response = send(
                client,
                "POST",
                spec.path,
                ctx=ctx,
                json=spec.body,
                policy=policy,
                origin=endpoint.origin,
            )
            try:
                doc = _json_body(response, ctx)
            finally:
                response.close()
            vectors, usage = openai_compat.parse_embeddings(doc, len(batch), ctx)
            result.extend(vectors)
            if isinstance(doc, dict) and doc.get("model"):
                result.model = str(doc["model"])
            for key, value in (normalise_usage(usage) or {}).items():
                if isinstance(value, int | float):
                    totals[key] = totals.get(key, 0) + value
    result.usage = totals or None
    return result
