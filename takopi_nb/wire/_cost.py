"""What a call cost in USD, from the token usage and the models.dev prices. Pure.

Prices are USD per million tokens. Two usage conventions exist: OpenAI-style
APIs count cached prompt tokens inside ``input_tokens`` (and report them apart
as ``cached_tokens``); Anthropic reports ``cache_read_input_tokens`` and
``cache_creation_input_tokens`` next to an ``input_tokens`` that excludes them.
A price the catalog does not know makes the cost ``None``: a guess of $0 would
be worse than no figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ADDITIVE_CACHE_KEYS", "usage_cost"]

ADDITIVE_CACHE_KEYS = ("cache_read_input_tokens", "cache_creation_input_tokens")
"""Anthropic's names: their presence says ``input_tokens`` excludes the cached part."""


def _count(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _price(info: Any, name: str) -> float | None:
    value = getattr(info, name, None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def usage_cost(usage: Mapping[str, Any] | None, info: Any) -> float | None:
    """USD for one call, or None when the usage or a needed price is unknown.

    A cost the provider reported itself (OpenRouter's ``usage.cost``) wins.
    """
    if not usage:
        return None
    reported = usage.get("cost")
    if isinstance(reported, int | float) and not isinstance(reported, bool):
        return float(reported)
    if info is None or "input_tokens" not in usage:
        return None
    read = _count(usage, "cache_read_tokens")
    write = _count(usage, "cache_write_tokens")
    additive = any(key in usage for key in ADDITIVE_CACHE_KEYS)
    fresh = _count(usage, "input_tokens") - (0 if additive else read + write)
    parts: list[tuple[int, float | None]] = [
        (max(0, fresh), _price(info, "cost_input")),
        (_count(usage, "output_tokens"), _price(info, "cost_output")),
        (read, _price(info, "cost_cache_read")),
        (write, _price(info, "cost_cache_write")),
    ]
    total = 0.0
    for tokens, price in parts:
        if tokens == 0:
            continue
        if price is None:
            return None
        total += tokens * price
    if total == 0.0 and _price(info, "cost_input") is None:
        return None  # nothing counted and nothing known: unknown, not free
    return total / 1_000_000
