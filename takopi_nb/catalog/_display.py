"""Short plain-text renderings of catalog numbers for pickers and tables. Pure."""

from __future__ import annotations

import math

__all__ = ["UNKNOWN", "format_price", "format_tokens"]

UNKNOWN = "—"


def format_price(usd_per_million: float | None) -> str:
    """A price per 1M tokens: ``"$1.25"``, ``"$15"``, ``"$0.075"``, ``"free"`` for 0,
    ``"—"`` when unknown. Float noise such as 0.09999999999999999 reads ``"$0.10"``."""
    x = usd_per_million
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
        return UNKNOWN
    if x == 0:
        return "free"
    if x >= 1000:
        return f"${x:,.0f}"
    if x >= 1:
        text = f"{x:.2f}"
        return "$" + (text[:-3] if text.endswith(".00") else text)
    # Below $1: three significant digits, at least two decimals, never an exponent.
    decimals = max(2, 2 - math.floor(math.log10(x)))
    text = f"{x:.{decimals}f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def format_tokens(count: int | None) -> str:
    """A token count with three significant digits: ``"400K"``, ``"1.05M"``, ``"8.19K"``,
    ``"512"``; ``"—"`` when unknown (``None`` or 0)."""
    if count is None or not isinstance(count, (int, float)) or not count > 0:
        return UNKNOWN
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= scale * 0.9995:
            return _three_digits(count / scale) + suffix
    return str(round(count))


def _three_digits(value: float) -> str:
    decimals = 0 if value >= 99.95 else 1 if value >= 9.995 else 2
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
