"""The eight built-in provider types (DESIGN §1).

There is no "custom" type: a proxy or a self-hosted endpoint is one of these
types with a Base URL override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["PROVIDER_TYPES", "AuthKind", "ProviderType", "WireProtocol", "provider_type"]

AuthKind = Literal["api_key", "oauth"]
WireProtocol = Literal["openai", "anthropic", "codex"]


@dataclass(frozen=True, slots=True)
class ProviderType:
    """An immutable description of one provider type."""

    type: str
    label: str
    auth: AuthKind
    default_base_url: str
    """What the UI shows as the Base URL placeholder."""
    fallback_base_url: str
    """What is used at run time when the Base URL is empty (differs only for opencode)."""
    embeddings: bool
    catalog_provider: str
    """The models.dev provider id whose models this type offers."""
    env_vars: tuple[str, ...]
    """Environment variables read, in order, when no key is stored."""
    wire: WireProtocol
    models_contain_slash: bool = False

    @property
    def uses_api_key(self) -> bool:
        return self.auth == "api_key"


def _types(*items: ProviderType) -> Mapping[str, ProviderType]:
    return MappingProxyType({item.type: item for item in items})


PROVIDER_TYPES: Mapping[str, ProviderType] = _types(
    ProviderType(
        "openai",
        "OpenAI",
        "api_key",
        "https://api.openai.com/v1",
        "https://api.openai.com/v1",
        True,
        "openai",
        ("OPENAI_API_KEY",),
        "openai",
    ),
    ProviderType(
        "anthropic",
        "Anthropic",
        "api_key",
        "https://api.anthropic.com/v1",
        "https://api.anthropic.com/v1",
        True,
        "anthropic",
        ("ANTHROPIC_API_KEY",),
        "anthropic",
    ),
    ProviderType(
        "codex",
        "Codex (ChatGPT OAuth)",
        "oauth",
        "https://chatgpt.com/backend-api/codex",
        "https://chatgpt.com/backend-api/codex",
        False,
        "openai",
        (),
        "codex",
    ),
    ProviderType(
        "openrouter",
        "OpenRouter",
        "api_key",
        "https://openrouter.ai/api/v1",
        "https://openrouter.ai/api/v1",
        True,
        "openrouter",
        ("OPENROUTER_API_KEY",),
        "openai",
        models_contain_slash=True,
    ),
    ProviderType(
        "deepseek",
        "DeepSeek",
        "api_key",
        "https://api.deepseek.com/v1",
        "https://api.deepseek.com/v1",
        True,
        "deepseek",
        ("DEEPSEEK_API_KEY",),
        "openai",
    ),
    ProviderType(
        "opencode",
        "OpenCode Zen",
        "api_key",
        "https://api.opencode.ai/v1",
        "https://opencode.ai/zen/v1",
        True,
        "opencode",
        ("OPENCODE_API_KEY",),
        "openai",
    ),
    ProviderType(
        "zai",
        "Z.ai",
        "api_key",
        "https://api.z.ai/api/paas/v4",
        "https://api.z.ai/api/paas/v4",
        True,
        "zai",
        ("ZAI_API_KEY", "ZHIPU_API_KEY"),
        "openai",
    ),
    ProviderType(
        "vercel",
        "Vercel AI Gateway",
        "api_key",
        "https://ai-gateway.vercel.sh/v3/ai",
        "https://ai-gateway.vercel.sh/v3/ai",
        True,
        "vercel",
        ("AI_GATEWAY_API_KEY",),
        "openai",
        models_contain_slash=True,
    ),
)


def provider_type(type_name: str) -> ProviderType:
    """Return the description of ``type_name`` or raise a ConfigError naming the known types."""
    try:
        return PROVIDER_TYPES[type_name]
    except (KeyError, TypeError):
        from ._errors import ConfigError

        known = ", ".join(PROVIDER_TYPES)
        raise ConfigError(
            f"Unknown provider type {type_name!r}. Use one of: {known} "
            "(a proxy is one of these types with a Base URL override)."
        ) from None
