"""What every wire protocol module provides, and the request description they share. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._errors import CallContext
from ._results import ChatResult, StreamState
from ._sse import SSEEvent

__all__ = ["ChatRequest", "ChatWire", "pop_max_tokens", "text_parts", "with_params"]


@dataclass(frozen=True)
class ChatRequest:
    """One HTTP call: ``POST {api_base}/{path}`` with a JSON body."""

    path: str
    body: dict[str, Any]
    sse: bool
    """The answer is an event stream (else one JSON document)."""
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None


class ChatWire(Protocol):
    """A wire protocol module (openai_compat, anthropic, responses, gemini)."""

    chat_request: Callable[..., ChatRequest]

    def parse_response(self, doc: Any, ctx: CallContext) -> ChatResult: ...

    def read_stream(
        self, events: Iterator[SSEEvent], state: StreamState, ctx: CallContext
    ) -> Iterator[str]: ...


def pop_max_tokens(params: dict[str, Any], *names: str) -> Any:
    """Remove and return the first output-length limit found under any of ``names``."""
    found = None
    for name in names:
        if name in params:
            value = params.pop(name)
            if found is None:
                found = value
    return found


def with_params(body: dict[str, Any], params: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    """``body`` with the caller's ``params`` over it, and ``stream`` as the call reads the answer.

    A ``stream`` among the params would otherwise decide it: a plain call would get events it
    reads as one document, a streamed one a document it reads as events.
    """
    body.update(params)
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body


def text_parts(parts: object, kind: str = "text") -> str:
    """Join the ``text`` of parts whose ``type`` is ``kind``."""
    if not isinstance(parts, list):
        return ""
    return "".join(
        str(p.get("text") or "")
        for p in parts
        if isinstance(p, dict) and p.get("type", kind) == kind
    )
