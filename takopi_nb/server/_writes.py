"""Changes to the config from JSON request bodies, made through the public Python API.

Each function checks only the *shape* of a body (a JSON object, known fields,
text where text is due) and then calls the very methods the panel and
``%takopi`` call (``add_provider``, ``rename_provider``, trait assignment,
``set_api_key``, ``login``…), so the values are validated with the same rules
and messages, and written to the same file under the same lock. Free of
jupyter_server, like :mod:`._views`.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ._views import BadRequest, provider_view

if TYPE_CHECKING:
    from .._config import Provider, TakopiConfig
    from ..codex import DeviceCodeFlow

__all__ = [
    "LoginFlows",
    "add_provider",
    "clear_key",
    "edit_provider",
    "remove_provider",
    "rename_provider",
    "set_key",
    "set_models_of_config",
    "written",
]

T = TypeVar("T")

ADD_FIELDS = ("type", "id", "name", "base_url", "models", "api_key")
EDIT_FIELDS = ("name", "base_url", "models")
CONFIG_FIELDS = ("default_model", "embedding_model")

# One write at a time in this server: the file lock already serialises the writes of all
# processes; this also keeps warnings.catch_warnings (process-wide state) to one thread.
_write_lock = threading.Lock()


@contextmanager
def _collect_warnings(into: list[str]) -> Iterator[None]:
    from .._errors import ConfigWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigWarning)
        yield
    for w in caught:
        if issubclass(w.category, ConfigWarning):
            into.append(str(w.message))
        else:  # not ours to report: to the log, as without this block
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def written(work: Callable[[list[str]], T]) -> tuple[T, list[str]]:
    """Run ``work(warnings)`` as this server's only write; returns its result and the warnings.

    Warnings (plain http to another host, say) go into the reply, as the panel shows them.
    """
    notes: list[str] = []
    with _write_lock, _collect_warnings(notes):
        result = work(notes)
    return result, notes


# -- body checks --------------------------------------------------------------------------------


def fields(
    body: object, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The body as a dict, or BadRequest saying what is wrong with its shape."""
    example = ", ".join(f'"{name}": …' for name in (required or allowed[:1]))
    if not isinstance(body, Mapping):
        raise BadRequest(f"The request body must be a JSON object, e.g. {{{example}}}.")
    unknown = sorted(str(k) for k in body if k not in allowed)
    if unknown:
        raise BadRequest(
            f"Unknown field(s) {', '.join(map(repr, unknown))}; this route takes "
            f"{', '.join(allowed)}."
        )
    missing = [name for name in required if name not in body]
    if missing:
        raise BadRequest(f"Missing field(s) {', '.join(missing)}, e.g. {{{example}}}.")
    for name, value in body.items():
        if name == "models":
            if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                raise BadRequest('"models" must be a list of model ids, e.g. ["gpt-5.2"].')
        elif not isinstance(value, str) and not (value is None and name in ("id", "api_key")):
            raise BadRequest(f'"{name}" must be text, not {_json_type(value)}.')
    return dict(body)


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "null" if value is None else type(value).__name__


def _api_key(body: object) -> str:
    if not isinstance(body, Mapping) or set(body) != {"api_key"}:
        raise BadRequest('The body must be {"api_key": "<the key>"}; the key is never returned.')
    key = body["api_key"]
    if not isinstance(key, str):
        raise BadRequest('"api_key" must be text.')
    return key


# -- providers ----------------------------------------------------------------------------------


def add_provider(cfg: TakopiConfig, body: object) -> dict[str, Any]:
    """``cfg.add_provider(...)``; the key (if any) goes to the secret store, never the reply."""
    given = fields(body, ADD_FIELDS, required=("type",))

    def work(_: list[str]) -> Provider:
        return cfg.add_provider(
            given["type"],
            id=given.get("id"),
            name=given.get("name", ""),
            base_url=given.get("base_url", ""),
            api_key=given.get("api_key"),
            models=given.get("models", ()),
        )

    provider, notes = written(work)
    return {"provider": provider_view(cfg, provider), "warnings": notes}


def edit_provider(cfg: TakopiConfig, provider_id: str, body: object) -> dict[str, Any]:
    """Set ``base_url``, ``name`` and ``models`` as the panel's fields do.

    The Base URL goes first: it is the one that can be refused (a managed
    provider, a bad URL), and then nothing has been changed.
    """
    given = fields(body, EDIT_FIELDS)
    if not given:
        raise BadRequest(f"Nothing to change: give one of {', '.join(EDIT_FIELDS)}.")

    def work(_: list[str]) -> Provider:
        provider = cfg.get(provider_id)
        for name in ("base_url", "name", "models"):
            if name in given:
                setattr(provider, name, given[name])
        return provider

    provider, notes = written(work)
    return {"provider": provider_view(cfg, provider), "warnings": notes}


def rename_provider(cfg: TakopiConfig, provider_id: str, body: object) -> dict[str, Any]:
    """``cfg.rename_provider(old, new)``: refs in this config follow; the others are listed."""
    new_id = fields(body, ("id",), required=("id",))["id"]
    if not isinstance(new_id, str):
        raise BadRequest('"id" must be text: the new provider id.')
    not_rewritten, notes = written(lambda _: cfg.rename_provider(provider_id, new_id))
    return {
        "provider": provider_view(cfg, cfg.get(new_id)),
        "not_rewritten": not_rewritten,
        "default_model": cfg.default_model,
        "embedding_model": cfg.embedding_model,
        "warnings": notes,
    }


