"""Prompts and message lists, checked and converted for each wire protocol. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "Message",
    "normalise_messages",
    "split_system",
    "to_anthropic",
    "to_gemini",
    "to_responses_input",
]

Message = dict[str, Any]
ROLES = ("system", "developer", "user", "assistant", "tool")
DEFAULT_INSTRUCTIONS = "You are a helpful assistant."
"""Codex requires non-empty instructions; used when no system prompt is given."""


def normalise_messages(prompt_or_messages: object, system: str | None = None) -> list[Message]:
    """A list of ``{"role", "content"}`` dicts, with ``system`` (if given) first.

    Accepts a prompt string, a list of message dicts (``content`` a string or
    a list of content parts, passed through), or ``(role, content)`` pairs.
    """
    if system is not None and not isinstance(system, str):
        raise TypeError(f"system must be a string, not {type(system).__name__}")
    messages: list[Message] = [{"role": "system", "content": system}] if system else []
    if isinstance(prompt_or_messages, str):
        if not prompt_or_messages.strip():
            raise ValueError("The prompt is empty: pass the text to send to the model.")
        messages.append({"role": "user", "content": prompt_or_messages})
        return messages
    if isinstance(prompt_or_messages, Mapping):
        prompt_or_messages = [prompt_or_messages]
    if not isinstance(prompt_or_messages, Sequence) or isinstance(prompt_or_messages, bytes):
        raise TypeError(
            "chat() takes a prompt string or a list of messages such as "
            "[{'role': 'user', 'content': 'Hello'}], not "
            f"{type(prompt_or_messages).__name__}."
        )
    for index, item in enumerate(prompt_or_messages):
        messages.append(_message(item, index))
    if not any(m["role"] != "system" for m in messages):
        raise ValueError("The message list has no user message: add one to send to the model.")
    return messages


def _message(item: object, index: int) -> Message:
    if isinstance(item, Sequence) and not isinstance(item, str | bytes) and len(item) == 2:
        role, content = item
        item = {"role": role, "content": content}
    if not isinstance(item, Mapping):
        raise TypeError(
            f"Message {index} is a {type(item).__name__}; use a dict like "
            "{'role': 'user', 'content': 'Hello'}."
        )
    role = item.get("role")
    if role not in ROLES:
        raise ValueError(f"Message {index} has role {role!r}; use one of {', '.join(ROLES)}.")
    content = item.get("content")
    if content is not None and not isinstance(content, str | list):
        raise TypeError(f"Message {index} content must be a string or a list of content parts.")
    if role == "tool" and not item.get("tool_call_id"):
        raise ValueError(
            f"Message {index} is a tool result without 'tool_call_id': answer each call with "
            "call.result(value), which names the call it answers."
        )
    return dict(item)


def _text_of(content: object) -> str:
    """The text of a content value (string, or a list of parts with ``text``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return "".join(str(p) for p in parts if p)
    return ""


def split_system(messages: list[Message]) -> tuple[str, list[Message]]:
    """System and developer messages joined into one text, and the rest."""
    system = [_text_of(m.get("content")) for m in messages if m["role"] in ("system", "developer")]
    rest = [m for m in messages if m["role"] not in ("system", "developer")]
    return "\n\n".join(s for s in system if s), rest


def _tool_calls(message: Message) -> list[Mapping[str, Any]]:
    calls = message.get("tool_calls") if message["role"] == "assistant" else None
    return [c for c in calls or () if isinstance(c, Mapping)]


def _call_parts(call: Mapping[str, Any]) -> tuple[str, str, str]:
    """(id, name, arguments JSON text) of an OpenAI-form tool call entry."""
    found = call.get("function")
    function: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return str(call.get("id") or ""), str(function.get("name") or ""), arguments


def _json_object(text: str) -> Any:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def to_anthropic(messages: list[Message]) -> tuple[str, list[Message]]:
    """Anthropic Messages: top-level ``system`` text and user/assistant turns.

    An assistant message's ``tool_calls`` become ``tool_use`` blocks; the tool
    messages that follow become ``tool_result`` blocks of one user turn, as the
    API requires.
    """
    system, rest = split_system(messages)
    turns: list[Message] = []
    for m in rest:
        content = m.get("content")
        if m["role"] == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": str(m.get("tool_call_id") or ""),
                "content": content if content is not None else "",
            }
            last = turns[-1] if turns else None
            if last is not None and last.get("_tool_results"):
                last["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block], "_tool_results": True})
            continue
        calls = _tool_calls(m)
        if calls:
            blocks: list[Any] = (
                [{"type": "text", "text": content}]
                if isinstance(content, str) and content
                else list(content)
                if isinstance(content, list)
                else []
            )
            for call in calls:
                call_id, name, arguments = _call_parts(call)
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call_id,
                        "name": name,
                        "input": _json_object(arguments),
                    }
                )
            turns.append({"role": "assistant", "content": blocks})
            continue
        turns.append({"role": m["role"], "content": content if content is not None else ""})
    for turn in turns:
        turn.pop("_tool_results", None)
    return system, turns


def to_responses_input(messages: list[Message]) -> tuple[str, list[Message]]:
    """Responses API: ``instructions`` text and ``input`` items (messages, and
    ``function_call`` / ``function_call_output`` items for tool calls and results)."""
    system, rest = split_system(messages)
    items: list[Message] = []
    for m in rest:
        content = m.get("content")
        if m["role"] == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": str(m.get("tool_call_id") or ""),
                    "output": content if isinstance(content, str) else _text_of(content),
                }
            )
            continue
        calls = _tool_calls(m)
        role = "assistant" if m["role"] == "assistant" else "user"
        part_type = "output_text" if role == "assistant" else "input_text"
        if isinstance(content, list):
            parts = content
        else:
            parts = [{"type": part_type, "text": content or ""}]
        if not calls or content:
            items.append({"type": "message", "role": role, "content": parts})
        for call in calls:
            call_id, name, arguments = _call_parts(call)
            items.append(
                {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
            )
    return system, items


def to_gemini(messages: list[Message]) -> tuple[str, list[Message]]:
    """Gemini generateContent: ``systemInstruction`` text and ``contents`` (roles user/model)."""
    system, rest = split_system(messages)
    contents = [
        {
            "role": "model" if m["role"] == "assistant" else "user",
            "parts": [{"text": _text_of(m.get("content"))}],
        }
        for m in rest
    ]
    return system, contents
