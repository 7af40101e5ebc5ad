"""``Provider.endpoint_models()``: what a provider's endpoint serves, with catalog metadata.

A proxy (LiteLLM, a gateway) or a self-hosted server (vLLM, Ollama, LM Studio)
serves its own ids: ``llama-3.1-8b-instruct``, ``qwen2.5-coder:7b``,
``openai/gpt-4o``. Each id is matched against the models.dev catalog — as is,
then without a vendor prefix (``openai/``), then without an Ollama-style ``:tag``
— so context windows and prices show where the catalog knows the model, and
"not in catalog" where it does not.

Lists are cached per provider (id, Base URL, credential source) for
:data:`TTL` seconds; ``refresh=True`` asks again. :func:`picker_rows` is the pure
core of the picker and of ``%takopi models --live``: the merged, grouped rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .catalog import Catalog, ModelInfo
    from .wire._listing import ListedModel

__all__ = [
    "TTL",
    "EndpointModel",
    "EndpointModels",
    "PickerRow",
    "cached_endpoint_models",
    "fetch_endpoint_models",
    "forget_endpoint_models",
    "match_catalog",
    "picker_rows",
]

TTL = 120.0
"""Seconds a fetched list is reused: short, so a model added to a proxy shows up soon."""


@dataclass(frozen=True)
class EndpointModel:
    """One model the endpoint serves. ``info`` is the catalog entry it matched, if any."""

    id: str
    """The id exactly as the endpoint lists it (what a ref must use)."""
    name: str
    info: ModelInfo | None = None
    context_window: int | None = None
    """The endpoint's own figure when it gives one, else the catalog's."""
    owned_by: str = ""

    @property
    def in_catalog(self) -> bool:
        return self.info is not None

    @property
    def matched_as(self) -> str | None:
        """``provider/id`` of the catalog entry used for the metadata, if any."""
        return f"{self.info.provider}/{self.info.id}" if self.info is not None else None


class EndpointModels(list[EndpointModel]):
    """The list an endpoint serves (a ``list`` of :class:`EndpointModel`), and where it came from."""

    def __init__(
        self, models: Iterable[EndpointModel], *, provider_id: str, url: str, fetched_at: float
    ) -> None:
        super().__init__(models)
        self.provider_id = provider_id
        self.url = url
        self.fetched_at = fetched_at
        """``time.time()`` when the endpoint answered."""

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self]

    def get(self, model_id: str) -> EndpointModel | None:
        return next((m for m in self if m.id == model_id), None)

    def __repr__(self) -> str:
        known = sum(1 for m in self if m.in_catalog)
        return (
            f"<EndpointModels {self.provider_id!r}: {len(self)} models, {known} in the catalog, "
            f"from {self.url}>"
        )


# -- matching with the catalog ------------------------------------------------------------------


def _candidates(model_id: str) -> Iterator[tuple[str | None, str]]:
    """(vendor or None, id) pairs to look up, most specific first."""
    seen: set[tuple[str | None, str]] = set()

    def emit(vendor: str | None, mid: str) -> Iterator[tuple[str | None, str]]:
        for item in ((vendor, mid), (vendor, mid.lower())):
            if item[1] and item not in seen:
                seen.add(item)
                yield item

    yield from emit(None, model_id)
    vendor: str | None = None
    rest = model_id
    if "/" in model_id:
        vendor, rest = model_id.split("/", 1)
        vendor = vendor.lower()
        yield from emit(vendor, rest)
        if "/" in rest:  # "openrouter/openai/gpt-4o"
            yield from emit(None, rest)
            vendor, rest = rest.split("/", 1)
            yield from emit(vendor.lower(), rest)
    if ":" in rest:
        base, tag = rest.split(":", 1)
        if tag and tag.lower() not in ("latest", "free", "beta", "extended"):
            yield from emit(vendor, f"{base}-{tag}")
        yield from emit(vendor, base)


# When several catalog providers list one id, the model's makers describe it best.
_PREFERRED = {
    name: rank
    for rank, name in enumerate(
        ("openai", "anthropic", "google", "deepseek", "mistral", "xai", "alibaba", "openrouter")
    )
}
_global_lock = threading.Lock()
_global_index: tuple[int, dict[str, ModelInfo]] | None = None


def _by_lower_id(catalog: Catalog) -> dict[str, ModelInfo]:
    """Every catalog id (lower-cased) → its entry, the type-neutral fallback of a match."""
    global _global_index
    # Cheap to compute: reading all_models() itself costs milliseconds.
    key = hash((id(catalog), catalog.fetched_at, catalog.source))
    with _global_lock:
        if _global_index is not None and _global_index[0] == key:
            return _global_index[1]
    models = catalog.all_models()
    index: dict[str, ModelInfo] = {}
    last = len(_PREFERRED)
    for info in models:
        key_id = info.id.lower()
        held = index.get(key_id)
        if held is None or _PREFERRED.get(info.provider, last) < _PREFERRED.get(
            held.provider, last
        ):
            index[key_id] = info
    with _global_lock:
        _global_index = (key, index)
    return index


class _Lookups:
    """One catalog read per provider for a whole list: ``catalog.get`` costs a freshness check."""

    def __init__(self, catalog: Catalog, provider_type: str) -> None:
        from ._provider_types import provider_type as type_spec

        self.catalog = catalog
        self.provider_type = provider_type
        self.own = type_spec(provider_type).catalog_provider
        self._by_provider: dict[str, dict[str, ModelInfo]] = {}
        self._everywhere: dict[str, ModelInfo] | None = None

    def get(self, provider: str, model_id: str) -> ModelInfo | None:
        table = self._by_provider.get(provider)
        if table is None:
            table = self._by_provider[provider] = {m.id: m for m in self.catalog.models(provider)}
        return table.get(model_id)

    def for_type(self, model_id: str) -> ModelInfo | None:
        found = self.get(self.own, model_id)
        if found is not None and self.provider_type == "codex":
            from .catalog._provider_lists import as_codex

            return as_codex(found)
        return found

    def match(self, model_id: str) -> ModelInfo | None:
        candidates = list(_candidates(model_id))
        for vendor, mid in candidates:
            found = self.for_type(mid if vendor is None else f"{vendor}/{mid}")
            if found is None and vendor is not None:
                found = self.for_type(mid)
            if found is not None:
                return found
        for vendor, mid in candidates:
            if vendor is not None:
                found = self.get(vendor, mid)
                if found is not None:
                    return found
        if self._everywhere is None:
            self._everywhere = _by_lower_id(self.catalog)
        index = self._everywhere
        for vendor, mid in candidates:
            found = index.get((mid if vendor is None else f"{vendor}/{mid}").lower())
            found = found or index.get(mid.lower())
            if found is not None:
                return found
        return None


def match_catalog(catalog: Catalog, provider_type: str, model_id: str) -> ModelInfo | None:
    """The catalog entry that describes ``model_id`` as served by a ``provider_type`` endpoint.

    Tried in order: the type's own catalog provider; the vendor named by a
    prefix (``anthropic/claude-…`` → models.dev ``anthropic``); any catalog
    provider that lists exactly that id. Each with the id as is, lower-cased,
    without the vendor prefix, and without an Ollama ``:tag``.
    """
    return _Lookups(catalog, provider_type).match(model_id)


def merge(
    listed: Sequence[ListedModel], catalog: Catalog | None, provider_type: str
) -> list[EndpointModel]:
    """Endpoint entries with catalog metadata merged where an id matches."""
    merged = []
    lookups = _Lookups(catalog, provider_type) if catalog is not None else None
    for entry in listed:
        info = lookups.match(entry.id) if lookups is not None else None
        merged.append(
            EndpointModel(
                id=entry.id,
                name=entry.name or (info.name if info is not None else "") or entry.id,
                info=info,
                context_window=entry.context_window
                or (info.context_window if info is not None else None),
                owned_by=entry.owned_by,
            )
        )
    return merged


# -- the per-provider cache ---------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[tuple[str, str, str], tuple[float, EndpointModels]] = {}


def _key(runtime: Any, record: Any) -> tuple[str, str, str]:
    try:
        source = runtime.credential_source(record) or ""
    except Exception:  # an unreadable store: never cached across a fix
        source = "?"
    return (record.id, record.effective_base_url, source)


def cached_endpoint_models(
    runtime: Any, record: Any, *, clock: Callable[[], float] = time.monotonic
) -> EndpointModels | None:
    """The list fetched less than :data:`TTL` seconds ago, or None. Never a request."""
    key = _key(runtime, record)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None or clock() - hit[0] >= TTL:
        return None
    return hit[1]


def fetch_endpoint_models(
    runtime: Any,
    record: Any,
    *,
    refresh: bool = False,
    timeout: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
) -> EndpointModels:
    """The endpoint's list (from the cache unless ``refresh``); raises TakopiError on failure."""
    if not refresh:
        hit = cached_endpoint_models(runtime, record, clock=clock)
        if hit is not None:
            return hit
    from .wire._listing import fetch_listing

    key = _key(runtime, record)
    listed, url = fetch_listing(runtime, record, timeout=timeout)
    catalog = _catalog_or_none()
    models = EndpointModels(
        merge(listed, catalog, record.type),
        provider_id=record.id,
        url=url,
        fetched_at=time.time(),
    )
    with _cache_lock:
        _cache[key] = (clock(), models)
    return models


