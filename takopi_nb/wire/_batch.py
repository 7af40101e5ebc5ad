"""Running many calls at once: ``chat_many`` and the batches of a long ``embed()``.

The calls run on worker threads over the provider's pooled client, at most
``concurrency`` in flight. A 429 halves that limit (once per round of
requests, as TCP does) and every ``limit`` successes in a row raise it by one
again; the retry itself waits what ``Retry-After`` asks, and the endpoint's gate
(:mod:`._gate`) holds every other worker back meanwhile. Failures are kept in
place of their item: one bad prompt never loses the others.

The caller's thread only waits and reports progress, so an interrupt (Ctrl-C,
the kernel's Interrupt) lands there: nothing new is sent, the requests on the
wire are cut (each worker runs in a :class:`~._cancel.CallScope`), and what
finished is returned marked ``interrupted``.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ._cancel import CallCancelled, CallScope, current_scope, enter_scope
from ._http import RetryPolicy, default_retry
from ._progress import Progress, make_progress

__all__ = ["BatchRun", "Limiter", "run_batch"]

T = TypeVar("T")

NOT_RUN: Any = object()
"""What a worker returns for an item it never sent (the batch was interrupted)."""


class Limiter:
    """At most ``limit`` holders at once; the limit adapts (see the module docstring)."""

    def __init__(self, limit: int) -> None:
        self.ceiling = max(1, int(limit))
        self.limit = self.ceiling
        self.lowest = self.ceiling
        self._active = 0
        self._streak = 0
        self._epoch = 0
        self._stopped = False
        self._cond = threading.Condition()

    def acquire(self) -> int | None:
        """Wait for a free place; returns the current round, or None once stopped."""
        with self._cond:
            while not self._stopped and self._active >= self.limit:
                self._cond.wait()
            if self._stopped:
                return None
            self._active += 1
            return self._epoch

    def release(self, ok: bool) -> None:
        with self._cond:
            self._active -= 1
            if ok:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.ceiling:
                    self.limit += 1
                    self._streak = 0
            self._cond.notify_all()

    def throttled(self, epoch: int) -> None:
        """A request of round ``epoch`` was told to slow down: halve the limit once per round."""
        with self._cond:
            if epoch != self._epoch:
                return  # already lowered for the requests that were in flight together
            self.limit = max(1, self.limit // 2)
            self.lowest = min(self.lowest, self.limit)
            self._epoch += 1
            self._streak = 0

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopped


class _Stopped(Exception):
    """Raised in a worker waiting to retry when the batch was interrupted meanwhile."""


@dataclasses.dataclass
class BatchRun(Generic[T]):
    """Per item: its value, its exception, or ``NOT_RUN``; and whether it was interrupted."""

    outcomes: list[Any]
    interrupted: bool
    lowest_concurrency: int


def run_batch(
    task: Callable[[T, RetryPolicy], Any],
    items: Sequence[T],
    *,
    concurrency: int,
    progress: Any = None,
    what: str = "calls",
    policy: RetryPolicy | None = None,
) -> BatchRun[T]:
    """Run ``task(item, retry_policy)`` for every item; see the module docstring.

    ``progress``: None (a bar in notebooks only), True, False, or a callable
    given a :class:`~takopi_nb.wire._progress.BatchProgress` after each item.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}.")
    total = len(items)
    limiter = Limiter(min(concurrency, max(1, total)))
    base = policy or default_retry()
    outcomes: list[Any] = [NOT_RUN] * total
    bar: Progress = make_progress(progress, total, what)

    def work(index: int, scope: CallScope) -> Any:
        epoch = limiter.acquire()
        if epoch is None:
            return NOT_RUN

        def on_retry(status: int | None, retry_after: float | None) -> None:
            if status == 429:
                limiter.throttled(epoch)

        def sleep(seconds: float) -> None:
            base.sleep(seconds)
            if limiter.stopped:  # interrupted while waiting: do not send the retry
                raise _Stopped

        ok = False
        try:
            value = task(items[index], dataclasses.replace(base, on_retry=on_retry, sleep=sleep))
            ok = True
            return value
        except (_Stopped, CallCancelled):
            return NOT_RUN
        except Exception as exc:  # kept in place of the item, unless it is the cut's doing
            return NOT_RUN if scope.cancelled else exc
        finally:
            limiter.release(ok)

    # Workers take the next index and report (index, outcome) on a queue: the caller's
    # thread pays O(1) per finished item, and daemon threads never hold up the exit.
    finished: queue.Queue[tuple[int, Any]] = queue.Queue()
    next_index = iter(range(total))
    take = threading.Lock()

    def worker(scope: CallScope) -> None:
        enter_scope(scope)
        while not limiter.stopped:
            with take:
                index = next(next_index, None)
            if index is None:
                return
            finished.put((index, work(index, scope)))

    # Inside a cancellable call (aembed of many batches), the workers are cut with it.
    parent = current_scope()
    scopes = [parent.child() if parent else CallScope() for _ in range(limiter.ceiling)]
    threads = [
        threading.Thread(target=worker, args=(scope,), name=f"takopi-batch-{n}", daemon=True)
        for n, scope in enumerate(scopes)
    ]
    interrupted = False
    received = 0
    try:
        for thread in threads:
            thread.start()
        while received < total:
            try:
                index, value = finished.get(timeout=0.5)
            except queue.Empty:
                if parent is not None and parent.cancelled:
                    raise KeyboardInterrupt from None  # as if interrupted: stop, return
                continue
            received += 1
            outcomes[index] = value
            bar.update(value)
    except KeyboardInterrupt:
        # Nothing new is sent, and the calls on the wire are cut rather than left to run.
        interrupted = True
        limiter.stop()
        for scope in scopes:
            scope.cancel()
        while True:
            try:
                index, value = finished.get_nowait()
            except queue.Empty:
                break
            outcomes[index] = value
    finally:
        bar.close(interrupted=interrupted)
    return BatchRun(outcomes, interrupted, limiter.lowest)
