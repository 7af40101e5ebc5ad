"""``{name}`` fields in a ``%%takopi`` cell: names and attribute lookups only, never evaluated.

IPython's own expansion (used for magic *lines*) evaluates ``{...}`` as Python, so
``{__import__('os').getpid()}`` would run and ``{1,2}`` would become ``(1, 2)``;
and a field it cannot expand sends the whole cell as written, without a word. A
prompt is text that often holds code and JSON, so here:

- ``{name}`` and ``{name.attr.attr}`` (optionally ``!r``/``!s``/``!a`` and a
  ``:format_spec``) are looked up and formatted; an undefined one is an error
  that names it and says how to write literal braces;
- ``{{`` and ``}}`` are literal braces, as in :meth:`str.format`;
- any other braces (``{"a": 1}``, ``{x + 1}``, a lone ``{``) are sent as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CellFieldError", "expand_fields"]

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_FIELD = re.compile(
    r"(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:!(?P<conv>[rsa]))?(?::(?P<spec>[^{}]*))?"
)
_CONVERT: dict[str, Callable[[object], str]] = {"r": repr, "s": str, "a": ascii}


class CellFieldError(LookupError):
    """A ``{field}`` of the cell could not be expanded; ``str()`` says which and how to fix it."""


def expand_fields(text: str, namespace: Mapping[str, Any]) -> str:
    """``text`` with its ``{name}`` fields replaced by their values from ``namespace``."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        field = _FIELD.fullmatch(match.group(1))
        if field is None:
            return token  # not a name: JSON, code, or braces the user meant literally
        return _format(token, field, namespace)

    return _TOKEN.sub(replace, text)


def _format(token: str, field: re.Match[str], namespace: Mapping[str, Any]) -> str:
    literal = "{{" + token[1:-1] + "}}"
    head, *attrs = field["path"].split(".")
    if head not in namespace:
        raise CellFieldError(
            f"{token} in the cell: {head!r} is not defined. Define it in a cell above "
            f"({head} = ...), or write {literal} to send the braces as written."
        )
    value = namespace[head]
    for depth, attr in enumerate(attrs, start=1):
        try:
            value = getattr(value, attr)
        except Exception as exc:
            where = ".".join([head, *attrs[: depth - 1]])
            raise CellFieldError(
                f"{token} in the cell: {where} has no attribute {attr!r} "
                f"({type(exc).__name__}). Fix the name, or write {literal} to send the "
                "braces as written."
            ) from None
    if field["conv"]:
        value = _CONVERT[field["conv"]](value)
    try:
        return format(value, field["spec"] or "")
    except (TypeError, ValueError) as exc:
        raise CellFieldError(
            f"{token} in the cell could not be formatted ({exc}). Fix the format after ':', "
            f"or write {literal} to send the braces as written."
        ) from None
