"""JSON views of the config, the catalog and resolved refs, for the REST API.

Pure functions over a :class:`~takopi_nb._config.TakopiConfig` and the catalog,
free of jupyter_server so they can be called (and tested) anywhere. Nothing
here returns a secret: credentials appear only as their source ("keyring",
"file", "env:NAME", "oauth") and at most a masked tail of 4 characters
(:func:`takopi_nb._secrets.mask_secret`).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._errors import RefError
from .._secrets import mask_secret

if TYPE_CHECKING:
    from .._config import Provider, TakopiConfig
    from ..catalog import Catalog
    from ._refresher import CatalogRefresher

__all__ = [
    "BadRequest",
    "catalog_models_view",
    "catalog_view",
    "endpoint_models_view",
    "provider_view",
    "providers_view",
    "refresh_catalog",
    "resolve_view",
    "status_view",
]

log = logging.getLogger("takopi_nb.server")

PURPOSES = ("chat", "embedding")


class BadRequest(ValueError):
    """A request parameter is missing or wrong (HTTP 400); the message says which and why."""


# -- providers --------------------------------------------------------------------------------


def _safe_reason(exc: Exception) -> str:
    """Words for a failure: TakopiError messages are safe to show (no secret, by contract)."""
    from .._errors import TakopiError

    return str(exc) if isinstance(exc, TakopiError) else type(exc).__name__


def provider_view(cfg: TakopiConfig, provider: Provider) -> dict[str, Any]:
    """One provider as the panel shows it; the credential only as its source and a masked tail.

    A failure to read one provider's credential (a locked keyring, say) shows in
    its ``status`` and does not take the whole list down.
    """
    record = provider.record
    info = record.type_info
    runtime = cfg.runtime
    key_hint: str | None = None
    credential_source: str | None = None
    account: dict[str, Any] | None = None
    try:
        if info.auth == "api_key":
            found = runtime.stored_api_key(record)
            if found is not None:
                credential_source, key_hint = found[1], mask_secret(found[0])
            del found
        else:
            credential_source = runtime.credential_source(record)
        status = provider.status
        who = provider.account
        if who is not None:
            account = {"email": who.email, "plan": who.plan, "account_id": who.account_id}
    except Exception as exc:
        reason = _safe_reason(exc)
        log.warning("takopi_nb: the status of provider %s is unavailable: %s", record.id, reason)
        status = f"status unavailable: {reason}"
    return {
        "id": record.id,
        "type": record.type,
        "label": info.label,
        "name": record.name,
        "display_name": record.display_name,
        "base_url": record.effective_base_url,
        "base_url_override": record.base_url,
        "default_base_url": info.default_base_url,
        "models": list(record.models),
        "managed": record.managed,
        "usable": record.usable,
        "status": status,
        "auth": info.auth,
        "embeddings": info.embeddings,
        "credential_source": credential_source,
        "key_hint": key_hint,
        "api_key_env": record.api_key_env or None,
        "env_vars": list(runtime.env_var_names(record)),
        "account": account,
    }


def providers_view(cfg: TakopiConfig) -> dict[str, Any]:
    cfg.reload_if_changed()
    return {
        "providers": [provider_view(cfg, p) for p in cfg.providers],
        "default_model": cfg.default_model,
        "embedding_model": cfg.embedding_model,
        "notices": list(cfg.notices),
    }


# -- resolve ----------------------------------------------------------------------------------


def resolve_view(cfg: TakopiConfig, ref: str | None, purpose: str | None) -> dict[str, Any]:
    """What ``tk.resolve(ref, purpose)`` gives, without headers or keys.

    Raises the same errors as :func:`takopi_nb._resolve` (RefError,
    ModelNotFoundError, ProviderNotUsableError, EmbeddingsNotSupportedError).
    A missing credential is not an error here, as in ``resolve()``: ``ready``
    is false and ``hint`` says where a key can go.
    """
    if not ref:
        raise RefError(
            "Pass a model ref as ?ref=providerId/modelId (e.g. ?ref=work-openai/gpt-5.2)."
        )
    purpose = purpose or "chat"
    if purpose not in PURPOSES:
        raise BadRequest(f"purpose must be 'chat' or 'embedding', not {purpose!r}.")
    model = cfg.resolve(ref, purpose=purpose)
    record = model.record
    source = model.credential_source
    hint: str | None = None
    if source is None:
        from .._resolve import missing_key_error

        hint = str(missing_key_error(record, cfg.runtime.env_var_names(record)))
    info = _catalog_entry(model)
    return {
        "ref": model.ref,
        "provider_id": model.provider_id,
        "model_id": model.model_id,
        "provider_type": model.provider_type,
        "base_url": model.base_url,
        "purpose": model.purpose,
        "managed": record.managed,
        "wire": record.type_info.wire,
        "credential_source": source,
        "ready": source is not None,
        "hint": hint,
        "in_catalog": None if info is _UNKNOWN else info is not None,
        "info": None if info is _UNKNOWN else info,
    }


_UNKNOWN: Any = object()


def endpoint_models_view(provider: Provider, *, refresh: bool = False) -> dict[str, Any]:
    """What the provider's endpoint lists (``provider.endpoint_models()``) as JSON.

    Each model: the id as the endpoint serves it, its name and context window, the
    catalog entry it matched (``info``, None = not in catalog) and a ``note`` in the
    picker's words: "served by this endpoint" (a Base URL override) or "available to
    this key" (the type's default endpoint), "; not in catalog" where it is not.
    """
    listing = provider.endpoint_models(refresh=refresh)
    overridden = bool(provider.base_url)
    where = "served by this endpoint" if overridden else "available to this key"
    models = [
        {
            "id": m.id,
            "name": m.name,
            "context_window": m.context_window,
            "owned_by": m.owned_by or None,
            "in_catalog": m.in_catalog,
            "matched_as": m.matched_as,
            "note": where if m.in_catalog else f"{where}; not in catalog",
            "selected": m.id in provider.models,
            "info": None if m.info is None else model_info_json(m.info),
        }
        for m in listing
    ]
    return {
        "provider_id": provider.id,
        "url": listing.url,
        "overridden": overridden,
        "fetched_at": _iso(listing.fetched_at),
        "count": len(models),
        "in_catalog": sum(1 for m in listing if m.in_catalog),
        "models": models,
    }


def _catalog_entry(model: Any) -> Any:
    """The model's catalog entry as JSON, None when not listed, _UNKNOWN when no catalog."""
    try:
        entry = model.info
    except Exception as exc:  # no catalog at all: the ref still resolves
        log.info("takopi_nb: no catalog entry for %s (%s)", model.ref, type(exc).__name__)
        return _UNKNOWN
    return None if entry is None else model_info_json(entry)


