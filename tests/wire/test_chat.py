"""chat(), chat(stream=True) and embed() for every provider type, against loopback fakes.

Everything goes through the public API: ``tk.get_config().add_provider(...)``,
``tk.resolve(ref)``, then the ResolvedModel's methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb._errors import (
    EmbeddingsNotSupportedError,
    MissingCredentialsError,
    ProviderRequestError,
    TakopiError,
)
from takopi_nb.wire import ChatResult, ChatStream, EmbeddingResult
from takopi_nb.wire import _endpoint as wire_endpoint
from tests.fakes.providers import FakeProvider

OPENAI_COMPATIBLE = ("openai", "openrouter", "deepseek", "opencode", "zai", "vercel")
SLASHED = {"openrouter": "openai/gpt-4o", "vercel": "anthropic/claude-sonnet-4.5"}
REPLY = "Hello from the fake."


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(
        models=(
            "m",
            *SLASHED.values(),
            "claude-sonnet-4-5",
            "gpt-5.2",
            "gemini-3-pro",
            "claude-opus-9",
            "kimi-k2",
        )
    ) as server:
        yield server


@pytest.fixture
def anthropic_fake() -> Iterator[FakeProvider]:
    with FakeProvider(flavor="anthropic", models=("claude-sonnet-4-5", "claude-x")) as server:
        yield server


def add(ptype: str, fake: FakeProvider, *models: str, pid: str = "p", **kw: Any) -> tk.Provider:
    kw.setdefault("base_url", fake.base_url)
    kw.setdefault("api_key", fake.key)
    return tk.get_config().add_provider(ptype, id=pid, models=list(models), **kw)


def model_for(ptype: str) -> str:
    return SLASHED.get(ptype, "m")


# -- OpenAI-compatible types -----------------------------------------------------------------


@pytest.mark.parametrize("ptype", OPENAI_COMPATIBLE)
def test_chat_over_chat_completions(ptype: str, fake: FakeProvider) -> None:
    model = model_for(ptype)
    add(ptype, fake, model)
    result = tk.resolve(f"p/{model}").chat("Say hello", system="Be brief.", temperature=0.2)

    assert isinstance(result, ChatResult) and isinstance(result, str)
    assert result == REPLY and result.model == model and result.finish_reason == "stop"
    assert result.usage == {"input_tokens": 4, "output_tokens": 4, "total_tokens": 8}
    (sent,) = fake.requests_to("chat/completions")
    assert sent.header("Authorization") == f"Bearer {fake.key}"
    body = sent.json()
    assert body["model"] == model  # unchanged, slashes and all
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert body["temperature"] == 0.2 and "stream" not in body


@pytest.mark.parametrize("ptype", OPENAI_COMPATIBLE)
def test_streaming_over_chat_completions(ptype: str, fake: FakeProvider) -> None:
    model = model_for(ptype)
    add(ptype, fake, model)
    stream = tk.resolve(f"p/{model}").chat("Say hello", stream=True)

    assert isinstance(stream, ChatStream)
    assert list(stream) == ["Hello", " from", " the", " fake."]
    assert stream.text == REPLY and stream.done and stream.finish_reason == "stop"
    assert stream.usage == {"input_tokens": 2, "output_tokens": 4, "total_tokens": 6}
    body = fake.requests_to("chat/completions")[0].json()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("ptype", OPENAI_COMPATIBLE)
def test_embed_over_openai_embeddings(ptype: str, fake: FakeProvider) -> None:
    add(ptype, fake, "text-embedding-3-small")
    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]
    vectors = tk.resolve("p/text-embedding-3-small", purpose="embedding").embed(texts, batch_size=2)

    assert vectors == [fake.vector(t) for t in texts]  # input order, though the fake reverses
    assert isinstance(vectors, EmbeddingResult)
    assert vectors.usage == {"input_tokens": 5, "total_tokens": 5}
    sent = fake.requests_to("embeddings")
    # The batches go out concurrently: any order on the wire, input order in the result.
    assert sorted(r.json()["input"] for r in sent) == [
        ["alpha", "beta"],
        ["epsilon"],
        ["gamma", "delta"],
    ]
    assert all(r.json()["encoding_format"] == "float" for r in sent)
    assert all(r.header("Authorization") == f"Bearer {fake.key}" for r in sent)


def test_embed_a_single_string_and_nothing(fake: FakeProvider) -> None:
    add("openai", fake, "text-embedding-3-small")
    m = tk.resolve("p/text-embedding-3-small", purpose="embedding")
    assert m.embed("one") == [fake.vector("one")]
    assert m.embed([]) == [] and len(fake.requests_to("embeddings")) == 1


def test_messages_list_and_params_pass_through(fake: FakeProvider) -> None:
    add("openai", fake, "m")
    history = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]
    tk.resolve("p/m").chat(history, max_tokens=50, seed=1)
    body = fake.requests_to("chat/completions")[0].json()
    assert body["messages"] == history and body["max_tokens"] == 50 and body["seed"] == 1


def test_vercel_default_base_uses_the_gateway_openai_route(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Point "the gateway's OpenAI-compatible route" at the fake; the provider keeps the default.
    monkeypatch.setattr(wire_endpoint, "VERCEL_OPENAI_BASE", fake.base_url)
    add("vercel", fake, "anthropic/claude-sonnet-4.5", base_url="")
    m = tk.resolve("p/anthropic/claude-sonnet-4.5")
    assert m.base_url == "https://ai-gateway.vercel.sh/v3/ai"
    assert m.chat("hi") == REPLY
    assert len(fake.requests_to("chat/completions")) == 1


# -- Anthropic -------------------------------------------------------------------------------


def test_anthropic_chat(anthropic_fake: FakeProvider) -> None:
    add("anthropic", anthropic_fake, "claude-sonnet-4-5")
    result = tk.resolve("p/claude-sonnet-4-5").chat("Say hello", system="Be brief.")

    assert result == REPLY and result.finish_reason == "end_turn"
    assert result.usage == {"input_tokens": 2, "output_tokens": 4, "total_tokens": 6}
    (sent,) = anthropic_fake.requests_to("messages")
    assert sent.header("x-api-key") == anthropic_fake.key
    assert sent.header("anthropic-version") == "2023-06-01"
    assert sent.header("Authorization") is None
    body = sent.json()
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert body["max_tokens"] == 8192  # the catalog's 64000, capped as a default


def test_anthropic_stream_merges_usage_from_start_and_delta(anthropic_fake: FakeProvider) -> None:
    add("anthropic", anthropic_fake, "claude-x")
    stream = tk.resolve("p/claude-x").chat("Say hello", stream=True, max_tokens=100)
    assert "".join(stream) == REPLY
    assert stream.usage == {"input_tokens": 2, "output_tokens": 4, "total_tokens": 6}
    assert stream.done and stream.finish_reason == "end_turn"
    body = anthropic_fake.requests_to("messages")[0].json()
    assert body["stream"] is True and body["max_tokens"] == 100
    assert body["model"] == "claude-x"


def test_anthropic_system_messages_in_the_list_become_the_system_field(
    anthropic_fake: FakeProvider,
) -> None:
    add("anthropic", anthropic_fake, "claude-x")
    tk.resolve("p/claude-x").chat(
        [{"role": "system", "content": "Rule one."}, {"role": "user", "content": "Go"}],
        system="Rule zero.",
    )
    body = anthropic_fake.requests_to("messages")[0].json()
    assert body["system"] == "Rule zero.\n\nRule one."
    assert body["messages"] == [{"role": "user", "content": "Go"}]
    assert body["max_tokens"] == 4096  # not in the catalog: the plain default


def test_anthropic_embeddings_without_a_proxy_say_what_to_do(anthropic_fake: FakeProvider) -> None:
    add("anthropic", anthropic_fake, "claude-x", base_url="")
    m = tk.resolve("p/claude-x", purpose="embedding")
    with pytest.raises(
        EmbeddingsNotSupportedError, match="Anthropic has no embeddings API"
    ) as info:
        m.embed(["a"])
    assert "Base URL" in str(info.value) and "another provider" in str(info.value)
    assert anthropic_fake.requests == []


def test_anthropic_embeddings_through_a_proxy_use_the_openai_format(
    fake: FakeProvider,
) -> None:
    add("anthropic", fake, "text-embedding-3-small")  # the Base URL override is the proxy
    vectors = tk.resolve("p/text-embedding-3-small", purpose="embedding").embed(["a", "b"])
    assert vectors == [fake.vector("a"), fake.vector("b")]
    sent = fake.requests_to("embeddings")[0]
    assert sent.header("x-api-key") == fake.key


# -- OpenCode Zen: per-model wire formats -----------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("kimi-k2", "chat/completions"),  # catalog: no override
        ("claude-sonnet-4-5", "messages"),  # catalog: @ai-sdk/anthropic
        ("gpt-5.2", "responses"),  # catalog: @ai-sdk/openai
        ("gemini-3-pro", "models/gemini-3-pro:generateContent"),  # catalog: @ai-sdk/google
        ("claude-opus-9", "messages"),  # not in the catalog: placed by family
    ],
)
def test_opencode_models_use_their_catalog_wire_format(
    fake: FakeProvider, model: str, path: str
) -> None:
    add("opencode", fake, model)
    m = tk.resolve(f"p/{model}")
    result = m.chat("Say hello", system="Be brief.", max_tokens=64)
    assert result == REPLY and result.usage is not None and result.usage["output_tokens"] == 4
    (sent,) = fake.requests_to(path)
    body = sent.json()
    if path == "messages":
        assert sent.header("x-api-key") == fake.key and body["system"] == "Be brief."
        assert body["max_tokens"] == 64
    elif path == "responses":
        assert sent.header("Authorization") == f"Bearer {fake.key}"
        assert body["instructions"] == "Be brief." and body["max_output_tokens"] == 64
        assert body["input"] == [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Say hello"}],
            }
        ]
    elif path.startswith("models/"):
        assert sent.header("x-goog-api-key") == fake.key
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["generationConfig"] == {"maxOutputTokens": 64}
    else:
        assert sent.header("Authorization") == f"Bearer {fake.key}"

    stream = m.chat("Say hello", stream=True)
    assert list(stream) == ["Hello", " from", " the", " fake."]
    assert stream.done and stream.usage is not None and stream.usage["output_tokens"] == 4


def test_opencode_embeddings_stay_openai_compatible(fake: FakeProvider) -> None:
    add("opencode", fake, "text-embedding-3-small")
    vectors = tk.resolve("p/text-embedding-3-small", purpose="embedding").embed(["x"])
    assert vectors == [fake.vector("x")]


# -- errors from the wire --------------------------------------------------------------------


def test_wrong_key_is_reported_with_what_to_do(fake: FakeProvider) -> None:
    add("deepseek", fake, "m", api_key="sk-wrong-key-000000000000")
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("p/m").chat("hi")
    err = info.value
    assert err.status == 401 and err.provider_id == "p"
    assert "Key rejected by DeepSeek (provider 'p')" in str(err)
    assert "update it in %takopi providers" in str(err) and "DEEPSEEK_API_KEY" in str(err)
    assert "Incorrect API key provided" in str(err)  # the provider's words, quoted
    assert len(fake.requests_to("chat/completions")) == 1  # a 401 is not retried


def test_a_google_model_with_a_wrong_key_says_key_rejected(fake: FakeProvider) -> None:
    """Google answers a wrong key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401."""
    add("opencode", fake, "gemini-3-pro", api_key="sk-wrong-key-000000000000")
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("p/gemini-3-pro").chat("hi")
    assert info.value.status == 400
    assert "Key rejected by" in str(info.value) and "update it in %takopi providers" in str(
        info.value
    )
    assert "API key not valid" in str(info.value) and "sk-wrong-key" not in str(info.value)


def test_anthropic_wrong_key(anthropic_fake: FakeProvider) -> None:
    add("anthropic", anthropic_fake, "claude-x", api_key="sk-ant-wrong-0000000000")
    with pytest.raises(ProviderRequestError, match="Key rejected by Anthropic") as info:
        tk.resolve("p/claude-x").chat("hi", stream=True)
    assert "invalid x-api-key" in str(info.value)


def test_unknown_model_is_a_404_naming_it(fake: FakeProvider) -> None:
    add("openai", fake, "gpt-unknown")
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("p/gpt-unknown").chat("hi")
    assert info.value.status == 404
    assert "Model 'gpt-unknown' not found" in str(info.value)
    assert "%takopi models p" in str(info.value) and "does not exist" in str(info.value)


def test_bad_request_quotes_the_provider(anthropic_fake: FakeProvider) -> None:
    anthropic_fake.fail_next(
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "temperature: Input should be less than or equal to 1",
            },
        },
    )
    add("anthropic", anthropic_fake, "claude-x")
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("p/claude-x").chat("hi", temperature=3)
    assert info.value.status == 400
    assert "refused the chat request for model 'claude-x'" in str(info.value)
    assert "temperature: Input should be less than or equal to 1" in str(info.value)
    assert len(anthropic_fake.requests_to("messages")) == 1  # a 400 is not retried


def test_missing_key_is_reported_before_any_request(fake: FakeProvider) -> None:
    add("zai", fake, "m", api_key=None)
    with pytest.raises(MissingCredentialsError, match="ZAI_API_KEY"):
        tk.resolve("p/m").chat("hi")
    assert fake.requests == []


def test_error_event_mid_stream(fake: FakeProvider, anthropic_fake: FakeProvider) -> None:
    fake.stream_error = {"message": "Upstream provider failed", "code": 502}
    add("openrouter", fake, "openai/gpt-4o")
    stream = tk.resolve("p/openai/gpt-4o").chat("hi", stream=True)
    assert next(stream) == "Hello"
    with pytest.raises(ProviderRequestError, match="Upstream provider failed"):
        next(stream)

    anthropic_fake.stream_error = {"type": "overloaded_error", "message": "Overloaded"}
    add("anthropic", anthropic_fake, "claude-x", pid="a")
    with pytest.raises(ProviderRequestError, match="overloaded"):
        list(tk.resolve("a/claude-x").chat("hi", stream=True))


@pytest.mark.parametrize("ptype", ["openai", "opencode-responses", "anthropic"])
def test_a_stream_cut_short_is_an_error_not_a_silent_partial_answer(
    ptype: str, fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    server = anthropic_fake if ptype == "anthropic" else fake
    server.truncate_stream = True
    model = {"openai": "m", "opencode-responses": "gpt-5.2", "anthropic": "claude-x"}[ptype]
    add(ptype.split("-")[0], server, model)
    stream = tk.resolve(f"p/{model}").chat("hi", stream=True)
    received: list[str] = []
    with pytest.raises(ProviderRequestError, match="broke off"):
        for chunk in stream:
            received.append(chunk)
    assert "".join(received) == REPLY and not stream.done


def test_a_stream_can_be_closed_early(fake: FakeProvider) -> None:
    add("openai", fake, "m")
    with tk.resolve("p/m").chat("hi", stream=True) as stream:
        assert next(stream) == "Hello"
    assert list(stream) == [] and stream.text == "Hello"


def test_a_stream_result_collects_the_rest(fake: FakeProvider) -> None:
    add("openai", fake, "m")
    stream = tk.resolve("p/m").chat("hi", stream=True)
    next(stream)
    result = stream.result()
    assert result == REPLY and result.usage is not None


def test_every_failure_is_a_takopi_error(fake: FakeProvider) -> None:
    add("openai", fake, "m", base_url=fake.url + "/nowhere")
    with pytest.raises(TakopiError):
        tk.resolve("p/m").chat("hi")


def test_headers_follow_the_models_wire_format(fake: FakeProvider) -> None:
    from takopi_nb import wire

    add("opencode", fake, "claude-sonnet-4-5", "kimi-k2", "gemini-3-pro")
    assert wire.headers(tk.resolve("p/claude-sonnet-4-5")) == {
        "x-api-key": fake.key,
        "anthropic-version": "2023-06-01",
    }
    assert wire.headers(tk.resolve("p/kimi-k2")) == {"Authorization": f"Bearer {fake.key}"}
    assert wire.headers(tk.resolve("p/gemini-3-pro")) == {"x-goog-api-key": fake.key}
    assert wire.wire_protocol(tk.resolve("p/gemini-3-pro")) == "gemini"
