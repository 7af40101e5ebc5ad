"""The official openai and anthropic SDKs, configured with openai_kwargs()/anthropic_kwargs(),
talking to the loopback fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

import takopi_nb as tk
from takopi_nb._errors import ProviderRequestError
from tests.fakes.http import Response
from tests.fakes.providers import FakeProvider, OtherHost

REPLY = "Hello from the fake."


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("m", "claude-zen-1", "openai/gpt-4o")) as server:
        yield server


@pytest.fixture
def anthropic_fake() -> Iterator[FakeProvider]:
    with FakeProvider(flavor="anthropic", models=("claude-x",)) as server:
        yield server


def add(ptype: str, fake: FakeProvider, *models: str, **kw: Any) -> None:
    kw.setdefault("base_url", fake.base_url)
    tk.get_config().add_provider(ptype, id="p", api_key=fake.key, models=list(models), **kw)


@pytest.mark.parametrize("ptype", ["openai", "openrouter", "deepseek", "zai", "vercel", "opencode"])
def test_openai_sdk_chat_and_stream(fake: FakeProvider, ptype: str) -> None:
    model = "openai/gpt-4o" if ptype in ("openrouter", "vercel") else "m"
    add(ptype, fake, model)
    kwargs = tk.resolve(f"p/{model}").openai_kwargs()
    assert kwargs == {"base_url": fake.base_url, "api_key": fake.key, "default_headers": {}}
    with openai.OpenAI(**kwargs, max_retries=0) as client:
        completion = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Say hello"}]
        )
        assert completion.choices[0].message.content == REPLY
        assert completion.usage is not None and completion.usage.completion_tokens == 4

        chunks = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Say hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = [c.choices[0].delta.content or "" for c in chunks if c.choices]
        assert "".join(parts) == REPLY

    sent = fake.requests_to("chat/completions")
    assert len(sent) == 2 and all(r.header("Authorization") == f"Bearer {fake.key}" for r in sent)


def test_openai_sdk_embeddings(fake: FakeProvider) -> None:
    add("openai", fake, "text-embedding-3-small")
    with openai.OpenAI(**tk.resolve("p/text-embedding-3-small").openai_kwargs()) as client:
        result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    got = [item.embedding for item in sorted(result.data, key=lambda d: d.index)]
    expected = [fake.vector("a"), fake.vector("b")]
    assert [x for v in got for x in v] == pytest.approx([x for v in expected for x in v], abs=1e-6)


def test_openai_sdk_sees_the_providers_errors(fake: FakeProvider) -> None:
    add("openai", fake, "m", base_url=fake.base_url)
    kwargs = tk.resolve("p/m").openai_kwargs()
    with (
        openai.OpenAI(**{**kwargs, "api_key": "sk-wrong-0000000000"}, max_retries=0) as client,
        pytest.raises(openai.AuthenticationError, match="Incorrect API key"),
    ):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_openai_client_is_built_and_works(fake: FakeProvider) -> None:
    add("openrouter", fake, "openai/gpt-4o")
    with tk.resolve("p/openai/gpt-4o").openai_client(max_retries=0) as client:
        assert isinstance(client, openai.OpenAI)
        assert str(client.base_url).rstrip("/") == fake.base_url
        reply = client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert reply.choices[0].message.content == REPLY


def test_anthropic_sdk_messages_and_stream(anthropic_fake: FakeProvider) -> None:
    add("anthropic", anthropic_fake, "claude-x")
    kwargs = tk.resolve("p/claude-x").anthropic_kwargs()
    assert kwargs == {
        "base_url": anthropic_fake.url,  # the SDK adds /v1 itself
        "api_key": anthropic_fake.key,
        "default_headers": {},
    }
    with anthropic.Anthropic(**kwargs, max_retries=0) as client:
        message = client.messages.create(
            model="claude-x", max_tokens=64, messages=[{"role": "user", "content": "Say hello"}]
        )
        assert message.content[0].text == REPLY  # type: ignore[union-attr]
        assert message.usage.output_tokens == 4

        with client.messages.stream(
            model="claude-x", max_tokens=64, messages=[{"role": "user", "content": "Say hello"}]
        ) as stream:
            assert "".join(stream.text_stream) == REPLY
            final = stream.get_final_message()
    assert final.usage.output_tokens == 4 and final.stop_reason == "end_turn"
    assert len(anthropic_fake.requests_to("messages")) == 2


def test_anthropic_sdk_for_an_opencode_claude_model(fake: FakeProvider) -> None:
    add("opencode", fake, "claude-zen-1")
    m = tk.resolve("p/claude-zen-1")
    with anthropic.Anthropic(**m.anthropic_kwargs(), max_retries=0) as client:
        message = client.messages.create(
            model="claude-zen-1", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
    assert message.content[0].text == REPLY  # type: ignore[union-attr]
    assert fake.requests_to("messages")[0].path == "/v1/messages"


def test_anthropic_client_is_built_and_works(anthropic_fake: FakeProvider) -> None:
    add("anthropic", anthropic_fake, "claude-x")
    with tk.resolve("p/claude-x").anthropic_client(max_retries=0) as client:
        assert isinstance(client, anthropic.Anthropic)
        message = client.messages.create(
            model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert message.content[0].text == REPLY  # type: ignore[union-attr]


def test_sdk_clients_drop_credentials_on_a_redirect_to_another_host(
    anthropic_fake: FakeProvider,
) -> None:
    with OtherHost(Response.json({"error": {"type": "x", "message": "nope"}}, 404)) as other:
        anthropic_fake.redirect_to = other.url
        add("anthropic", anthropic_fake, "claude-x")
        with (
            tk.resolve("p/claude-x").anthropic_client(max_retries=0) as client,
            pytest.raises(anthropic.NotFoundError),
        ):
            client.messages.create(
                model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
        assert anthropic_fake.requests[0].header("Authorization") == f"Bearer {anthropic_fake.key}"
        assert len(other.requests) == 1
        assert other.requests[0].header("x-api-key") is None
        assert other.requests[0].header("Authorization") is None


def test_kwargs_for_other_types() -> None:
    cfg = tk.get_config()
    cfg.add_provider("vercel", id="v", api_key="vk-0000000000000000", models=["openai/gpt-4o"])
    cfg.add_provider("anthropic", id="a", api_key="sk-ant-000000000000", models=["claude-x"])
    cfg.add_provider("openrouter", id="o", api_key="sk-or-000000000000", models=["openai/gpt-4o"])
    assert (
        tk.resolve("v/openai/gpt-4o").openai_kwargs()["base_url"]
        == "https://ai-gateway.vercel.sh/v1"
    )
    assert (
        tk.resolve("v/openai/gpt-4o").anthropic_kwargs()["base_url"]
        == "https://ai-gateway.vercel.sh"
    )
    # Anthropic's own OpenAI-compatible endpoint lives under /v1.
    assert tk.resolve("a/claude-x").openai_kwargs()["base_url"] == "https://api.anthropic.com/v1"
    assert tk.resolve("a/claude-x").anthropic_kwargs()["base_url"] == "https://api.anthropic.com"
    assert (
        tk.resolve("o/openai/gpt-4o").anthropic_kwargs()["base_url"] == "https://openrouter.ai/api"
    )


def test_kwargs_without_a_key_say_where_to_put_one() -> None:
    tk.get_config().add_provider("openai", id="p", models=["m"])
    with pytest.raises(tk.MissingCredentialsError, match="OPENAI_API_KEY"):
        tk.resolve("p/m").openai_kwargs()


def test_codex_has_no_anthropic_kwargs() -> None:
    tk.get_config().add_provider("codex", id="cx", models=["gpt-5.5"])
    with pytest.raises(ProviderRequestError, match="Anthropic API"):
        tk.resolve("cx/gpt-5.5").anthropic_kwargs()
