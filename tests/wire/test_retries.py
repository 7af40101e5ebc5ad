"""Bounded retries for 408/429/5xx and failed connects, Retry-After honoured; timeouts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb._errors import ProviderRequestError, ProviderTimeoutError, RateLimitError
from tests.fakes.providers import FakeProvider

REPLY = "Hello from the fake."


@pytest.fixture
def slept(no_waiting: list[float]) -> list[float]:
    """What the retries slept, in order (conftest's no_waiting fixes the jitter at its top)."""
    return no_waiting


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("m", "claude-x")) as server:
        yield server


def add(ptype: str, fake: FakeProvider, *models: str, **kw: Any) -> None:
    kw.setdefault("base_url", fake.base_url)
    tk.get_config().add_provider(ptype, id="p", api_key=fake.key, models=list(models), **kw)


def test_429_with_retry_after_is_waited_for_then_succeeds(
    fake: FakeProvider, slept: list[float]
) -> None:
    fake.fail_next(429, times=2, headers={"Retry-After": "2"})
    add("openai", fake, "m")
    assert tk.resolve("p/m").chat("hi") == REPLY
    assert slept == [2.0, 2.0]
    assert len(fake.requests_to("chat/completions")) == 3


def test_retry_after_ms_is_understood(fake: FakeProvider, slept: list[float]) -> None:
    fake.fail_next(429, headers={"retry-after-ms": "150"})
    add("openai", fake, "m")
    assert tk.resolve("p/m").chat("hi") == REPLY
    assert slept == [0.15]


def test_429_retries_are_bounded_and_the_error_keeps_retry_after(
    fake: FakeProvider, slept: list[float]
) -> None:
    fake.fail_next(429, times=10, headers={"Retry-After": "1"})
    add("openrouter", fake, "m")
    with pytest.raises(RateLimitError) as info:
        tk.resolve("p/m").chat("hi")
    assert len(fake.requests_to("chat/completions")) == 3  # 1 + max_retries (2)
    assert slept == [1.0, 1.0]
    err = info.value
    assert err.status == 429 and err.retry_after == 1.0 and err.provider_id == "p"
    assert "Rate limited by OpenRouter (provider 'p') after 3 attempts" in str(err)
    assert "Rate limit reached for requests" in str(err)


def test_a_long_retry_after_is_not_slept_through(fake: FakeProvider, slept: list[float]) -> None:
    fake.fail_next(429, times=3, headers={"Retry-After": "3600"})
    add("openai", fake, "m")
    with pytest.raises(RateLimitError) as info:
        tk.resolve("p/m").chat("hi")
    assert slept == [] and info.value.retry_after == 3600.0
    assert "60 min" in str(info.value)
    assert len(fake.requests_to("chat/completions")) == 1


def test_quota_exhaustion_is_not_retried(fake: FakeProvider, slept: list[float]) -> None:
    fake.fail_next(
        429,
        {
            "error": {
                "message": "You exceeded your current quota",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            }
        },
        times=3,
    )
    add("openai", fake, "m")
    with pytest.raises(RateLimitError, match="out of quota"):
        tk.resolve("p/m").chat("hi")
    assert slept == [] and len(fake.requests_to("chat/completions")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_back_off_exponentially(
    fake: FakeProvider, slept: list[float], status: int
) -> None:
    fake.fail_next(status, times=2)
    add("deepseek", fake, "m")
    assert tk.resolve("p/m").chat("hi") == REPLY
    assert slept == [0.5, 1.0]


def test_server_errors_give_up_after_the_bound(fake: FakeProvider, slept: list[float]) -> None:
    fake.fail_next(500, times=5)
    add("zai", fake, "m")
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("p/m").chat("hi")
    assert info.value.status == 500
    assert "server error after 3 attempts" in str(info.value) and "try again later" in str(
        info.value
    )
    assert len(fake.requests_to("chat/completions")) == 3 and len(slept) == 2


def test_anthropic_overloaded_529_is_retried(slept: list[float]) -> None:
    with FakeProvider(flavor="anthropic", models=("claude-x",)) as fake:
        fake.fail_next(529)
        add("anthropic", fake, "claude-x")
        assert "".join(tk.resolve("p/claude-x").chat("hi", stream=True)) == REPLY
        assert len(fake.requests_to("messages")) == 2 and slept == [0.5]


def test_max_retries_per_call(fake: FakeProvider, slept: list[float]) -> None:
    fake.fail_next(503, times=5)
    add("openai", fake, "m")
    with pytest.raises(ProviderRequestError):
        tk.resolve("p/m").chat("hi", max_retries=0)
    assert slept == [] and len(fake.requests_to("chat/completions")) == 1
    assert "max_retries" not in fake.requests_to("chat/completions")[0].json()


def test_a_stream_is_retried_before_it_starts(fake: FakeProvider, slept: list[float]) -> None:
    fake.fail_next(429)
    add("openai", fake, "m")
    assert list(tk.resolve("p/m").chat("hi", stream=True)) == ["Hello", " from", " the", " fake."]
    assert slept == [0.5]


def test_embeddings_are_retried_too(slept: list[float]) -> None:
    with FakeProvider() as fake:
        fake.fail_next(502)
        add("openai", fake, "text-embedding-3-small")
        m = tk.resolve("p/text-embedding-3-small", purpose="embedding")
        assert m.embed(["a"]) == [fake.vector("a")]
        assert slept == [0.5]


def test_an_unreachable_provider_is_retried_then_explained(slept: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        tk.get_config().add_provider(
            "openai",
            id="p",
            api_key="sk-x-000000000000",
            models=["m"],
            base_url=f"http://127.0.0.1:{port}/v1",
        )
        with pytest.raises(ProviderRequestError) as info:
            tk.resolve("p/m").chat("hi")
    assert len(slept) == 2
    assert "Could not reach OpenAI (provider 'p')" in str(info.value)
    assert f"http://127.0.0.1:{port}/v1" in str(info.value) and "tried 3 times" in str(info.value)


def test_a_slow_provider_times_out_without_a_retry(fake: FakeProvider, slept: list[float]) -> None:
    fake.hold()  # no answer at all while the call waits
    add("openai", fake, "m")
    with pytest.raises(ProviderTimeoutError) as info:
        tk.resolve("p/m").chat("hi", timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    assert "did not answer within 0.2 s" in str(info.value)
    assert slept == []
