"""The device-code sign-in as a pure state machine.

:func:`device_flow` is a generator. It yields *steps*: an :class:`HttpRequest`
to send (the driver sends back an :class:`HttpReply`), a :class:`Wait` to sleep,
or a :class:`Progress` to show; and it returns an :class:`Outcome`. It never
does I/O and reads time only through the ``clock`` it is given, so every path
(pending, slow_down, expiry, the 15-minute limit, denial, 404) can be tested by
feeding it replies and a fake clock. :mod:`takopi_nb.codex._driver` runs it on a
thread with httpx.

Protocol (note §1): ``POST {issuer}/api/accounts/deviceauth/usercode`` →
poll ``POST .../deviceauth/token`` until 2xx → exchange the authorization code
with the server-made PKCE verifier at ``POST {issuer}/oauth/token`` (form).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ._constants import (
    CLIENT_ID,
    DEFAULT_INTERVAL,
    MAX_WAIT,
    MIN_INTERVAL,
    SLOW_DOWN_STEP,
    redirect_uri,
    verification_url,
)
from ._tokens import TokenSet

__all__ = [
    "FINAL_STATES",
    "DeviceFlow",
    "HttpReply",
    "HttpRequest",
    "Outcome",
    "Progress",
    "Wait",
    "classify_poll",
    "device_flow",
    "error_code",
    "parse_expires_at",
    "parse_interval",
]

FlowState = Literal[
    "requesting", "waiting", "exchanging", "signed_in", "expired", "denied", "cancelled", "error"
]
FINAL_STATES = frozenset({"signed_in", "expired", "denied", "cancelled", "error"})

ENABLE_HINT = (
    "If the page would not let you approve, turn on ChatGPT → Settings → Security → "
    '"Enable device code authorization for Codex" first.'
)
MAX_TRANSIENT_POLLS = 10
"""Consecutive unanswered or 5xx polls before giving up (a blip is fine, an outage is not)."""
MAX_EXCHANGE_ATTEMPTS = 2


# -- steps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """A request for the driver to send. Bodies hold one-time codes: kept out of repr."""

    method: str
    url: str
    json: Mapping[str, Any] | None = field(default=None, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HttpReply:
    """The answer to an :class:`HttpRequest`; ``status`` 0 when none came (``error`` says why)."""

    status: int
    body: bytes = field(default=b"", repr=False)
    error: str | None = None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class Progress:
    """A state to show. ``expires_at`` is the local deadline (epoch seconds)."""

    state: FlowState
    user_code: str = ""
    verification_url: str = ""
    expires_at: float | None = None


@dataclass(frozen=True)
class Outcome:
    state: FlowState
    error: str | None = None
    tokens: TokenSet | None = None


Step = HttpRequest | Wait | Progress
DeviceFlow = Generator[Step, "HttpReply | None", Outcome]


# -- parsing --------------------------------------------------------------------------------


def parse_interval(value: Any) -> float:
    """Seconds between polls: a number or a numeric string; 5 when missing, at least 1."""
    if isinstance(value, bool):
        return DEFAULT_INTERVAL
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return DEFAULT_INTERVAL
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return DEFAULT_INTERVAL
    return max(float(value), MIN_INTERVAL)


def parse_expires_at(value: Any) -> float | None:
    """An ISO-8601 timestamp (with offset, or ``Z``, or naive = UTC) or epoch seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat() learned "Z" only in Python 3.11
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def error_code(body: Any) -> tuple[str, str]:
    """(code, message) of an error body, lower-cased code.

    Servers put the code in ``error.code`` (object form), in ``error`` (string
    form, OAuth style, with ``error_description``), or in a top-level ``code``.
    """
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    code: Any = ""
    message: Any = ""
    if isinstance(error, dict):
        code = error.get("code") or error.get("type") or ""
        message = error.get("message") or ""
    elif isinstance(error, str):
        code = error
        message = body.get("error_description") or ""
    else:
        code = body.get("code") or ""
        message = body.get("message") or body.get("detail") or ""
    return (
        code.lower() if isinstance(code, str) else "",
        message if isinstance(message, str) else "",
    )


PollVerdict = Literal["pending", "slow_down", "expired", "denied", "transient", "fatal"]


def classify_poll(reply: HttpReply) -> PollVerdict:
    """What a non-2xx answer to a poll means (protocol note §6.2)."""
    code, message = error_code(reply.json())
    if code in ("deviceauth_authorization_pending", "authorization_pending"):
        return "pending"
    if code == "slow_down":
        return "slow_down"
    # The live codes for expiry and denial are not documented: key on the words.
    words = f"{code} {message}".lower()
    if "expired" in words:
        return "expired"
    if "denied" in words or "declined" in words:
        return "denied"
    if reply.status in (403, 404):
        return "pending"
    if reply.status == 0 or reply.status == 429 or reply.status >= 500:
        return "transient"
    return "fatal"


def _detail(reply: HttpReply) -> str:
    """A short description of an error answer for a message (one-time codes never echo back)."""
    code, message = error_code(reply.json())
    detail = message or code
    if not detail:
        detail = reply.body.decode("utf-8", "replace").strip()
    return detail[:200]


def _unreachable(issuer: str, reply: HttpReply) -> str:
    return f"Could not reach the sign-in server {issuer} ({reply.error or 'no answer'})."


