"""A pure server-sent-events parser (the WHATWG ``text/event-stream`` rules).

Bytes go in as they arrive (chunk boundaries anywhere, even inside a UTF-8
character or between ``\\r`` and ``\\n``); events come out. No I/O here.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEDecoder", "SSEEvent", "iter_lines", "iter_sse"]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event. ``event`` is ``"message"`` when the stream named none."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """The data as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.data)


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Split a byte stream into lines on ``\\n``, ``\\r\\n`` or ``\\r`` (terminators dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        lines, pending = _split(pending + decoder.decode(chunk), final=False)
        yield from lines
    lines, rest = _split(pending + decoder.decode(b"", final=True), final=True)
    yield from lines
    if rest:
        yield rest


def _split(text: str, *, final: bool) -> tuple[list[str], str]:
    """The terminated lines of ``text`` and the unterminated rest.

    A trailing ``\\r`` is kept back unless ``final``: the next chunk may start with its ``\\n``.
    """
    lines: list[str] = []
    start = i = 0
    length = len(text)
    while i < length:
        ch = text[i]
        if ch == "\n":
            lines.append(text[start:i])
            start = i = i + 1
        elif ch == "\r":
            if i + 1 == length and not final:
                break
            lines.append(text[start:i])
            i += 2 if i + 1 < length and text[i + 1] == "\n" else 1
            start = i
        else:
            i += 1
    return lines, text[start:]


class SSEDecoder:
    """Feed lines one at a time; a blank line dispatches the event built so far."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self._first = True

    def feed(self, line: str) -> SSEEvent | None:
        if self._first:
            self._first = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> SSEEvent | None:
        """The spec drops an event left without its blank line at end of stream.

        Some servers omit the final blank line, and the event is usually the
        one that carries the usage; so dispatch it when it has data.
        """
        return self._dispatch()

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SSEEvent(self._event or "message", "\n".join(self._data), self._id, self._retry)
        self._event = ""
        self._data = []
        return event


def iter_sse(lines: Iterable[str]) -> Iterator[SSEEvent]:
    """Events from an iterable of lines (see :func:`iter_lines`)."""
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last


def typed_events(events: Iterable[SSEEvent]) -> Iterator[tuple[str | None, Mapping[str, Any]]]:
    """``(type, data)`` for each event whose data is a JSON object; the type is the
    object's ``type`` field, else the SSE event name. Other events are skipped."""
    for event in events:
        try:
            data = event.json()
        except ValueError:
            continue
        if isinstance(data, Mapping):
            yield data.get("type") or event.event, data
