"""A scripted tool-calling model for the loopback fakes, in each protocol's own format.

:class:`ToolScript` answers chat requests that carry ``tools``: round ``n`` of
the conversation (``n`` = how many tool-result turns it already has) gets the
tool calls of ``rounds[n]``; once every round is answered, a text answer that
quotes the tool results. It checks what the real services check and answers
their 400s otherwise: the tool definitions' shape, every call answered by a
result with its id, no result without a call.

Formats: OpenAI chat completions (``message.tool_calls``; streamed as
``delta.tool_calls`` pieces by ``index``), Anthropic Messages (``tool_use``
blocks; streamed as ``content_block_start`` + ``input_json_delta``), Responses
(``function_call`` items; streamed as ``response.output_item.added``,
``response.function_call_arguments.delta``/``.done``, ``output_item.done``).

Install with ``FakeProvider.intercept = script.intercept(provider)`` or, for the
Codex fake, ``FakeChatGPT.respond_with = script.codex``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.formats import (
    anthropic_error,
    anthropic_message,
    anthropic_stream_end,
    openai_error,
    responses_text_deltas,
)
from tests.fakes.http import Request, Response, sse

__all__ = ["ToolScript"]

Call = tuple[str, str]
"""(tool name, arguments exactly as the model sends them: JSON text, possibly malformed)."""


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class ToolScript:
    def __init__(self, rounds: list[list[Call]], *, prefix: str = "Tool results: ") -> None:
        self.rounds = rounds
        self.prefix = prefix
        self.bodies: list[dict[str, Any]] = []
        """Every request body the script answered (tests read the wire form here)."""

    # -- installing ------------------------------------------------------------------------

    def intercept(self, provider: Any) -> Callable[[Request], Response | None]:
        def answer(request: Request) -> Response | None:
            path = request.path[len(provider.prefix) + 1 :]
            try:
                body = request.json()
            except ValueError:
                return None
            if request.method != "POST" or not isinstance(body, dict) or not body.get("tools"):
                return None
            if path == "chat/completions":
                return provider._bearer(request) or self.chat_completions(body)
            if path == "messages":
                return provider._anthropic_auth(request) or self.messages(body)
            if path == "responses":
                return provider._bearer(request) or self.responses(body)
            return None

        return answer

    def codex(self, body: dict[str, Any]) -> Response | None:
        """For the Codex fake: the Responses stream, or None when the request has no tools."""
        if not body.get("tools"):
            return None
        return self.responses(body)

    # -- shared ----------------------------------------------------------------------------

    def _next(self, answered: int, outputs: list[str]) -> list[Call] | str:
        if answered < len(self.rounds):
            return self.rounds[answered]
        return self.prefix + " | ".join(outputs)

    @staticmethod
    def _usage(body: dict[str, Any]) -> tuple[int, int]:
        return max(1, len(json.dumps(body).split()) // 10), 5

    # -- OpenAI chat completions -----------------------------------------------------------

    def chat_completions(self, body: dict[str, Any]) -> Response:
        self.bodies.append(body)
        for index, tool in enumerate(body["tools"]):
            function = tool.get("function") if isinstance(tool, dict) else None
            if tool.get("type") != "function" or not isinstance(function, dict):
                return _openai_400(f"Missing required parameter: 'tools[{index}].function'.")
            if not function.get("name"):
                return _openai_400(f"Missing required parameter: 'tools[{index}].function.name'.")
        pending: list[str] = []
        answered = 0
        outputs: list[str] = []
        for message in body["messages"]:
            if message.get("role") == "tool":
                call_id = message.get("tool_call_id")
                if call_id not in pending:
                    return _openai_400(
                        "Invalid parameter: messages with role 'tool' must be a response to a "
                        "preceeding message with 'tool_calls'."
                    )
                pending.remove(call_id)
                outputs.append(str(message.get("content")))
                if not pending:
                    answered += 1
                continue
            if pending:
                return _openai_400(
                    "An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                    f"response messages: {', '.join(pending)}"
                )
            for call in message.get("tool_calls") or ():
                if not isinstance(call.get("function", {}).get("arguments"), str):
                    return _openai_400("Invalid type for 'tool_calls.function.arguments'.")
                pending.append(call["id"])
        if pending:
            return _openai_400(f"tool_call_ids did not have response messages: {pending}")
        step = self._next(answered, outputs)
        model = body["model"]
        prompt, completion = self._usage(body)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        calls = (
            [
                {
                    "id": "call_" + secrets.token_hex(6),
                    "type": "function",
                    "function": {"name": name, "arguments": args},
                }
                for name, args in step
            ]
            if isinstance(step, list)
            else []
        )
        text = step if isinstance(step, str) else None
        finish = "tool_calls" if calls else "stop"
        cid = "chatcmpl-" + secrets.token_hex(6)
        if body.get("stream") is not True:
            message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
            if calls:
                message["tool_calls"] = calls
            return Response.json(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
            }

        events: list[tuple[str | None, Any]] = [
            (None, chunk({"role": "assistant", "content": None if calls else ""}))
        ]
        for index, call in enumerate(calls):
            head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            events.append((None, chunk({"tool_calls": [{"index": index, **head}]})))
            for piece in _pieces(call["function"]["arguments"]):
                events.append(
                    (
                        None,
                        chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    )
                )
        for piece in _pieces(text) if text else ():
            events.append((None, chunk({"content": piece})))
        events.append((None, chunk({}, finish)))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {"id": cid, "model": model, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        return Response(200, sse(events), {}, "text/event-stream")

    # -- Anthropic Messages ----------------------------------------------------------------

    def messages(self, body: dict[str, Any]) -> Response:
        self.bodies.append(body)
        for index, tool in enumerate(body["tools"]):
            if not isinstance(tool, dict) or "input_schema" not in tool or not tool.get("name"):
                return _anthropic_400(f"tools.{index}.custom.input_schema: Field required")
        answered = 0
        outputs: list[str] = []
        previous: list[str] = []
        for index, message in enumerate(body["messages"]):
            content = message.get("content")
            blocks = content if isinstance(content, list) else []
            results = [b for b in blocks if b.get("type") == "tool_result"]
            if message.get("role") == "user":
                ids = [b.get("tool_use_id") for b in results]
                for position, call_id in enumerate(ids):
                    if call_id not in previous:
                        return _anthropic_400(
                            f"messages.{index}.content.{position}: unexpected `tool_use_id` found "
                            "in `tool_result` blocks: "
                            f"{call_id}. Each `tool_result` block must have a corresponding "
                            "`tool_use` block in the previous message."
                        )
                missing = [c for c in previous if c not in ids]
                if missing:
                    return _anthropic_400(
                        f"messages.{index}: `tool_use` ids were found without `tool_result` "
                        f"blocks immediately after: {', '.join(missing)}. Each `tool_use` block "
                        "must have a corresponding `tool_result` block in the next message."
                    )
                if results:
                    answered += 1
                    for block in results:
                        value = block.get("content")
                        outputs.append(
                            value
                            if isinstance(value, str)
                            else "".join(p.get("text", "") for p in value or ())
                        )
                previous = []
            else:
                previous = [b["id"] for b in blocks if b.get("type") == "tool_use"]
                for block in blocks:
                    if block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
                        return _anthropic_400(
                            f"messages.{index}: tool_use.input: Input should be a valid dictionary"
                        )
        step = self._next(answered, outputs)
        prompt, completion = self._usage(body)
        mid = "msg_" + secrets.token_hex(8)
        content_out: list[dict[str, Any]] = (
            [
                {"type": "tool_use", "id": "toolu_" + secrets.token_hex(8), "name": n, "input": a}
                for n, a in step
            ]
            if isinstance(step, list)
            else [{"type": "text", "text": step}]
        )
        stop = "tool_use" if isinstance(step, list) else "end_turn"
        if body.get("stream") is not True:
            # The API sends the input as an object: a malformed script argument goes as text.
            for block in content_out:
                if block["type"] == "tool_use":
                    try:
                        block["input"] = json.loads(block["input"])
                    except ValueError:
                        block["input"] = {"_raw": block["input"]}
            return Response.json(
                anthropic_message(
                    mid,
                    body["model"],
                    content_out,
                    stop,
                    {"input_tokens": prompt, "output_tokens": completion},
                )
            )
        events: list[tuple[str | None, Any]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": anthropic_message(
                        mid, body["model"], [], None, {"input_tokens": prompt, "output_tokens": 1}
                    ),
                },
            )
        ]
        for index, block in enumerate(content_out):
            if block["type"] == "text":
                start = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
            else:
                start = {**block, "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": p} for p in _pieces(block["input"])
                ]
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start},
                )
            )
            events += [
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": d},
                )
                for d in deltas
            ]
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events += anthropic_stream_end(stop, completion)
        return Response(200, sse(events), {}, "text/event-stream")

    # -- Responses -------------------------------------------------------------------------

    def responses(self, body: dict[str, Any]) -> Response:
        self.bodies.append(body)
        for index, tool in enumerate(body["tools"]):
            if not isinstance(tool, dict) or tool.get("type") != "function" or not tool.get("name"):
                return _openai_400(f"Missing required parameter: 'tools[{index}].name'.")
        calls_seen: set[str] = set()
        answered = 0
        outputs: list[str] = []
        last_was_output = False
        items = body["input"] if isinstance(body["input"], list) else []
        for item in items:
            kind = item.get("type")
            if kind == "function_call":
                if not isinstance(item.get("arguments"), str):
                    return _openai_400("Invalid type for 'input.arguments': expected a string.")
                calls_seen.add(item.get("call_id"))
                last_was_output = False
            elif kind == "function_call_output":
                if item.get("call_id") not in calls_seen:
                    return _openai_400(
                        f"No tool call found for function call output with call_id "
                        f"{item.get('call_id')}."
                    )
                outputs.append(str(item.get("output")))
                if not last_was_output:
                    answered += 1
                last_was_output = True
            else:
                last_was_output = False
        step = self._next(answered, outputs)
        model = body["model"]
        prompt, completion = self._usage(body)
        usage = {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if isinstance(step, list):
            output = [
                {
                    "id": "fc_" + secrets.token_hex(6),
                    "type": "function_call",
                    "status": "completed",
                    "call_id": "call_" + secrets.token_hex(6),
                    "name": name,
                    "arguments": args,
                }
                for name, args in step
            ]
        else:
            output = [
                {
                    "id": "msg_" + secrets.token_hex(6),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": step, "annotations": []}],
                }
            ]
        response = {
            "id": "resp_" + secrets.token_hex(8),
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": model,
            "output": output,
            "usage": usage,
        }
        if body.get("stream") is not True:
            return Response.json(response)
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        events: list[tuple[str | None, Any]] = [
            ("response.created", {"type": "response.created", "response": started})
        ]
        for index, item in enumerate(output):
            if item["type"] == "function_call":
                events.append(
                    (
                        "response.output_item.added",
                        {
                            "type": "response.output_item.added",
                            "output_index": index,
                            "item": {**item, "arguments": "", "status": "in_progress"},
                        },
                    )
                )
                for piece in _pieces(item["arguments"]):
                    events.append(
                        (
                            "response.function_call_arguments.delta",
                            {
                                "type": "response.function_call_arguments.delta",
                                "item_id": item["id"],
                                "output_index": index,
                                "delta": piece,
                            },
                        )
                    )
                events.append(
                    (
                        "response.function_call_arguments.done",
                        {
                            "type": "response.function_call_arguments.done",
                            "item_id": item["id"],
                            "output_index": index,
                            "arguments": item["arguments"],
                        },
                    )
                )
            else:
                events.append(
                    (
                        "response.output_item.added",
                        {
                            "type": "response.output_item.added",
                            "output_index": index,
                            "item": {**item, "content": [], "status": "in_progress"},
                        },
                    )
                )
                text = item["content"][0]["text"]
                events += responses_text_deltas(item["id"], _pieces(text), index)
            events.append(
                (
                    "response.output_item.done",
                    {"type": "response.output_item.done", "output_index": index, "item": item},
                )
            )
        events.append(("response.completed", {"type": "response.completed", "response": response}))
        return Response(200, sse(events), {}, "text/event-stream")


def _openai_400(message: str) -> Response:
    return openai_error(message, "invalid_request_error")


def _anthropic_400(message: str) -> Response:
    return anthropic_error(message, "invalid_request_error", 400)
