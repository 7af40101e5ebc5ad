"""The loopback fake of ChatGPT auth + Codex backend answers as protocol note §6 says.

Other tests (the wire client's too) trust this fake, so its own behaviour is pinned here.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.fakes.codex_server import (
    CLIENT_ID,
    FakeChatGPT,
    post_refresh,
    read_jwt,
    responses_body,
)


def _usercode(fake: FakeChatGPT) -> dict[str, Any]:
    r = httpx.post(f"{fake.issuer}/api/accounts/deviceauth/usercode", json={"client_id": CLIENT_ID})
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


def _poll(fake: FakeChatGPT, device: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{fake.issuer}/api/accounts/deviceauth/token",
        json={"device_auth_id": device["device_auth_id"], "user_code": device["user_code"]},
    )


def _exchange(fake: FakeChatGPT, approval: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{fake.issuer}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": approval["authorization_code"],
            "redirect_uri": f"{fake.issuer}/deviceauth/callback",
            "client_id": CLIENT_ID,
            "code_verifier": approval["code_verifier"],
        },
    )


def test_usercode_shape_and_client_id_check(fake: FakeChatGPT) -> None:
    device = _usercode(fake)
    assert device["device_auth_id"].startswith("deviceauth_")
    assert len(device["user_code"]) == 10 and device["user_code"][4] == "-"
    assert device["interval"] == "0"  # a string, like the live server
    assert device["expires_at"].endswith("+00:00")
    r = httpx.post(f"{fake.issuer}/api/accounts/deviceauth/usercode", json={"client_id": "x"})
    assert r.status_code == 400
    fake.usercode_status = 404
    r = httpx.post(f"{fake.issuer}/api/accounts/deviceauth/usercode", json={"client_id": CLIENT_ID})
    assert r.status_code == 404


def test_poll_pending_approve_one_shot_then_exchange_single_use(fake: FakeChatGPT) -> None:
    device = _usercode(fake)
    r = _poll(fake, device)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "deviceauth_authorization_pending"
    # Approve through the HTTP control route.
    ok = httpx.post(f"{fake.url}/__fake__/approve", json={"user_code": device["user_code"]})
    assert ok.status_code == 200
    approval = _poll(fake, device).json()
    assert set(approval) == {"authorization_code", "code_challenge", "code_verifier"}
    assert _poll(fake, device).status_code == 404  # one-shot
    tokens = _exchange(fake, approval)
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "Bearer" and isinstance(body["expires_in"], int)
    claims = read_jwt(body["id_token"])
    assert claims["email"] == "ada@example.com"
    assert claims["https://api.openai.com/auth"]["chatgpt_account_id"] == "acct_fake_1"
    assert body["id_token"].split(".")[2] == "sig"
    again = _exchange(fake, approval)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_exchange_requires_form_redirect_uri_and_verifier(fake: FakeChatGPT) -> None:
    device = _usercode(fake)
    fake.approve(device["user_code"])
    approval = _poll(fake, device).json()
    as_json = httpx.post(
        f"{fake.issuer}/oauth/token",
        json={"grant_type": "authorization_code", "code": approval["authorization_code"]},
    )
    assert as_json.status_code == 400
    wrong = dict(approval, code_verifier="nope")
    assert _exchange(fake, wrong).status_code == 400


def test_poll_expired_denied_slow_down(fake: FakeChatGPT) -> None:
    a, b, c = _usercode(fake), _usercode(fake), _usercode(fake)
    httpx.post(f"{fake.url}/__fake__/expire", json={"user_code": a["user_code"]})
    r = _poll(fake, a)
    assert r.status_code == 403 and "expired" in r.json()["error"]["message"]
    httpx.post(f"{fake.url}/__fake__/deny", json={"user_code": b["user_code"]})
    r = _poll(fake, b)
    assert r.status_code == 403 and r.json()["error"]["code"] == "access_denied"
    fake.slow_down_polls = 1
    assert _poll(fake, c).json()["error"]["code"] == "slow_down"
    assert _poll(fake, c).json()["error"]["code"] == "deviceauth_authorization_pending"
    # Optional: a poll sooner than the interval is told to slow down.
    fake.interval, fake.enforce_interval = "5", True
    d = _usercode(fake)
    assert _poll(fake, d).json()["error"]["code"] == "deviceauth_authorization_pending"
    assert _poll(fake, d).json()["error"]["code"] == "slow_down"


def test_refresh_rotates_accepts_json_and_form_and_detects_reuse(fake: FakeChatGPT) -> None:
    first = fake.issue_tokens()
    r = post_refresh(fake.issuer, first.refresh_token)
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first.refresh_token
    r = post_refresh(fake.issuer, second["refresh_token"], form=True)
    assert r.status_code == 200
    third = r.json()
    reuse = post_refresh(fake.issuer, first.refresh_token)
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    # Reuse revokes the family: the newest token is dead too.
    newest = post_refresh(fake.issuer, third["refresh_token"])
    assert newest.json()["error"]["code"] == "refresh_token_invalidated"
    unknown = post_refresh(fake.issuer, "rt_x")
    assert unknown.status_code == 401 and unknown.json() == {"error": "invalid_grant"}
    assert fake.counts["refresh"] == 5 and fake.counts["refresh_token_reused"] == 1


def _headers(tokens: Any) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {tokens.access_token}",
        "ChatGPT-Account-ID": tokens.account_id,
    }


def test_models_requires_client_version_gates_and_etags(fake: FakeChatGPT) -> None:
    tokens = fake.issue_tokens()
    base = fake.codex_base
    r = httpx.get(f"{base}/models", headers=_headers(tokens))
    assert r.status_code == 400
    assert r.json()["detail"][0]["msg"] == "Field required"
    slugs = lambda v: [  # noqa: E731
        m["slug"]
        for m in httpx.get(
            f"{base}/models", params={"client_version": v}, headers=_headers(tokens)
        ).json()["models"]
    ]
    assert slugs("0.1.0") == []
    assert "gpt-5.5" not in slugs("0.123.0") and "gpt-5.4" in slugs("0.123.0")
    at_135 = slugs("0.135.0")
    assert "gpt-5.5" in at_135 and "codex-auto-review" in at_135 and "gpt-6-preview" not in at_135
    r = httpx.get(f"{base}/models", params={"client_version": "0.135.0"}, headers=_headers(tokens))
    etag = r.headers["ETag"]
    r2 = httpx.get(
        f"{base}/models",
        params={"client_version": "0.135.0"},
        headers={**_headers(tokens), "If-None-Match": etag},
    )
    assert r2.status_code == 304
    assert httpx.get(f"{base}/models", params={"client_version": "0.135.0"}).status_code == 401


def _respond(fake: FakeChatGPT, headers: dict[str, str], **body: Any) -> httpx.Response:
    return httpx.post(f"{fake.codex_base}/responses", json=responses_body(**body), headers=headers)


def test_responses_checks_in_order_and_streams(fake: FakeChatGPT) -> None:
    tokens = fake.issue_tokens()
    good = {**_headers(tokens), "originator": "takopi_nb", "session_id": "s-1", "version": "1"}
    r = _respond(fake, {})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    r = _respond(fake, {"Authorization": good["Authorization"]})
    assert r.status_code == 403
    assert _respond(fake, good, store=True).json() == {"detail": "Store must be set to false"}
    assert _respond(fake, good, stream=False).json() == {"detail": "Stream must be set to true"}
    assert _respond(fake, good, instructions="").json() == {"detail": "Instructions are required"}
    assert _respond(fake, good, max_output_tokens=5).json() == {
        "detail": "Unsupported parameter: max_output_tokens"
    }
    assert "not supported when using Codex" in _respond(fake, good, model="gpt-4o").json()["detail"]
    r = _respond(fake, good)
    assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
    events = [
        line.removeprefix("event: ") for line in r.text.splitlines() if line.startswith("event:")
    ]
    assert events[0] == "response.created" and events[1] == "response.output_item.added"
    assert events.count("response.output_text.delta") == 4
    assert events[-2:] == ["response.output_item.done", "response.completed"]
    last = json.loads(r.text.strip().splitlines()[-1].removeprefix("data: "))
    assert last["response"]["usage"]["total_tokens"] > 0
    seen = fake.responses_calls[-1].headers
    assert (seen["originator"], seen["session_id"], seen["version"]) == ("takopi_nb", "s-1", "1")
    fake.rate_limit = "usage_limit_reached"
    r = _respond(fake, good)
    assert r.status_code == 429 and r.json()["error"]["plan_type"] == "plus"
    fake.rate_limit = "usage_not_included"
    assert _respond(fake, good).json()["error"]["type"] == "usage_not_included"


def test_expired_invalidated_and_revoked_access_tokens_get_401(fake: FakeChatGPT) -> None:
    short = fake.issue_tokens(access_lifetime=-1)
    assert _respond(fake, _headers(short)).status_code == 401
    live = fake.issue_tokens()
    fake.invalidate_access_token(live.access_token)
    assert _respond(fake, _headers(live)).status_code == 401
    other = fake.issue_tokens()
    r = httpx.post(
        f"{fake.issuer}/oauth/revoke",
        json={"token": other.refresh_token, "token_type_hint": "refresh_token"},
    )
    assert r.status_code == 200
    assert _respond(fake, _headers(other)).status_code == 401
    assert not fake.is_current_refresh_token(other.refresh_token)


def test_fake_tokens_repr_hides_tokens(fake: FakeChatGPT) -> None:
    tokens = fake.issue_tokens()
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    doc = json.loads(tokens.storage_json())
    assert doc["kind"] == "codex-oauth" and doc["account_id"] == "acct_fake_1"
