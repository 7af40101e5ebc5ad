"""JWT claims and the token set's storage form."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from takopi_nb.codex import CodexAccount, TokenSet
from takopi_nb.codex._jwt import account_id_of, decode_claims, email_of, expiry_of
from tests.fakes.codex_server import make_jwt

AUTH = "https://api.openai.com/auth"


@pytest.mark.parametrize(
    "token",
    [None, "", "abc", "a.b", "a..c", "a.!!!.c", f"x.{'e30'}.y.z", "x.WzFd.y"],  # WzFd = [1]
)
def test_decode_claims_rejects_non_jwts(token: Any) -> None:
    assert decode_claims(token) is None


def test_decode_claims_reads_unpadded_base64url() -> None:
    token = make_jwt({"email": "ü@example.com", "exp": 123})
    assert "=" not in token
    assert decode_claims(token) == {"email": "ü@example.com", "exp": 123}
    assert expiry_of(token) == 123.0
    assert expiry_of(make_jwt({"exp": "soon"})) is None
    assert expiry_of(make_jwt({"exp": True})) is None


def test_claim_fallbacks() -> None:
    # Like the Codex CLI: the account id comes from the auth claim only, never a guess.
    assert account_id_of({AUTH: {"chatgpt_account_id": "ns"}}) == "ns"
    assert account_id_of({"chatgpt_account_id": "top"}) is None
    assert account_id_of({AUTH: {"organizations": [{"id": "org-1"}]}}) is None
    assert account_id_of({}) is None
    assert email_of({"https://api.openai.com/profile": {"email": "p@x.org"}}) == "p@x.org"


def test_account_read_from_the_access_token_when_the_id_token_is_missing() -> None:
    access = make_jwt(
        {
            "exp": 10,
            AUTH: {"chatgpt_account_id": "acct_a", "chatgpt_plan_type": "pro"},
            "https://api.openai.com/profile": {"email": "a@x.org"},
        }
    )
    account = TokenSet("", access, "rt").account
    # Email and plan are display-only; the account id header comes from the id token only.
    assert account == CodexAccount("a@x.org", "pro", None)
    assert str(account) == "a@x.org (Pro)"
    id_token = make_jwt({AUTH: {"chatgpt_account_id": "acct_id"}})
    assert TokenSet(id_token, access, "rt").account.account_id == "acct_id"
    assert CodexAccount(None, "mystery_plan", "acct").plan_label == "mystery_plan"
    assert str(CodexAccount(None, None, None)) == "unknown account"


def test_storage_round_trip_and_documented_shape() -> None:
    tokens = TokenSet(make_jwt({"email": "e"}), make_jwt({"exp": 99}), "rt_1", "acct", 99.0, 50.0)
    doc = json.loads(tokens.to_storage())
    assert doc == {
        "kind": "codex-oauth",
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": "rt_1",
        "account_id": "acct",
        "expires_at": 99.0,
        "last_refresh": 50.0,
    }
    assert TokenSet.from_storage(tokens.to_storage()) == tokens
    assert "rt_1" not in repr(tokens) and tokens.access_token not in repr(tokens)


@pytest.mark.parametrize(
    "text",
    [
        "sk-plain-api-key",
        "[]",
        json.dumps({"kind": "something-else", "access_token": "a", "refresh_token": "r"}),
        json.dumps({"kind": "codex-oauth", "access_token": "a"}),
        json.dumps({"kind": "codex-oauth", "access_token": 5, "refresh_token": "r"}),
    ],
)
def test_from_storage_rejects_other_secrets(text: str) -> None:
    assert TokenSet.from_storage(text) is None


def test_from_storage_tolerates_odd_optional_fields() -> None:
    doc = {
        "kind": "codex-oauth",
        "access_token": "a",
        "refresh_token": "r",
        "expires_at": "later",
        "last_refresh": True,
        "account_id": 7,
    }
    tokens = TokenSet.from_storage(json.dumps(doc))
    assert tokens is not None
    assert (tokens.id_token, tokens.expires_at, tokens.last_refresh, tokens.account_id) == (
        "",
        None,
        None,
        None,
    )


def test_refresh_response_keeps_what_the_server_left_out() -> None:
    previous = TokenSet("id_old", "access_old", "rt_old", "acct_old", 1.0, 1.0)
    new_access = make_jwt({"exp": 5000, AUTH: {"chatgpt_account_id": "acct_new"}})
    now = time.time()
    fresh = TokenSet.from_token_response({"access_token": new_access}, now, previous)
    assert fresh.refresh_token == "rt_old" and fresh.id_token == "id_old"
    # The access token's claim is not a source of the account id: the previous one stays.
    assert fresh.account_id == "acct_old" and fresh.expires_at == 5000.0
    new_id = make_jwt({AUTH: {"chatgpt_account_id": "acct_new"}})
    renewed = TokenSet.from_token_response(
        {"id_token": new_id, "access_token": new_access}, now, previous
    )
    assert renewed.account_id == "acct_new"
    assert fresh.last_refresh == now
    opaque = TokenSet.from_token_response(
        {"access_token": "opaque", "expires_in": 60}, now, previous
    )
    assert opaque.expires_at == now + 60 and opaque.account_id == "acct_old"
    with pytest.raises(ValueError, match="without refresh_token"):
        TokenSet.from_token_response({"id_token": "i", "access_token": "a"}, now)
    with pytest.raises(ValueError):
        TokenSet.from_token_response(["not", "a", "dict"], now)


@pytest.mark.parametrize(("left", "due"), [(-10, True), (4 * 60, True), (6 * 60, False)])
def test_needs_refresh_window(left: float, due: bool) -> None:
    now = 1_000_000.0
    tokens = TokenSet("", make_jwt({"exp": now + left}), "rt")
    assert tokens.needs_refresh(now) is due
