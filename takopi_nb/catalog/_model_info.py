"""The records the catalog hands out: one model, one provider.

Both are named tuples: frozen, ``__slots__ = ()``, fast to build in bulk (the
whole catalog is 5,000+ models) and cheap to read from C. Every text field is
plain text taken from the catalog: render it escaped, never as markup.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ModelInfo", "ProviderInfo"]


class ModelInfo(NamedTuple):
    """One model of one models.dev provider.

    Prices are USD per 1M tokens: ``None`` means unknown, ``0.0`` means free.
    Token limits are ``None`` when unknown (the catalog writes 0 for that).
    Booleans are ``False`` when the catalog does not say.
    """

    provider: str
    """The models.dev provider id this entry belongs to (e.g. ``openai``)."""
    id: str
    """The model id exactly as sent to the provider's API (may contain ``/``, ``:``, ``@``)."""
    name: str = ""
    family: str | None = None
    context_window: int | None = None
    max_input: int | None = None
    max_output: int | None = None
    cost_input: float | None = None
    cost_output: float | None = None
    cost_cache_read: float | None = None
    cost_cache_write: float | None = None
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    reasoning: bool = False
    tool_call: bool = False
    attachment: bool = False
    structured_output: bool = False
    knowledge: str | None = None
    """Training-data cutoff, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    release_date: str | None = None
    last_updated: str | None = None
    open_weights: bool = False
    status: str | None = None
    """``"alpha"``, ``"beta"``, ``"deprecated"`` or ``None``."""
    is_embedding: bool = False
    sdk: str | None = None
    """The model's own AI-SDK npm package when it overrides its provider's
    (e.g. ``@ai-sdk/anthropic`` on some OpenCode Zen models), else ``None``."""

    @property
    def image_input(self) -> bool:
        return "image" in self.input_modalities

    @property
    def deprecated(self) -> bool:
        return self.status == "deprecated"


class ProviderInfo(NamedTuple):
    """One models.dev provider, without its models."""

    id: str
    name: str
    npm: str | None = None
    """The AI-SDK package the provider is used with."""
    api: str | None = None
    """Base URL from the catalog, when it gives one (may hold ``${VAR}`` placeholders)."""
    env: tuple[str, ...] = ()
    doc: str | None = None
    model_count: int = 0