def _catalog_or_none() -> Catalog | None:
    from ._errors import TakopiError
    from .catalog import get_catalog

    try:
        return get_catalog()
    except TakopiError:  # no catalog at all: the list still comes, without metadata
        return None


def forget_endpoint_models(provider_id: str | None = None) -> None:
    """Drop cached lists (of one provider, or all): after a key or Base URL change."""
    with _cache_lock:
        for key in [k for k in _cache if provider_id is None or k[0] == provider_id]:
            del _cache[key]


def _reset() -> None:
    global _global_index
    forget_endpoint_models()
    with _global_lock:
        _global_index = None


# -- the picker's rows (pure) -------------------------------------------------------------------

Group = Literal["endpoint", "catalog", "selected"]
GROUP_TITLES: dict[Group, str] = {
    "endpoint": "Served by this endpoint",
    "catalog": "Catalog",
    "selected": "Selected, not listed",
}


@dataclass(frozen=True)
class PickerRow:
    """One row of the model picker: which group it is in and what is known about it."""

    id: str
    group: Group
    name: str
    info: ModelInfo | None
    selected: bool
    served: bool | None
    """True: the endpoint lists it; False: it does not; None: no list was had."""
    context_window: int | None = None

    @property
    def in_catalog(self) -> bool:
        return self.info is not None

    @property
    def note(self) -> str:
        """ "not in catalog", "available to this key", or ""."""
        if self.info is None:
            return "not in catalog"
        if self.group == "catalog" and self.served:
            return "available to this key"
        return ""


