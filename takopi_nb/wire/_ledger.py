"""This session's usage ledger: calls, tokens and cost per model ref (``tk.usage()``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LedgerRow", "ledger", "usage"]


def _tokens(usage: Mapping[str, Any] | None, name: str) -> int:
    value = (usage or {}).get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass
class LedgerRow:
    ref: str
    calls: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    """USD of the calls whose price is known; None when none was."""
    unpriced: int = 0
    """Calls (not from the cache) whose cost is unknown: ``cost`` leaves them out."""
    tool_rounds: int = 0
    """Calls whose answer asked for tools (each round of a tool loop is one call)."""
    tool_calls: int = 0
    """Tool calls those answers asked for."""


class Ledger:
    """Thread-safe running totals per ref, for the life of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, LedgerRow] = {}

    def record(
        self,
        ref: str,
        usage: Mapping[str, Any] | None,
        cost: float | None,
        *,
        cached: bool,
        tool_calls: int = 0,
    ) -> None:
        with self._lock:
            row = self._rows.get(ref)
            if row is None:
                row = self._rows[ref] = LedgerRow(ref)
            row.calls += 1
            if tool_calls:
                row.tool_rounds += 1
                row.tool_calls += tool_calls
            if cached:
                row.cached += 1
                return  # a cache hit sent nothing and cost nothing
            row.input_tokens += _tokens(usage, "input_tokens")
            row.output_tokens += _tokens(usage, "output_tokens")
            if cost is None:
                row.unpriced += 1
            else:
                row.cost = (row.cost or 0.0) + cost

    def rows(self) -> list[LedgerRow]:
        with self._lock:
            return [LedgerRow(**vars(r)) for r in self._rows.values()]

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


ledger = Ledger()

_COLUMNS = (
    "ref",
    "calls",
    "cached",
    "input tokens",
    "output tokens",
    "cost (USD)",
    "unpriced",
    "tool rounds",
    "tool calls",
)


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def usage(*, as_frame: bool | None = None) -> Any:
    """This session's calls per model ref: calls, cache hits, tokens, cost in USD.

    A pandas ``DataFrame`` when pandas is installed (``as_frame=False`` for the
    plain table), else a table that renders in notebooks and terminals. ``cost``
    counts the calls with a known price; ``unpriced`` says how many had none.
    """
    rows = ledger.rows()
    values = [
        (
            r.ref,
            r.calls,
            r.cached,
            r.input_tokens,
            r.output_tokens,
            r.cost,
            r.unpriced,
            r.tool_rounds,
            r.tool_calls,
        )
        for r in rows
    ]
    if as_frame is not False:
        try:
            import pandas as pd
        except ImportError:
            if as_frame:
                raise
        else:
            return pd.DataFrame(values, columns=list(_COLUMNS))
    from .._tables import Table

    total = sum(r.cost or 0.0 for r in rows)
    notes = [f"Total: {_money(total if any(r.cost is not None for r in rows) else None)}"]
    if any(r.unpriced for r in rows):
        notes.append("unpriced: calls whose model has no price in the catalog (not counted).")
    if not rows:
        notes = ["No calls yet in this session."]
    return Table(
        _COLUMNS,
        [(*v[:5], _money(v[5]), *v[6:]) for v in values],
        title="Usage this session",
        notes=notes,
        numeric=_COLUMNS[1:],
        wrap=["ref"],
    )


def _reset() -> None:
    ledger.clear()
