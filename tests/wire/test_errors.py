"""Pure parts: error mapping, provider error bodies, Retry-After, scrubbing, protocol choice."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from takopi_nb._errors import (
    ProviderRequestError,
    ProviderTimeoutError,
    RateLimitError,
)
from takopi_nb.wire._endpoint import (
    VERCEL_DEFAULT_BASE,
    VERCEL_OPENAI_BASE,
    Origin,
    endpoint_for_record,
    model_sdk,
    select_protocol,
)
from takopi_nb.wire._errors import (
    CallContext,
    error_for_response,
    error_for_stream,
    error_for_transport,
    parse_retry_after,
    provider_detail,
)
from takopi_nb.wire._http import RetryPolicy
from takopi_nb.wire._messages import normalise_messages, to_anthropic, to_responses_input
from takopi_nb.wire._results import ChatResult, normalise_usage
from takopi_nb.wire._scrub import scrub

KEY = "sk-proj-SECRETSECRETSECRET1234"
CTX = CallContext(
    who="OpenAI (provider 'work')",
    provider_id="work",
    model_id="gpt-x",
    url="https://api.openai.com/v1/chat/completions",
    base_url="https://api.openai.com/v1",
    env_vars=("OPENAI_API_KEY",),
    what="chat request",
)


def body(data: object) -> str:
    return json.dumps(data)


# -- provider error bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message", "code"),
    [
        (
            body(
                {
                    "error": {
                        "message": "Bad key",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                }
            ),
            "Bad key",
            "invalid_api_key",
        ),
        (
            body({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            "Overloaded",
            "",
        ),
        (body({"detail": "Store must be set to false"}), "Store must be set to false", ""),
        (body({"detail": [{"type": "missing", "msg": "Field required"}]}), "Field required", ""),
        (
            body({"error": "invalid_grant", "error_description": "expired"}),
            "expired",
            "invalid_grant",
        ),
        (
            body([{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}]),
            "bad",
            "400",
        ),
        ("upstream connect error", "upstream connect error", ""),
        (
            "<html><head><title>502 Bad Gateway</title></head><body>x</body></html>",
            "an HTML page: 502 Bad Gateway",
            "",
        ),
        ("", "", ""),
    ],
)
def test_provider_detail_reads_every_body_shape(raw: str, message: str, code: str) -> None:
    detail = provider_detail(raw)
    assert detail.message == message
    assert detail.code == code


# -- status → error --------------------------------------------------------------------------


def test_401_says_key_rejected_and_where_to_update_it() -> None:
    err = error_for_response(CTX, 401, {}, body({"error": {"message": "Incorrect API key"}}))
    assert type(err) is ProviderRequestError and err.status == 401 and err.provider_id == "work"
    assert "Key rejected by OpenAI (provider 'work')" in str(err)
    assert "update it in %takopi providers" in str(err)
    assert "OPENAI_API_KEY" in str(err) and "Incorrect API key" in str(err)


def test_403_mentions_the_model_permission() -> None:
    err = error_for_response(CTX, 403, {}, body({"error": {"message": "no access"}}))
    assert "Key rejected" in str(err) and "'gpt-x'" in str(err)


def test_404_names_the_model_and_how_to_check_it() -> None:
    err = error_for_response(
        CTX, 404, {}, body({"error": {"message": "The model `gpt-x` does not exist"}})
    )
    assert "Model 'gpt-x' not found" in str(err)
    assert "%takopi models work" in str(err) and "https://api.openai.com/v1" in str(err)


def test_429_carries_retry_after() -> None:
    err = error_for_response(
        CTX, 429, {"Retry-After": "12"}, body({"error": {"message": "slow"}}), attempts=3
    )
    assert isinstance(err, RateLimitError) and err.retry_after == 12.0
    assert "after 3 attempts" in str(err) and "12 s" in str(err)


def test_429_insufficient_quota_says_billing() -> None:
    err = error_for_response(
        CTX, 429, {}, body({"error": {"message": "quota", "code": "insufficient_quota"}})
    )
    assert isinstance(err, RateLimitError) and "billing" in str(err)


def test_codex_usage_limit_gives_reset_time() -> None:
    ctx = CallContext(who="Codex", provider_id="chatgpt", codex=True)
    doc = {"error": {"type": "usage_limit_reached", "plan_type": "plus", "resets_at": 1000 + 1800}}
    err = error_for_response(ctx, 429, {}, body(doc), now=1000.0)
    assert isinstance(err, RateLimitError)
    assert "usage limit" in str(err) and "in 30 min" in str(err) and "plus" in str(err)
    assert err.retry_after == pytest.approx(1800.0)


def test_codex_401_after_recovery_says_sign_in_again() -> None:
    ctx = CallContext(who="Codex", provider_id="chatgpt", codex=True)
    err = error_for_response(
        ctx, 401, {}, body({"error": {"code": "token_expired", "message": "expired"}})
    )
    assert "%takopi login chatgpt" in str(err) and "sign in again" in str(err).lower()


def test_5xx_and_400_and_408() -> None:
    assert "server error after 3 attempts" in str(error_for_response(CTX, 503, {}, "", attempts=3))
    bad = error_for_response(CTX, 400, {}, body({"error": {"message": "temperature too high"}}))
    assert "refused the chat request for model 'gpt-x'" in str(
        bad
    ) and "temperature too high" in str(bad)
    assert isinstance(error_for_response(CTX, 408, {}, ""), ProviderTimeoutError)


def test_redirect_away_is_explained() -> None:
    err = error_for_response(CTX, 401, {}, "", redirected_to="http://127.0.0.2:8080")
    assert "another host, http://127.0.0.2:8080" in str(err) and "not sent there" in str(err)


def test_transport_errors() -> None:
    timeout = error_for_transport(CTX, "timeout", "", timeout=30)
    assert isinstance(timeout, ProviderTimeoutError) and isinstance(timeout, TimeoutError)
    assert "within 30 s" in str(timeout) and "timeout=" in str(timeout)
    connect = error_for_transport(CTX, "connect", "Connection refused", attempts=3)
    assert (
        "Could not reach" in str(connect)
        and "tried 3 times" in str(connect)
        and "HTTPS_PROXY" in str(connect)
    )


def test_stream_errors_by_kind() -> None:
    assert isinstance(
        error_for_stream(CTX, {"type": "rate_limit_error", "message": "x"}), RateLimitError
    )
    overloaded = error_for_stream(
        CTX, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    assert "overloaded" in str(overloaded).lower()


# -- secrets ---------------------------------------------------------------------------------


def test_a_key_echoed_by_the_provider_is_masked_in_every_error() -> None:
    echoed = body({"error": {"message": f"Incorrect API key provided: {KEY}."}})
    for status in (400, 401, 403, 404, 429, 500):
        err = error_for_response(CTX, status, {}, echoed, secrets=[KEY])
        assert KEY not in str(err) and KEY not in repr(err)
        assert "1234" in str(err)  # the masked tail, as the panel shows it


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnop",
        "token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig",
        "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        '{"refresh_token": "rt_abcdefghijkl"}',
        "api_key=AIzaSyabcdefghijk",
    ],
)
def test_credential_shaped_strings_are_masked_even_when_unknown(text: str) -> None:
    secret = text.split()[-1].split("=")[-1].strip('"}')
    assert secret[-8:] not in scrub(text)


def test_scrub_keeps_ordinary_text() -> None:
    assert scrub("The model `gpt-5` does not exist") == "The model `gpt-5` does not exist"


# -- retry-after, backoff --------------------------------------------------------------------


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"Retry-After-Ms": "250"}) == 0.25
    assert (
        parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        == 10.0
    )
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_is_bounded_and_long_retry_after_gives_up() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, max_retry_after=30.0, jitter=lambda: 1.0)
    assert [policy.delay(i, None) for i in range(5)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(0, 10.0) == 10.0
    assert policy.delay(0, 31.0) is None


# -- protocol choice, endpoints --------------------------------------------------------------


@pytest.mark.parametrize(
    ("ptype", "model", "sdk", "in_catalog", "expected"),
    [
        ("openai", "gpt-5.2", None, True, "chat_completions"),
        ("openrouter", "anthropic/claude-sonnet-4.5", None, True, "chat_completions"),
        ("anthropic", "claude-sonnet-4-5", None, True, "anthropic_messages"),
        ("codex", "gpt-5.5", None, True, "codex"),
        ("opencode", "claude-sonnet-4-5", "@ai-sdk/anthropic", True, "anthropic_messages"),
        ("opencode", "gpt-5.2", "@ai-sdk/openai", True, "responses"),
        ("opencode", "gemini-3-pro", "@ai-sdk/google", True, "gemini"),
        ("opencode", "kimi-k2", None, True, "chat_completions"),
        ("opencode", "claude-opus-9", None, False, "anthropic_messages"),
        ("opencode", "gpt-oss-120b", None, False, "chat_completions"),
        ("vercel", "anthropic/claude-sonnet-4.5", None, True, "chat_completions"),
    ],
)
def test_select_protocol(
    ptype: str, model: str, sdk: str | None, in_catalog: bool, expected: str
) -> None:
    assert select_protocol(ptype, model, sdk, in_catalog=in_catalog) == expected


def test_model_sdk_reads_the_catalog_field_defensively() -> None:
    assert model_sdk(SimpleNamespace(sdk="@ai-sdk/anthropic")) == "@ai-sdk/anthropic"
    assert model_sdk(SimpleNamespace(sdk=None)) is None
    assert model_sdk(None) is None


def test_vercel_default_base_maps_to_the_openai_compatible_route() -> None:
    assert VERCEL_DEFAULT_BASE == "https://ai-gateway.vercel.sh/v3/ai"
    assert VERCEL_OPENAI_BASE == "https://ai-gateway.vercel.sh/v1"
    default = SimpleNamespace(
        id="v", type="vercel", base_url="", effective_base_url=VERCEL_DEFAULT_BASE
    )
    assert endpoint_for_record(None, default).api_base == VERCEL_OPENAI_BASE
    proxy = SimpleNamespace(
        id="v", type="vercel", base_url="https://proxy/v1", effective_base_url="https://proxy/v1"
    )
    assert endpoint_for_record(None, proxy).api_base == "https://proxy/v1"
    other = SimpleNamespace(
        id="o", type="openai", base_url="", effective_base_url="https://api.openai.com/v1"
    )
    assert endpoint_for_record(None, other).api_base == "https://api.openai.com/v1"


def test_origin_scope() -> None:
    origin = Origin.of("https://api.openai.com/v1")
    assert origin.allows("https://api.openai.com/v1/chat/completions")
    assert origin.allows("https://API.openai.com:443/other")
    assert not origin.allows("https://api.openai.com.evil.example/v1")
    assert not origin.allows("http://api.openai.com/v1")
    assert not origin.allows("https://api.openai.com:8443/v1")
    plain = Origin.of("http://proxy.local/v1")
    assert plain.allows("https://proxy.local/v1")  # upgrade to https on the same host
    assert not plain.allows("https://other.local/v1")


# -- messages, results -----------------------------------------------------------------------


def test_messages_normalised_and_converted() -> None:
    msgs = normalise_messages(
        [
            ("user", "hi"),
            {"role": "assistant", "content": "yo"},
            {"role": "user", "content": "again"},
        ],
        system="be brief",
    )
    assert msgs[0] == {"role": "system", "content": "be brief"}
    system, turns = to_anthropic(msgs)
    assert system == "be brief" and [t["role"] for t in turns] == ["user", "assistant", "user"]
    instructions, items = to_responses_input(msgs)
    assert instructions == "be brief"
    assert items[1]["content"][0] == {"type": "output_text", "text": "yo"}
    assert items[0]["content"][0] == {"type": "input_text", "text": "hi"}


@pytest.mark.parametrize(
    "bad",
    [
        42,
        [{"role": "wizard", "content": "x"}],
        [{"role": "system", "content": "x"}],
        "  ",
        [object()],
    ],
)
def test_bad_prompts_are_refused_with_the_expected_form(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        normalise_messages(bad)


def test_chat_result_is_text_with_usage() -> None:
    result = ChatResult("hi there", usage={"input_tokens": 1}, model="m")
    assert result == "hi there" and str(result) == "hi there" and result.upper() == "HI THERE"
    assert result.usage == {"input_tokens": 1} and result.model == "m"


def test_usage_is_normalised() -> None:
    assert normalise_usage(
        {
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "total_tokens": 7,
            "cost": 0.01,
            "prompt_tokens_details": {"cached_tokens": 1},
        }
    ) == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
        "cache_read_tokens": 1,
        "cost": 0.01,
    }
    assert normalise_usage({"input_tokens": 5, "output_tokens": 2})["total_tokens"] == 7  # type: ignore[index]
    assert normalise_usage(None) is None


def test_chat_result_pickles_and_displays_as_plain_text() -> None:
    import pickle

    result = ChatResult(
        "line 1\nline 2", usage={"input_tokens": 1}, model="m", finish_reason="stop"
    )
    again = pickle.loads(pickle.dumps(result))
    assert again == result and again.usage == result.usage and again.model == "m"
    printed: list[str] = []
    result._repr_pretty_(SimpleNamespace(text=printed.append), False)
    assert printed == ["line 1\nline 2"]  # not the quoted, escaped repr
