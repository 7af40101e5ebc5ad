"""Request-body rules the fakes share: which fields a real API knows, and of which JSON type.

Each fake words the answer its own service gives (OpenAI's ``invalid_type``, Anthropic's
pydantic messages, Google's ``INVALID_ARGUMENT``); this module only finds the first field that
a real service would refuse, so that every fake checks the same way and none drifts lax.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ARRAY",
    "BOOLEAN",
    "INTEGER",
    "NUMBER",
    "OBJECT",
    "STRING",
    "Violation",
    "check_fields",
    "json_type",
]

INTEGER = ("integer",)
NUMBER = ("integer", "number")
BOOLEAN = ("boolean",)
STRING = ("string",)
ARRAY = ("array",)
OBJECT = ("object",)


def json_type(value: object) -> str:
    """The JSON type name of a decoded value (``bool`` is not an integer here, as in JSON)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


@dataclass(frozen=True)
class Violation:
    """The first thing in a body a real service refuses."""

    kind: Literal["missing", "unknown", "type"]
    field: str
    expected: tuple[str, ...] = ()
    got: str = ""


def check_fields(
    body: Mapping[str, Any],
    fields: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...] = (),
) -> Violation | None:
    """The first missing required field, unknown field or field of the wrong type; None if fine.

    An optional field may be ``null`` (the APIs read it as absent); a required one may not.
    """
    for name in required:
        if body.get(name) is None:
            return Violation("missing", name)
    for name, value in body.items():
        allowed = fields.get(name)
        if allowed is None:
            return Violation("unknown", name)
        if value is not None and json_type(value) not in allowed:
            return Violation("type", name, allowed, json_type(value))
    return None
