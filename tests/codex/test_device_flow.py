"""The device-code state machine, fed scripted replies and a fake clock (no I/O, no sleeping)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from takopi_nb.codex._constants import CLIENT_ID
from takopi_nb.codex._device_flow import (
    HttpReply,
    HttpRequest,
    Outcome,
    Progress,
    Wait,
    classify_poll,
    device_flow,
    parse_expires_at,
    parse_interval,
)
from tests.fakes.codex_server import make_jwt

ISSUER = "https://auth.example"
T0 = 1_700_000_000.0


def reply(status: int, body: Any = None) -> HttpReply:
    return HttpReply(status, json.dumps(body).encode() if body is not None else b"")


def pending() -> HttpReply:
    return reply(403, {"error": {"code": "deviceauth_authorization_pending", "message": "wait"}})


def usercode(interval: Any = "5", expires_in: float | None = 900.0, **extra: Any) -> HttpReply:
    body: dict[str, Any] = {"device_auth_id": "deviceauth_ab12", "user_code": "ABCD-EFGHI"}
    if interval is not ...:
        body["interval"] = interval
    if expires_in is not None:
        from datetime import datetime, timezone

        body["expires_at"] = datetime.fromtimestamp(T0 + expires_in, timezone.utc).isoformat()
    body.update(extra)
    return reply(200, body)


APPROVAL = reply(
    200, {"authorization_code": "ac_1", "code_challenge": "ch", "code_verifier": "ver_1"}
)


def token_response(exp: float = T0 + 3600) -> HttpReply:
    auth = {"chatgpt_account_id": "acct_9", "chatgpt_plan_type": "pro"}
    return reply(
        200,
        {
            "id_token": make_jwt(
                {"email": "e@x.org", "exp": exp, "https://api.openai.com/auth": auth}
            ),
            "access_token": make_jwt({"exp": exp, "https://api.openai.com/auth": auth}),
            "refresh_token": "rt_1",
            "expires_in": 3600,
        },
    )


@dataclass
class Run:
    outcome: Outcome
    requests: list[HttpRequest] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.url.removeprefix(ISSUER) for r in self.requests]


def run(answers: dict[str, Iterator[HttpReply] | Callable[[], HttpReply]], **kwargs: Any) -> Run:
    """Drive the machine: answer each request from ``answers`` (by path), advance the clock on Wait."""
    now = [T0]
    machine = device_flow(ISSUER, lambda: now[0], **kwargs)
    result = Run(Outcome("error"))
    sent: HttpReply | None = None
    for _ in range(10_000):
        try:
            step = machine.send(sent)
        except StopIteration as stop:
            result.outcome = stop.value
            return result
        sent = None
        if isinstance(step, HttpRequest):
            result.requests.append(step)
            source = answers[step.url.removeprefix(ISSUER)]
            sent = source() if callable(source) else next(source)
        elif isinstance(step, Wait):
            assert step.seconds > 0
            result.waits.append(step.seconds)
            now[0] += step.seconds
        else:
            result.progress.append(step)
    raise AssertionError("the machine did not finish")


USERCODE = "/api/accounts/deviceauth/usercode"
POLL = "/api/accounts/deviceauth/token"
TOKEN = "/oauth/token"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("5", 5.0),
        (7, 7.0),
        ("2.5", 2.5),
        ("0", 1.0),  # the minimum is one second
        (0, 1.0),
        (-3, 1.0),
        (None, 5.0),  # missing → default
        ("soon", 5.0),
        (True, 5.0),
        (float("nan"), 5.0),
    ],
)
def test_parse_interval(raw: Any, seconds: float) -> None:
    assert parse_interval(raw) == seconds


def test_parse_expires_at_forms() -> None:
    assert parse_expires_at("2025-01-01T00:00:00+00:00") == 1735689600.0
    assert parse_expires_at("2025-01-01T00:00:00Z") == 1735689600.0
    assert parse_expires_at("2025-01-01T01:00:00+01:00") == 1735689600.0
    assert parse_expires_at("2025-01-01T00:00:00") == 1735689600.0  # naive = UTC
    assert parse_expires_at(1735689600) == 1735689600.0
    assert parse_expires_at("tomorrow") is None
    assert parse_expires_at(None) is None


def test_pending_then_approved_then_exchange() -> None:
    polls = iter([pending(), pending(), APPROVAL])
    result = run({USERCODE: iter([usercode("2")]), POLL: polls, TOKEN: iter([token_response()])})
    assert result.outcome.state == "signed_in" and result.outcome.error is None
    tokens = result.outcome.tokens
    assert tokens is not None and tokens.refresh_token == "rt_1"
    assert tokens.account.email == "e@x.org" and tokens.account.plan == "pro"
    assert tokens.account_id == "acct_9"
    assert result.paths() == [USERCODE, POLL, POLL, POLL, TOKEN]
    assert result.waits == [2.0, 2.0]
    assert [p.state for p in result.progress] == ["requesting", "waiting", "exchanging"]
    waiting = result.progress[1]
    assert waiting.user_code == "ABCD-EFGHI"
    assert waiting.verification_url == f"{ISSUER}/codex/device"
    assert waiting.expires_at == T0 + 900
    # Request bodies as the protocol wants them.
    assert result.requests[0].json == {"client_id": CLIENT_ID}
    assert result.requests[1].json == {
        "device_auth_id": "deviceauth_ab12",
        "user_code": "ABCD-EFGHI",
    }
    exchange = result.requests[-1]
    assert exchange.json is None and exchange.form == {
        "grant_type": "authorization_code",
        "code": "ac_1",
        "redirect_uri": f"{ISSUER}/deviceauth/callback",
        "client_id": CLIENT_ID,
        "code_verifier": "ver_1",
    }
    assert "ver_1" not in repr(exchange)  # one-time secrets stay out of reprs


def test_usercode_alias_and_numeric_interval() -> None:
    body = {"device_auth_id": "deviceauth_1", "usercode": "WXYZ-ABCDE", "interval": 3}
    result = run(
        {
            USERCODE: iter([reply(200, body)]),
            POLL: iter([pending(), APPROVAL]),
            TOKEN: iter([token_response()]),
        }
    )
    assert result.outcome.state == "signed_in"
    assert result.waits == [3.0]
    assert result.progress[1].expires_at == T0 + 900  # no server expiry: the 15-minute limit


def test_404_at_usercode_says_device_login_not_enabled() -> None:
    result = run({USERCODE: iter([reply(404, {"detail": "Not Found"})])})
    assert result.outcome.state == "error"
    assert "not enabled" in (result.outcome.error or "")
    assert ISSUER in (result.outcome.error or "")
    assert result.paths() == [USERCODE]


@pytest.mark.parametrize(
    ("status", "words"),
    [(0, "Could not reach"), (503, "status 503"), (400, "status 400")],
)
def test_other_usercode_failures_are_errors(status: int, words: str) -> None:
    failure = HttpReply(status, b"", "ConnectError" if status == 0 else None)
    result = run({USERCODE: iter([failure])})
    assert result.outcome.state == "error"
    assert words in (result.outcome.error or "")
    assert result.paths() == [USERCODE]


def test_slow_down_adds_five_seconds() -> None:
    slow = reply(403, {"error": {"code": "slow_down"}})
    result = run(
        {
            USERCODE: iter([usercode("1")]),
            POLL: iter([slow, pending(), slow, APPROVAL]),
            TOKEN: iter([token_response()]),
        }
    )
    assert result.outcome.state == "signed_in"
    assert result.waits == [6.0, 6.0, 11.0]


def test_server_side_expiry_is_final() -> None:
    expired = reply(
        403,
        {
            "error": {
                "code": "deviceauth_expired",
                "message": "Device authorization code has expired. Please request a new code.",
            }
        },
    )
    result = run({USERCODE: iter([usercode("5")]), POLL: iter([pending(), expired])})
    assert result.outcome.state == "expired"
    assert "ABCD-EFGHI" in (result.outcome.error or "") and "again" in (result.outcome.error or "")
    assert result.paths().count(POLL) == 2


def test_expiry_recognised_by_message_only() -> None:
    expired = reply(403, {"error": {"message": "Device authorization code has expired."}})
    result = run({USERCODE: iter([usercode()]), POLL: iter([expired])})
    assert result.outcome.state == "expired"


def test_local_deadline_is_fifteen_minutes_even_if_server_says_longer() -> None:
    result = run({USERCODE: iter([usercode("5", expires_in=3600)]), POLL: lambda: pending()})
    assert result.outcome.state == "expired"
    assert "15 minutes" in (result.outcome.error or "")
    assert "Enable device code authorization" in (result.outcome.error or "")
    assert sum(result.waits) == pytest.approx(900.0)
    assert result.progress[1].expires_at == T0 + 900
    # 900 s at one poll per 5 s: 180 waits, 181 polls (one last poll at the deadline).
    assert result.paths().count(POLL) == 181


def test_earlier_server_expiry_sets_the_deadline() -> None:
    result = run({USERCODE: iter([usercode("5", expires_in=12)]), POLL: lambda: pending()})
    assert result.outcome.state == "expired"
    assert result.waits == [5.0, 5.0, 2.0]
    assert result.progress[1].expires_at == T0 + 12


def test_server_expiry_in_our_past_is_treated_as_clock_skew() -> None:
    result = run({USERCODE: iter([usercode("5", expires_in=-60)]), POLL: lambda: pending()})
    assert result.progress[1].expires_at == T0 + 900


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "access_denied", "message": "The user denied access."}},
        {"error": "authorization_declined", "error_description": "Denied"},
    ],
)
def test_denial(body: dict[str, Any]) -> None:
    status = 403 if isinstance(body["error"], dict) else 401
    result = run({USERCODE: iter([usercode()]), POLL: iter([pending(), reply(status, body)])})
    assert result.outcome.state == "denied"
    assert "declined" in (result.outcome.error or "")


def test_unknown_403_and_bare_404_keep_polling() -> None:
    polls = iter([reply(403, {"error": {"code": "mystery"}}), reply(404), APPROVAL])
    result = run({USERCODE: iter([usercode()]), POLL: polls, TOKEN: iter([token_response()])})
    assert result.outcome.state == "signed_in"


def test_other_poll_status_is_fatal() -> None:
    result = run({USERCODE: iter([usercode()]), POLL: iter([reply(400, {"detail": "bad"})])})
    assert result.outcome.state == "error"
    assert "status 400" in (result.outcome.error or "") and "bad" in (result.outcome.error or "")


def test_transient_poll_failures_are_bounded() -> None:
    blip = iter([HttpReply(0, b"", "ConnectError"), reply(502), APPROVAL])
    ok = run({USERCODE: iter([usercode()]), POLL: blip, TOKEN: iter([token_response()])})
    assert ok.outcome.state == "signed_in"
    down = run({USERCODE: iter([usercode()]), POLL: lambda: reply(503)})
    assert down.outcome.state == "error"
    assert "503" in (down.outcome.error or "")
    assert down.paths().count(POLL) == 10


def test_reused_authorization_code_is_an_error_without_retry() -> None:
    invalid = reply(
        400, {"error": "invalid_grant", "error_description": "The code was already used."}
    )
    result = run({USERCODE: iter([usercode()]), POLL: iter([APPROVAL]), TOKEN: iter([invalid])})
    assert result.outcome.state == "error"
    assert "status 400" in (result.outcome.error or "")
    assert "already used" in (result.outcome.error or "")
    assert result.paths().count(TOKEN) == 1


def test_exchange_retried_once_after_a_server_error() -> None:
    result = run(
        {
            USERCODE: iter([usercode()]),
            POLL: iter([APPROVAL]),
            TOKEN: iter([reply(502), token_response()]),
        }
    )
    assert result.outcome.state == "signed_in"
    assert result.paths().count(TOKEN) == 2


def test_exchange_without_refresh_token_is_an_error() -> None:
    incomplete = reply(200, {"id_token": "a.b.c", "access_token": "a.b.c"})
    result = run({USERCODE: iter([usercode()]), POLL: iter([APPROVAL]), TOKEN: iter([incomplete])})
    assert result.outcome.state == "error"
    assert "refresh_token" in (result.outcome.error or "")


def test_approval_without_code_is_an_error() -> None:
    result = run({USERCODE: iter([usercode()]), POLL: iter([reply(200, {})])})
    assert result.outcome.state == "error"


def test_classify_poll_table() -> None:
    assert classify_poll(pending()) == "pending"
    assert classify_poll(reply(403, {"error": {"code": "authorization_pending"}})) == "pending"
    assert classify_poll(reply(403)) == "pending"
    assert classify_poll(reply(404)) == "pending"
    assert classify_poll(reply(403, {"error": {"code": "SLOW_DOWN"}})) == "slow_down"
    assert classify_poll(reply(400, {"code": "expired_token"})) == "expired"
    assert classify_poll(reply(500)) == "transient"
    assert classify_poll(reply(429)) == "transient"
    assert classify_poll(reply(401)) == "fatal"
