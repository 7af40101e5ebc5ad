"""OpenAI-compatible chat completions and embeddings (openai, openrouter, deepseek, opencode,
zai, vercel; also the proxy form of embeddings for anthropic). Pure request/response code."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator, Mapping
from typing import Any

from .._errors import ProviderRequestError
from ._endpoint import Endpoint
from ._errors import CallContext, error_for_stream
from ._messages import Message
from ._protocol import ChatRequest, text_parts, with_params
from ._results import ChatResult, StreamState, normalise_usage
from ._sse import SSEEvent
from ._tools import ToolCall, ToolCallAssembler, parse_tool_call

__all__ = [
    "chat_request",
    "embeddings_request",
    "parse_embeddings",
    "parse_response",
    "read_stream",
]


def chat_request(
    endpoint: Endpoint, messages: list[Message], *, stream: bool, params: dict[str, Any]
) -> ChatRequest:
    """``POST {base}/chat/completions``; a stream asks for the usage chunk at the end.

    Pass ``stream_options=None`` to leave ``stream_options`` out for a server
    that rejects it.
    """
    body: dict[str, Any] = {"model": endpoint.model_id, "messages": messages}
    options = params.pop("stream_options", ...)
    with_params(body, params, stream=stream)
    if stream and options is not None:
        body["stream_options"] = {"include_usage": True} if options is ... else options
    return ChatRequest("chat/completions", body, sse=stream)


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    return text_parts(content) if isinstance(content, list) else ""


def parse_response(doc: Any, ctx: CallContext) -> ChatResult:
    if not isinstance(doc, Mapping):
        raise ProviderRequestError(
            f"{ctx.who} sent an answer that is not a chat completion.", provider_id=ctx.provider_id
        )
    if doc.get("error"):
        raise error_for_stream(ctx, doc)
    choices = doc.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise ProviderRequestError(
            f"{ctx.who} sent a chat completion without choices.", provider_id=ctx.provider_id
        )
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, Mapping):
        message = {}
    text = _content_text(message.get("content"))
    if not text and isinstance(message.get("refusal"), str):
        text = message["refusal"]
    return ChatResult(
        text,
        usage=normalise_usage(doc.get("usage")),
        model=str(doc.get("model") or ctx.model_id),
        finish_reason=choice.get("finish_reason"),
        raw=doc,
        tool_calls=_tool_calls(message.get("tool_calls")),
    )


def _tool_calls(entries: object) -> list[ToolCall]:
    calls = []
    for entry in entries if isinstance(entries, list) else ():
        function = entry.get("function") if isinstance(entry, Mapping) else None
        if isinstance(function, Mapping):
            calls.append(
                parse_tool_call(
                    str(entry.get("id") or ""),
                    str(function.get("name") or ""),
                    function.get("arguments"),
                )
            )
    return calls


def read_stream(events: Iterator[SSEEvent], state: StreamState, ctx: CallContext) -> Iterator[str]:
    """Text deltas of choice 0; the usage chunk and ``[DONE]`` fill in ``state``.

    Tool calls come as ``delta.tool_calls`` pieces keyed by ``index``: the first
    carries the id and name, the rest fragments of the arguments.
    """
    tools = ToolCallAssembler()
    for event in events:
        if event.data.strip() == "[DONE]":
            state.complete = True
            state.tool_calls = tools.calls()
            return
        try:
            chunk = event.json()
        except ValueError:
            continue
        if not isinstance(chunk, Mapping):
            continue
        if chunk.get("error") or event.event == "error":
            raise error_for_stream(ctx, chunk)
        if chunk.get("model"):
            state.model = str(chunk["model"])
        if chunk.get("usage"):
            state.usage = normalise_usage(chunk["usage"])
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, Mapping):
                _tool_deltas(tools, delta.get("tool_calls"))
                text = _content_text(delta.get("content"))
                if text:
                    yield text
            if choice.get("finish_reason"):
                state.finish_reason = str(choice["finish_reason"])
    state.tool_calls = tools.calls()
    if state.finish_reason:
        state.complete = True


def _tool_deltas(tools: ToolCallAssembler, pieces: object) -> None:
    for position, piece in enumerate(pieces if isinstance(pieces, list) else ()):
        if not isinstance(piece, Mapping):
            continue
        key = piece.get("index", position)
        found = piece.get("function")
        function: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        tools.start(key, piece.get("id"), function.get("name"))
        tools.add(key, function.get("arguments"))


def embeddings_request(
    endpoint: Endpoint, texts: list[str], params: Mapping[str, Any]
) -> ChatRequest:
    body: dict[str, Any] = {"model": endpoint.model_id, "input": texts, "encoding_format": "float"}
    body.update(params)
    return ChatRequest("embeddings", body, sse=False)


def _vector(value: object) -> list[float] | None:
    if isinstance(value, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    ):
        return [float(x) for x in value]
    if isinstance(value, str):  # base64 little-endian float32, if a server ignored our format
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            return None
        if len(raw) % 4:
            return None
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return None


def parse_embeddings(doc: Any, count: int, ctx: CallContext) -> tuple[list[list[float]], Any]:
    """The vectors in input order, and the usage; checks one vector per input."""
    data = doc.get("data") if isinstance(doc, Mapping) else None
    if not isinstance(data, list):
        if isinstance(doc, Mapping) and doc.get("error"):
            raise error_for_stream(ctx, doc)
        raise ProviderRequestError(
            f"{ctx.who} sent an embeddings answer without 'data'.", provider_id=ctx.provider_id
        )
    indexed: dict[int, list[float]] = {}
    for position, item in enumerate(data):
        if not isinstance(item, Mapping):
            continue
        vector = _vector(item.get("embedding"))
        index = item.get("index", position)
        if vector is not None and isinstance(index, int):
            indexed[index] = vector
    if sorted(indexed) != list(range(count)):
        raise ProviderRequestError(
            f"{ctx.who} returned {len(indexed)} embeddings for {count} inputs.",
            provider_id=ctx.provider_id,
        )
    return [indexed[i] for i in range(count)], doc.get("usage")
