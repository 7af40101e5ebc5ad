"""Token refresh against a misbehaving token endpoint (issue 11, point 14)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from takopi_nb import codex
from takopi_nb._errors import AuthError
from takopi_nb.codex import _refresh as refresh
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.http import LoopbackServer, Request, Response

PID = "chatgpt"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(refresh, "RETRY_DELAYS", (0.01, 0.01))


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize(
    "answer",
    [
        {"access_token": 5},
        {"access_token": ""},
        {"refresh_token": "only-a-refresh-token"},
        {"access_token": "new-access", "refresh_token": ["x"]},
    ],
)
def test_a_200_without_usable_tokens_is_a_failed_refresh(
    fake: FakeChatGPT, runtime: Any, record: Any, answer: dict[str, Any]
) -> None:
    old = fake.issue_tokens(access_lifetime=60)
    runtime.secrets.set(PID, old.storage_json())
    with LoopbackServer({("POST", "/oauth/token"): lambda r: Response.json(answer)}) as issuer:
        runtime.codex_issuer = issuer.url
        with pytest.raises(AuthError, match="unusable answer") as caught:
            codex.codex_headers(runtime, record)
        assert len(issuer.requests) == 1  # not retried: the server may have rotated already
    assert old.access_token not in str(caught.value)
    found = runtime.secrets.get(PID)
    assert found is not None and json.loads(found[0])["access_token"] == old.access_token


def test_an_unresponsive_token_endpoint_is_asked_once_not_three_times(
    fake: FakeChatGPT,
    runtime: Any,
    record: Any,
    release: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(refresh, "REFRESH_TIMEOUT", 0.5)
    runtime.secrets.set(PID, fake.issue_tokens(access_lifetime=60).storage_json())

    def hang(request: Request) -> Response:
        release.wait(60)
        return Response.json({}, 503)

    with LoopbackServer({("POST", "/oauth/token"): hang}) as issuer:
        runtime.codex_issuer = issuer.url
        with pytest.raises(AuthError, match="did not answer") as caught:
            codex.codex_headers(runtime, record)
        release.set()
        assert len(issuer.requests) == 1
    assert "Sign in again" not in str(caught.value)  # the sign-in is kept


def test_a_moved_codex_base_url_keeps_the_chatgpt_tokens_home_until_confirmed(
    fake: FakeChatGPT, monkeypatch: pytest.MonkeyPatch
) -> None:
    import takopi_nb as tk

    monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", fake.issuer)
    cfg = tk.get_config()
    p = cfg.add_provider("codex", id=PID, base_url=fake.codex_base, models=["gpt-5.5"])
    tokens = fake.issue_tokens(account_id="acct_123")
    cfg.runtime.secrets.set(PID, tokens.storage_json())
    assert tk.resolve(f"{PID}/gpt-5.5").headers()["Authorization"].endswith(tokens.access_token)
    p.base_url = "https://chatgpt.com.evil.example/backend-api/codex"
    with pytest.raises(tk.MissingCredentialsError, match="%takopi confirm chatgpt") as caught:
        tk.resolve(f"{PID}/gpt-5.5").headers()
    assert tokens.access_token not in str(caught.value) and "held back" in p.status
    p.confirm_base_url()
    assert tk.resolve(f"{PID}/gpt-5.5").headers()["Authorization"].endswith(tokens.access_token)
