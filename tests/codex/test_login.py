"""Sign in with ChatGPT end to end: the threaded driver against the loopback fake."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from takopi_nb import codex
from takopi_nb._errors import MissingCredentialsError
from takopi_nb._secrets import KEYRING_SERVICE
from takopi_nb.codex._device_flow import HttpReply, HttpRequest, Outcome, Progress, device_flow
from takopi_nb.codex._driver import DeviceCodeFlow
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.keyring_backend import MemoryKeyring
from tests.waiting import wait_for


@pytest.fixture
def flows() -> Iterator[list[DeviceCodeFlow]]:
    """Flows a test starts; all are ended and their threads joined before the keyring is swapped back."""
    started: list[DeviceCodeFlow] = []
    yield started
    for flow in started:
        flow.cancel()
        if flow._thread is not None:
            flow._thread.join(timeout=20)
            assert not flow._thread.is_alive()


def login(runtime: Any, record: Any, flows: list[DeviceCodeFlow]) -> DeviceCodeFlow:
    flow = codex.start_login(runtime, record)
    flows.append(flow)
    return flow


def test_pending_approve_exchange_stores_tokens_in_the_secret_store(
    fake: FakeChatGPT,
    runtime: Any,
    record: Any,
    flows: list[DeviceCodeFlow],
    memory_keyring: MemoryKeyring,
    isolated_env: Path,
) -> None:
    states: list[str] = []
    ticks: list[int] = []
    flow = login(runtime, record, flows)
    flow.observe(lambda change: states.append(change["new"]), names="state")
    flow.observe(lambda change: ticks.append(change["new"]), names="seconds_left")
    wait_for(lambda: flow.state == "waiting" and fake.counts["poll"] >= 1)
    assert flow.verification_url == f"{fake.issuer}/codex/device"
    assert flow.user_code in fake.user_codes()
    assert flow.expires_at is not None and 890 < flow.expires_at - time.time() <= 900
    assert 890 < flow.seconds_left <= 900
    assert "enter the code" in flow.describe() and flow.user_code in repr(flow)
    wait_for(lambda: len(ticks) >= 1)  # the countdown moves while polling
    assert codex.has_tokens(runtime, record) is False
    fake.approve(flow.user_code)
    assert flow.wait(timeout=60) == "signed_in"
    assert states[-2:] == ["exchanging", "signed_in"]
    assert flow.error is None
    assert flow.account == codex.CodexAccount("ada@example.com", "plus", "acct_fake_1")
    assert codex.account(runtime, record) == flow.account
    assert str(flow.account) == "ada@example.com (Plus)"
    assert fake.counts["usercode"] == 1 and fake.counts["exchange_ok"] == 1
    assert fake.counts["poll"] >= 2

    # The tokens are in the keyring entry of the provider, in the documented JSON form...
    doc = json.loads(memory_keyring.passwords[(KEYRING_SERVICE, "chatgpt")])
    assert doc["kind"] == "codex-oauth" and doc["account_id"] == "acct_fake_1"
    assert fake.is_current_refresh_token(doc["refresh_token"])
    assert doc["expires_at"] > time.time() + 3000 and abs(doc["last_refresh"] - time.time()) < 60
    # ...and nowhere on disk (config dir, data dir: only lock files live there).
    for path in isolated_env.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert doc["access_token"].encode() not in data
            assert doc["refresh_token"].encode() not in data
    for text in (repr(flow), repr(flow.account), flow.describe()):
        assert doc["access_token"] not in text and doc["refresh_token"] not in text


def test_server_side_expiry(fake: FakeChatGPT, runtime: Any, record: Any, flows: list[Any]) -> None:
    flow = login(runtime, record, flows)
    wait_for(lambda: flow.state == "waiting")
    httpx.post(f"{fake.url}/__fake__/expire", json={"user_code": flow.user_code})
    assert flow.wait(timeout=60) == "expired"
    assert "expired" in (flow.error or "") and flow.user_code in (flow.error or "")
    assert not codex.has_tokens(runtime, record)


def test_local_fifteen_minute_deadline(fake: FakeChatGPT, runtime: Any, flows: list[Any]) -> None:
    offset = [0.0]
    flow = DeviceCodeFlow(
        provider_id="chatgpt",
        issuer=fake.issuer,
        secrets=runtime.secrets,
        clock=lambda: time.time() + offset[0],
    )
    flows.append(flow)
    flow.start()
    wait_for(lambda: flow.state == "waiting" and fake.counts["poll"] >= 1)
    offset[0] = 15 * 60 + 1  # the server still says pending: only our clock ran out
    assert flow.wait(timeout=60) == "expired"
    assert "timed out after 15 minutes" in (flow.error or "")
    assert flow.seconds_left == 0


def test_denial(fake: FakeChatGPT, runtime: Any, record: Any, flows: list[Any]) -> None:
    flow = login(runtime, record, flows)
    wait_for(lambda: flow.state == "waiting")
    fake.deny(flow.user_code)
    assert flow.wait(timeout=60) == "denied"
    assert "declined" in (flow.error or "")


def test_404_at_usercode(fake: FakeChatGPT, runtime: Any, record: Any, flows: list[Any]) -> None:
    fake.usercode_status = 404
    flow = login(runtime, record, flows)
    assert flow.wait(timeout=60) == "error"
    assert "not enabled" in (flow.error or "")
    assert fake.counts["poll"] == 0


def test_login_returns_before_the_issuer_answers(
    runtime: Any, record: Any, flows: list[DeviceCodeFlow]
) -> None:
    """An issuer that accepts the connection and never answers: login() still returns."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        runtime.codex_issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        flow = login(runtime, record, flows)
        # Had login() waited for the device code, it could not have returned: nothing answers.
        assert flow.state == "requesting" and flow.user_code == ""
        connection, _ = silent.accept()  # the flow's thread did reach the issuer
        flow.cancel()
        connection.close()
    assert flow.wait(timeout=60) == "cancelled"


