"""Shapes of the real APIs' answers that more than one fake sends.

:mod:`tests.fakes.providers` (the provider fakes), :mod:`tests.fakes.tool_calls` (the
scripted tool-calling model answering through them) and :mod:`tests.fakes.codex_server`
(the Codex backend streams Responses events too) build these; one definition keeps the
fakes saying the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.fakes.http import Response

__all__ = [
    "anthropic_error",
    "anthropic_message",
    "anthropic_stream_end",
    "openai_error",
    "responses_text_deltas",
]


def openai_error(
    message: str,
    type_: str,
    code: str | None = None,
    status: int = 400,
    param: str | None = None,
) -> Response:
    return Response.json(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}, status
    )


def anthropic_error(message: str, type_: str, status: int) -> Response:
    return Response.json({"type": "error", "error": {"type": type_, "message": message}}, status)


def anthropic_message(
    mid: str,
    model: str,
    content: list[dict[str, Any]],
    stop_reason: str | None,
    usage: dict[str, int],
) -> dict[str, Any]:
    """A Messages API message: the whole answer, or (empty, no stop reason) a stream's start."""
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def anthropic_stream_end(stop_reason: str, output_tokens: int) -> list[tuple[str | None, Any]]:
    """The last events of a Messages stream: the stop reason with the output usage, then stop."""
    return [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def responses_text_deltas(
    item_id: str, pieces: Iterable[str], output_index: int = 0
) -> list[tuple[str | None, Any]]:
    """A Responses stream's ``response.output_text.delta`` events, one a piece of the text."""
    return [
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "item_id": item_id,
                "output_index": output_index,
                "content_index": 0,
                "delta": piece,
            },
        )
        for piece in pieces
    ]
