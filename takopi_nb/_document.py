"""The config document: pure functions from raw JSON to immutable records and back.

The raw JSON document is the unit of change: every write applies a mutation to
the freshly read document, so entries this version of takopi_nb does not
understand (or cannot parse) are written back untouched and nothing is lost.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._errors import ConfigError, ConfigTypeError
from ._provider_types import PROVIDER_TYPES, ProviderType
from ._refs import parse_ref
from ._validation import check_base_url, check_provider_id

__all__ = [
    "FORMAT_VERSION",
    "ConfigSnapshot",
    "ProviderRecord",
    "empty_document",
    "merge_layers",
    "normalise_models",
]

FORMAT_VERSION = 1
_EDITABLE_BY_USER_ON_MANAGED = ("models",)


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """One provider as the config files describe it (immutable)."""

    id: str
    type: str
    name: str = ""
    base_url: str = ""
    models: tuple[str, ...] = ()
    managed: bool = False
    api_key_env: str = ""
    key_origin: str = ""
    """The origin the credential was saved or confirmed for ("" = wherever it is used now)."""
    model_set: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_set", frozenset(self.models))

    @property
    def type_info(self) -> ProviderType:
        return PROVIDER_TYPES[self.type]

    @property
    def effective_base_url(self) -> str:
        """The Base URL override, or the type's run-time fallback when empty."""
        return self.base_url or PROVIDER_TYPES[self.type].fallback_base_url

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def usable(self) -> bool:
        return bool(self.models)

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "base_url": self.base_url,
            "models": list(self.models),
        }
        if self.api_key_env:
            entry["api_key_env"] = self.api_key_env
        if self.key_origin:
            entry["key_origin"] = self.key_origin
        return entry


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    """The merged view of the admin layers and the user file at one moment."""

    providers: Mapping[str, ProviderRecord] = field(default_factory=lambda: MappingProxyType({}))
    default_model: str = ""
    embedding_model: str = ""
    problems: tuple[str, ...] = ()
    read_only_reason: str = ""
    renamed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Old provider id → new id, for errors about refs saved before a rename."""
    damaged: str = ""
    """While a damaged user file is kept aside: says so and where, for every "not found"."""


def empty_document() -> dict[str, Any]:
    return {"version": FORMAT_VERSION, "providers": [], "default_model": "", "embedding_model": ""}


def normalise_models(models: object) -> tuple[str, ...]:
    """Strip, drop empties and duplicates, keep order. Model ids are otherwise unchanged."""
    if isinstance(models, str | bytes) or not isinstance(models, Iterable):
        raise ConfigTypeError(
            f"models must be a list of model ids, not {type(models).__name__}; "
            "e.g. models=['gpt-5.2'] (a single id goes in a list too)."
        )
    seen: dict[str, None] = {}
    for model in models:
        if not isinstance(model, str):
            raise ConfigTypeError(
                f"Model ids must be text (str), not {type(model).__name__}; "
                "e.g. models=['gpt-5.2']."
            )
        model = model.strip()
        if model:
            seen.setdefault(model, None)
    return tuple(seen)


def record_from_entry(entry: object, *, managed: bool) -> ProviderRecord:
    """Build a record from one JSON entry, or raise ConfigError saying what is wrong."""
    if not isinstance(entry, Mapping):
        raise ConfigError(f"a provider entry must be an object, not {type(entry).__name__}")
    provider_id = check_provider_id(entry.get("id"))
    type_name = entry.get("type")
    if type_name not in PROVIDER_TYPES:
        raise ConfigError(f"provider {provider_id!r} has unknown type {type_name!r}")
    base_url, _ = check_base_url(entry.get("base_url") or "", provider_id=provider_id)
    name = entry.get("name") or ""
    models = entry.get("models") or ()
    api_key_env = entry.get("api_key_env") or ""
    key_origin = entry.get("key_origin") or ""
    if not all(isinstance(v, str) for v in (name, api_key_env, key_origin)):
        raise ConfigError(
            f"provider {provider_id!r} has a non-text name, api_key_env or key_origin"
        )
    if not isinstance(models, list | tuple):
        raise ConfigError(f"provider {provider_id!r} has 'models' that is not a list")
    return ProviderRecord(
        id=provider_id,
        type=str(type_name),
        name=name,
        base_url=base_url,
        models=normalise_models(models),
        managed=managed,
        api_key_env=api_key_env,
        key_origin=key_origin,
    )


def _text_field(doc: Mapping[str, Any], key: str, problems: list[str], where: str) -> str:
    value = doc.get(key) or ""
    if not isinstance(value, str):
        problems.append(f"{where}: '{key}' is not text and was ignored")
        return ""
    if value:
        try:
            parse_ref(value)
        except ValueError:
            problems.append(f"{where}: '{key}' = {value!r} is not a providerId/modelId ref")
            return ""
    return value


def merge_layers(
    admin_docs: Sequence[tuple[str, Mapping[str, Any]]],
    user_doc: Mapping[str, Any],
    user_where: str,
    *,
    base_problems: Sequence[str] = (),
) -> ConfigSnapshot:
    """Merge admin documents (managed providers) and the user document into a snapshot.

    Admin providers come first, in file order. A user entry with a managed id may
    only change what users may change on a managed provider (its model
    selection). A bad entry is skipped and reported, never fatal.
    """
    problems = list(base_problems)
    providers: dict[str, ProviderRecord] = {}
    default_model = embedding_model = ""

    for where, doc in admin_docs:
        for entry in _entries(doc, problems, where):
            try:
                record = record_from_entry(entry, managed=True)
            except ConfigError as exc:
                problems.append(f"{where}: {exc}; entry skipped")
                continue
            providers[record.id] = record
        default_model = _text_field(doc, "default_model", problems, where) or default_model
        embedding_model = _text_field(doc, "embedding_model", problems, where) or embedding_model

    for entry in _entries(user_doc, problems, user_where):
        entry_id = entry.get("id") if isinstance(entry, Mapping) else None
        managed = providers.get(entry_id) if isinstance(entry_id, str) else None
        if managed is not None and managed.managed:
            if "models" in entry and isinstance(entry["models"], list):
                try:
                    providers[managed.id] = _replace_models(managed, entry["models"])
                except ConfigError as exc:
                    problems.append(f"{user_where}: {exc}")
            continue
        try:
            record = record_from_entry(entry, managed=False)
        except ConfigError as exc:
            problems.append(f"{user_where}: {exc}; entry kept in the file but not loaded")
            continue
        if record.id in providers:
            problems.append(
                f"{user_where}: duplicate provider id {record.id!r}; later entry ignored"
            )
            continue
        providers[record.id] = record

    default_model = _text_field(user_doc, "default_model", problems, user_where) or default_model
    embedding_model = (
        _text_field(user_doc, "embedding_model", problems, user_where) or embedding_model
    )
    read_only = ""
    version = user_doc.get("version", FORMAT_VERSION)
    if isinstance(version, int) and version > FORMAT_VERSION:
        read_only = (
            f"{user_where} was written by a newer takopi_nb (format version {version}); "
            "upgrade takopi_nb to change it"
        )
    renamed_raw = user_doc.get("renamed")
    renamed = (
        {k: v for k, v in renamed_raw.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(renamed_raw, Mapping)
        else {}
    )
    return ConfigSnapshot(
        MappingProxyType(providers),
        default_model,
        embedding_model,
        tuple(problems),
        read_only,
        MappingProxyType(renamed),
    )


def _replace_models(record: ProviderRecord, models: Iterable[object]) -> ProviderRecord:
    return ProviderRecord(
        id=record.id,
        type=record.type,
        name=record.name,
        base_url=record.base_url,
        models=normalise_models(models),
        managed=record.managed,
        api_key_env=record.api_key_env,
        key_origin=record.key_origin,
    )


def _entries(doc: Mapping[str, Any], problems: list[str], where: str) -> list[Any]:
    entries = doc.get("providers", [])
    if not isinstance(entries, list):
        problems.append(f"{where}: 'providers' is not a list and was ignored")
        return []
    return entries


# -- mutations on the user document (pure; each returns a new document) -------------------


def _copy(doc: Mapping[str, Any]) -> dict[str, Any]:
    new = copy.deepcopy(dict(doc))
    new["version"] = (
        max(FORMAT_VERSION, new.get("version", FORMAT_VERSION))
        if isinstance(new.get("version"), int)
        else FORMAT_VERSION
    )
    if not isinstance(new.get("providers"), list):
        new["providers"] = []
    return new


def _index(doc: Mapping[str, Any], provider_id: str) -> int | None:
    for i, entry in enumerate(doc["providers"]):
        if isinstance(entry, Mapping) and entry.get("id") == provider_id:
            return i
    return None


def with_provider_added(doc: Mapping[str, Any], record: ProviderRecord) -> dict[str, Any]:
    new = _copy(doc)
    new["providers"].append(record.to_json())
    return new


def with_provider_updated(
    doc: Mapping[str, Any], record: ProviderRecord, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Set ``fields`` on the user entry of ``record`` (creating an overlay for managed ones)."""
    new = _copy(doc)
    at = _index(new, record.id)
    if record.managed:
        allowed = {k: v for k, v in fields.items() if k in _EDITABLE_BY_USER_ON_MANAGED}
        if at is None:
            new["providers"].append({"id": record.id, **allowed})
        else:
            new["providers"][at].update(allowed)
        return new
    entry = record.to_json() if at is None else new["providers"][at]
    entry.update(fields)
    for key in [k for k, v in fields.items() if v is None]:
        del entry[key]  # None removes an optional field
    if at is None:
        new["providers"].append(entry)
    return new


