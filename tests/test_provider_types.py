from __future__ import annotations

import dataclasses

import pytest

import takopi_nb as tk

EXPECTED = {
    # type: (label, auth, placeholder base URL, run-time fallback, embeddings, catalog id, wire)
    "openai": ("OpenAI", "api_key", "https://api.openai.com/v1", "https://api.openai.com/v1", True, "openai", "openai"),
    "anthropic": ("Anthropic", "api_key", "https://api.anthropic.com/v1", "https://api.anthropic.com/v1", True, "anthropic", "anthropic"),
    "codex": ("Codex (ChatGPT OAuth)", "oauth", "https://chatgpt.com/backend-api/codex", "https://chatgpt.com/backend-api/codex", False, "openai", "codex"),
    "openrouter": ("OpenRouter", "api_key", "https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1", True, "openrouter", "openai"),
    "deepseek": ("DeepSeek", "api_key", "https://api.deepseek.com/v1", "https://api.deepseek.com/v1", True, "deepseek", "openai"),
    "opencode": ("OpenCode Zen", "api_key", "https://api.opencode.ai/v1", "https://opencode.ai/zen/v1", True, "opencode", "openai"),
    "zai": ("Z.ai", "api_key", "https://api.z.ai/api/paas/v4", "https://api.z.ai/api/paas/v4", True, "zai", "openai"),
    "vercel": ("Vercel AI Gateway", "api_key", "https://ai-gateway.vercel.sh/v3/ai", "https://ai-gateway.vercel.sh/v3/ai", True, "vercel", "openai"),
}  # fmt: skip


def test_exactly_the_eight_design_types() -> None:
    assert list(tk.PROVIDER_TYPES) == list(EXPECTED)
    for name, (label, auth, default, fallback, emb, catalog, wire) in EXPECTED.items():
        info = tk.PROVIDER_TYPES[name]
        assert (info.type, info.label, info.auth) == (name, label, auth)
        assert (info.default_base_url, info.fallback_base_url) == (default, fallback)
        assert (info.embeddings, info.catalog_provider, info.wire) == (emb, catalog, wire)


def test_env_vars_and_immutability() -> None:
    assert tk.PROVIDER_TYPES["openai"].env_vars == ("OPENAI_API_KEY",)
    assert tk.PROVIDER_TYPES["anthropic"].env_vars == ("ANTHROPIC_API_KEY",)
    assert "ZHIPU_API_KEY" in tk.PROVIDER_TYPES["zai"].env_vars
    assert tk.PROVIDER_TYPES["vercel"].env_vars == ("AI_GATEWAY_API_KEY",)
    assert tk.PROVIDER_TYPES["codex"].env_vars == ()
    with pytest.raises(TypeError):
        tk.PROVIDER_TYPES["custom"] = tk.PROVIDER_TYPES["openai"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tk.PROVIDER_TYPES["openai"].label = "x"  # type: ignore[misc]


def test_opencode_placeholder_differs_from_runtime_fallback() -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("opencode", models=["big-pickle"])
    assert p.base_url == ""
    assert tk.resolve("opencode/big-pickle").base_url == "https://opencode.ai/zen/v1"
    assert tk.PROVIDER_TYPES["opencode"].default_base_url == "https://api.opencode.ai/v1"


def test_there_is_no_custom_type() -> None:
    with pytest.raises(tk.ConfigError, match="Base URL override"):
        tk.get_config().add_provider("custom")
