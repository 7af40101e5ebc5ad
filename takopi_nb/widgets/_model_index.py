"""Fast search over one provider type's catalog models, shared by the picker and ``%takopi models``.

An index is built once per (catalog, provider type, purpose) and cached; a
search is then a scan of a few hundred precomputed lowercase strings (the
catalog's own :func:`~takopi_nb.catalog._search.search_models` ranking), well
under a millisecond. This module does not import ipywidgets.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from ..catalog._display import format_price, format_tokens
from ..catalog._search import haystack, search_models

__all__ = [
    "ModelIndex",
    "index_for",
    "list_row",
    "price_pair",
]


class ModelIndex:
    """The catalog models one picker offers (newest first, deprecated last), ready to search."""

    def __init__(self, models: Sequence[Any]) -> None:
        # Stable sorts, the last key applied first: by id, then newest first, deprecated last.
        ordered = sorted(models, key=lambda m: m.id)
        ordered.sort(key=lambda m: m.release_date or "", reverse=True)
        ordered.sort(key=lambda m: m.status == "deprecated")
        self.models: list[Any] = ordered
        self._hay = [haystack(m) for m in ordered]
        self._by_id = {m.id: m for m in ordered}

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._by_id

    def get(self, model_id: str) -> Any | None:
        return self._by_id.get(model_id)

    def search(
        self,
        query: str = "",
        *,
        tool_call: bool = False,
        reasoning: bool = False,
        image_input: bool = False,
        hide_deprecated: bool = False,
    ) -> list[Any]:
        """Every model whose id/name/family holds each word of ``query``, best first.

        A filter set to True keeps only models with that feature; False does not filter.
        """
        return search_models(
            self.models,
            self._hay,
            query,
            tool_call=True if tool_call else None,
            reasoning=True if reasoning else None,
            image_input=True if image_input else None,
            hide_deprecated=hide_deprecated,
        )


_cache: dict[tuple[int, str, str], tuple[Any, Any, ModelIndex]] = {}
_cache_lock = threading.Lock()


def index_for(catalog: Any, provider_type: str, purpose: str = "chat") -> ModelIndex:
    """The (cached) index of ``catalog.models_for_type(provider_type, purpose=purpose)``."""
    key = (id(catalog), provider_type, purpose)
    version = (getattr(catalog, "fetched_at", None), getattr(catalog, "source", None), len(catalog))
    with _cache_lock:
        found = _cache.get(key)
        if found is not None and found[0] is catalog and found[1] == version:
            return found[2]
    index = ModelIndex(list(catalog.models_for_type(provider_type, purpose=purpose)))
    with _cache_lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = (catalog, version, index)
    return index


def codex_plan_index(catalog: Any, backend_models: Sequence[Any]) -> ModelIndex:
    """The picker's rows for a signed-in codex provider: the models its ChatGPT plan offers.

    Each backend entry keeps the catalog's metadata when the catalog knows the model, and
    otherwise shows what the backend says (name, context window, reasoning, inputs).
    """
    from ..catalog import ModelInfo

    rows = []
    for model in backend_models:
        known = catalog.get_for_type("codex", model.slug) if catalog is not None else None
        rows.append(
            known
            or ModelInfo(
                provider="openai",
                id=model.slug,
                name=model.display_name or model.slug,
                context_window=model.context_window,
                input_modalities=tuple(model.input_modalities),
                output_modalities=("text",),
                reasoning=bool(model.reasoning_levels),
            )
        )
    return ModelIndex(rows)


def price_pair(info: Any) -> str:
    """ "$1.25 / $10" (input / output, USD per 1M tokens), "free", or "—" when unknown."""
    if info.cost_input is None and info.cost_output is None:
        return "—"
    if info.cost_input == 0 and info.cost_output == 0:
        return "free"
    return f"{format_price(info.cost_input)} / {format_price(info.cost_output)}"


# Feature bits of a list row (the same numbers as ``F`` in _model_list.js).
TOOLS, REASONING, IMAGE, STRUCTURED, ATTACHMENTS, EMBEDDING, OPEN_WEIGHTS = (
    1 << i for i in range(7)
)
LISTED = 1 << 7
"""Not a feature: the provider's key can list the model at the type's default endpoint (●)."""


def _short_date(date: str | None) -> str:
    """ "2025-12-01" -> "251201", "2025-12" -> "2512"; anything else unchanged."""
    if date and re.fullmatch(r"20\d\d-\d\d(-\d\d)?", date):
        return date[2:].replace("-", "")
    return date or ""


def _name_adds_words(info: Any) -> bool:
    """Whether the name says more than the id ("GPT-5.2" for gpt-5.2 does not): a row holds
    the name only then, which keeps a big list a tenth smaller."""
    model_id = info.id.lower()
    return any(
        word not in model_id for word in re.findall(r"[a-z0-9.]+", (info.name or "").lower())
    )


def list_row(info: Any, purpose: str, *, subscription: bool = False, group: int = 0) -> list[Any]:
    """One row of the checkbox list, compact (it is sent to the browser and may be saved).

    ``[id, name, family, context, max output, price, cached price, modalities, flags,
    status, "knowledge|released|updated", purpose, group]``; empty trailing cells are dropped. ``group`` numbers
    the list a row comes from (0: the catalog), so a second source can be shown beside it.
    """
    flags = 0
    for bit, on in (
        (TOOLS, info.tool_call),
        (REASONING, info.reasoning),
        (IMAGE, "image" in info.input_modalities),
        (STRUCTURED, info.structured_output),
        (ATTACHMENTS, info.attachment),
        (EMBEDDING, info.is_embedding),
        (OPEN_WEIGHTS, info.open_weights),
    ):
        if on:
            flags |= bit
    # "knowledge|released|updated" as YYMMDD, the last left out when it is the release date
    # (the JS spells them out): rows are sent to the browser, so every repeated byte counts.
    updated = info.last_updated if info.last_updated != info.release_date else ""
    dates = "|".join(_short_date(d) for d in (info.knowledge, info.release_date, updated)).rstrip(
        "|"
    )
    inputs = ", ".join(info.input_modalities) or "—"
    outputs = ", ".join(info.output_modalities) or "—"
    context = format_tokens(info.context_window)
    row: list[Any] = [
        info.id,
        info.name if _name_adds_words(info) else "",
        info.family or "",
        context if context != "—" else "",
        format_tokens(info.max_output) if info.max_output else "",
        "in your plan" if subscription else price_pair(info),
        "",  # was the cached-input price: %takopi models shows it; the list stays small
        f"{inputs} → {outputs}",
        flags,
        info.status or "",
        dates,
        purpose,
        group,
    ]
    while row and row[-1] in ("", 0, None) and len(row) > 1:
        row.pop()
    return row
