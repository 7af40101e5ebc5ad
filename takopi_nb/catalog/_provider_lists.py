"""Which catalog models a provider type's picker offers, for chat and for embeddings. Pure.

Every type reads its catalog provider (``PROVIDER_TYPES[type].catalog_provider``).
Codex (ChatGPT sign-in) has no catalog provider of its own: it takes the
``openai`` entry, keeps the models the Codex backend serves (format doc §8) and
shows no prices, since it is paid by subscription.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from ._model_info import ModelInfo

__all__ = [
    "CODEX_ALLOWED",
    "Purpose",
    "as_codex",
    "chat_visible",
    "is_codex_model",
    "pick",
]

Purpose = Literal["chat", "embedding"]

CODEX_ALLOWED = frozenset(
    {"gpt-5.2", "gpt-5.3-codex", "gpt-5.3-codex-spark", "gpt-5.4", "gpt-5.4-mini", "gpt-5.5"}
)
_GPT_VERSION = re.compile(r"gpt-([0-9]+)\.([0-9]+)")
_CODEX_MIN_VERSION = (5, 4)
"""Any ``gpt-X.Y…`` id with a version above this is served by the Codex backend too."""


def is_codex_model(model_id: str) -> bool:
    if model_id in CODEX_ALLOWED:
        return True
    match = _GPT_VERSION.match(model_id)
    return match is not None and (int(match[1]), int(match[2])) > _CODEX_MIN_VERSION


def as_codex(model: ModelInfo) -> ModelInfo:
    """The entry as the Codex backend offers it: no per-token prices (subscription); the
    gpt-5.5 family has the Codex backend's own, smaller limits."""
    codex = model._replace(
        cost_input=None, cost_output=None, cost_cache_read=None, cost_cache_write=None
    )
    if "gpt-5.5" in model.id:
        codex = codex._replace(context_window=400_000, max_input=272_000, max_output=128_000)
    return codex


def chat_visible(model: ModelInfo) -> bool:
    """Shown in a chat picker: not an embedding model, not a reranker, and it writes text
    (image, video and audio generators are hidden; unknown output modalities are kept)."""
    if model.is_embedding or "rerank" in model.id.lower():
        return False
    out = model.output_modalities
    return not out or "text" in out


def pick(
    provider_type: str, purpose: Purpose, models: Iterable[ModelInfo]
) -> tuple[ModelInfo, ...]:
    """The picker list of ``provider_type`` for ``purpose`` from its catalog provider's models."""
    if purpose not in ("chat", "embedding"):
        raise ValueError(f"purpose must be 'chat' or 'embedding', not {purpose!r}")
    if provider_type == "codex":
        if purpose == "embedding":
            return ()  # the Codex backend has no embeddings
        return tuple(as_codex(m) for m in models if is_codex_model(m.id) and chat_visible(m))
    if purpose == "embedding":
        return tuple(m for m in models if m.is_embedding)
    return tuple(m for m in models if chat_visible(m))
