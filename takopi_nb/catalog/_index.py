"""The catalog's compact stored form, and the lazily decoded view over it.

One file holds a whole catalog::

    takopi-catalog/1 <crc32 of the rest, hex>\\n
    <header: one line of JSON>\\n
    <body: one JSON array of rows per provider, back to back>

The header carries the provenance (``meta``), the provider list with the byte
range of each provider's rows, and value tables (strings, integers, floats,
modality tuples). A row is the :class:`ModelInfo` fields after ``provider``, in
order, with table indexes in place of repeated values (index 0 = ``None``) and
0/1 for booleans. So answering for one provider decodes only that provider's
rows, the whole catalog decodes in a fraction of a ``json.loads`` of
``api.json``, and equal values share one object in memory.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._model_info import ModelInfo, ProviderInfo

if TYPE_CHECKING:
    from ._parse import ParsedCatalog

__all__ = ["FORMAT", "CacheCorrupt", "Index", "encode", "restamp"]

FORMAT = 1
_MAGIC = b"takopi-catalog/%d " % FORMAT
_BOOLS = (False, True)
_T = TypeVar("_T")


class CacheCorrupt(Exception):
    """The bytes are not an intact catalog file of this format."""


class _Tables:
    """Value tables under construction: each distinct value once, index 0 meaning None."""

    def __init__(self) -> None:
        self.strings: list[Any] = [None]
        self.ints: list[Any] = [None]
        self.floats: list[Any] = [None]
        self.modalities: list[Any] = [[]]
        self._seen: dict[tuple[str, Hashable], int] = {}

    def _index(self, kind: str, table: list[Any], value: Hashable, stored: object) -> int:
        if value is None:
            return 0
        key = (kind, value)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = len(table)
            table.append(stored)
        return found

    def s(self, value: str | None) -> int:
        return self._index("s", self.strings, value, value)

    def i(self, value: int | None) -> int:
        return self._index("i", self.ints, value, value)

    def f(self, value: float | None) -> int:
        return self._index("f", self.floats, value, value)

    def m(self, value: tuple[str, ...]) -> int:
        return self._index("m", self.modalities, value or None, list(value))


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _assemble(header: Mapping[str, object], body: bytes) -> bytes:
    rest = _dumps(header) + b"\n" + body
    return _MAGIC + b"%08x\n" % zlib.crc32(rest) + rest


def encode(parsed: ParsedCatalog, meta: Mapping[str, object]) -> bytes:
    """The stored form of ``parsed``; ``meta`` (JSON-able provenance) is kept as given."""
    t = _Tables()
    chunks: list[bytes] = []
    providers: list[list[object]] = []
    offset = 0
    for info, models in parsed.providers:
        rows = [
            [
                m.id, m.name, t.s(m.family),
                t.i(m.context_window), t.i(m.max_input), t.i(m.max_output),
                t.f(m.cost_input), t.f(m.cost_output), t.f(m.cost_cache_read),
                t.f(m.cost_cache_write),
                t.m(m.input_modalities), t.m(m.output_modalities),
                int(m.reasoning), int(m.tool_call), int(m.attachment), int(m.structured_output),
                t.s(m.knowledge), t.s(m.release_date), t.s(m.last_updated),
                int(m.open_weights), t.s(m.status), int(m.is_embedding), t.s(m.sdk),
            ]
            for m in models
        ]  # fmt: skip
        blob = _dumps(rows)
        providers.append(
            [info.id, info.name, info.npm, info.api, list(info.env), info.doc,
             len(models), offset, offset + len(blob)]
        )  # fmt: skip
        chunks.append(blob)
        offset += len(blob)
    header = {
        "format": FORMAT,
        "meta": dict(meta),
        "skipped": parsed.skipped,
        "models": parsed.model_count,
        "strings": t.strings,
        "ints": t.ints,
        "floats": t.floats,
        "modalities": t.modalities,
        "providers": providers,
    }
    return _assemble(header, b"".join(chunks))


def _split(data: bytes) -> tuple[dict[str, Any], bytes]:
    if not data.startswith(_MAGIC):
        raise CacheCorrupt("not a takopi catalog file of this format")
    first = data.find(b"\n", 0, len(_MAGIC) + 9)
    if first != len(_MAGIC) + 8:
        raise CacheCorrupt("damaged first line")
    rest = memoryview(data)[first + 1 :]
    try:
        expected = int(data[len(_MAGIC) : first], 16)
    except ValueError:
        raise CacheCorrupt("damaged checksum") from None
    if zlib.crc32(rest) != expected:
        raise CacheCorrupt("checksum mismatch (truncated or damaged)")
    second = data.find(b"\n", first + 1)
    if second < 0:
        raise CacheCorrupt("no header")
    try:
        header = json.loads(data[first + 1 : second])
    except ValueError:
        raise CacheCorrupt("damaged header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CacheCorrupt("unknown header format")
    return header, data[second + 1 :]


def restamp(data: bytes, **meta: object) -> bytes:
    """``data`` with its ``meta`` updated (e.g. a new ``fetched_at`` after HTTP 304)."""
    header, body = _split(data)
    header["meta"] = {**header["meta"], **meta}
    return _assemble(header, body)


class Index:
    """A decoded catalog file. Provider rows are turned into :class:`ModelInfo` on first use.

    Thread-safe; every result is immutable (tuples), so it can be shared.
    """

    def __init__(self, data: bytes) -> None:
        header, body = _split(data)
        try:
            self.meta: dict[str, Any] = dict(header["meta"])
            self.skipped = int(header["skipped"])
            self.model_count = int(header["models"])
            self._strings = tuple(header["strings"])
            self._ints = tuple(header["ints"])
            self._floats = tuple(header["floats"])
            self._modalities = tuple(tuple(m) for m in header["modalities"])
            providers: dict[str, ProviderInfo] = {}
            slices: dict[str, tuple[int, int]] = {}
            for pid, name, npm, api, env, doc, count, start, end in header["providers"]:
                if not (isinstance(pid, str) and 0 <= start <= end <= len(body)):
                    raise CacheCorrupt("bad provider entry")
                providers[pid] = ProviderInfo(pid, name, npm, api, tuple(env), doc, count)
                slices[pid] = (start, end)
        except (KeyError, TypeError, ValueError) as exc:
            raise CacheCorrupt(f"bad header ({type(exc).__name__})") from None
        self.providers: Mapping[str, ProviderInfo] = providers
        self._slices = slices
        self._body = body
        self._models: dict[str, tuple[ModelInfo, ...]] = {}
        self._derived: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def models(self, provider: str) -> tuple[ModelInfo, ...]:
        """One provider's models (sorted by id); ``()`` for an unknown provider."""
        found = self._models.get(provider)
        if found is not None:
            return found
        if provider not in self._slices:
            return ()
        with self._lock:
            found = self._models.get(provider)
            if found is None:
                try:
                    found = self._decode(provider)
                except CacheCorrupt as exc:  # checksummed, so only a hand-made file gets here
                    import logging

                    logging.getLogger("takopi_nb.catalog").warning("%s", exc)
                    found = ()
                self._models[provider] = found
                if len(self._models) == len(self._slices):
                    self._body = b""  # every provider decoded: the raw rows are no longer needed
            return found

    def all_models(self) -> tuple[ModelInfo, ...]:
        """Every model of every provider, providers in id order."""
        return self.derived(
            "all", lambda: tuple(m for pid in self.providers for m in self.models(pid))
        )

    def lookup(self, provider: str, model_id: str) -> ModelInfo | None:
        if provider not in self._slices:
            return None
        by_id: dict[str, ModelInfo] = self.derived(
            ("by-id", provider), lambda: {m.id: m for m in self.models(provider)}
        )
        return by_id.get(model_id)

    def derived(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """A value computed once from this catalog (lists per provider type, search text...)."""
        try:
            return self._derived[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._derived[key] = build()
            return value

    def _decode(self, pid: str) -> tuple[ModelInfo, ...]:
        start, end = self._slices[pid]
        s, n, f, m, b = self._strings, self._ints, self._floats, self._modalities, _BOOLS
        new = tuple.__new__
        try:
            # fmt: off
            return tuple([
                new(ModelInfo, (
                    pid, r[0], r[1], s[r[2]], n[r[3]], n[r[4]], n[r[5]],
                    f[r[6]], f[r[7]], f[r[8]], f[r[9]], m[r[10]], m[r[11]],
                    b[r[12]], b[r[13]], b[r[14]], b[r[15]], s[r[16]], s[r[17]], s[r[18]],
                    b[r[19]], s[r[20]], b[r[21]], s[r[22]],
                ))
                for r in json.loads(self._body[start:end])
            ])
            # fmt: on
        except (IndexError, TypeError, ValueError) as exc:
            raise CacheCorrupt(f"damaged rows for provider {pid!r}") from exc
