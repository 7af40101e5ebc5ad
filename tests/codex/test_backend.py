"""Codex backend headers and the account's model list, against the loopback fake."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from takopi_nb import codex
from takopi_nb._errors import MissingCredentialsError
from takopi_nb.codex import _backend as backend
from tests.fakes.codex_server import FakeChatGPT, make_jwt

PID = "chatgpt"


@pytest.fixture
def signed_in(fake: FakeChatGPT, runtime: Any) -> Any:
    tokens = fake.issue_tokens(account_id="acct_42", email="grace@example.com", plan="team")
    runtime.secrets.set(PID, tokens.storage_json())
    return tokens


# -- headers -----------------------------------------------------------------------------------


def test_headers_for_a_codex_ref(runtime: Any, record: Any, signed_in: Any) -> None:
    headers = codex.codex_headers(runtime, record)
    assert set(headers) == {
        "Authorization",
        "ChatGPT-Account-ID",
        "originator",
        "User-Agent",
        "session_id",
        "version",
    }
    assert headers["Authorization"] == f"Bearer {signed_in.access_token}"
    assert headers["ChatGPT-Account-ID"] == "acct_42"
    assert headers["originator"] == "takopi_nb"
    assert headers["User-Agent"].startswith("takopi_nb/") and "python/" in headers["User-Agent"]
    assert headers["version"] == codex.CLIENT_VERSION
    uuid.UUID(headers["session_id"])
    assert codex.codex_headers(runtime, record)["session_id"] != headers["session_id"]
    assert codex.codex_headers(runtime, record, session_id="conv-7")["session_id"] == "conv-7"


def test_the_fake_backend_accepts_these_headers(
    fake: FakeChatGPT, runtime: Any, record: Any, signed_in: Any
) -> None:
    body = {
        "model": "gpt-5.5",
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ],
        "store": False,
        "stream": True,
    }
    r = httpx.post(
        f"{fake.codex_base}/responses", json=body, headers=codex.codex_headers(runtime, record)
    )
    assert r.status_code == 200 and "response.completed" in r.text
    assert fake.responses_calls[-1].headers["chatgpt-account-id"] == "acct_42"


def test_account_header_comes_from_the_token_claims_when_not_stored(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    doc = fake.issue_tokens(account_id="acct_from_jwt").storage()
    doc["account_id"] = None
    runtime.secrets.set(PID, json.dumps(doc))
    assert codex.codex_headers(runtime, record)["ChatGPT-Account-ID"] == "acct_from_jwt"


def test_not_signed_in(runtime: Any, record: Any) -> None:
    with pytest.raises(MissingCredentialsError) as caught:
        codex.codex_headers(runtime, record)
    message = str(caught.value)
    assert "not signed in" in message
    assert "%takopi providers" in message and "%takopi login chatgpt" in message
    assert "tk.get_config().get('chatgpt').login()" in message
    assert codex.has_tokens(runtime, record) is False and codex.account(runtime, record) is None


def test_a_non_token_secret_is_not_a_sign_in(runtime: Any, record: Any) -> None:
    runtime.secrets.set(PID, "sk-an-api-key-typed-in-by-mistake")
    assert codex.has_tokens(runtime, record) is False
    with pytest.raises(MissingCredentialsError):
        codex.codex_headers(runtime, record)


def test_account_and_token_reprs_hold_no_tokens(runtime: Any, record: Any, signed_in: Any) -> None:
    account = codex.account(runtime, record)
    assert account == codex.CodexAccount("grace@example.com", "team", "acct_42")
    tokens = codex.load_tokens(runtime.secrets, PID)
    assert tokens is not None
    for text in (repr(account), str(account), repr(tokens), str(tokens)):
        for secret in (signed_in.access_token, signed_in.refresh_token, signed_in.id_token):
            assert secret not in text


# -- model list ------------------------------------------------------------------------------------


def slugs(models: list[codex.CodexModel] | None) -> list[str]:
    assert models is not None
    return [m.slug for m in models]


def test_models_listed_sorted_and_version_gated(
    fake: FakeChatGPT, runtime: Any, record: Any, signed_in: Any
) -> None:
    models = codex.backend_models(runtime, record)
    # visibility "list" only (no codex-auto-review), by priority, and nothing above 0.135.0.
    assert slugs(models) == ["gpt-5.5", "gpt-5.4", "gpt-5.3-codex-spark", "gpt-5.4-mini"]
    assert models is not None
    first = models[0]
    assert first.id == "gpt-5.5" and first.display_name == "GPT-5.5"
    assert first.context_window == 400000 and first.reasoning_levels == ("low", "medium", "high")
    call = fake.models_calls[-1]
    assert call.query == {"client_version": ["0.135.0"]}
    assert call.headers["chatgpt-account-id"] == "acct_42"
    assert call.headers["authorization"] == f"Bearer {signed_in.access_token}"


def test_an_older_client_version_sees_fewer_models(
    fake: FakeChatGPT,
    runtime: Any,
    record: Any,
    signed_in: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backend, "CLIENT_VERSION", "0.123.0")
    assert slugs(codex.backend_models(runtime, record)) == [
        "gpt-5.4",
        "gpt-5.3-codex-spark",
        "gpt-5.4-mini",
    ]
    assert fake.models_calls[-1].query == {"client_version": ["0.123.0"]}


def test_models_are_cached_then_revalidated_by_etag(
    fake: FakeChatGPT, runtime: Any, record: Any, signed_in: Any
) -> None:
    first = codex.backend_models(runtime, record)
    assert codex.backend_models(runtime, record) == first
    assert fake.counts["models"] == 1  # within max_age: no request
    again = codex.backend_models(runtime, record, max_age=0)
    assert again == first
    assert fake.counts["models"] == 2 and fake.counts["models_304"] == 1
    assert fake.models_calls[-1].headers["if-none-match"].startswith('"')
    fake.models.append(
        {
            "slug": "gpt-5.4-nano",
            "display_name": "GPT-5.4 nano",
            "visibility": "list",
            "priority": 5,
            "minimal_client_version": "0.100.0",
        }
    )
    changed = codex.backend_models(runtime, record, max_age=0)
    assert slugs(changed)[-1] == "gpt-5.4-nano" and fake.counts["models_304"] == 1


def test_models_recover_from_a_401(
    fake: FakeChatGPT, runtime: Any, record: Any, signed_in: Any
) -> None:
    fake.invalidate_access_token(signed_in.access_token)
    assert slugs(codex.backend_models(runtime, record))[0] == "gpt-5.5"
    assert fake.counts["backend_401"] == 1 and fake.counts["refresh"] == 1
    assert fake.counts["models"] == 2


def test_models_fall_back_to_none(
    fake: FakeChatGPT, runtime: Any, record: Any, signed_in: Any
) -> None:
    fake.models_status = 500
    assert codex.backend_models(runtime, record) is None
    fake.models_status = None
    for body in (b'{"models": "not a list"}', b"<html>oops</html>"):
        fake.models_raw_body = body
        assert codex.backend_models(runtime, record, max_age=0) is None
    assert fake.counts["models"] == 3  # each answer arrived and was judged unusable


def test_models_none_when_signed_out_or_unreachable(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    assert codex.backend_models(runtime, record) is None
    assert fake.counts["models"] == 0
    runtime.secrets.set(PID, fake.issue_tokens().storage_json())
    record.effective_base_url = "http://127.0.0.1:9/backend-api/codex"
    assert codex.backend_models(runtime, record) is None


def test_models_none_when_the_sign_in_has_ended(
    fake: FakeChatGPT, runtime: Any, record: Any
) -> None:
    tokens = fake.issue_tokens(access_lifetime=60)
    fake.expire_refresh_token(tokens.refresh_token)
    runtime.secrets.set(PID, tokens.storage_json())
    assert codex.backend_models(runtime, record) is None
    assert fake.counts["models"] == 0


def test_parse_models_skips_malformed_entries() -> None:
    payload = {
        "models": [
            "junk",
            {"visibility": "list"},
            {"slug": "b", "visibility": "list", "priority": 2},
            {"slug": "a", "visibility": "list", "priority": 2, "supported_reasoning_levels": [1]},
            {"slug": "z", "visibility": "list"},
            {"slug": "h", "visibility": "hide", "priority": 0},
            {"slug": "c", "visibility": "list", "priority": 1, "display_name": 5},
        ]
    }
    models = backend.parse_models(payload)
    assert [m.slug for m in models] == ["c", "a", "b", "z"]
    assert models[0].display_name == "c"
    with pytest.raises(ValueError):
        backend.parse_models({"data": []})


def test_unsigned_access_token_parts_are_never_validated() -> None:
    # Claims are read for display only; the JWT's signature segment is not checked.
    token = make_jwt({"exp": 1})
    assert codex.TokenSet("", token, "rt").expiry == 1.0
