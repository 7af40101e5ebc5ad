"""Progress of a batch: a tqdm bar in notebooks (done/total, failures, running cost, ETA),
nothing in plain scripts unless asked, or the caller's own callback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["BatchProgress", "Progress", "in_notebook", "make_progress"]


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot after each finished item: what a progress callback is given."""

    done: int
    total: int
    failed: int
    cost: float | None
    """USD of the finished items with a known price (None while none has one)."""
    unpriced: int
    """Finished items whose cost is unknown."""


class Progress(Protocol):
    def update(self, value: object) -> None: ...

    def close(self, *, interrupted: bool = False) -> None: ...


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a widget progress bar can render)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _money(cost: float | None, unpriced: int) -> str:
    if cost is None:
        return "unknown" if unpriced else "$0"
    return f"${cost:.4f}" + ("+?" if unpriced else "")


class _Tally:
    """Counts shared by every kind of progress."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.cost: float | None = None
        self.unpriced = 0

    def add(self, value: object) -> BatchProgress:
        self.done += 1
        if isinstance(value, BaseException):
            self.failed += 1
        else:
            cost = getattr(value, "cost", None)
            if isinstance(cost, int | float):
                self.cost = (self.cost or 0.0) + cost
            else:
                self.unpriced += 1
        return BatchProgress(self.done, self.total, self.failed, self.cost, self.unpriced)


class _Silent(_Tally):
    def update(self, value: object) -> None:
        self.add(value)

    def close(self, *, interrupted: bool = False) -> None:
        pass


class _Callback(_Tally):
    def __init__(self, total: int, callback: Callable[[BatchProgress], Any]) -> None:
        super().__init__(total)
        self._callback = callback

    def update(self, value: object) -> None:
        self._callback(self.add(value))

    def close(self, *, interrupted: bool = False) -> None:
        pass


class _Bar(_Tally):
    def __init__(self, total: int, what: str) -> None:
        super().__init__(total)
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=what, unit="call", dynamic_ncols=True)

    def update(self, value: object) -> None:
        self.add(value)
        # "$" is money here: the cost is plain text in the bar's postfix, never Markdown.
        self._bar.set_postfix_str(
            f"failed={self.failed} cost={_money(self.cost, self.unpriced)}", refresh=False
        )
        self._bar.update(1)

    def close(self, *, interrupted: bool = False) -> None:
        if interrupted:
            self._bar.set_description_str("interrupted")
        self._bar.close()


def make_progress(progress: Any, total: int, what: str = "calls") -> Progress:
    """None: a bar in notebooks only; True/False: a bar or none; a callable: called per item."""
    if callable(progress):
        return _Callback(total, progress)
    show = in_notebook() if progress is None else bool(progress)
    if show and total > 0:
        return _Bar(total, what)
    return _Silent(total)
