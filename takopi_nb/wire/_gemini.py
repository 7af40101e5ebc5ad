"""Gemini ``generateContent``, for the opencode models the catalog serves through
``@ai-sdk/google`` (under the same base URL). Pure request/response code."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from .._errors import ProviderRequestError
from ._endpoint import Endpoint
from ._errors import CallContext, error_for_stream
from ._messages import Message, to_gemini
from ._protocol import ChatRequest, pop_max_tokens
from ._results import ChatResult, StreamState, normalise_usage
from ._sse import SSEEvent

__all__ = ["chat_request", "parse_response", "read_stream"]

_CONFIG_NAMES = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "stop": "stopSequences",
    "seed": "seed",
}


def chat_request(
    endpoint: Endpoint, messages: list[Message], *, stream: bool, params: dict[str, Any]
) -> ChatRequest:
    """``POST {base}/models/{model}:generateContent`` (``:streamGenerateContent?alt=sse``)."""
    system, contents = to_gemini(messages)
    config: dict[str, Any] = dict(params.pop("generationConfig", None) or {})
    limit = pop_max_tokens(params, "max_tokens", "max_output_tokens", "max_completion_tokens")
    if limit is not None:
        config["maxOutputTokens"] = limit
    for ours, theirs in _CONFIG_NAMES.items():
        if ours in params:
            value = params.pop(ours)
            config[theirs] = [value] if ours == "stop" and isinstance(value, str) else value
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if config:
        body["generationConfig"] = config
    params.pop("stream", None)
    body.update(params)
    model = quote(endpoint.model_id, safe="")
    if stream:
        return ChatRequest(
            f"models/{model}:streamGenerateContent", body, sse=True, query={"alt": "sse"}
        )
    return ChatRequest(f"models/{model}:generateContent", body, sse=False)


def _candidate_text(doc: Mapping[str, Any]) -> tuple[str, str | None]:
    candidates = doc.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        return "", None
    first = candidates[0] if isinstance(candidates[0], Mapping) else {}
    content = first.get("content")
    parts = content.get("parts") if isinstance(content, Mapping) else None
    if not isinstance(parts, list):
        parts = []
    text = "".join(
        str(p.get("text") or "") for p in parts if isinstance(p, Mapping) and not p.get("thought")
    )
    reason = first.get("finishReason")
    return text, str(reason) if reason else None


def parse_response(doc: Any, ctx: CallContext) -> ChatResult:
    if not isinstance(doc, Mapping) or "candidates" not in doc:
        if isinstance(doc, Mapping) and doc.get("error"):
            raise error_for_stream(ctx, doc)
        raise ProviderRequestError(
            f"{ctx.who} sent an answer without candidates.", provider_id=ctx.provider_id
        )
    text, reason = _candidate_text(doc)
    return ChatResult(
        text,
        usage=normalise_usage(doc.get("usageMetadata")),
        model=str(doc.get("modelVersion") or ctx.model_id),
        finish_reason=reason,
        raw=doc,
    )


def read_stream(events: Iterator[SSEEvent], state: StreamState, ctx: CallContext) -> Iterator[str]:
    for event in events:
        try:
            doc = event.json()
        except ValueError:
            continue
        if not isinstance(doc, Mapping):
            continue
        if doc.get("error"):
            raise error_for_stream(ctx, doc)
        text, reason = _candidate_text(doc)
        if doc.get("modelVersion"):
            state.model = str(doc["modelVersion"])
        if doc.get("usageMetadata"):
            state.usage = normalise_usage(doc["usageMetadata"])
        if text:
            yield text
        if reason:
            state.finish_reason = reason
    if state.finish_reason:
        state.complete = True