def test_unreachable_issuer(runtime: Any, record: Any, flows: list[Any]) -> None:
    runtime.codex_issuer = "http://127.0.0.1:9"
    flow = login(runtime, record, flows)
    assert flow.wait(timeout=60) == "error"
    assert "Could not reach" in (flow.error or "")


def test_cancel_stops_polling_and_keeps_no_tokens(
    fake: FakeChatGPT, runtime: Any, record: Any, flows: list[Any]
) -> None:
    fake.interval = "3600"  # a sleep no test outlasts: only cancel can end the thread
    flow = login(runtime, record, flows)
    wait_for(lambda: flow.state == "waiting" and fake.counts["poll"] >= 1)
    flow.cancel()
    assert flow.state == "cancelled" and flow.wait(0) == "cancelled"
    assert flow._thread is not None
    flow._thread.join(timeout=60)
    assert not flow._thread.is_alive()  # woken: the interval had an hour left
    polls = fake.counts["poll"]
    fake.approve(flow.user_code)
    # The flow's one polling thread has ended, so no later poll can come; a second flow's poll
    # (which sees the approval, proving the fake answers polls) marks time for the first.
    other = login(runtime, record, flows)
    wait_for(lambda: fake.counts["poll"] > polls)
    other.cancel()
    assert fake.counts["poll"] == polls + 1 and fake.counts["exchange"] == 0
    assert not codex.has_tokens(runtime, record)
    flow.cancel()  # idempotent
    assert flow.state == "cancelled"


def test_reused_authorization_code_against_the_fake(fake: FakeChatGPT) -> None:
    """The exchange is answered, the answer is lost, the same code is sent again: invalid_grant."""
    machine = device_flow(fake.issuer, time.time)
    sent: HttpReply | None = None
    with httpx.Client() as client:
        while True:
            try:
                step = machine.send(sent)
            except StopIteration as stop:
                outcome: Outcome = stop.value
                break
            sent = None
            if isinstance(step, Progress) and step.state == "waiting":
                fake.approve(step.user_code)  # approved before the first poll
            if not isinstance(step, HttpRequest):
                continue
            sent = DeviceCodeFlow._send(client, step)
            if step.url.endswith("/oauth/token"):
                assert sent.status == 200  # the first exchange worked...
                sent = DeviceCodeFlow._send(client, step)  # ...and its code is spent now
    assert outcome.state == "error" and outcome.tokens is None
    assert "status 400" in (outcome.error or "") and "already used" in (outcome.error or "")
    assert fake.counts["exchange_invalid_grant"] == 1


