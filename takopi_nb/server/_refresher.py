"""A background job that keeps the models.dev catalog cache fresh while a Jupyter server runs.

It lives on the server's asyncio loop (an :class:`asyncio.Task` that sleeps
between runs) and does the blocking fetch in a *daemon* thread
(:mod:`.threads`), so the loop never waits on the network and a hung fetch can
never hold up the server's exit. :meth:`CatalogRefresher.stop` cancels the
task and gives a fetch in flight a few seconds to finish.

This module imports neither jupyter_server nor the catalog: the job to run is
passed in, which keeps it cheap to import and easy to test.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from .._switches import offline_by_env
from ._threads import start_in_daemon_thread

__all__ = ["CatalogRefresher", "Offline", "offline_reason"]

log = logging.getLogger("takopi_nb.server")

THREAD_NAME = "takopi-catalog-refresh"


class Offline(NamedTuple):
    """A job's result when the network could not be reached: a state, not a failure.

    The refresher logs it once at info level (and again only after it was back
    online), keeps retrying, and does not count it among the failures.
    """

    reason: str
    using: str = ""
    """What serves meanwhile, e.g. ``"bundled snapshot of 2026-07-01"``."""


def offline_reason() -> str | None:
    """Why the refresher must not run (``TAKOPI_NB_OFFLINE`` is on), or None."""
    if not offline_by_env():
        return None
    return f"TAKOPI_NB_OFFLINE={os.environ['TAKOPI_NB_OFFLINE']} is set"


class CatalogRefresher:
    """Run ``job`` now and then every ``interval`` seconds until stopped.

    ``job`` is blocking and returns an error text, an :class:`Offline` (no network:
    logged once, at info level), or None on success; an exception it raises counts
    as an error too. After an error or offline, the next try comes after
    ``min(interval, retry_after_error)``. Each wait is spread by
    ``jitter`` (a fraction) so that many servers started together (a
    JupyterHub) do not all fetch at the same moment.
    """

    def __init__(
        self,
        job: Callable[[], str | Offline | None],
        interval: float,
        *,
        initial_delay: float = 0.0,
        retry_after_error: float = 600.0,
        jitter: float = 0.1,
        disabled_reason: str | None = None,
    ) -> None:
        self._job = job
        self.interval = float(interval)
        self.initial_delay = max(0.0, float(initial_delay))
        self.retry_after_error = float(retry_after_error)
        self.jitter = max(0.0, min(float(jitter), 0.5))
        if disabled_reason is None and self.interval <= 0:
            disabled_reason = "catalog_refresh_interval is 0"
        self.disabled_reason = disabled_reason
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.runs = 0
        self.failures = 0
        self.last_started: float | None = None
        self.last_finished: float | None = None
        self.last_error: str | None = None
        self.offline: str | None = None
        """Why the network is unreachable, while it is; None when online (or not known yet)."""
        self.next_run: float | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else (self.disabled_reason or "stopped")
        return f"<CatalogRefresher every {self.interval:g}s, {state}, runs={self.runs}>"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def busy(self) -> bool:
        """A fetch is in flight right now."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start on the running event loop; returns False (and does nothing) when disabled."""
        if self.disabled_reason is not None:
            log.info("takopi_nb: background catalog refresh is off (%s)", self.disabled_reason)
            return False
        if self.running or self._stopped:
            return self.running
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=THREAD_NAME)
        log.info("takopi_nb: refreshing the models.dev catalog every %g s", self.interval)
        return True

    async def stop(self, timeout: float = 3.0) -> None:
        """Cancel the job; wait up to ``timeout`` seconds for a fetch in flight to end."""
        self._stopped = True
        self.next_run = None
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.busy:
            log.warning(
                "takopi_nb: a catalog fetch is still running at shutdown; it is left to end "
                "on its own (daemon thread)"
            )
        elif task is not None:
            log.info("takopi_nb: catalog refresher stopped")

    def status(self) -> dict[str, Any]:
        """A JSON-ready summary for the REST API."""
        return {
            "enabled": self.disabled_reason is None,
            "disabled_reason": self.disabled_reason,
            "running": self.running,
            "busy": self.busy,
            "interval_seconds": self.interval,
            "runs": self.runs,
            "failures": self.failures,
            "last_started": _iso(self.last_started),
            "last_finished": _iso(self.last_finished),
            "last_error": self.last_error,
            "offline": self.offline,
            "next_run": _iso(self.next_run),
        }

    # -- internals ------------------------------------------------------------------------

    def _spread(self, delay: float) -> float:
        if delay <= 0 or not self.jitter:
            return delay
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter)

    async def _loop(self) -> None:
        delay = self.initial_delay
        while True:
            self.next_run = time.time() + delay
            await asyncio.sleep(delay)
            ok = await self._run_once()
            delay = self._spread(
                self.interval if ok else min(self.interval, self.retry_after_error)
            )

    async def _run_once(self) -> bool:
        if self.busy:  # the previous fetch has not ended (slow network): do not pile up
            return False
        self.last_started = time.time()
        self.next_run = None
        self._thread, done = start_in_daemon_thread(self._job, THREAD_NAME)
        try:
            problem = await done
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        self.runs += 1
        self.last_finished = time.time()
        if isinstance(problem, Offline):
            self.last_error = None
            if self.offline is None:
                log.info(
                    "takopi_nb: offline: using the cached/bundled catalog%s; retrying in the "
                    "background. %s",
                    f" ({problem.using})" if problem.using else "",
                    problem.reason,
                )
            self.offline = problem.reason
            return False
        self.last_error = problem
        if problem:
            self.offline = None  # the network answered, with an error
            self.failures += 1
            log.warning("takopi_nb: background catalog refresh failed: %s", problem)
            return False
        if self.offline is not None:
            log.info("takopi_nb: back online: catalog refreshed")
        self.offline = None
        log.debug("takopi_nb: catalog refreshed in the background")
        return True


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")
