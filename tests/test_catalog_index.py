"""The compact stored form of the catalog: exact round trip, lazy decoding, damage detection."""

from __future__ import annotations

import sys

import pytest

from takopi_nb.catalog._index import CacheCorrupt, Index, encode, restamp
from takopi_nb.catalog._parse import ParsedCatalog, load_json, parse_catalog
from tests.fakes.models_dev import snapshot_bytes


@pytest.fixture(scope="module")
def parsed() -> ParsedCatalog:
    return parse_catalog(load_json(snapshot_bytes()))


@pytest.fixture(scope="module")
def data(parsed: ParsedCatalog) -> bytes:
    return encode(parsed, {"origin": "network", "fetched_at": 1.5, "etag": '"abc"'})


def test_round_trip_is_exact(parsed: ParsedCatalog, data: bytes) -> None:
    index = Index(data)
    assert index.meta == {"origin": "network", "fetched_at": 1.5, "etag": '"abc"'}
    assert index.skipped == 0 and index.model_count == 5276
    assert list(index.providers) == [p.info.id for p in parsed.providers]
    for provider in parsed.providers:
        assert index.providers[provider.info.id] == provider.info
        decoded = index.models(provider.info.id)
        assert decoded == provider.models
        for a, b in zip(decoded, provider.models, strict=True):  # same types, not just equal
            assert [type(x) for x in a] == [type(x) for x in b]


def test_stored_form_is_much_smaller_than_api_json(data: bytes) -> None:
    assert len(data) < len(snapshot_bytes()) / 3


def test_decoding_is_lazy_per_provider(data: bytes) -> None:
    index = Index(data)
    assert index._models == {}
    assert len(index.models("openai")) == 51
    assert list(index._models) == ["openai"]
    assert index.models("no-such-provider") == ()
    assert index.lookup("openai", "gpt-5.2") is not None
    assert index.lookup("openai", "nope") is None and index.lookup("nope", "gpt-5.2") is None


def test_body_is_released_once_every_provider_is_decoded(data: bytes) -> None:
    index = Index(data)
    assert len(index.all_models()) == 5276
    assert index._body == b""
    assert len(index.models("openrouter")) == 337  # still answers from the decoded rows


def test_equal_values_share_one_object(data: bytes) -> None:
    models = Index(data).all_models()
    dates = {id(m.release_date) for m in models if m.release_date == "2025-08-07"}
    assert len(dates) == 1
    modalities = {id(m.input_modalities) for m in models if m.input_modalities == ("text",)}
    assert len(modalities) == 1
    prices = {id(m.cost_input) for m in models if m.cost_input == 1.25}
    assert len(prices) == 1


def test_models_are_compact(data: bytes) -> None:
    model = Index(data).models("openai")[0]
    assert not hasattr(model, "__dict__")
    assert sys.getsizeof(model) <= 64 + 8 * 24
    with pytest.raises(AttributeError):
        model.name = "x"  # type: ignore[misc]


def test_restamp_changes_only_the_meta(data: bytes) -> None:
    again = Index(restamp(data, fetched_at=99.0, etag=None))
    assert again.meta == {"origin": "network", "fetched_at": 99.0, "etag": None}
    assert again.all_models() == Index(data).all_models()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"",
        lambda d: b"garbage" * 100,
        lambda d: d[: len(d) // 2],
        lambda d: d[:-1],
        lambda d: d + b"x",
        lambda d: d[:-5000] + b"X" + d[-4999:],
        lambda d: d[:40] + b"#" + d[41:],
        lambda d: d.replace(b"takopi-catalog/1", b"takopi-catalog/2", 1),
        lambda d: d.replace(b"\n", b" ", 1),
    ],
)
def test_damage_is_detected(data: bytes, damage: object) -> None:
    assert callable(damage)
    with pytest.raises(CacheCorrupt):
        Index(damage(data))