def _purpose_fits(info: ModelInfo | None, purpose: str) -> bool:
    if info is None:
        return True  # unknown: let the user decide
    return info.is_embedding == (purpose == "embedding")


def picker_rows(
    catalog_models: Sequence[ModelInfo],
    endpoint: Sequence[EndpointModel] | None,
    selected: Sequence[str],
    *,
    overridden: bool,
    purpose: str = "chat",
    extra: Sequence[str] | None = None,
) -> list[PickerRow]:
    """The picker's rows, grouped.

    With a Base URL override and a list: "Served by this endpoint" first (catalog
    metadata where an id matched, "not in catalog" otherwise), then the catalog's
    models the endpoint does not list (still reachable), then selected ids found
    in neither. At a type's default endpoint the catalog order is kept and the
    models the key can list are marked ``served``; listed ids the catalog lacks
    follow. Without a list (``endpoint`` None): the catalog, selected extras first.
    ``extra``: the ids shown when in neither list (default: every selected id); a
    search passes the selected ids that match it.
    """
    extras = list(selected if extra is None else extra)
    chosen = set(selected)
    rows: list[PickerRow] = []
    seen: set[str] = set()

    def add(row: PickerRow) -> None:
        if row.id not in seen:
            seen.add(row.id)
            rows.append(row)

    served_ids = {m.id for m in endpoint} if endpoint is not None else set()
    served_catalog_ids = {m.info.id for m in endpoint or () if m.info is not None}
    endpoint_rows = [
        PickerRow(m.id, "endpoint", m.name, m.info, m.id in chosen, True, m.context_window)
        for m in endpoint or ()
        if _purpose_fits(m.info, purpose)
    ]
    if endpoint is None:
        for mid in extras:
            if not any(info.id == mid for info in catalog_models):
                add(PickerRow(mid, "selected", mid, None, True, None))
    elif overridden:
        for row in endpoint_rows:
            add(row)
    for info in catalog_models:
        if endpoint is not None and overridden and info.id in served_catalog_ids:
            continue  # shown above under the id the endpoint serves it as
        served = None if endpoint is None else info.id in served_ids
        add(
            PickerRow(
                info.id, "catalog", info.name, info, info.id in chosen, served, info.context_window
            )
        )
    if endpoint is not None and not overridden:
        for row in endpoint_rows:
            add(row)
    if endpoint is not None:
        for mid in extras:
            add(PickerRow(mid, "selected", mid, None, True, False))
    return rows
