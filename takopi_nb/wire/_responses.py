"""The Responses API: OpenAI's (opencode models served through ``@ai-sdk/openai``) and the
Codex backend's variant (``store=false``, ``stream=true``, ``instructions`` required, no
``max_output_tokens``). Pure request/response code."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from .._errors import ProviderRequestError
from ._endpoint import Endpoint
from ._errors import CallContext, error_for_stream
from ._messages import DEFAULT_INSTRUCTIONS, Message, to_responses_input
from ._protocol import ChatRequest, pop_max_tokens, text_parts, with_params
from ._results import ChatResult, StreamState, normalise_usage
from ._sse import SSEEvent, typed_events
from ._tools import ToolCall, ToolCallAssembler, parse_tool_call

__all__ = [
    "chat_request",
    "codex_request",
    "conversation_id",
    "output_text",
    "parse_response",
    "read_stream",
]

_LIMIT_NAMES = ("max_tokens", "max_output_tokens", "max_completion_tokens")
_CONVERSATIONS = uuid.UUID("5b0c1f4e-7a51-4c1e-9d3a-2f6e1c0d7a11")
"""Namespace of the conversation ids (uuid5)."""


def chat_request(
    endpoint: Endpoint, messages: list[Message], *, stream: bool, params: dict[str, Any]
) -> ChatRequest:
    """``POST {base}/responses``; ``max_tokens`` is sent as ``max_output_tokens``."""
    instructions, items = to_responses_input(messages)
    limit = pop_max_tokens(params, *_LIMIT_NAMES)
    body: dict[str, Any] = {"model": endpoint.model_id, "input": items}
    if instructions:
        body["instructions"] = instructions
    if limit is not None:
        body["max_output_tokens"] = limit
    return ChatRequest("responses", with_params(body, params, stream=stream), sse=stream)


def conversation_id(endpoint: Endpoint, instructions: str, items: list[Any]) -> str:
    """One id per conversation, as the Codex CLI keeps one per session.

    chat() is stateless, so a conversation is recognised by what every turn of
    it re-sends first: the provider, the instructions and the first input item.
    Each later turn (the same list plus answers and new questions) gets the same
    id, so the backend's prompt cache, keyed by ``prompt_cache_key``, keeps hitting.
    """
    seed = json.dumps([endpoint.provider_id, instructions, items[:1]], sort_keys=True, default=str)
    return str(uuid.uuid5(_CONVERSATIONS, seed))


def codex_request(
    endpoint: Endpoint, messages: list[Message], *, stream: bool, params: dict[str, Any]
) -> ChatRequest:
    """``POST {codex base}/responses``, always streamed on the wire (the backend demands it).

    Like the CLI, the ``session_id`` header and the body's ``prompt_cache_key``
    carry the conversation id (a ``prompt_cache_key`` passed to chat() is used
    as that id). The backend rejects ``max_output_tokens``; a limit passed to
    chat() is dropped with a warning rather than failing the call.
    """
    instructions, items = to_responses_input(messages)
    limit = pop_max_tokens(params, *_LIMIT_NAMES)
    if limit is not None:
        warnings.warn(
            "The Codex backend does not accept an output-token limit; max_tokens was ignored.",
            UserWarning,
            stacklevel=4,
        )
    body: dict[str, Any] = {
        "model": endpoint.model_id,
        "instructions": instructions or DEFAULT_INSTRUCTIONS,
        "input": items,
    }
    body.update(params)
    body["store"] = False
    body["stream"] = True
    session = str(body.get("prompt_cache_key") or "") or conversation_id(
        endpoint, body["instructions"], items
    )
    body["prompt_cache_key"] = session
    headers = {"Accept": "text/event-stream", "session_id": session}
    return ChatRequest("responses", body, sse=True, headers=headers)


def output_text(response: Mapping[str, Any]) -> str:
    """The text of every ``message`` output item of a response object."""
    if isinstance(response.get("output_text"), str) and not response.get("output"):
        return str(response["output_text"])
    texts = [
        text_parts(item.get("content"), "output_text")
        for item in response.get("output") or ()
        if isinstance(item, Mapping) and item.get("type") == "message"
    ]
    return "".join(texts)


def function_calls(items: object) -> list[ToolCall]:
    """The ``function_call`` output items, as tool calls (``call_id`` is what answers them)."""
    return [
        _function_call(item)
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, Mapping) and item.get("type") == "function_call"
    ]


def _function_call(item: Mapping[str, Any]) -> ToolCall:
    call_id = str(item.get("call_id") or item.get("id") or "")
    return parse_tool_call(call_id, str(item.get("name") or ""), item.get("arguments"))


def _finish(response: Mapping[str, Any]) -> str | None:
    details = response.get("incomplete_details")
    if isinstance(details, Mapping) and details.get("reason"):
        return str(details["reason"])
    status = response.get("status")
    return "stop" if status == "completed" else (str(status) if status else None)


def parse_response(doc: Any, ctx: CallContext) -> ChatResult:
    if not isinstance(doc, Mapping):
        raise ProviderRequestError(
            f"{ctx.who} sent an answer that is not a response.", provider_id=ctx.provider_id
        )
    if doc.get("error") or doc.get("status") == "failed":
        raise error_for_stream(ctx, doc.get("error") or doc)
    return ChatResult(
        output_text(doc),
        usage=normalise_usage(doc.get("usage")),
        model=str(doc.get("model") or ctx.model_id),
        finish_reason=_finish(doc),
        raw=doc,
        tool_calls=function_calls(doc.get("output")),
    )


def read_stream(events: Iterator[SSEEvent], state: StreamState, ctx: CallContext) -> Iterator[str]:
    """Text deltas; ``response.completed`` (or ``.incomplete``) carries the usage and ends.

    A ``function_call`` item is announced by ``response.output_item.added``,
    its arguments come in ``response.function_call_arguments.delta`` pieces and
    ``response.output_item.done`` has it whole (the Codex backend's final
    response object may list no output at all, so the items are kept here).
    """
    yielded = False
    tools = ToolCallAssembler()
    for kind, data in typed_events(events):
        response = data.get("response") if isinstance(data.get("response"), Mapping) else None
        if response is not None and response.get("model"):
            state.model = str(response["model"])
        if kind == "response.output_text.delta":
            delta = data.get("delta")
            if isinstance(delta, str) and delta:
                yielded = True
                yield delta
        elif kind in ("response.output_item.added", "response.output_item.done"):
            item = data.get("item")
            if isinstance(item, Mapping) and item.get("type") == "function_call":
                key = item.get("id") or data.get("output_index")
                tools.start(key, str(item.get("call_id") or ""), item.get("name"))
                if kind == "response.output_item.done" and "arguments" in item:
                    tools.replace(key, item["arguments"])
        elif kind == "response.function_call_arguments.delta":
            tools.add(data.get("item_id") or data.get("output_index"), data.get("delta"))
        elif kind in ("response.completed", "response.incomplete", "response.done"):
            response = response or {}
            state.tool_calls = tools.calls() or function_calls(response.get("output"))
            state.usage = normalise_usage(response.get("usage")) or state.usage
            state.finish_reason = _finish(response)
            if not yielded:  # a server that sent no deltas: the text is in the final object
                text = output_text(response)
                if text:
                    yield text
            state.complete = True
            return
        elif kind == "response.failed":
            failure = (response or {}).get("error") or response or data
            raise error_for_stream(ctx, failure)
        elif kind == "error":
            raise error_for_stream(ctx, data.get("error") or data)