def model_info_json(entry: Any) -> dict[str, Any]:
    data: dict[str, Any]
    if hasattr(entry, "_asdict"):  # ModelInfo is a NamedTuple
        data = dict(entry._asdict())
    elif dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        data = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    else:
        data = {k: v for k, v in vars(entry).items() if not k.startswith("_")}
    return {k: _jsonable(v) for k, v in data.items()}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


# -- catalog ----------------------------------------------------------------------------------


def timestamp(value: datetime | None) -> float | None:
    """POSIX seconds of an aware (or UTC-naive) datetime."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return float(value.timestamp())


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat(timespec="seconds")


def catalog_view(catalog: Catalog, refresher: CatalogRefresher | None = None) -> dict[str, Any]:
    """Where the catalog comes from, how old it is, what went wrong last, and the counts."""
    seen = catalog.provenance()
    fetched = timestamp(seen.fetched_at)
    return {
        "source": seen.source,
        "describe": seen.description,
        "fetched_at": _iso(fetched),
        "age_seconds": None if seen.age is None else round(seen.age.total_seconds()),
        "url": seen.url,
        "offline": seen.offline,
        "refreshing": seen.refreshing,
        "last_error": seen.last_error,
        "last_error_at": None if seen.last_error_at is None else seen.last_error_at.isoformat(),
        "skipped": seen.skipped,
        "providers": len(catalog.providers()),
        "models": len(catalog),
        "refresher": None if refresher is None else refresher.status(),
    }


def catalog_models_view(
    catalog: Catalog,
    *,
    provider: str | None,
    provider_type: str | None,
    purpose: str | None,
    query: str | None,
) -> dict[str, Any]:
    """Models of one catalog provider (``provider``), or the picker list of a provider type.

    With ``query``, the catalog's own search (every word, in id, name or family; best first).
    """
    if bool(provider) == bool(provider_type):
        raise BadRequest(
            "Pass exactly one of ?provider=<models.dev provider id> or ?type=<provider type>."
        )
    models: list[Any]
    if provider_type:
        from .._provider_types import PROVIDER_TYPES

        if provider_type not in PROVIDER_TYPES:
            known = ", ".join(PROVIDER_TYPES)
            raise BadRequest(f"Unknown provider type {provider_type!r}. Use one of: {known}.")
        purpose = purpose or "chat"
        if purpose not in PURPOSES:
            raise BadRequest(f"purpose must be 'chat' or 'embedding', not {purpose!r}.")
        if query:
            models = catalog.search(
                query, provider_type=provider_type, embeddings=purpose == "embedding"
            )
        else:
            models = catalog.models_for_type(provider_type, purpose)  # type: ignore[arg-type]
    else:
        purpose = None
        models = (
            catalog.search(query, provider=provider) if query else catalog.models(provider or "")
        )
    return {
        "provider": provider,
        "type": provider_type,
        "purpose": purpose,
        "query": query,
        "count": len(models),
        "models": [model_info_json(m) for m in models],
    }


def refresh_catalog(catalog: Catalog) -> str | None:
    """Fetch the catalog now (blocking); the error text when it failed, else None."""
    if catalog.refresh():
        return None
    return catalog.last_error or "the catalog was not refreshed"


# -- status -----------------------------------------------------------------------------------


def status_view(cfg: TakopiConfig, extra: dict[str, Any]) -> dict[str, Any]:
    from .. import __version__

    cfg.reload_if_changed()
    store = cfg.runtime.store
    secrets = cfg.runtime.secrets
    return {
        "version": __version__,
        "config_file": str(store.path),
        "admin_config_files": [{"path": str(p), "exists": p.is_file()} for p in store.admin_paths],
        "providers": len(cfg.providers),
        "managed_providers": sum(1 for p in cfg.providers if p.managed),
        "usable_providers": sum(1 for p in cfg.providers if p.usable),
        "secret_store": secrets.kind,
        "secret_notice": secrets.notice,
        "notices": list(cfg.notices),
        **extra,
    }
