"""Odd but real answers of OpenAI-compatible servers (proxies, gateways, older deployments):
an error inside a 200 body, no choices, a refusal, base64 embeddings, a missing embedding."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb._errors import ProviderRequestError
from tests.fakes.providers import FakeProvider

EMBEDDING = "text-embedding-3-small"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("m",)) as server:
        yield server


def add(fake: FakeProvider, *models: str) -> None:
    tk.get_config().add_provider(
        "openrouter", id="p", base_url=fake.base_url, api_key=fake.key, models=list(models)
    )


def completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-odd",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }


def test_an_error_inside_a_200_body_is_an_error_not_an_empty_answer(fake: FakeProvider) -> None:
    """OpenRouter and some gateways answer 200 and put the upstream failure in the body."""
    add(fake, "m")
    fake.fail_next(
        200, {"error": {"message": "Upstream model refused the prompt", "code": "invalid_prompt"}}
    )
    with pytest.raises(ProviderRequestError) as info:
        tk.resolve("p/m").chat("hi")
    assert "Upstream model refused the prompt" in str(info.value)
    assert "invalid_prompt" in str(info.value) and info.value.provider_id == "p"
    assert len(fake.requests_to("chat/completions")) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"id": "chatcmpl-x", "object": "chat.completion", "choices": []},
        {"id": "chatcmpl-x", "object": "chat.completion"},
        {"id": "chatcmpl-x", "object": "chat.completion", "choices": ["text"]},
    ],
    ids=["empty", "absent", "not-objects"],
)
def test_a_completion_without_choices_says_so(fake: FakeProvider, answer: dict[str, Any]) -> None:
    add(fake, "m")
    fake.fail_next(200, answer)
    with pytest.raises(ProviderRequestError, match="sent a chat completion without choices"):
        tk.resolve("p/m").chat("hi")


def test_an_answer_that_is_not_an_object_says_so(fake: FakeProvider) -> None:
    add(fake, "m")
    fake.fail_next(200, ["not", "a", "completion"])
    with pytest.raises(ProviderRequestError, match="not a chat completion"):
        tk.resolve("p/m").chat("hi")


def test_a_refusal_is_the_answer_text(fake: FakeProvider) -> None:
    add(fake, "m")
    refusal = "I can't help with that request."
    fake.fail_next(200, completion({"role": "assistant", "content": None, "refusal": refusal}))
    result = tk.resolve("p/m").chat("hi")
    assert result == refusal and result.finish_reason == "stop"
    assert result.usage == {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8}


def test_content_wins_over_an_empty_refusal_field(fake: FakeProvider) -> None:
    add(fake, "m")
    fake.fail_next(200, completion({"role": "assistant", "content": "Sure.", "refusal": None}))
    assert tk.resolve("p/m").chat("hi") == "Sure."


def float32(vector: list[float]) -> list[float]:
    """What a vector becomes after a round trip through little-endian float32."""
    return list(struct.unpack(f"<{len(vector)}f", struct.pack(f"<{len(vector)}f", *vector)))


def as_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def test_base64_embeddings_from_a_server_that_ignores_encoding_format(fake: FakeProvider) -> None:
    add(fake, EMBEDDING)
    texts = ["alpha", "beta"]
    fake.fail_next(
        200,
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": 1, "embedding": as_base64(fake.vector("beta"))},
                {"object": "embedding", "index": 0, "embedding": as_base64(fake.vector("alpha"))},
            ],
            "model": EMBEDDING,
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        },
    )
    vectors = tk.resolve(f"p/{EMBEDDING}", purpose="embedding").embed(texts)
    assert vectors == [float32(fake.vector(t)) for t in texts]
    (sent,) = fake.requests_to("embeddings")
    assert sent.json()["encoding_format"] == "float"  # we asked for floats; base64 still reads


@pytest.mark.parametrize(
    "data",
    [
        [{"index": 0, "embedding": [0.1, 0.2]}],  # one vector for two inputs
        [{"index": 0, "embedding": [0.1]}, {"index": 0, "embedding": [0.2]}],  # same index twice
        [{"index": 0, "embedding": [0.1]}, {"index": 1, "embedding": "%%not base64%%"}],
        [{"index": 0, "embedding": [0.1]}, {"index": 1, "embedding": "AAAAAAA="}],  # 5 bytes
    ],
    ids=["one-missing", "duplicate-index", "bad-base64", "partial-float"],
)
def test_an_embedding_count_mismatch_is_an_error(
    fake: FakeProvider, data: list[dict[str, Any]]
) -> None:
    add(fake, EMBEDDING)
    fake.fail_next(200, {"object": "list", "data": data, "model": EMBEDDING})
    with pytest.raises(ProviderRequestError, match="returned 1 embeddings for 2 inputs"):
        tk.resolve(f"p/{EMBEDDING}", purpose="embedding").embed(["a", "b"])


def test_embeddings_without_data_or_with_an_error_body(fake: FakeProvider) -> None:
    add(fake, EMBEDDING)
    model = tk.resolve(f"p/{EMBEDDING}", purpose="embedding")
    fake.fail_next(200, {"object": "list"})
    with pytest.raises(ProviderRequestError, match="without 'data'"):
        model.embed(["a"])
    fake.fail_next(200, {"error": {"message": "No such deployment", "code": "not_found"}})
    with pytest.raises(ProviderRequestError, match="No such deployment"):
        model.embed(["a"])