def test_new_login_replaces_and_revokes_the_previous_sign_in(
    fake: FakeChatGPT, runtime: Any, record: Any, flows: list[Any]
) -> None:
    old = fake.issue_tokens(account_id="acct_old", email="old@example.com")
    runtime.secrets.set("chatgpt", old.storage_json())
    assert codex.account(runtime, record) == codex.CodexAccount(
        "old@example.com", "plus", "acct_old"
    )
    flow = login(runtime, record, flows)
    wait_for(lambda: flow.state == "waiting")
    fake.approve(flow.user_code)
    assert flow.wait(timeout=60) == "signed_in"
    assert flow.account is not None and flow.account.account_id == "acct_fake_1"
    # The old sign-in is revoked right after the new one is shown.
    wait_for(lambda: fake.counts["revoke"] == 1)
    assert not fake.is_current_refresh_token(old.refresh_token)
    assert codex.account(runtime, record) == flow.account


def test_logout_revokes_and_deletes(fake: FakeChatGPT, runtime: Any, record: Any) -> None:
    tokens = fake.issue_tokens()
    token_set = codex.TokenSet.from_storage(tokens.storage_json())
    assert token_set is not None
    codex.store_tokens(runtime.secrets, "chatgpt", token_set)
    assert codex.has_tokens(runtime, record)
    codex.logout(runtime, record)
    assert not codex.has_tokens(runtime, record) and codex.account(runtime, record) is None
    assert runtime.secrets.get("chatgpt") is None
    assert fake.counts["revoke"] == 1
    assert not fake.is_current_refresh_token(tokens.refresh_token)
    with pytest.raises(MissingCredentialsError, match=r"not signed in.*%takopi login chatgpt"):
        codex.codex_headers(runtime, record)


def test_logout_with_the_server_down_still_deletes(
    runtime: Any, record: Any, fake: FakeChatGPT
) -> None:
    runtime.secrets.set("chatgpt", fake.issue_tokens().storage_json())
    runtime.codex_issuer = "http://127.0.0.1:9"
    codex.logout(runtime, record)
    assert not codex.has_tokens(runtime, record)
    codex.logout(runtime, record)  # nothing stored: still fine


def test_driver_survives_an_unexpected_exception(
    fake: FakeChatGPT, runtime: Any, record: Any, flows: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("takopi_nb.codex._driver.device_flow", broken)
    flow = login(runtime, record, flows)
    assert flow.wait(timeout=60) == "error"
    assert "unexpectedly (RuntimeError)" in (flow.error or "")


def test_provider_login_account_and_logout_through_the_public_api(
    fake: FakeChatGPT, monkeypatch: pytest.MonkeyPatch, flows: list[DeviceCodeFlow]
) -> None:
    import takopi_nb as tk

    monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", fake.issuer)
    cfg = tk.get_config()
    provider = cfg.add_provider("codex", id="chatgpt", base_url=fake.codex_base)
    flow = provider.login()
    flows.append(flow)
    wait_for(lambda: flow.state == "waiting")
    fake.approve(flow.user_code)
    assert flow.wait(timeout=60) == "signed_in"
    assert provider.account == codex.CodexAccount("ada@example.com", "plus", "acct_fake_1")
    assert provider.credential_source == "oauth"
    provider.models = ["gpt-5.5"]
    headers = tk.resolve("chatgpt/gpt-5.5").headers()
    assert headers["ChatGPT-Account-ID"] == "acct_fake_1"
    assert headers["Authorization"].startswith("Bearer ")
    provider.logout()
    assert provider.account is None and fake.counts["revoke"] == 1
    with pytest.raises(MissingCredentialsError):
        tk.resolve("chatgpt/gpt-5.5").headers()
