"""Codex Responses over SSE against the faithful ChatGPT/Codex fake: body rules, headers,
401 → refresh → one retry, the backend's errors, SDK hand-off, and no embeddings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

import takopi_nb as tk
from takopi_nb._errors import (
    AuthError,
    EmbeddingsNotSupportedError,
    MissingCredentialsError,
    ProviderRequestError,
    RateLimitError,
)
from tests.fakes.codex_server import FakeChatGPT, FakeTokens
from tests.fakes.http import Response
from tests.fakes.providers import FakeProvider, OtherHost

REPLY = "Hello from the fake Codex."


@pytest.fixture
def chatgpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatGPT]:
    with FakeChatGPT() as fake:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", fake.issuer)
        yield fake


def sign_in(fake: FakeChatGPT, base_url: str | None = None, **token_kw: Any) -> FakeTokens:
    cfg = tk.get_config()
    cfg.add_provider(
        "codex", id="chatgpt", base_url=base_url or fake.codex_base, models=["gpt-5.5", "gpt-4-old"]
    )
    tokens = fake.issue_tokens(account_id="acct_123", **token_kw)
    cfg.runtime.secrets.set("chatgpt", tokens.storage_json())
    return tokens


def stored_access_token() -> str:
    found = tk.get_config().runtime.secrets.get("chatgpt")
    assert found is not None
    return str(json.loads(found[0])["access_token"])


def test_chat_follows_the_codex_body_and_header_rules(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    result = tk.resolve("chatgpt/gpt-5.5").chat("Say hello")

    assert result == REPLY and result.model == "gpt-5.5"
    assert result.usage is not None and result.usage["output_tokens"] > 0
    (call,) = chatgpt.responses_calls
    body = call.body
    assert body["store"] is False and body["stream"] is True
    assert body["instructions"] == "You are a helpful assistant."
    assert "max_output_tokens" not in body
    assert body["input"] == [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Say hello"}],
        }
    ]
    headers = call.headers
    assert headers["authorization"] == f"Bearer {tokens.access_token}"
    assert headers["chatgpt-account-id"] == "acct_123"
    assert headers["accept"] == "text/event-stream"
    assert headers["originator"] and headers["version"] and headers["session_id"]


def test_system_prompt_becomes_instructions_and_history_is_kept(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    tk.resolve("chatgpt/gpt-5.5").chat(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "More"},
        ],
        system="Answer in French.",
    )
    body = chatgpt.responses_calls[0].body
    assert body["instructions"] == "Answer in French."
    assert [item["role"] for item in body["input"]] == ["user", "assistant", "user"]
    assert body["input"][1]["content"] == [{"type": "output_text", "text": "Hello"}]


def test_streaming_yields_the_deltas(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    stream = tk.resolve("chatgpt/gpt-5.5").chat("Say hello", stream=True)
    assert list(stream) == chatgpt.reply_chunks
    assert stream.text == REPLY and stream.done and stream.usage is not None
    assert stream.finish_reason == "stop"


def test_an_output_limit_is_dropped_with_a_warning(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    with pytest.warns(UserWarning, match="does not accept an output-token limit"):
        result = tk.resolve("chatgpt/gpt-5.5").chat("hi", max_tokens=10, store=True)
    assert result == REPLY
    body = chatgpt.responses_calls[0].body
    assert "max_output_tokens" not in body and "max_tokens" not in body
    assert body["store"] is False  # the backend's rule wins over a caller's store=True


def test_a_401_refreshes_once_and_retries_once(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    chatgpt.invalidate_access_token(tokens.access_token)

    assert tk.resolve("chatgpt/gpt-5.5").chat("hi") == REPLY

    assert chatgpt.counts["backend_401"] == 1 and chatgpt.counts["refresh_ok"] == 1
    first, second = chatgpt.responses_calls
    assert first.headers["authorization"] == f"Bearer {tokens.access_token}"
    fresh = stored_access_token()
    assert fresh != tokens.access_token
    assert second.headers["authorization"] == f"Bearer {fresh}"
    assert second.body == first.body


def test_a_401_while_streaming_refreshes_and_retries_too(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    chatgpt.invalidate_access_token(tokens.access_token)
    assert "".join(tk.resolve("chatgpt/gpt-5.5").chat("hi", stream=True)) == REPLY
    assert chatgpt.counts["responses"] == 2 and chatgpt.counts["refresh_ok"] == 1


def test_a_second_401_is_shown_not_retried_again(
    chatgpt: FakeChatGPT, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(chatgpt)
    rejected = Response.json(
        {
            "error": {
                "message": "Provided authentication token is expired.",
                "code": "token_expired",
            }
        },
        401,
    )
    monkeypatch.setattr(chatgpt, "_bearer", lambda request: (None, rejected))
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert info.value.status == 401
    assert "even after refreshing" in str(info.value) and "%takopi login chatgpt" in str(info.value)
    assert chatgpt.counts["responses"] == 2 and chatgpt.counts["refresh_ok"] == 1


def test_a_sign_in_that_cannot_be_refreshed_says_sign_in_again(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    chatgpt.invalidate_access_token(tokens.access_token)
    chatgpt.revoke(tokens.refresh_token)
    with pytest.raises(AuthError, match=r"(?i)sign in again"):
        tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert chatgpt.counts["responses"] == 1


def test_tokens_near_expiry_are_refreshed_before_the_call(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt, access_lifetime=120)  # inside the 5-minute window
    assert tk.resolve("chatgpt/gpt-5.5").chat("hi") == REPLY
    assert chatgpt.counts["refresh_ok"] == 1 and chatgpt.counts["backend_401"] == 0
    assert chatgpt.responses_calls[0].headers["authorization"] != f"Bearer {tokens.access_token}"


def test_usage_limit_is_reported_with_its_reset_and_not_retried(
    chatgpt: FakeChatGPT, no_waiting: list[float]
) -> None:
    sign_in(chatgpt)
    chatgpt.rate_limit = "usage_limit_reached"
    with pytest.raises(RateLimitError) as info:
        tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert "usage limit" in str(info.value) and "resets at" in str(info.value)
    assert info.value.retry_after is not None and 3500 < info.value.retry_after <= 3600
    assert chatgpt.counts["responses"] == 1 and no_waiting == []

    chatgpt.rate_limit = "usage_not_included"
    with pytest.raises(RateLimitError, match="does not include Codex"):
        tk.resolve("chatgpt/gpt-5.5").chat("hi")


def test_a_model_the_plan_does_not_offer(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("chatgpt/gpt-4-old").chat("hi")
    assert info.value.status == 400
    assert "cannot be used with the ChatGPT account" in str(info.value)
    assert "%takopi models chatgpt" in str(info.value)


def test_a_failed_response_mid_stream(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    chatgpt.stream_error = {"code": "server_error", "message": "The model crashed"}
    with pytest.raises(ProviderRequestError, match="The model crashed"):
        tk.resolve("chatgpt/gpt-5.5").chat("hi")


def test_a_parameter_the_backend_refuses_is_quoted_with_what_to_do(chatgpt: FakeChatGPT) -> None:
    """The Codex backend is not the public Responses API: temperature is a 400 there."""
    sign_in(chatgpt)
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("chatgpt/gpt-5.5").chat("hi", temperature=0.2)
    assert info.value.status == 400
    assert "Unsupported parameter: temperature" in str(info.value)
    assert "Check the parameters passed to the call" in str(info.value)
    assert chatgpt.counts["responses"] == 1  # a 400 is not retried


def test_no_embeddings(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    with pytest.raises(EmbeddingsNotSupportedError, match="openai"):
        tk.resolve("chatgpt/gpt-5.5").embed(["a"])
    assert chatgpt.counts["responses"] == 0


def test_not_signed_in(chatgpt: FakeChatGPT) -> None:
    tk.get_config().add_provider(
        "codex", id="chatgpt", base_url=chatgpt.codex_base, models=["gpt-5.5"]
    )
    with pytest.raises(MissingCredentialsError, match="login chatgpt"):
        tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert chatgpt.requests == []


def test_openai_sdk_responses_with_openai_kwargs(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    kwargs = tk.resolve("chatgpt/gpt-5.5").openai_kwargs()
    assert kwargs["base_url"] == chatgpt.codex_base and kwargs["api_key"] == tokens.access_token
    assert kwargs["default_headers"]["ChatGPT-Account-ID"] == "acct_123"
    assert "Authorization" not in kwargs["default_headers"]
    with openai.OpenAI(**kwargs, max_retries=0) as client:
        events = client.responses.create(
            model="gpt-5.5",
            instructions="Be brief.",
            input=[{"role": "user", "content": "Say hello"}],  # the backend takes no plain string
            store=False,
            stream=True,
        )
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == REPLY


def test_client_posts_with_fresh_headers(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    chatgpt.invalidate_access_token(tokens.access_token)
    m = tk.resolve("chatgpt/gpt-5.5")
    body = {
        "model": "gpt-5.5",
        "instructions": "x",
        "input": [{"role": "user", "content": "hi"}],
        "store": False,
        "stream": True,
    }
    with m.client() as client:
        response = client.post("responses", json=body)
    assert response.status_code == 200 and "response.completed" in response.text
    assert chatgpt.counts["backend_401"] == 1 and chatgpt.counts["responses"] == 2


def test_a_redirect_away_carries_neither_token_nor_account_and_burns_no_refresh(
    chatgpt: FakeChatGPT,
) -> None:
    with FakeProvider(prefix="/backend-api/codex") as backend, OtherHost() as other:
        backend.redirect_to = other.url
        sign_in(chatgpt, base_url=backend.base_url)
        with pytest.raises(ProviderRequestError, match="another host"):
            tk.resolve("chatgpt/gpt-5.5").chat("hi")
        assert backend.requests[0].header("ChatGPT-Account-ID") == "acct_123"
        sent = other.requests[0]
        assert sent.header("Authorization") is None and sent.header("ChatGPT-Account-ID") is None
    assert chatgpt.counts["refresh"] == 0  # the other host's 401 was not taken as ours


def test_connection_check_lists_the_accounts_models(chatgpt: FakeChatGPT) -> None:
    sign_in(chatgpt)
    result = tk.get_config().get("chatgpt").test_connection()
    assert result.ok and "gpt-5.5" in result.models
    assert "ChatGPT sign-in works" in result.message
    assert "'gpt-4-old'" in result.message  # selected, but not offered to this account
    assert chatgpt.models_calls[0].query["client_version"]


def test_one_session_id_per_conversation_matching_the_prompt_cache_key(
    chatgpt: FakeChatGPT,
) -> None:
    """Like the Codex CLI: every turn of a conversation carries the same session_id header
    and prompt_cache_key, so the backend's prompt cache keeps hitting; another
    conversation gets another id."""
    sign_in(chatgpt)
    m = tk.resolve("chatgpt/gpt-5.5")
    turn1 = [{"role": "user", "content": "Plan a trip"}]
    first = m.chat(turn1)
    turn2 = [
        *turn1,
        {"role": "assistant", "content": str(first)},
        {"role": "user", "content": "More"},
    ]
    m.chat(turn2)
    m.chat("Something else entirely")
    m.chat("Pinned", prompt_cache_key="my-notebook-42")

    calls = chatgpt.responses_calls
    sessions = [c.headers["session_id"] for c in calls]
    keys = [c.body["prompt_cache_key"] for c in calls]
    assert sessions == keys
    assert sessions[0] == sessions[1]
    assert sessions[2] != sessions[0]
    assert sessions[3] == "my-notebook-42"


def test_account_header_comes_from_the_id_token_claim_only(chatgpt: FakeChatGPT) -> None:
    tokens = sign_in(chatgpt)
    from takopi_nb.codex._jwt import account_id_of, decode_claims

    assert account_id_of(decode_claims(tokens.id_token)) == "acct_123"
    tk.resolve("chatgpt/gpt-5.5").chat("Hi")
    assert chatgpt.responses_calls[-1].headers["chatgpt-account-id"] == "acct_123"
