"""Fast search over one provider type's catalog models, shared by the picker and ``%takopi models``.

An index is built once per (catalog, provider type, purpose) and cached; a
search is then a scan of a few hundred precomputed lowercase strings (the
catalog's own :func:`~takopi_nb.catalog._search.search_models` ranking), well
under a millisecond. This module does not import ipywidgets.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ..catalog._display import format_price, format_tokens
from ..catalog._search import haystack, search_models

__all__ = ["ModelIndex", "header_label", "index_for", "option_label", "price_pair"]


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


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: width - 1] + "…"
    return text + "\u00a0" * (width - len(text))


def option_label(
    info: Any, model_id: str, *, id_width: int = 34, subscription: bool = False
) -> str:
    """One picker row: id, context window, price and flags, in aligned columns (the name and
    the rest are in the details view).

    Padding uses no-break spaces (a ``<select>`` collapses ordinary ones); the
    picker shows it in a monospace font. Option labels are text, never markup.
    ``subscription``: the provider is paid by plan (codex), so there is no per-token price.
    """
    if info is None:
        return f"{_fit(model_id, id_width)} ⚠ not in catalog"
    flags = []
    if info.tool_call:
        flags.append("tools")
    if info.reasoning:
        flags.append("reasoning")
    if "image" in info.input_modalities:
        flags.append("image")
    if info.status:
        flags.append(info.status)
    context = _fit(format_tokens(info.context_window), 7)
    price = _fit("in your plan" if subscription else price_pair(info), 15)
    return f"{_fit(model_id, id_width)} {context} {price} {' '.join(flags)}".rstrip()


def header_label(id_width: int) -> str:
    """Column titles aligned with :func:`option_label` rows."""
    return (
        f"{_fit('model id', id_width)} {_fit('context', 7)} {_fit('$ in / out, 1M', 15)} features"
    )