def remove_provider(cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
    """``cfg.remove_provider(id)``, which also deletes its secrets."""
    written(lambda _: cfg.remove_provider(provider_id))
    return {"removed": provider_id}


def set_key(cfg: TakopiConfig, provider_id: str, body: object) -> dict[str, Any]:
    """``provider.set_api_key(key)``. Write-only: the reply says where it went, not what."""
    key = _api_key(body)

    def work(_: list[str]) -> tuple[Provider, str]:
        provider = cfg.get(provider_id)
        return provider, provider.set_api_key(key)

    (provider, where), notes = written(work)
    return {"provider": provider_view(cfg, provider), "stored_in": where, "warnings": notes}


def _call_on_provider(
    cfg: TakopiConfig, provider_id: str, action: Callable[[Provider], object]
) -> dict[str, Any]:
    """Run one no-argument provider method the way every write runs, and show the result."""

    def work(_: list[str]) -> Provider:
        provider = cfg.get(provider_id)
        action(provider)
        return provider

    provider, _ = written(work)
    return {"provider": provider_view(cfg, provider)}


def clear_key(cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
    """``provider.clear_api_key()``: an environment variable, if set, applies again."""
    return _call_on_provider(cfg, provider_id, lambda provider: provider.clear_api_key())


def confirm_base_url(cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
    """``provider.confirm_base_url()``: the key may go where the Base URL points now.

    The panel's "Send key to new host": a key is bound to the origin it was saved
    for and held back after the Base URL moves elsewhere, until confirmed once.
    """
    return _call_on_provider(cfg, provider_id, lambda provider: provider.confirm_base_url())


def set_models_of_config(cfg: TakopiConfig, body: object) -> dict[str, Any]:
    """The default and the embedding model (refs; ``""`` clears)."""
    given = fields(body, CONFIG_FIELDS)
    if not given:
        raise BadRequest(f"Nothing to change: give one of {', '.join(CONFIG_FIELDS)}.")

    def work(_: list[str]) -> None:
        cfg.reload_if_changed()
        for name in CONFIG_FIELDS:
            if name in given:
                setattr(cfg, name, given[name])

    _, notes = written(work)
    return {
        "default_model": cfg.default_model,
        "embedding_model": cfg.embedding_model,
        "warnings": notes,
    }


# -- ChatGPT sign-in ----------------------------------------------------------------------------


def flow_view(flow: DeviceCodeFlow) -> dict[str, Any]:
    """What the device-code display shows: the code to type is for the user's eyes, not a secret."""
    account = flow.account
    return {
        "provider_id": flow.provider_id,
        "state": flow.state,
        "done": flow.done,
        "user_code": flow.user_code or None,
        "verification_url": flow.verification_url or None,
        "expires_at": flow.expires_at,
        "seconds_left": flow.seconds_left,
        "error": flow.error,
        "describe": flow.describe(),
        "account": None
        if account is None
        else {"email": account.email, "plan": account.plan, "account_id": account.account_id},
    }


class LoginFlows:
    """The sign-ins this server started, one per provider, for ``GET`` to report on."""

    def __init__(self) -> None:
        self._flows: dict[str, DeviceCodeFlow] = {}
        self._lock = threading.Lock()

    def start(self, cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
        """``provider.login()``; a sign-in still waiting for this provider is cancelled first."""
        provider = cfg.get(provider_id)
        flow = provider.login()
        with self._lock:
            previous = self._flows.get(provider_id)
            self._flows[provider_id] = flow
        if previous is not None and previous is not flow:
            previous.cancel()
        return flow_view(flow)

    def view(self, cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
        """The state of the last sign-in started here; without one, whether it is signed in."""
        provider = cfg.get(provider_id)
        with self._lock:
            flow = self._flows.get(provider_id)
        if flow is not None:
            return flow_view(flow)
        if provider.type_info.auth != "oauth":
            provider._require_oauth("sign-in")
        view = provider_view(cfg, provider)
        return {
            "provider_id": provider_id,
            "state": "signed_in" if view["account"] else "none",
            "done": True,
            "account": view["account"],
            "describe": view["status"],
        }

    def cancel(self, cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
        cfg.get(provider_id)
        with self._lock:
            flow = self._flows.get(provider_id)
        if flow is None:
            raise BadRequest(f"No sign-in for provider {provider_id!r} was started here.")
        flow.cancel()
        return flow_view(flow)

    def logout(self, cfg: TakopiConfig, provider_id: str) -> dict[str, Any]:
        provider = cfg.get(provider_id)
        provider.logout()
        with self._lock:
            flow = self._flows.pop(provider_id, None)
        if flow is not None:
            flow.cancel()
        return {"provider": provider_view(cfg, provider)}

    def cancel_all(self) -> None:
        with self._lock:
            flows, self._flows = list(self._flows.values()), {}
        for flow in flows:
            flow.cancel()