# -- the machine ----------------------------------------------------------------------------


def device_flow(
    issuer: str,
    clock: Callable[[], float],
    *,
    client_id: str = CLIENT_ID,
    max_wait: float = MAX_WAIT,
) -> DeviceFlow:
    """Run one device-code sign-in against ``issuer``; see the module docstring."""
    issuer = issuer.rstrip("/")
    yield Progress("requesting")

    # Step A: ask for a user code.
    reply = yield HttpRequest(
        "POST", f"{issuer}/api/accounts/deviceauth/usercode", json={"client_id": client_id}
    )
    assert reply is not None
    if reply.status == 0:
        return Outcome("error", _unreachable(issuer, reply) + " Check the network and retry.")
    if reply.status == 404:
        return Outcome(
            "error",
            f"Device-code sign-in is not enabled on {issuer} (it answered 404). "
            "Check the issuer URL (TAKOPI_NB_CODEX_ISSUER or TakopiConfig.codex_issuer).",
        )
    if not reply.ok:
        return Outcome(
            "error",
            f"Could not get a sign-in code: {issuer} answered status {reply.status}. "
            "Try again in a moment.",
        )
    data = reply.json()
    if not isinstance(data, dict):
        data = {}
    device_auth_id = data.get("device_auth_id")
    user_code = data.get("user_code") or data.get("usercode")
    if not (isinstance(device_auth_id, str) and device_auth_id) or not (
        isinstance(user_code, str) and user_code
    ):
        return Outcome(
            "error", f"The sign-in server {issuer} sent an incomplete answer (no user code)."
        )
    interval = parse_interval(data.get("interval"))
    started = clock()
    deadline = started + max_wait
    server_expiry = parse_expires_at(data.get("expires_at"))
    # A server expiry in our past is clock skew, not a zero-second code: ignore it then.
    if server_expiry is not None and started < server_expiry < deadline:
        deadline = server_expiry
    yield Progress("waiting", user_code, verification_url(issuer), deadline)

    # Step B: poll until approved, refused, or out of time.
    poll = HttpRequest(
        "POST",
        f"{issuer}/api/accounts/deviceauth/token",
        json={"device_auth_id": device_auth_id, "user_code": user_code},
    )
    transient = 0
    while True:
        reply = yield poll
        assert reply is not None
        if reply.ok:
            break
        verdict = classify_poll(reply)
        if verdict == "expired":
            return Outcome(
                "expired",
                f"The code {user_code} expired before it was approved. Start sign-in again.",
            )
        if verdict == "denied":
            return Outcome(
                "denied",
                "Sign-in was declined on the ChatGPT page. Start sign-in again if that was "
                "not intended.",
            )
        if verdict == "fatal":
            return Outcome(
                "error",
                f"Sign-in failed: {issuer} answered status {reply.status} while waiting for "
                f"approval ({_detail(reply)}). Start sign-in again.",
            )
        if verdict == "transient":
            transient += 1
            if transient >= MAX_TRANSIENT_POLLS:
                why = (
                    _unreachable(issuer, reply)
                    if reply.status == 0
                    else (f"{issuer} kept answering status {reply.status}.")
                )
                return Outcome("error", f"Sign-in stopped: {why} Start sign-in again later.")
        else:
            transient = 0
        if verdict == "slow_down":
            interval += SLOW_DOWN_STEP
        now = clock()
        if now >= deadline:
            minutes = max(1, round((deadline - started) / 60))
            return Outcome(
                "expired",
                f"Sign-in timed out after {minutes} minutes without approval of the code "
                f"{user_code}. Start sign-in again. {ENABLE_HINT}",
            )
        yield Wait(min(interval, deadline - now))

    data = reply.json()
    code = data.get("authorization_code") if isinstance(data, dict) else None
    verifier = data.get("code_verifier") if isinstance(data, dict) else None
    if not (isinstance(code, str) and code and isinstance(verifier, str) and verifier):
        return Outcome(
            "error",
            f"The sign-in server {issuer} approved the code but sent no authorization code. "
            "Start sign-in again.",
        )

    # Step C: exchange the code for tokens (form-encoded, like the Codex CLI).
    yield Progress("exchanging", user_code, verification_url(issuer), deadline)
    exchange = HttpRequest(
        "POST",
        f"{issuer}/oauth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(issuer),
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    for attempt in range(1, MAX_EXCHANGE_ATTEMPTS + 1):
        reply = yield exchange
        assert reply is not None
        if reply.ok:
            try:
                tokens = TokenSet.from_token_response(reply.json(), clock())
            except ValueError as exc:
                return Outcome("error", f"Sign-in failed: {exc}. Start sign-in again.")
            return Outcome("signed_in", None, tokens)
        # Only an answer that never came or a server error is worth one more try; the
        # code is single use, so anything else is final.
        retry = reply.status == 0 or reply.status >= 500
        if not retry or attempt == MAX_EXCHANGE_ATTEMPTS:
            break
        yield Wait(MIN_INTERVAL)
    if reply.status == 0:
        why = _unreachable(issuer, reply)
    else:
        why = f"the token endpoint answered status {reply.status}: {_detail(reply)}."
    return Outcome("error", f"Sign-in failed while exchanging the code: {why} Start sign-in again.")
