"""What ``chat()``, ``embed()`` and ``test_connection()`` hand back. Pure; no I/O."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._tools import ToolCall

__all__ = [
    "ChatResult",
    "ChatStream",
    "ConnectionResult",
    "EmbeddingResult",
    "StreamState",
    "normalise_usage",
]

_USAGE_ALIASES = {
    "input_tokens": ("input_tokens", "prompt_tokens", "promptTokenCount"),
    "output_tokens": ("output_tokens", "completion_tokens", "candidatesTokenCount"),
    "total_tokens": ("total_tokens", "totalTokenCount"),
}


def normalise_usage(raw: object) -> dict[str, Any] | None:
    """Token counts under common names (``input_tokens``, ``output_tokens``, ``total_tokens``).

    Every other scalar the provider reported is kept under its own name
    (e.g. ``cache_read_input_tokens``, OpenRouter's ``cost``), nested details dropped.
    """
    if not isinstance(raw, Mapping) or not raw:
        return None
    usage: dict[str, Any] = {}
    for name, aliases in _USAGE_ALIASES.items():
        for alias in aliases:
            value = raw.get(alias)
            if isinstance(value, int | float) and not isinstance(value, bool):
                usage[name] = value
                break
    if "total_tokens" not in usage and {"input_tokens", "output_tokens"} <= usage.keys():
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    cached = _cached_tokens(raw)
    if cached:
        usage["cache_read_tokens"] = cached
    written = raw.get("cache_creation_input_tokens")
    if isinstance(written, int) and not isinstance(written, bool) and written:
        usage["cache_write_tokens"] = written
    aliases_seen = {a for names in _USAGE_ALIASES.values() for a in names}
    for key, value in raw.items():
        if key in aliases_seen or key in usage:
            continue
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            usage[key] = value
    return usage or None


def _cached_tokens(raw: Mapping[str, Any]) -> int:
    """Prompt tokens served from the provider's cache, under whichever name it uses."""
    for details in ("prompt_tokens_details", "input_tokens_details"):
        nested = raw.get(details)
        if isinstance(nested, Mapping):
            value = nested.get("cached_tokens")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    for name in ("cache_read_input_tokens", "cachedContentTokenCount"):
        value = raw.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def merge_usage(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    """Later reports win key by key (Anthropic reports input and output in different events)."""
    if old is None:
        return new
    if new is None:
        return old
    merged = {**old, **{k: v for k, v in new.items() if v is not None}}
    if {"input_tokens", "output_tokens"} <= merged.keys():
        merged["total_tokens"] = merged["input_tokens"] + merged["output_tokens"]
    return merged


class ChatResult(str):
    """The answer's text (a ``str``), with ``usage``, ``cost``, ``cached``, ``model``,
    ``finish_reason``, ``raw`` and ``tool_calls``.

    ``usage`` is a dict of token counts (see :func:`normalise_usage`) or None
    when the provider reported none; ``cost`` is USD from the models.dev prices,
    None when a price is unknown (0 for an answer from the response cache, which
    sets ``cached``); ``raw`` is the provider's decoded JSON answer (None for a
    streamed answer). ``tool_calls`` lists the :class:`ToolCall` objects the model
    asked for (empty when it answered in text); ``message`` is the answer as an
    assistant message to append to the conversation before the tool results.
    """

    usage: dict[str, Any] | None
    model: str
    finish_reason: str | None
    raw: Any
    cost: float | None
    cached: bool
    tool_calls: list[ToolCall]

    def __new__(
        cls,
        text: str = "",
        *,
        usage: dict[str, Any] | None = None,
        model: str = "",
        finish_reason: str | None = None,
        raw: Any = None,
        cost: float | None = None,
        cached: bool = False,
        tool_calls: list[ToolCall] | None = None,
    ) -> ChatResult:
        obj = super().__new__(cls, text)
        obj.tool_calls = list(tool_calls or ())
        obj.usage = usage
        obj.model = model
        obj.finish_reason = finish_reason
        obj.raw = raw
        obj.cost = cost
        obj.cached = cached
        return obj

    @property
    def text(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    @property
    def message(self) -> dict[str, Any]:
        """The answer as an assistant message (with ``tool_calls`` when there are any)."""
        return assistant_message(self.text, self.tool_calls)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython shows the answer as text, not as a quoted string with escapes."""
        text = str.__str__(self)
        calls = "\n".join(f"→ tool call {call}" for call in self.tool_calls)
        printer.text("\n".join(p for p in (text, calls) if p))


def assistant_message(text: str, tool_calls: list[ToolCall]) -> dict[str, Any]:
    """An OpenAI-form assistant message; the other protocols translate it on the way out."""
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if tool_calls:
        message["tool_calls"] = [call.wire() for call in tool_calls]
    elif not text:
        message["content"] = ""
    return message


@dataclass
class StreamState:
    """Filled in by a protocol's stream reader while it yields text."""

    model: str = ""
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    complete: bool = False
    parts: list[str] = field(default_factory=list)
    cost: float | None = None
    cached: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Assembled from the streamed pieces once each call is complete."""


class ChatStream(Iterator[str]):
    """An iterator of text chunks. After it is exhausted, ``text`` and ``usage`` are final.

    Close it (or use ``with``) to drop the connection early; it closes itself
    when exhausted or garbage-collected.
    """

    def __init__(
        self, chunks: Iterator[str], state: StreamState, close: Callable[[], None]
    ) -> None:
        self._chunks = chunks
        self._state = state
        self._close = close
        self._closed = False

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> str:
        if self._closed:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except BaseException:
            self.close()
            raise
        self._state.parts.append(chunk)
        return chunk

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    @property
    def text(self) -> str:
        """Everything received so far."""
        return "".join(self._state.parts)

    @property
    def usage(self) -> dict[str, Any] | None:
        return self._state.usage

    @property
    def model(self) -> str:
        return self._state.model

    @property
    def finish_reason(self) -> str | None:
        return self._state.finish_reason

    @property
    def cost(self) -> float | None:
        """USD, once the answer is complete (None before, or when a price is unknown)."""
        return self._state.cost

    @property
    def cached(self) -> bool:
        return self._state.cached

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls the model asked for, assembled from their streamed pieces
        (complete once the stream is exhausted)."""
        return list(self._state.tool_calls)

    @property
    def done(self) -> bool:
        """True once the provider said the answer is complete."""
        return self._state.complete

    def result(self) -> ChatResult:
        """Read the rest of the stream and return the whole answer."""
        for _ in self:
            pass
        return ChatResult(
            self.text,
            usage=self.usage,
            model=self.model,
            finish_reason=self.finish_reason,
            cost=self.cost,
            cached=self.cached,
            tool_calls=self.tool_calls,
        )

    def __repr__(self) -> str:
        state = "done" if self.done else ("closed" if self._closed else "open")
        return f"<ChatStream {state}, {len(self.text)} chars received>"


class EmbeddingResult(list[list[float]]):
    """The vectors, in input order (a ``list``); ``usage``, ``cost`` (USD or None when a
    price is unknown), ``cached`` (every batch came from the response cache) and ``model``."""

    usage: dict[str, Any] | None = None
    model: str = ""
    cost: float | None = None
    cached: bool = False


@dataclass(frozen=True)
class ConnectionResult:
    """The outcome of ``Provider.test_connection()``; ``message`` says it in plain words."""

    ok: bool
    message: str
    provider_id: str = ""
    models: tuple[str, ...] = field(default=(), repr=False)
    """Model ids the provider listed (empty when it could not list them)."""
    latency_s: float | None = None
    status: int | None = None
    """The HTTP status of the check, None when no answer came back."""
    method: str = ""
    """``"list-models"``, ``"tiny-request"`` or ``""`` when nothing was sent."""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(("✓ " if self.ok else "✗ ") + self.message)
