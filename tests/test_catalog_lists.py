"""Every provider type's picker lists, from the real snapshot (format doc §7-§9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from takopi_nb._errors import ConfigError
from takopi_nb._provider_types import PROVIDER_TYPES
from takopi_nb.catalog import Catalog, ModelInfo
from takopi_nb.catalog._provider_lists import as_codex, chat_visible, is_codex_model, pick

CODEX_IDS = [
    "gpt-5.2", "gpt-5.3-codex", "gpt-5.3-codex-spark", "gpt-5.4", "gpt-5.4-mini", "gpt-5.5",
    "gpt-5.5-pro",
]  # fmt: skip


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    directory: Path = tmp_path_factory.mktemp("lists")
    return Catalog(cache_dir=directory, offline=True, auto_refresh=False)


@pytest.mark.parametrize(
    ("provider_type", "models", "chat", "embedding"),
    [
        ("openai", 51, 46, 3),
        ("anthropic", 24, 24, 0),
        ("codex", 51, 7, 0),
        ("openrouter", 337, 337, 0),
        ("deepseek", 4, 4, 0),
        ("opencode", 74, 74, 0),
        ("zai", 14, 14, 0),
        ("vercel", 297, 209, 24),
    ],
)
def test_list_sizes_per_type(
    catalog: Catalog, provider_type: str, models: int, chat: int, embedding: int
) -> None:
    assert set(PROVIDER_TYPES) == {
        "openai", "anthropic", "codex", "openrouter", "deepseek", "opencode", "zai", "vercel"
    }  # fmt: skip
    catalog_provider = PROVIDER_TYPES[provider_type].catalog_provider
    assert len(catalog.models(catalog_provider)) == models
    chat_list = catalog.models_for_type(provider_type, purpose="chat")
    embedding_list = catalog.models_for_type(provider_type, purpose="embedding")
    assert (len(chat_list), len(embedding_list)) == (chat, embedding)
    assert not any(m.is_embedding for m in chat_list)
    assert all(m.is_embedding for m in embedding_list)
    assert all(not m.output_modalities or "text" in m.output_modalities for m in chat_list)
    assert not any("rerank" in m.id for m in chat_list + embedding_list)
    assert catalog.models_for_type(provider_type) == chat_list  # chat is the default


def test_openrouter_ids_keep_their_slashes(catalog: Catalog) -> None:
    ids = [m.id for m in catalog.models("openrouter")]
    assert len(ids) == 337 and all("/" in i for i in ids)
    assert "openai/gpt-4o" in ids and "meta-llama/llama-3.3-70b-instruct:free" in ids
    assert sum(1 for i in ids if i.startswith("~")) == 9
    assert ids == sorted(ids)
    model = catalog.get("openrouter", "openai/gpt-4o")
    assert model is not None and model.provider == "openrouter"


def test_codex_is_the_filtered_openai_entry_without_prices(catalog: Catalog) -> None:
    codex = catalog.models_for_type("codex")
    assert [m.id for m in codex] == CODEX_IDS
    assert all(m.provider == "openai" for m in codex)
    for model in codex:
        assert (model.cost_input, model.cost_output) == (None, None)
        assert (model.cost_cache_read, model.cost_cache_write) == (None, None)
        api = catalog.get("openai", model.id)
        assert api is not None and api.cost_input is not None  # openai itself keeps prices
        assert (model.name, model.reasoning, model.tool_call) == (
            api.name, api.reasoning, api.tool_call
        )  # fmt: skip
    by_id = {m.id: m for m in codex}
    for gpt55 in ("gpt-5.5", "gpt-5.5-pro"):
        limits = by_id[gpt55].context_window, by_id[gpt55].max_input, by_id[gpt55].max_output
        assert limits == (400_000, 272_000, 128_000)
    assert by_id["gpt-5.4"].context_window == catalog.get("openai", "gpt-5.4").context_window  # type: ignore[union-attr]
    assert catalog.models_for_type("codex", purpose="embedding") == []
    assert catalog.get_for_type("codex", "gpt-5.2") == by_id["gpt-5.2"]
    hand_added = catalog.get_for_type("codex", "gpt-5.1-codex")
    assert hand_added is not None and hand_added.cost_input is None
    assert catalog.get_for_type("openai", "gpt-5.2") == catalog.get("openai", "gpt-5.2")
    assert catalog.get_for_type("codex", "nope") is None


@pytest.mark.parametrize(
    ("model_id", "codex"),
    [("gpt-5.2", True), ("gpt-5.4-mini", True), ("gpt-5.4-nano", False), ("gpt-5.4-pro", False),
     ("gpt-5.5-pro", True), ("gpt-5.10", True), ("gpt-6.0-mini", True), ("gpt-5.2-codex", False),
     ("gpt-5.1-codex-max", False), ("o3", False), ("gpt-5", False), ("chatgpt-5.9", False)],
)  # fmt: skip
def test_codex_rule(model_id: str, codex: bool) -> None:
    assert is_codex_model(model_id) is codex


def test_openai_embedding_models(catalog: Catalog) -> None:
    assert [m.id for m in catalog.models_for_type("openai", "embedding")] == [
        "text-embedding-3-large", "text-embedding-3-small", "text-embedding-ada-002"
    ]  # fmt: skip
    chat_ids = {m.id for m in catalog.models_for_type("openai")}
    assert "gpt-image-1" not in chat_ids and "gpt-image-2" not in chat_ids  # image only
    assert "gpt-image-1.5" in chat_ids  # writes text and images
    assert "gpt-5.2" in chat_ids and "o3" in chat_ids


def test_vercel_embeddings_have_no_prices_and_rerankers_are_nowhere(catalog: Catalog) -> None:
    embeddings = catalog.models_for_type("vercel", "embedding")
    assert all(m.cost_input is None for m in embeddings)
    assert "voyage/voyage-3.5" in {m.id for m in embeddings}
    assert "cohere/rerank-v3.5" in {m.id for m in catalog.models("vercel")}


def test_small_provider_lists(catalog: Catalog) -> None:
    assert [m.id for m in catalog.models_for_type("deepseek")] == [
        "deepseek-chat", "deepseek-reasoner", "deepseek-v4-flash", "deepseek-v4-pro"
    ]  # fmt: skip
    assert len([m for m in catalog.models_for_type("anthropic") if m.deprecated]) == 6
    zai = catalog.models_for_type("zai")
    assert len(zai) == 14 and all(m.id.startswith("glm-") for m in zai)


def test_opencode_per_model_sdk_overrides(catalog: Catalog) -> None:
    sdks: dict[str | None, int] = {}
    for model in catalog.models("opencode"):
        sdks[model.sdk] = sdks.get(model.sdk, 0) + 1
    assert sdks == {None: 35, "@ai-sdk/anthropic": 18, "@ai-sdk/openai": 17, "@ai-sdk/google": 4}
    assert catalog.provider("opencode").npm == "@ai-sdk/openai-compatible"  # type: ignore[union-attr]
    assert catalog.provider("opencode").api == "https://opencode.ai/zen/v1"  # type: ignore[union-attr]


def test_unknown_names(catalog: Catalog) -> None:
    assert catalog.models("no-such-provider") == []
    assert catalog.get("no-such-provider", "x") is None
    assert catalog.get("openai", "GPT-5.2") is None  # ids are exact
    with pytest.raises(ConfigError, match="Unknown provider type"):
        catalog.models_for_type("custom")
    with pytest.raises(ValueError, match="purpose"):
        catalog.models_for_type("openai", purpose="images")  # type: ignore[arg-type]


def test_lists_are_fresh_copies(catalog: Catalog) -> None:
    first = catalog.models("openai")
    first.clear()
    assert len(catalog.models("openai")) == 51
    listed = catalog.models_for_type("codex")
    listed.pop()
    assert len(catalog.models_for_type("codex")) == 7


def test_providers(catalog: Catalog) -> None:
    providers = catalog.providers()
    assert len(providers) == 147
    assert sum(p.model_count for p in providers) == 5276 == len(catalog)
    assert catalog.provider("openai") == providers[[p.id for p in providers].index("openai")]


def test_pure_helpers() -> None:
    image = ModelInfo("p", "img", output_modalities=("image",))
    unknown = ModelInfo("p", "mystery")
    reranker = ModelInfo("p", "vendor/Rerank-3", output_modalities=("text",))
    assert not chat_visible(image) and chat_visible(unknown) and not chat_visible(reranker)
    priced = ModelInfo("openai", "gpt-5.5", cost_input=5.0, cost_output=30.0, context_window=1)
    codex = as_codex(priced)
    assert codex.cost_input is None and codex.context_window == 400_000
    assert pick("codex", "chat", [priced, ModelInfo("openai", "o3")]) == (codex,)
