"""``m.chat_many(items)``: one chat call per item, concurrently, aligned with the inputs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._batch import NOT_RUN, run_batch
from ._endpoint import Endpoint
from ._http import RetryPolicy
from ._results import ChatResult

__all__ = ["ChatBatch", "chat_many"]


class ChatBatch(list[Any]):
    """The answers of ``chat_many``, one entry per input, in input order.

    Each entry is the item's :class:`ChatResult`, the exception it failed with
    (one failure never loses the others), or None when the batch was
    interrupted before the item finished (``interrupted`` is then True).
    """

    interrupted: bool = False
    lowest_concurrency: int | None = None
    """The lowest concurrency the batch went down to after 429s."""

    @property
    def texts(self) -> list[str | None]:
        """The answers' text; None where an item failed or did not run."""
        return [e.text if isinstance(e, ChatResult) else None for e in self]

    @property
    def errors(self) -> list[BaseException | None]:
        """The exception of each failed item; None where it succeeded or did not run."""
        return [e if isinstance(e, BaseException) else None for e in self]

    @property
    def results(self) -> list[ChatResult]:
        """The successful answers only."""
        return [e for e in self if isinstance(e, ChatResult)]

    @property
    def usage(self) -> dict[str, Any] | None:
        """Token counts summed over the answers (cache hits included as reported)."""
        totals: dict[str, Any] = {}
        for result in self.results:
            for key, value in (result.usage or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
        return totals or None

    @property
    def cost(self) -> float | None:
        """USD over the answers; None when any answer's price is unknown."""
        total = 0.0
        for result in self.results:
            if result.cost is None:
                return None
            total += result.cost
        return total

    def __repr__(self) -> str:
        ok = len(self.results)
        failed = sum(1 for e in self if isinstance(e, BaseException))
        cost = self.cost
        money = "unknown" if cost is None else f"${cost:.4f}"
        state = ", interrupted" if self.interrupted else ""
        return f"<ChatBatch {len(self)} items: {ok} ok, {failed} failed{state}; cost {money}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def chat_many(
    endpoint: Endpoint,
    items: Iterable[Any],
    *,
    concurrency: int = 8,
    progress: Any = None,
    system: str | None = None,
    params: dict[str, Any] | None = None,
) -> ChatBatch:
    """See :meth:`takopi_nb.ResolvedModel.chat_many`."""
    from ._calls import chat

    if isinstance(items, str):
        raise TypeError(
            "chat_many() takes a list (or Series) of prompts, not one string: "
            "use chat() for a single prompt, or wrap it in a list."
        )
    prompts = list(items)
    shared = dict(params or {})
    if shared.pop("stream", False):
        raise ValueError("chat_many() does not stream: drop stream=True (use achat() for that).")

    def one(item: Any, policy: RetryPolicy) -> ChatResult:
        result = chat(endpoint, item, system=system, params=shared, policy=policy)
        assert isinstance(result, ChatResult)  # stream=False
        return result

    run = run_batch(one, prompts, concurrency=concurrency, progress=progress, what="chat")
    batch = ChatBatch(None if o is NOT_RUN else o for o in run.outcomes)
    batch.interrupted = run.interrupted
    batch.lowest_concurrency = run.lowest_concurrency
    return batch
