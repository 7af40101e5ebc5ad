"""Search as you type and the picker filters, over the real snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from takopi_nb.catalog import Catalog, ModelInfo
from takopi_nb.catalog._search import haystack, search_models


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    directory: Path = tmp_path_factory.mktemp("search")
    return Catalog(cache_dir=directory, offline=True, auto_refresh=False)


def ids(models: list[ModelInfo]) -> list[str]:
    return [m.id for m in models]


def test_case_insensitive_over_id_name_and_family(catalog: Catalog) -> None:
    assert ids(catalog.search("GPT-5.2", provider="openai"))[:1] == ["gpt-5.2"]
    by_name = catalog.search("o3 DEEP research", provider="openai")
    assert ids(by_name) == ["o3-deep-research"]
    by_family = catalog.search("gpt-codex-spark", provider="openai")
    assert ids(by_family) == ["gpt-5.3-codex-spark"]


def test_exact_then_prefix_then_word_start_then_anywhere(catalog: Catalog) -> None:
    found = ids(catalog.search("gpt-5", provider="openai"))
    assert found[0] == "gpt-5"
    assert all(i.startswith("gpt-5") for i in found)
    openrouter = ids(catalog.search("gpt-4o", provider="openrouter"))
    assert openrouter[0] == "openai/gpt-4o"  # the id's last segment is an exact match
    sonnet = ids(catalog.search("sonnet", provider="anthropic"))
    assert sonnet[0].startswith("claude-sonnet")  # word start, not deprecated
    assert sonnet[-1] == "claude-3-sonnet-20240229"  # deprecated last
    o_models = ids(catalog.search("o", provider="openai"))
    assert o_models[:3] == ["o1", "o1-pro", "o3"]  # prefixes before "gpt-4o"
    assert o_models.index("gpt-4o") > o_models.index("o4-mini")


def test_every_word_must_match(catalog: Catalog) -> None:
    found = catalog.search("claude opus", provider="openrouter")
    assert found and all("claude" in haystack(m) and "opus" in haystack(m) for m in found)
    assert catalog.search("claude zzzz") == []


def test_filters(catalog: Catalog) -> None:
    tools = catalog.search("", provider="openrouter", tool_call=True)
    no_tools = catalog.search("", provider="openrouter", tool_call=False)
    assert len(tools) + len(no_tools) == 337 and tools and no_tools
    assert all(m.tool_call for m in tools) and not any(m.tool_call for m in no_tools)
    reasoning = catalog.search("", provider="openai", reasoning=True)
    assert reasoning and all(m.reasoning for m in reasoning)
    images = catalog.search("", provider="anthropic", image_input=True)
    assert images and all("image" in m.input_modalities for m in images)
    assert catalog.search("", provider="anthropic", image_input=False) == [
        m for m in catalog.models("anthropic") if not m.image_input
    ]
    embeddings = catalog.search("", embeddings=True)
    assert len(embeddings) == 73 and all(m.is_embedding for m in embeddings)
    live = catalog.search("", provider="anthropic", hide_deprecated=True)
    assert len(live) == 18 and not any(m.deprecated for m in live)
    combined = catalog.search("sonnet", provider="openrouter", tool_call=True)
    assert combined and all(m.tool_call and "sonnet" in haystack(m) for m in combined)


def test_search_by_provider_type(catalog: Catalog) -> None:
    codex = catalog.search("gpt", provider_type="codex")
    assert ids(codex) == ["gpt-5.2", "gpt-5.3-codex", "gpt-5.3-codex-spark", "gpt-5.4",
                          "gpt-5.4-mini", "gpt-5.5", "gpt-5.5-pro"]  # fmt: skip
    assert all(m.cost_input is None for m in codex)
    openai_all = catalog.search("", provider_type="openai")
    assert len(openai_all) == 49  # 46 chat + 3 embedding; image-only generators are not offered
    assert ids(catalog.search("embedding", provider_type="openai", embeddings=True)) == [
        "text-embedding-3-large", "text-embedding-3-small", "text-embedding-ada-002"
    ]  # fmt: skip
    assert catalog.search("embedding", provider_type="openai", embeddings=False) == []
    assert catalog.search("", provider_type="codex", embeddings=True) == []
    with pytest.raises(ValueError, match="not both"):
        catalog.search("x", provider="openai", provider_type="openai")


def test_whole_catalog_and_limit(catalog: Catalog) -> None:
    everything = catalog.search("")
    assert len(everything) == 5276
    found = catalog.search("kimi", limit=5)
    assert len(found) == 5
    assert len({(m.provider, m.id) for m in catalog.search("kimi")}) > 5
    assert catalog.search("gpt-4o", provider="no-such-provider") == []


def test_search_models_on_plain_lists() -> None:
    models = [
        ModelInfo("p", "alpha-chat", "Alpha", status="deprecated"),
        ModelInfo("p", "beta", "Alpha Beta"),
        ModelInfo("p", "vendor/alpha", "X"),
        ModelInfo("p", "xalphax", "Y"),
        ModelInfo("p", "alpha", "Z"),
    ]
    found = search_models(models, [haystack(m) for m in models], "ALPHA")
    assert ids(found) == ["vendor/alpha", "alpha", "alpha-chat", "beta", "xalphax"]
    with pytest.raises(ValueError):
        search_models(models, [], "alpha")
