"""Prompts and message lists, checked and converted for each wire protocol. Pure."""

from __future__ import annotations

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


def to_anthropic(messages: list[Message]) -> tuple[str, list[Message]]:
    """Anthropic Messages: top-level ``system`` text and user/assistant turns."""
    system, rest = split_system(messages)
    turns: list[Message] = []
    for m in rest:
        role = "user" if m["role"] == "tool" else m["role"]
        content = m.get("content")
        turns.append({"role": role, "content": content if content is not None else ""})
    return system, turns


def to_responses_input(messages: list[Message]) -> tuple[str, list[Message]]:
    """Responses API: ``instructions`` text and ``input`` message items."""
    system, rest = split_system(messages)
    items: list[Message] = []
    for m in rest:
        role = "assistant" if m["role"] == "assistant" else "user"
        part_type = "output_text" if role == "assistant" else "input_text"
        content = m.get("content")
        if isinstance(content, list):
            parts = content
        else:
            parts = [{"type": part_type, "text": content or ""}]
        items.append({"type": "message", "role": role, "content": parts})
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
