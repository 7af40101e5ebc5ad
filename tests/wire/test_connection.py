"""Provider.test_connection(): list the models, or a tiny request where listing is not offered."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

import takopi_nb as tk
from takopi_nb.wire import ConnectionResult
from tests.fakes.providers import FakeProvider


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("m", "gpt-5.2")) as server:
        yield server


def provider(ptype: str, fake: FakeProvider, *models: str, key: str | None = "") -> tk.Provider:
    return tk.get_config().add_provider(
        ptype,
        id="p",
        base_url=fake.base_url,
        api_key=fake.key if key == "" else key,
        models=list(models),
    )


def test_a_working_provider_lists_its_models(fake: FakeProvider) -> None:
    result = provider("openai", fake, "m", "gpt-9-typo").test_connection()
    assert isinstance(result, ConnectionResult) and result.ok and bool(result)
    assert result.method == "list-models" and result.status == 200
    assert "m" in result.models and "text-embedding-3-small" in result.models
    assert result.latency_s is not None and result.latency_s >= 0
    assert result.message.startswith("Connected to OpenAI (provider 'p') in ")
    assert "the key was accepted" in result.message
    assert "Not in the provider's list: 'gpt-9-typo'" in result.message
    assert str(result) == result.message
    (sent,) = fake.requests_to("models")
    assert sent.method == "GET" and sent.header("Authorization") == f"Bearer {fake.key}"


def test_anthropic_lists_with_its_own_headers() -> None:
    with FakeProvider(flavor="anthropic", models=("claude-x",)) as fake:
        result = provider("anthropic", fake, "claude-x").test_connection()
        assert result.ok and result.models == ("claude-x",)
        (sent,) = fake.requests_to("models")
        assert sent.header("x-api-key") == fake.key and sent.header("anthropic-version")


def test_no_key_says_where_to_put_one_without_calling(fake: FakeProvider) -> None:
    result = provider("openrouter", fake, "m", key=None).test_connection()
    assert not result.ok and result.method == ""
    assert "No API key for OpenRouter (provider 'p')" in result.message
    assert "%takopi providers" in result.message and "OPENROUTER_API_KEY" in result.message
    assert fake.requests == []


def test_a_rejected_key(fake: FakeProvider) -> None:
    result = provider("deepseek", fake, "m", key="sk-bad-00000000000000").test_connection()
    assert not result.ok and result.status == 401
    assert "Key rejected by DeepSeek" in result.message and "%takopi providers" in result.message


def test_where_listing_is_not_offered_a_tiny_request_is_sent(fake: FakeProvider) -> None:
    fake.list_models = False
    result = provider("zai", fake, "m").test_connection()
    assert result.ok and result.method == "tiny-request" and result.models == ()
    assert "model 'm' answered" in result.message and "does not list its models" in result.message
    (tiny,) = fake.requests_to("chat/completions")
    assert tiny.json()["model"] == "m"


def test_tiny_request_with_a_rejected_key(fake: FakeProvider) -> None:
    fake.list_models = False
    # The fake checks the key before the route: a 401 on listing, so no tiny request.
    result = provider("zai", fake, "m", key="sk-bad-00000000000000").test_connection()
    assert not result.ok and result.status == 401


def test_tiny_request_refused_for_the_model_still_shows_the_key_works(fake: FakeProvider) -> None:
    fake.list_models = False
    result = provider("zai", fake, "no-such-model").test_connection()
    assert result.ok and result.status == 404
    assert "credential was accepted" in result.message and "'no-such-model'" in result.message


def test_an_unreachable_provider_is_reported_at_once(no_waiting: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = (
            tk.get_config()
            .add_provider(
                "openai",
                id="p",
                api_key="sk-x-0000000000000",
                models=["m"],
                base_url=f"http://127.0.0.1:{port}/v1",
            )
            .test_connection()
        )
    assert not result.ok and result.status is None
    assert "Could not reach OpenAI (provider 'p')" in result.message
    assert no_waiting == []  # a connection check does not retry


def test_server_error(fake: FakeProvider) -> None:
    fake.fail_next(503)
    result = provider("openai", fake, "m").test_connection()
    assert not result.ok and result.status == 503 and "server error" in result.message


def test_codex_not_signed_in() -> None:
    result = tk.get_config().add_provider("codex", id="cx", models=["gpt-5.5"]).test_connection()
    assert (
        not result.ok and "Not signed in" in result.message and "%takopi login cx" in result.message
    )
