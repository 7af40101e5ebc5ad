"""Runs the device-code state machine on a daemon thread and mirrors it in traits.

The thread never touches the kernel's event loop, so the notebook stays usable
while it polls, and it works the same in a script without any loop. Trait
changes happen on that thread; the panel observes them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from traitlets import Float, HasTraits, Instance, Int, Unicode

from ._device_flow import (
    FINAL_STATES,
    HttpReply,
    HttpRequest,
    Outcome,
    Progress,
    Wait,
    device_flow,
)
from ._tokens import CodexAccount

if TYPE_CHECKING:
    import httpx

    from .._secrets import SecretStore

__all__ = ["DeviceCodeFlow"]

log = logging.getLogger("takopi_nb.codex")

HTTP_TIMEOUT = 15.0
_flows: weakref.WeakSet[DeviceCodeFlow] = weakref.WeakSet()


class DeviceCodeFlow(HasTraits):
    """One "Sign in with ChatGPT" attempt. Start it with :meth:`start` (``login()`` does).

    Open :attr:`verification_url`, type :attr:`user_code`, approve; :attr:`state`
    becomes ``"signed_in"`` and :attr:`account` says who. :meth:`wait` blocks
    until the flow ends (for scripts); :meth:`cancel` stops it.
    """

    provider_id = Unicode("")
    state = Unicode("requesting")
    """requesting | waiting | exchanging | signed_in | expired | denied | cancelled | error"""
    user_code = Unicode("")
    verification_url = Unicode("")
    expires_at = Float(None, allow_none=True)
    """Epoch seconds when this attempt gives up (the code's expiry, 15 minutes at most)."""
    seconds_left = Int(0)
    error = Unicode(None, allow_none=True)
    account = Instance(CodexAccount, allow_none=True)

    def __init__(
        self,
        *,
        provider_id: str,
        issuer: str,
        secrets: SecretStore,
        clock: Callable[[], float] = time.time,
        max_wait: float | None = None,
    ) -> None:
        super().__init__(provider_id=provider_id)
        self._issuer = issuer.rstrip("/")
        self._secrets = secrets
        self._clock = clock
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    # -- public ---------------------------------------------------------------------------

    def start(self) -> DeviceCodeFlow:
        """Start polling on a daemon thread and return at once."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"takopi-codex-login-{self.provider_id}", daemon=True
            )
            _flows.add(self)
            self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    def wait(self, timeout: float | None = None) -> str:
        """Block until the flow ends (or ``timeout`` seconds pass); returns the state."""
        self._done.wait(timeout)
        return str(self.state)

    def cancel(self) -> None:
        """Stop waiting for approval. No effect once the flow has ended."""
        with self._lock:
            if self._done.is_set():
                return
            self._cancelled.set()
            self.error = None
            self.state = "cancelled"
            self._done.set()

    def describe(self) -> str:
        """One sentence for a notebook or a log: what to do now, or how it ended."""
        state = self.state
        if state == "waiting":
            minutes, seconds = divmod(max(self.seconds_left, 0), 60)
            return (
                f"Open {self.verification_url} and enter the code {self.user_code} "
                f"(expires in {minutes}:{seconds:02d})."
            )
        if state == "signed_in":
            return f"Signed in as {self.account}." if self.account else "Signed in."
        if state in ("requesting", "exchanging"):
            return {"requesting": "Requesting a sign-in code…", "exchanging": "Finishing sign-in…"}[
                state
            ]
        if state == "cancelled":
            return "Sign-in cancelled."
        return self.error or f"Sign-in {state}."

    def __repr__(self) -> str:
        return f"<DeviceCodeFlow {self.provider_id!r} {self.state}: {self.describe()}>"

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            outcome = self._drive()
        except Exception as exc:  # the thread must always end the flow, never die silently
            log.exception("Codex sign-in of provider %r failed unexpectedly", self.provider_id)
            outcome = Outcome("error", f"Sign-in failed unexpectedly ({type(exc).__name__}).")
        self._finish(outcome)

    def _drive(self) -> Outcome:
        import httpx

        from ._backend import user_agent

        kwargs: dict[str, Any] = {}
        if self._max_wait is not None:
            kwargs["max_wait"] = self._max_wait
        machine = device_flow(self._issuer, self._clock, **kwargs)
        headers = {"User-Agent": user_agent()}
        with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False, headers=headers) as client:
            reply: HttpReply | None = None
            while True:
                if self._cancelled.is_set():
                    machine.close()
                    return Outcome("cancelled")
                try:
                    step = machine.send(reply)
                except StopIteration as stop:
                    outcome: Outcome = stop.value
                    return outcome
                reply = None
                if isinstance(step, HttpRequest):
                    reply = self._send(client, step)
                elif isinstance(step, Wait):
                    self._sleep(step.seconds)
                elif isinstance(step, Progress):
                    self._show(step)

    @staticmethod
    def _send(client: httpx.Client, request: HttpRequest) -> HttpReply:
        import httpx

        try:
            response = client.request(
                request.method,
                request.url,
                json=dict(request.json) if request.json is not None else None,
                data=dict(request.form) if request.form is not None else None,
            )
        except httpx.HTTPError as exc:
            return HttpReply(0, b"", type(exc).__name__)
        return HttpReply(response.status_code, response.content)

    def _sleep(self, seconds: float) -> None:
        """Sleep in slices of at most a second, updating the countdown; wakes on cancel."""
        start_clock = self._clock()
        start_mono = time.monotonic()
        while not self._cancelled.is_set():
            self._tick()
            # Either clock may end the wait: an injected clock can jump ahead, and the
            # real one guarantees progress if the injected one stands still.
            remaining = min(
                seconds - (self._clock() - start_clock), seconds - (time.monotonic() - start_mono)
            )
            if remaining <= 0:
                break
            self._cancelled.wait(min(1.0, remaining))
        self._tick()

    def _tick(self) -> None:
        if self.expires_at is not None and not self._done.is_set():
            self.seconds_left = max(0, math.ceil(self.expires_at - self._clock()))

    def _show(self, progress: Progress) -> None:
        with self._lock:
            if self._done.is_set():
                return
            if progress.user_code:
                self.user_code = progress.user_code
                self.verification_url = progress.verification_url
                self.expires_at = progress.expires_at
                self._tick()
            self.state = progress.state

    def _finish(self, outcome: Outcome) -> None:
        from ._refresh import revoke_refresh_token

        tokens = outcome.tokens
        replaced: str | None = None
        with self._lock:
            discard = self._done.is_set()
            if not discard:
                replaced = self._end(outcome)
        if discard and tokens is not None:
            # Cancelled while the last request was in flight: drop what it brought.
            revoke_refresh_token(self._issuer, tokens.refresh_token)
        if replaced is not None:
            # After the state is shown: a slow revoke must not delay "signed in".
            revoke_refresh_token(self._issuer, replaced)

    def _end(self, outcome: Outcome) -> str | None:
        """Save a sign-in and set the final state (``self._lock`` held).

        Returns the refresh token of the sign-in this one replaced, to revoke.
        """
        from ._refresh import save_new_login

        tokens = outcome.tokens
        replaced: str | None = None
        if outcome.state == "signed_in" and tokens is not None:
            try:
                replaced = save_new_login(self._secrets, self.provider_id, tokens)
            except Exception as exc:
                log.warning(
                    "Could not save the ChatGPT sign-in of provider %r (%s)",
                    self.provider_id,
                    type(exc).__name__,
                )
                outcome = Outcome(
                    "error",
                    f"Signed in, but the tokens could not be saved ({exc}). "
                    "Fix the secret store and sign in again.",
                )
            else:
                from ._backend import forget_models

                forget_models(self.provider_id)
                self.account = tokens.account
        self.error = outcome.error
        self.state = outcome.state
        if self.expires_at is not None:
            self.seconds_left = 0
        self._done.set()
        return replaced


def _reset() -> None:
    """Cancel every flow still running (test isolation; a kernel restart does this anyway)."""
    for flow in list(_flows):
        flow.cancel()