def with_provider_removed(doc: Mapping[str, Any], provider_id: str) -> dict[str, Any]:
    new = _copy(doc)
    new["providers"] = [
        e for e in new["providers"] if not (isinstance(e, Mapping) and e.get("id") == provider_id)
    ]
    return new


def with_fields(doc: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    new = _copy(doc)
    new.update(fields)
    return new


def with_provider_renamed(
    doc: Mapping[str, Any], old_id: str, new_id: str
) -> tuple[dict[str, Any], list[str]]:
    """Rename an entry and the document's own refs to it; returns (doc, rewritten refs)."""
    new = _copy(doc)
    at = _index(new, old_id)
    if at is not None:
        new["providers"][at]["id"] = new_id
    previous = new.get("renamed")
    renamed: dict[str, str] = previous if isinstance(previous, dict) else {}
    # Chains stay resolvable: anything that pointed at the old id now points at the new one.
    renamed = {k: (new_id if v == old_id else v) for k, v in renamed.items() if k != new_id}
    renamed[old_id] = new_id
    new["renamed"] = renamed
    rewritten = []
    for key in ("default_model", "embedding_model"):
        value = new.get(key)
        if isinstance(value, str) and value.startswith(old_id + "/"):
            new[key] = new_id + value[len(old_id) :]
            rewritten.append(f"{key}: {value} → {new[key]}")
    return new, rewritten
