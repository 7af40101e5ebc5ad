"""Tolerant parsing of models.dev api.json: the real snapshot, and hostile catalogs (format doc §12)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from takopi_nb._errors import CatalogError, TakopiError
from takopi_nb.catalog._model_info import ModelInfo
from takopi_nb.catalog._parse import (
    CatalogDataError,
    ParsedCatalog,
    clean_text,
    is_embedding,
    load_json,
    parse_catalog,
    valid_model_id,
)
from tests.fakes.models_dev import model_entry, snapshot_bytes, snapshot_doc


@pytest.fixture(scope="module")
def parsed() -> ParsedCatalog:
    return parse_catalog(load_json(snapshot_bytes()))


def _model(**fields: Any) -> dict[str, Any]:
    return model_entry("m", "M", **fields)


def _catalog(models: dict[str, Any], **provider: Any) -> dict[str, Any]:
    return {"p": {"id": "p", "env": ["P_KEY"], "npm": "x", "name": "P", "doc": "d", **provider,
                  "models": models}}  # fmt: skip


def _one(raw: dict[str, Any]) -> ModelInfo:
    [provider] = parse_catalog(_catalog({raw.get("id", "m"): raw})).providers
    [model] = provider.models
    return model


def test_snapshot_parses_completely(parsed: ParsedCatalog) -> None:
    assert len(parsed.providers) == 147
    assert parsed.model_count == 5276
    assert parsed.skipped == 0
    ids = [p.info.id for p in parsed.providers]
    assert ids == sorted(ids)
    for provider in parsed.providers:
        assert [m.id for m in provider.models] == sorted(m.id for m in provider.models)
        assert provider.info.model_count == len(provider.models)
        assert all(m.provider == provider.info.id for m in provider.models)


def test_snapshot_figures_match_the_format_doc(parsed: ParsedCatalog) -> None:
    models = [m for p in parsed.providers for m in p.models]
    by_status: dict[str | None, int] = {}
    for m in models:
        by_status[m.status] = by_status.get(m.status, 0) + 1
    assert by_status == {None: 5276 - 158, "deprecated": 121, "beta": 35, "alpha": 2}
    assert sum(1 for m in models if m.family is None) == 1213
    assert sum(1 for m in models if m.cost_input is None) == 382  # no cost = unknown
    assert sum(1 for m in models if m.cost_input == 0 and m.cost_output == 0) == 432  # free
    assert sum(1 for m in models if m.context_window is None) == 94  # context 0 = unknown
    assert sum(1 for m in models if m.max_output is None) == 156
    assert sum(1 for m in models if m.max_input is not None) == 969 - 5  # 5 say input 0
    assert sum(1 for m in models if "/" in m.id) == 2893
    assert sum(1 for m in models if m.knowledge is not None) == 2605
    assert sum(1 for m in models if m.sdk is not None) == 162  # provider.npm on 88 + 63 + 11
    infos = {p.info.id: p.info for p in parsed.providers}
    assert sum(1 for i in infos.values() if i.api is None) == 24
    assert infos["openai"].npm == "@ai-sdk/openai" and infos["openai"].api is None
    assert infos["openrouter"].api == "https://openrouter.ai/api/v1"
    assert infos["amazon-bedrock"].env and len(infos["amazon-bedrock"].env) == 4


def test_snapshot_model_fields(parsed: ParsedCatalog) -> None:
    openai = {m.id: m for p in parsed.providers if p.info.id == "openai" for m in p.models}
    gpt5 = openai["gpt-5"]
    assert (gpt5.context_window, gpt5.max_input, gpt5.max_output) == (400_000, 272_000, 128_000)
    assert gpt5.cost_input == 1.25 and gpt5.cost_output == 10.0 and gpt5.cost_cache_read == 0.125
    assert gpt5.cost_cache_write is None
    assert gpt5.reasoning and gpt5.tool_call and gpt5.attachment and gpt5.structured_output
    assert gpt5.family == "gpt" and gpt5.status is None and not gpt5.open_weights
    assert gpt5.input_modalities == ("text", "image") and gpt5.output_modalities == ("text",)
    assert gpt5.release_date == "2025-08-07" and gpt5.knowledge == "2024-09-30"
    assert gpt5.image_input and not gpt5.deprecated and not gpt5.is_embedding


def test_embedding_recognition_on_the_snapshot(parsed: ParsedCatalog) -> None:
    """Format doc §9: rules 1+2 give 55 models in 20 providers; rule 4 and name hints 18 more."""
    found = {(m.provider, m.id) for p in parsed.providers for m in p.models if m.is_embedding}
    assert len(found) == 73
    assert len({provider for provider, _ in found}) == 20
    for expected in [
        ("openai", "text-embedding-3-small"),
        ("google", "gemini-embedding-001"),
        ("scaleway", "bge-multilingual-gemma2"),
        ("stackit", "intfloat/e5-mistral-7b-instruct"),
        ("vercel", "voyage/voyage-3.5-lite"),
        ("cloudflare-ai-gateway", "workers-ai/@cf/baai/bge-m3"),
        ("evroc", "intfloat/multilingual-e5-large-instruct"),
    ]:
        assert expected in found
    rerankers = [m for p in parsed.providers for m in p.models if "rerank" in m.id.lower()]
    assert rerankers and not any(m.is_embedding for m in rerankers)


@pytest.mark.parametrize(
    ("model_id", "name", "family", "expected"),
    [
        ("text-embedding-3-small", "x", "text-embedding", True),
        ("anything", "x", "cohere-embed", True),
        ("Qwen/Qwen3-Embedding-8B", "Qwen3 Embedding", "qwen", True),
        ("nvidia/nv-embedcode-7b-v1", "x", None, True),
        ("bge-m3", "BGE M3", "bge", True),
        ("bge-reranker-v2-m3", "BGE reranker", "bge", False),
        ("voyage/rerank-2.5", "Rerank", "voyage", False),
        ("cohere/rerank-v3.5", "Rerank", "o", False),
        ("gpt-5", "GPT-5", "gpt", False),
        ("e5-large-v2", "E5", None, True),
        ("qwe5-chat", "x", None, False),
    ],
)
def test_is_embedding(model_id: str, name: str, family: str | None, expected: bool) -> None:
    assert is_embedding(model_id, name, family) is expected


def test_html_and_control_characters_stay_plain_text() -> None:
    model = _one(_model(name="<img src=x onerror=alert(1)>\n\x1b[31mRed\u202e\x00 &amp; <b>"))
    assert model.name == "<img src=x onerror=alert(1)> [31mRed &amp; <b>"
    assert "\x1b" not in model.name and "\n" not in model.name and "\u202e" not in model.name
    assert "<img src=x onerror=alert(1)>" in model.name  # kept literally, never interpreted
    assert "&amp;" in model.name  # not unescaped either


def test_huge_strings_are_cut() -> None:
    model = _one(_model(name="A" * 1_000_000, family="f" * 10_000))
    assert len(model.name) == 200 and model.name.endswith("…")
    assert model.family is not None and len(model.family) == 64


def test_wrong_types_missing_fields_and_nulls_become_unknown() -> None:
    raw: dict[str, Any] = {
        "id": "m",
        "name": None,
        "family": 42,
        "attachment": "yes",
        "reasoning": 1,
        "tool_call": None,
        "structured_output": [],
        "knowledge": "last year",
        "release_date": 20250101,
        "modalities": {"input": "text", "output": ["TEXT", "image", 3, None, "text"]},
        "open_weights": "true",
        "limit": {"context": "128k", "input": -5, "output": 1e400},
        "status": {"deprecated": True},
        "provider": {"npm": ["@ai-sdk/anthropic"]},
        "cost": {"input": "1.0", "output": float("nan"), "cache_read": -1, "cache_write": True},
    }
    model = _one(raw)
    assert model == ModelInfo(
        provider="p", id="m", name="m", output_modalities=("text", "image")
    ), "every unusable field is unknown/False, the name falls back to the id"


def test_missing_everything_but_the_id_is_kept() -> None:
    model = _one({"id": "bare"})
    assert model.id == "bare" and model.name == "bare"
    assert model.context_window is None and model.cost_input is None
    assert model.input_modalities == () and model.output_modalities == ()


def test_zero_price_is_free_and_missing_cost_is_unknown() -> None:
    free = _one(_model(cost={"input": 0, "output": 0, "cache_read": 0}))
    assert (free.cost_input, free.cost_output, free.cost_cache_read) == (0.0, 0.0, 0.0)
    assert free.cost_cache_write is None
    assert _one(_model()).cost_input is None
    assert _one(_model(cost=None)).cost_output is None


def test_zero_limits_mean_unknown() -> None:
    model = _one(_model(limit={"context": 0, "input": 0, "output": 0}))
    assert (model.context_window, model.max_input, model.max_output) == (None, None, None)
    model = _one(_model(limit={"context": 131072.0, "output": 8192}))
    assert model.context_window == 131072 and type(model.context_window) is int


def test_malformed_models_are_skipped_and_counted_the_rest_kept() -> None:
    models: dict[str, Any] = {
        "good": _model(id="good"),
        "list": [1, 2],
        "null": None,
        "text": "not a model",
        "has space": _model(id="has space"),
        "../../etc/passwd": _model(id="../../etc/passwd"),
        "a//b": _model(id="a//b"),
        "trailing/": _model(id="trailing/"),
        "": _model(id=""),
        "x" * 300: _model(id="x" * 300),
        "tab\there": _model(id="tab\there"),
        "mismatch": _model(id="other"),
        "vendor/model:free": _model(id="vendor/model:free"),
        "~vendor/alias-latest": _model(id="~vendor/alias-latest"),
        "workers-ai/@cf/baai/bge-m3": _model(id="workers-ai/@cf/baai/bge-m3"),
        "no-id-field": {k: v for k, v in _model().items() if k != "id"},
    }
    parsed = parse_catalog(_catalog(models))
    kept = [m.id for m in parsed.providers[0].models]
    assert kept == sorted(
        ["good", "vendor/model:free", "~vendor/alias-latest", "workers-ai/@cf/baai/bge-m3",
         "no-id-field"]
    )  # fmt: skip
    assert parsed.skipped == len(models) - len(kept)


def test_malformed_providers_are_skipped_and_counted() -> None:
    doc = snapshot_doc()
    doc["models-is-list"] = {"id": "models-is-list", "name": "L", "models": [_model()]}
    doc["models-is-null"] = {"id": "models-is-null", "name": "N", "models": None}
    doc["not-an-object"] = "hello"
    doc["../escape"] = {"name": "E", "models": {"m": _model()}}
    doc["Bad Id"] = {"name": "B", "models": {"m": _model()}}
    doc["id-mismatch"] = {"id": "other", "name": "M", "models": {"m": _model()}}
    doc["no-models-key"] = {"id": "no-models-key", "name": "K"}
    doc["empty"] = {"id": "empty", "name": "Empty", "models": {}}
    doc["openai"]["models"]["broken"] = None
    parsed = parse_catalog(doc)
    assert parsed.skipped == 8
    ids = {p.info.id for p in parsed.providers}
    assert "empty" in ids and "openai" in ids and len(ids) == 148
    assert parsed.model_count == 5276


def test_provider_fields_are_cleaned() -> None:
    parsed = parse_catalog(
        _catalog(
            {"m": _model()},
            name="<script>x</script>\x07",
            env=["OK_KEY", "bad key", 3, "OK_KEY"],
            api=None,
            npm=7,
        )
    )
    info = parsed.providers[0].info
    assert info.name == "<script>x</script>"
    assert info.env == ("OK_KEY",) and info.api is None and info.npm is None


def test_lone_surrogates_do_not_break_anything() -> None:
    body = b'{"p": {"name": "P", "models": {"m": {"name": "bad \\ud800 name"}}}}'
    model = parse_catalog(load_json(body)).providers[0].models[0]
    assert model.name == "bad name"
    model.name.encode("utf-8")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<!DOCTYPE html><html>Log in</html>", "web page"),
        (b"\xef\xbb\xbf  <html>", "web page"),
        (snapshot_bytes()[:100_000], "incomplete"),
        (b'{"a": 1,, }', "damaged"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "damaged"),
        (b"1" * 5000, "damaged"),
    ],
)
def test_load_json_errors_are_plain_words(body: bytes, words: str) -> None:
    with pytest.raises(CatalogDataError) as info:
        load_json(body)
    assert words in str(info.value)
    assert isinstance(info.value, CatalogError) and isinstance(info.value, TakopiError)


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "top level is list"),
        (None, "top level is null"),
        ("x", "top level is str"),
        ({}, "no usable models"),
        ({"p": {"name": "P", "models": {"bad id": {}}}}, "no usable models"),
    ],
)
def test_unusable_documents(doc: object, words: str) -> None:
    with pytest.raises(CatalogDataError, match=words):
        parse_catalog(doc)


def test_clean_text() -> None:
    assert clean_text("  a \t b\n") == "a b"
    assert clean_text("") is None and clean_text("\x00\x01") is None
    assert clean_text(5) is None and clean_text(None) is None
    assert clean_text("x" * 10, limit=5) == "xxxx…"
    assert clean_text("GPT-5 – Codex") == "GPT-5 – Codex"


def test_valid_model_id() -> None:
    assert valid_model_id("Pro/moonshotai/Kimi-K2.5")
    assert valid_model_id("amazon.nova-pro-v1:0")
    for bad in ["", " x", "a b", "a/./b", "a/../b", "..", "/x", "x/", "\u202eabc", 5, None]:
        assert not valid_model_id(bad), bad


def test_hostile_catalog_round_trips_through_json() -> None:
    """Whatever survives parsing can be written to the cache as UTF-8 JSON."""
    doc = _catalog({"m": _model(name="\ud83d\ude00 ok \udfff", family="<i>")})
    model = parse_catalog(json.loads(json.dumps(doc))).providers[0].models[0]
    assert json.dumps(model, ensure_ascii=False).encode("utf-8")
