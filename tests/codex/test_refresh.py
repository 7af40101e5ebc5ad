"""Token refresh: proactive, after a 401, permanent and transient failures, and the races."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from takopi_nb import codex
from takopi_nb._errors import AuthError, MissingCredentialsError
from takopi_nb._secrets import SecretStore
from takopi_nb.codex import _refresh as refresh
from tests.fakes.codex_server import (
    CLIENT_ID,
    FakeChatGPT,
    FakeTokens,
    post_refresh,
    responses_body,
)

PID = "chatgpt"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(refresh, "RETRY_DELAYS", (0.01, 0.01))


def seed(runtime: Any, tokens: FakeTokens) -> None:
    runtime.secrets.set(PID, tokens.storage_json())


def stored(runtime: Any) -> dict[str, Any]:
    found = runtime.secrets.get(PID)
    assert found is not None
    doc: dict[str, Any] = json.loads(found[0])
    return doc


def bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def token_requests(fake: FakeChatGPT) -> int:
    return len(fake.requests_to("/oauth/token"))


# -- proactive --------------------------------------------------------------------------------


def test_refreshes_when_four_minutes_are_left(fake: FakeChatGPT, runtime: Any, record: Any) -> None:
    old = fake.issue_tokens(access_lifetime=4 * 60)
    seed(runtime, old)
    headers = codex.codex_headers(runtime, record)
    assert fake.counts["refresh"] == 1 and fake.counts["refresh_ok"] == 1
    doc = stored(runtime)
    assert bearer(headers) == doc["access_token"] != old.access_token
    assert doc["refresh_token"] != old.refresh_token
    assert fake.is_current_refresh_token(doc["refresh_token"])
    assert doc["expires_at"] > time.time() + 3000
    assert abs(doc["last_refresh"] - time.time()) < 60
    assert doc["account_id"] == "acct_fake_1"
    # The refresh request is the JSON form Codex sends.
    sent = fake.requests_to("/oauth/token")[0].json()
    assert sent == {
        "client_id": CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": old.refresh_token,
    }
    codex.codex_headers(runtime, record)
    assert fake.counts["refresh"] == 1  # fresh now: no second refresh


def test_no_refresh_when_six_minutes_are_left(fake: FakeChatGPT, runtime: Any, record: Any) -> None:
    old = fake.issue_tokens(access_lifetime=6 * 60)
    seed(runtime, old)
    assert bearer(codex.codex_headers(runtime, record)) == old.access_token
    assert fake.counts["refresh"] == 0


@pytest.mark.parametrize(
    ("last_refresh_age_days", "expires_in", "refreshes"),
    [(9, None, 1), (1, None, 0), (1, 60.0, 1), (9, 3600.0, 0)],
)
def test_without_a_readable_exp_the_stored_expiry_then_last_refresh_decide(
    fake: FakeChatGPT,
    runtime: Any,
    record: Any,
    last_refresh_age_days: float,
    expires_in: float | None,
    refreshes: int,
) -> None:
    doc = fake.issue_tokens().storage()
    doc["access_token"] = "opaque-access-token"  # not a JWT: no exp to read
    doc["expires_at"] = time.time() + expires_in if expires_in is not None else None
    doc["last_refresh"] = time.time() - last_refresh_age_days * 86400
    runtime.secrets.set(PID, json.dumps(doc))
    codex.codex_headers(runtime, record)
    assert fake.counts["refresh"] == refreshes


# -- reactive (401) ---------------------------------------------------------------------------


def call_responses(runtime: Any, record: Any) -> httpx.Response:
    """What the wire layer does: call, and after a 401 recover and retry exactly once."""
    body = responses_body()
    url = f"{record.effective_base_url}/responses"
    headers = codex.codex_headers(runtime, record, session_id="conv-1")
    response = httpx.post(url, json=body, headers=headers)
    if response.status_code == 401:
        codex.recover_unauthorized(runtime, record, bearer(headers))
        headers = codex.codex_headers(runtime, record, session_id="conv-1")
        response = httpx.post(url, json=body, headers=headers)
    return response


def test_401_then_one_refresh_then_one_retry_that_succeeds(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    tokens = fake.issue_tokens(access_lifetime=3600)
    seed(runtime, tokens)
    fake.invalidate_access_token(tokens.access_token)  # looks valid to us, not to the server
    response = call_responses(runtime, record)
    assert response.status_code == 200
    assert "response.completed" in response.text
    assert fake.counts["backend_401"] == 1
    assert fake.counts["refresh"] == 1
    assert fake.counts["responses"] == 2
    retry = fake.responses_calls[-1].headers
    assert retry["authorization"] == f"Bearer {stored(runtime)['access_token']}"
    assert retry["session_id"] == "conv-1"


def test_recover_takes_tokens_another_process_stored(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    rejected = fake.issue_tokens()
    newer = fake.issue_tokens()
    seed(runtime, newer)  # someone else already replaced the rejected tokens
    codex.recover_unauthorized(runtime, record, rejected.access_token)
    assert token_requests(fake) == 0


def test_recover_when_signed_out_says_so(runtime: Any, record: Any) -> None:
    with pytest.raises(MissingCredentialsError, match="not signed in"):
        codex.recover_unauthorized(runtime, record, "whatever")


# -- permanent failures ------------------------------------------------------------------------


def test_reused_refresh_token_says_sign_in_again_and_makes_no_further_calls(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    mine = fake.issue_tokens(access_lifetime=60)
    seed(runtime, mine)
    # A copy of the same credentials elsewhere refreshes first.
    other = post_refresh(fake.issuer, mine.refresh_token)
    assert other.status_code == 200
    with pytest.raises(AuthError) as caught:
        codex.codex_headers(runtime, record)
    message = str(caught.value)
    assert "already used" in message and "Sign in again" in message
    assert f"%takopi login {PID}" in message
    assert mine.refresh_token not in message and mine.access_token not in message
    assert fake.counts["refresh_token_reused"] == 1
    calls = len(fake.requests)
    for _ in range(3):
        with pytest.raises(AuthError, match="already used"):
            codex.codex_headers(runtime, record)
    with pytest.raises(AuthError, match="already used"):
        codex.recover_unauthorized(runtime, record, mine.access_token)
    assert len(fake.requests) == calls  # no further network calls at all
    assert fake.counts["refresh"] == 2  # the other copy's, and our one attempt
    assert stored(runtime)["refresh_token"] == mine.refresh_token  # kept, never rewritten


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        ("expire", "expired"),
        ("revoke", "revoked"),
        ("unknown", "no longer accepts"),
    ],
)
def test_other_permanent_failures(
    fake: FakeChatGPT, runtime: Any, record: Any, spoil: str, words: str
) -> None:
    tokens = fake.issue_tokens(access_lifetime=60)
    doc = tokens.storage()
    if spoil == "expire":
        fake.expire_refresh_token(tokens.refresh_token)
    elif spoil == "revoke":
        httpx.post(f"{fake.url}/__fake__/revoke", json={"refresh_token": tokens.refresh_token})
    else:
        doc["refresh_token"] = "rt_never_issued"
    runtime.secrets.set(PID, json.dumps(doc))
    with pytest.raises(AuthError, match=words) as caught:
        codex.codex_headers(runtime, record)
    assert "Sign in again" in str(caught.value)
    assert fake.counts["refresh"] == 1


def test_a_new_sign_in_clears_a_remembered_failure(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    dead = fake.issue_tokens(access_lifetime=60)
    fake.expire_refresh_token(dead.refresh_token)
    seed(runtime, dead)
    with pytest.raises(AuthError):
        codex.codex_headers(runtime, record)
    fresh = codex.TokenSet.from_storage(fake.issue_tokens(access_lifetime=60).storage_json())
    assert fresh is not None
    replaced = refresh.save_new_login(runtime.secrets, PID, fresh)
    assert replaced == dead.refresh_token
    codex.codex_headers(runtime, record)
    assert fake.counts["refresh_ok"] == 1


# -- transient failures ------------------------------------------------------------------------


def test_transient_500s_are_retried_then_succeed(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    seed(runtime, fake.issue_tokens(access_lifetime=60))
    fake.refresh_status, fake.refresh_failures = 500, 2
    codex.codex_headers(runtime, record)
    assert fake.counts["refresh"] == 3 and fake.counts["refresh_ok"] == 1


def test_transient_failures_are_bounded_and_not_permanent(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    tokens = fake.issue_tokens(access_lifetime=60)
    seed(runtime, tokens)
    fake.refresh_status, fake.refresh_failures = 503, 100
    with pytest.raises(AuthError) as caught:
        codex.codex_headers(runtime, record)
    assert "503" in str(caught.value) and "try again" in str(caught.value)
    assert "Sign in again" not in str(caught.value)
    assert fake.counts["refresh"] == 3
    assert stored(runtime)["refresh_token"] == tokens.refresh_token
    fake.refresh_failures = 0  # the outage ends: the next call refreshes normally
    codex.codex_headers(runtime, record)
    assert fake.counts["refresh_ok"] == 1


def test_network_failure_is_transient(fake: FakeChatGPT, runtime: Any, record: Any) -> None:
    seed(runtime, fake.issue_tokens(access_lifetime=60))
    runtime.codex_issuer = "http://127.0.0.1:9"
    with pytest.raises(AuthError, match=r"could not reach .* 3 times"):
        codex.codex_headers(runtime, record)


# -- races -----------------------------------------------------------------------------------


def test_two_clients_sharing_a_credential_file_reload_rather_than_reuse(
    fake: FakeChatGPT, record: Any, tmp_path: Path
) -> None:
    path = tmp_path / "shared-secrets.json"
    a = SimpleNamespace(secrets=SecretStore("file", path), codex_issuer=fake.issuer)
    b = SimpleNamespace(secrets=SecretStore("file", path), codex_issuer=fake.issuer)
    old = fake.issue_tokens(access_lifetime=60)
    seed(a, old)
    headers_a = codex.codex_headers(a, record)
    headers_b = codex.codex_headers(b, record)
    assert bearer(headers_a) == bearer(headers_b) != old.access_token
    # B still had a request in flight with the old token and got a 401: it reloads.
    codex.recover_unauthorized(b, record, old.access_token)
    assert fake.counts["refresh"] == 1 and fake.counts["refresh_token_reused"] == 0


def test_threads_of_one_kernel_refresh_once(fake: FakeChatGPT, runtime: Any, record: Any) -> None:
    seed(runtime, fake.issue_tokens(access_lifetime=60))
    fake.refresh_delay = 0.2
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(bearer(codex.codex_headers(runtime, record)))
        except Exception as exc:  # reported by the assertion below, not as a thread crash
            results.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 8 and set(results) == {stored(runtime)["access_token"]}, results
    assert fake.counts["refresh"] == 1


CHILD = textwrap.dedent(
    """
    import json, os, sys, time, types
    from pathlib import Path

    from takopi_nb.codex import codex_headers
    from takopi_nb._secrets import SecretStore

    store_path, issuer, base, work, index = sys.argv[1:6]
    runtime = types.SimpleNamespace(
        secrets=SecretStore(backend="file", file_path=Path(store_path)), codex_issuer=issuer
    )
    record = types.SimpleNamespace(id="chatgpt", type="codex", effective_base_url=base)
    Path(work, f"ready-{index}").touch()
    go = Path(work, "go")
    while not go.exists():  # start together, so all of them find the token due at once
        time.sleep(0.002)
    try:
        headers = codex_headers(runtime, record)
        print(json.dumps({"ok": True, "bearer": headers["Authorization"][7:]}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
    """
)


@pytest.mark.slow
def test_eight_processes_sharing_one_credential_refresh_exactly_once(
    fake: FakeChatGPT, tmp_path: Path, isolated_env: Path
) -> None:
    store_path = tmp_path / "shared-secrets.json"
    shared = SimpleNamespace(secrets=SecretStore("file", store_path), codex_issuer=fake.issuer)
    old = fake.issue_tokens(access_lifetime=60)  # due: under 5 minutes left
    seed(shared, old)
    fake.refresh_delay = 0.3  # keep the one refresh in flight while the others arrive
    work = tmp_path / "race"
    work.mkdir()
    env = dict(os.environ)  # JUPYTER_DATA_DIR (where the lock lives) is the test's own
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                str(store_path),
                fake.issuer,
                fake.codex_base,
                str(work),
                str(i),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(8)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(list(work.glob("ready-*"))) < 8:
            assert time.monotonic() < deadline, "children did not start"
            assert all(c.poll() is None for c in children), "a child died early"
            time.sleep(0.01)
        (work / "go").touch()
        outputs = [c.communicate(timeout=60) for c in children]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(r["ok"] for r in results), [r.get("error") for r in results]
    doc = stored(shared)
    assert {r["bearer"] for r in results} == {doc["access_token"]}  # everyone has the new tokens
    assert doc["access_token"] != old.access_token
    assert fake.is_current_refresh_token(doc["refresh_token"])
    print(
        f"\n8-process race: refresh requests={fake.counts['refresh']} "
        f"ok={fake.counts['refresh_ok']} reused={fake.counts['refresh_token_reused']} "
        f"/oauth/token hits={token_requests(fake)}"
    )
    assert fake.counts["refresh"] == 1
    assert token_requests(fake) == 1
    assert fake.counts["refresh_token_reused"] == 0
    assert fake.counts["refresh_token_invalidated"] == 0
