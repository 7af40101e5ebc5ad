"""Anthropic Messages (anthropic; opencode models served through ``@ai-sdk/anthropic``). Pure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._errors import ProviderRequestError
from ._endpoint import Endpoint
from ._errors import CallContext, error_for_stream
from ._messages import Message, to_anthropic
from ._protocol import ChatRequest, pop_max_tokens, text_parts, with_params
from ._results import ChatResult, StreamState, merge_usage, normalise_usage
from ._sse import SSEEvent, typed_events
from ._tools import ToolCallAssembler, parse_tool_call

__all__ = ["DEFAULT_MAX_TOKENS", "chat_request", "parse_response", "read_stream"]

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` is required by the API; used when neither the call nor the catalog says."""
MAX_DEFAULT_MAX_TOKENS = 8192


def default_max_tokens(max_output: int | None) -> int:
    if isinstance(max_output, int) and max_output > 0:
        return min(max_output, MAX_DEFAULT_MAX_TOKENS)
    return DEFAULT_MAX_TOKENS


def chat_request(
    endpoint: Endpoint, messages: list[Message], *, stream: bool, params: dict[str, Any]
) -> ChatRequest:
    """``POST {base}/messages``. ``max_tokens`` (or ``max_output_tokens``) may be passed."""
    system, turns = to_anthropic(messages)
    limit = pop_max_tokens(params, "max_tokens", "max_output_tokens", "max_completion_tokens")
    body: dict[str, Any] = {
        "model": endpoint.model_id,
        "max_tokens": limit if limit is not None else default_max_tokens(endpoint.max_output),
        "messages": turns,
    }
    if system:
        body["system"] = system
    return ChatRequest("messages", with_params(body, params, stream=stream), sse=stream)


def parse_response(doc: Any, ctx: CallContext) -> ChatResult:
    if not isinstance(doc, Mapping):
        raise ProviderRequestError(
            f"{ctx.who} sent an answer that is not a message.", provider_id=ctx.provider_id
        )
    if doc.get("type") == "error":
        raise error_for_stream(ctx, doc)
    if not isinstance(doc.get("content"), list):
        raise ProviderRequestError(
            f"{ctx.who} sent a message without content.", provider_id=ctx.provider_id
        )
    calls = [
        parse_tool_call(
            str(block.get("id") or ""), str(block.get("name") or ""), block.get("input")
        )
        for block in doc["content"]
        if isinstance(block, Mapping) and block.get("type") == "tool_use"
    ]
    return ChatResult(
        text_parts(doc["content"]),
        usage=normalise_usage(doc.get("usage")),
        model=str(doc.get("model") or ctx.model_id),
        finish_reason=doc.get("stop_reason"),
        raw=doc,
        tool_calls=calls,
    )


def read_stream(events: Iterator[SSEEvent], state: StreamState, ctx: CallContext) -> Iterator[str]:
    """Text deltas; ``message_start``/``message_delta`` carry the usage, ``message_stop`` ends.

    A ``tool_use`` block starts with its id and name; ``input_json_delta``
    pieces carry its input as JSON fragments.
    """
    tools = ToolCallAssembler()
    for kind, data in typed_events(events):
        if kind == "error":
            raise error_for_stream(ctx, data)
        if kind == "message_start":
            message = data.get("message")
            if isinstance(message, Mapping):
                state.model = str(message.get("model") or state.model)
                state.usage = merge_usage(state.usage, normalise_usage(message.get("usage")))
        elif kind == "content_block_start":
            block = data.get("content_block")
            if isinstance(block, Mapping) and block.get("type") == "text" and block.get("text"):
                yield str(block["text"])
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                tools.start(data.get("index"), str(block.get("id") or ""), block.get("name"))
                if block.get("input"):  # a server that sends the whole input up front
                    tools.replace(data.get("index"), block["input"])
        elif kind == "content_block_delta":
            delta = data.get("delta")
            if isinstance(delta, Mapping) and delta.get("type") == "text_delta":
                text = delta.get("text")
                if text:
                    yield str(text)
            elif isinstance(delta, Mapping) and delta.get("type") == "input_json_delta":
                tools.add(data.get("index"), delta.get("partial_json"))
        elif kind == "message_delta":
            delta = data.get("delta")
            if isinstance(delta, Mapping) and delta.get("stop_reason"):
                state.finish_reason = str(delta["stop_reason"])
            state.usage = merge_usage(state.usage, normalise_usage(data.get("usage")))
        elif kind == "message_stop":
            state.tool_calls = tools.calls()
            state.complete = True
            return
