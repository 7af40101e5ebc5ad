"""The traitlets config object that the panel, the magic and plain code all drive.

:class:`TakopiConfig` is a thin shell over :class:`~takopi_nb._storage.ConfigStore`:
every change is applied to the file under a lock and the traits are then synced
from the result, so several kernels editing the same file never lose changes.
Secrets are never traits.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import (
    HasTraits,
    Instance,
    Unicode,
    default,
    observe,
    validate,
)
from traitlets.config import Configurable

from . import _document as doc_ops
from ._document import ConfigSnapshot, ProviderRecord
from ._errors import ConfigError, ConfigWarning, EmbeddingsNotSupportedError
from ._provider_types import PROVIDER_TYPES, ProviderType, provider_type
from ._refs import parse_ref
from ._runtime import Runtime, default_codex_issuer, set_active_runtime
from ._secrets import SecretStore
from ._storage import ConfigStore, Mutation
from ._traits import Choice, Flag, IdList, Items, Text
from ._validation import check_base_url, check_provider_id, check_text, origin_of

if TYPE_CHECKING:
    from ._endpoint_models import EndpointModels
    from .codex import CodexAccount, DeviceCodeFlow
    from .wire import ConnectionResult

__all__ = ["Provider", "TakopiConfig", "get_config"]

log = logging.getLogger("takopi_nb.config")


class Provider(HasTraits):
    """One configured provider. Edit its traits; the change is saved at once.

    ``id`` and ``type`` are fixed here: rename with
    :meth:`TakopiConfig.rename_provider`, and make a new provider for another type.
    """

    id = Text(example="work-openai", help="Unique id; the first part of every ref to its models")
    type = Text(read_only=True, example="openai", help="One of takopi_nb.PROVIDER_TYPES")
    name = Text("", example="Work OpenAI", help="Display name")
    base_url = Text(
        "", example="https://proxy.example.com/v1", help="Base URL override; empty = type default"
    )
    models = IdList(Unicode(), help="Selected model ids; the provider is usable with at least one")
    managed = Flag(False, read_only=True, help="Defined by an administrator's config file")
    api_key_env = Text("", read_only=True, help="Extra environment variable holding the key")

    def __init__(self, config: TakopiConfig, record: ProviderRecord) -> None:
        self._config = config
        self._key_origin = record.key_origin  # not a trait: nothing for a user to edit
        self._syncing = True
        super().__init__()
        self._apply(record)
        self._syncing = False

    def _apply(self, record: ProviderRecord) -> None:
        """Take the values of ``record`` without saving them back."""
        was, self._syncing = self._syncing, True
        self._key_origin = record.key_origin
        try:
            for name in ("id", "name", "base_url"):
                if getattr(self, name) != getattr(record, name):
                    self.set_trait(name, getattr(record, name))
            if tuple(self.models) != record.models:
                self.set_trait("models", list(record.models))
            for name in ("type", "managed", "api_key_env"):
                if getattr(self, name) != getattr(record, name):
                    self.set_trait(name, getattr(record, name))
        finally:
            self._syncing = was

    def __repr__(self) -> str:
        extra = ", managed" if self.managed else ""
        return (
            f"<Provider {self.id!r} type={self.type!r} models={len(self.models)} "
            f"credential={self.credential_source!r}{extra}>"
        )

    # -- validation: check or normalise only ---------------------------------------------

    @validate("id")
    def _check_id(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if not self._syncing and value != self.id:
            raise ConfigError(
                f"Provider ids are part of saved refs; rename with "
                f"tk.get_config().rename_provider({self.id!r}, {value!r})."
            )
        return str(value)

    @validate("base_url")
    def _check_base_url(self, proposal: dict[str, Any]) -> str:
        if self._syncing:
            return str(proposal["value"])
        if self.managed:
            raise ConfigError(
                f"Provider {self.id!r} is managed by your administrator; its Base URL "
                "cannot be changed here."
            )
        url, warning = check_base_url(proposal["value"], provider_id=self.id)
        if warning:
            warnings.warn(warning, ConfigWarning, stacklevel=4)
        return url

    @validate("models")
    def _check_models(self, proposal: dict[str, Any]) -> list[str]:
        return list(doc_ops.normalise_models(proposal["value"]))

    @observe("name", "base_url", "models")
    def _save_field(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._config._save_provider_field(self, change["name"], change["new"])

    # -- derived state -------------------------------------------------------------------

    @property
    def type_info(self) -> ProviderType:
        return PROVIDER_TYPES[self.type]

    @property
    def record(self) -> ProviderRecord:
        return ProviderRecord(
            id=self.id,
            type=self.type,
            name=self.name,
            base_url=self.base_url,
            models=tuple(self.models),
            managed=self.managed,
            api_key_env=self.api_key_env,
            key_origin=self._key_origin,
        )

    @property
    def effective_base_url(self) -> str:
        return self.record.effective_base_url

    @property
    def credential_source(self) -> str | None:
        """ "keyring" | "file" | "env:NAME" | "oauth" | None — never the credential itself."""
        return self._config.runtime.credential_source(self.record)

    @property
    def usable(self) -> bool:
        return bool(self.models)

    @property
    def status(self) -> str:
        """A short status for lists: usable / no models selected / no credentials / signed in as …"""
        if self.type_info.auth == "oauth":
            account = self.account
            if account is None:
                return "not signed in"
            who = f"signed in as {account.email or account.account_id}"
            if self._config.runtime.held_back(self.record, "oauth") is not None:
                return f"{who}; held back: the Base URL moved to another host (confirm to use it)"
            return who if self.models else f"{who}; no models selected"
        if not self.models:
            return "no models selected"
        runtime = self._config.runtime
        found = runtime.stored_api_key(self.record)
        if found is None:
            return "no credentials"
        if runtime.held_back(self.record, found[1]) is not None:
            return "key held back: the Base URL moved to another host (confirm to send it)"
        return "usable"

    # -- credentials ---------------------------------------------------------------------

    def set_api_key(self, api_key: str) -> str:
        """Save ``api_key`` in the secret store; returns where it went ("keyring" or "file")."""
        if self.type_info.auth != "api_key":
            raise ConfigError(
                f"Provider {self.id!r} ({self.type_info.label}) has no API key: sign in with "
                f"%takopi login {self.id} or the panel's 'Sign in with ChatGPT'."
            )
        check_text(api_key, f"The API key of provider {self.id!r}", "pass the key as a string")
        if not api_key.strip():
            raise ConfigError(f"The API key for provider {self.id!r} is empty; nothing was saved.")
        where = self._config.runtime.secrets.set(self.id, api_key.strip())
        # The key is bound to the host it was entered for: a later move of the Base URL to
        # another origin holds it back until confirmed.
        self._config._bind_key_origin(self, explicit=False)
        self._config._credentials_changed(self)
        return where

    def confirm_base_url(self) -> None:
        """Allow the key (or ChatGPT sign-in) to go where the Base URL points now (after it moved).

        A key is bound to the origin it was saved for; once the Base URL points to
        another origin the key is held back until this is called once (the panel's
        button and ``%takopi confirm ID`` do the same).
        """
        self._config._bind_key_origin(self)
        self._config._credentials_changed(self)

    def clear_api_key(self) -> None:
        """Delete the stored key (an environment variable, if set, still applies)."""
        self._config.runtime.secrets.delete(self.id)
        self._config._credentials_changed(self)

    # -- codex sign-in -------------------------------------------------------------------

    def _require_oauth(self, action: str) -> None:
        if self.type_info.auth != "oauth":
            raise ConfigError(
                f"Provider {self.id!r} ({self.type_info.label}) uses an API key; {action} is only "
                "for codex providers. Use set_api_key() / clear_api_key()."
            )

    def login(self) -> DeviceCodeFlow:
        """Start "Sign in with ChatGPT" (device code); returns at once with the flow to show."""
        self._require_oauth("sign-in")
        from .codex import start_login

        flow = start_login(self._config.runtime, self.record)

        def on_state(change: dict[str, Any]) -> None:
            if change["new"] == "signed_in":
                # A new sign-in is made for the host the Base URL points to now.
                self._config._bind_key_origin(self, explicit=False)
                self._config._credentials_changed(self)

        flow.observe(on_state, names=["state"])
        return flow

    def logout(self) -> None:
        """Disconnect: revoke the sign-in where possible and delete the tokens."""
        self._require_oauth("sign-out")
        from .codex import logout

        logout(self._config.runtime, self.record)
        self._config._credentials_changed(self)

    def login_from_codex_cli(
        self,
        path: str | Path | None = None,
        *,
        codex_home: str | Path | None = None,
        dry_run: bool = False,
    ) -> CodexAccount:
        """Reuse the Codex CLI's ChatGPT sign-in.

        ``path`` is an ``auth.json`` file. Without it, the sign-in is taken from
        wherever the CLI of ``codex_home`` (default ``$CODEX_HOME``, else
        ``~/.codex``) keeps it: ``auth.json``, or the OS keyring when its
        ``config.toml`` sets ``cli_auth_credentials_store = "keyring"`` or
        ``"auto"``. Returns the account (email, plan, account id; never a
        token). With ``dry_run=True`` nothing is imported: see whose sign-in it
        is first.

        The sign-in is **shared**, not copied: refresh tokens are single use, so
        before refreshing, tokens the CLI rotated are taken from its storage, and
        tokens refreshed here are written back to the same place (the file
        atomically, or the keyring entry). The Codex CLI re-reads its storage
        before it refreshes, so both keep working.
        """
        self._require_oauth("importing a Codex CLI sign-in")
        from .codex._cli_auth import import_cli_sign_in, read_cli_sign_in

        sign_in = read_cli_sign_in(path, codex_home=codex_home)
        if dry_run:
            return sign_in.account
        runtime = self._config.runtime
        account = import_cli_sign_in(runtime.secrets, runtime.codex_issuer, self.id, sign_in)
        from .codex._backend import forget_models

        forget_models(self.id)
        self._config._credentials_changed(self)
        return account

    @property
    def account(self) -> CodexAccount | None:
        """For a signed-in codex provider: email, plan and account id (never a token)."""
        if self.type_info.auth != "oauth":
            return None
        from .codex import account

        return account(self._config.runtime, self.record)

    def endpoint_models(self, refresh: bool = False, *, timeout: float = 15.0) -> EndpointModels:
        """The models this provider's endpoint serves (``GET {base}/models``), catalog metadata merged.

        Works for every type: OpenAI-compatible servers and proxies, Anthropic (all
        pages), OpenRouter, and the Codex backend of a signed-in ChatGPT account.
        Each entry has the id as the endpoint serves it, a name, the matched
        catalog ``info`` (also found through a vendor prefix such as ``openai/`` or
        an Ollama ``:tag``; None = not in catalog) and a context window. Kept for
        two minutes per provider; ``refresh=True`` asks again. Raises a
        :class:`~takopi_nb.TakopiError` saying what failed (key, address, an answer
        that is not JSON); nothing here ever shows the key.
        """
        from ._endpoint_models import fetch_endpoint_models

        return fetch_endpoint_models(
            self._config.runtime, self.record, refresh=refresh, timeout=timeout
        )

    def test_connection(self) -> ConnectionResult:
        """Try the provider with the stored credential; the result says in plain words what happened."""
        from .wire import test_connection

        return test_connection(self._config.runtime, self.record)


class TakopiConfig(Configurable):
    """Providers, the default chat model and the embedding model, saved in ``providers.json``."""

    config_file = Text(
        "",
        example="~/work/providers.json",
        help="The user config file; empty means $TAKOPI_NB_CONFIG or "
        "<jupyter_config_dir>/takopi/providers.json",
    ).tag(config=True)
    admin_config_files = Items(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="Admin (managed) config files; None means takopi/providers.json in every other "
        "directory of jupyter_config_path()",
    ).tag(config=True)
    secret_backend = Choice(
        ["auto", "keyring", "file"],
        "auto",
        help="Where keys go: the OS keyring when usable ('auto'), or force 'keyring' / 'file'",
    ).tag(config=True)
    codex_issuer = Text(
        example="https://auth.openai.com",
        help="The ChatGPT sign-in server (TAKOPI_NB_CODEX_ISSUER overrides the default)",
    ).tag(config=True)

    providers = Items(Instance(Provider), read_only=True, help="All providers, managed ones first")
    default_model = Text(
        "", example="work-openai/gpt-5.2", help="Ref used by %%takopi when no ref is given"
    )
    embedding_model = Text(
        "", example="work-openai/text-embedding-3-small", help="Ref of the embedding model"
    )
    notices = Items(Unicode(), read_only=True, help="Problems found in config files, and similar")

    def __init__(self, **kwargs: Any) -> None:
        self._syncing = False
        self._lock = threading.RLock()
        self._synced: ConfigSnapshot | None = None
        self._by_id: dict[str, Provider] = {}
        super().__init__(**kwargs)
        self.runtime = self._make_runtime()

    @default("codex_issuer")
    def _default_issuer(self) -> str:
        return default_codex_issuer()

    def _make_runtime(self) -> Runtime:
        admin = (
            None if self.admin_config_files is None else [Path(p) for p in self.admin_config_files]
        )
        store = ConfigStore(
            Path(self.config_file).expanduser() if self.config_file else None, admin
        )
        return Runtime(store, SecretStore(self.secret_backend), self.codex_issuer)  # type: ignore[arg-type]

    @observe("config_file", "admin_config_files", "secret_backend")
    def _locations_changed(self, change: dict[str, Any]) -> None:
        if not hasattr(self, "runtime"):
            return
        self.runtime = self._make_runtime()
        if _process_config is self:
            set_active_runtime(self.runtime)
        self._synced = None
        self.reload_if_changed()

    @observe("codex_issuer")
    def _issuer_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "runtime"):
            self.runtime.codex_issuer = change["new"]

    def __repr__(self) -> str:
        ids = ", ".join(p.id for p in self.providers)
        return f"<TakopiConfig {str(self.runtime.store.path)!r} providers=[{ids}]>"

    # -- syncing with the files ----------------------------------------------------------

    def reload_if_changed(self) -> None:
        """Pick up changes made by other kernels (a cheap stat when nothing changed)."""
        snapshot = self.runtime.snapshot()
        if snapshot is not self._synced:
            self._sync(snapshot)

    def _sync(self, snapshot: ConfigSnapshot) -> None:
        with self._lock:
            self._syncing = True
            try:
                by_id: dict[str, Provider] = {}
                for record in snapshot.providers.values():
                    provider = self._by_id.get(record.id)
                    if provider is None:
                        provider = Provider(self, record)
                    else:
                        provider._apply(record)
                    by_id[record.id] = provider
                self._by_id = by_id
                if list(by_id.values()) != list(self.providers):
                    self.set_trait("providers", list(by_id.values()))
                for name in ("default_model", "embedding_model"):
                    if getattr(self, name) != getattr(snapshot, name):
                        self.set_trait(name, getattr(snapshot, name))
                notices = list(snapshot.problems)
                if self.runtime.secrets.notice and any(
                    p.type_info.auth == "api_key" for p in by_id.values()
                ):
                    notices.append(self.runtime.secrets.notice)
                if notices != list(self.notices):
                    self.set_trait("notices", notices)
                self._synced = snapshot
            finally:
                self._syncing = False

    def _transact(self, mutation: Mutation) -> ConfigSnapshot:
        try:
            snapshot = self.runtime.store.transact(mutation)
        except Exception:
            self._synced = None  # undo in-memory edits that were not saved
            self.reload_if_changed()
            raise
        self._sync(snapshot)
        return snapshot

    def _save_provider_field(self, provider: Provider, name: str, value: Any) -> None:
        record = provider.record
        # Only a key in the store needs pinning; an environment key is bound to the type's host.
        pin = name == "base_url" and self.runtime.secrets.get(record.id) is not None

        def mutate(doc: dict[str, Any], snap: ConfigSnapshot) -> dict[str, Any] | None:
            current = snap.providers.get(record.id)
            if current is None:
                if snap.damaged:
                    raise ConfigError(f"Not saved: {snap.damaged}")
                return None  # removed by another kernel meanwhile; the sync drops it here too
            fields: dict[str, Any] = {name: list(value) if name == "models" else value}
            if pin and not current.key_origin and not current.managed:
                # Pin the key (saved before keys were bound) to the host it was used with.
                fields["key_origin"] = origin_of(current.effective_base_url)
            return doc_ops.with_provider_updated(doc, current, fields)

        self._transact(mutate)

    def _bind_key_origin(self, provider: Provider, *, explicit: bool = True) -> None:
        """Bind the provider's credential to the origin its Base URL points to now.

        ``explicit`` writes that origin (needed for environment keys, which are
        otherwise bound to the type's host); else the entry just drops an older
        binding, since a stored key without one is bound to where it is used now.
        """
        if provider.managed:
            return
        provider_id = provider.id

        def mutate(doc: dict[str, Any], snap: ConfigSnapshot) -> dict[str, Any] | None:
            current = snap.providers.get(provider_id)
            if current is None:
                return None
            origin = origin_of(current.effective_base_url) if explicit else None
            if current.key_origin == (origin or ""):
                return None
            return doc_ops.with_provider_updated(doc, current, {"key_origin": origin})

        self._transact(mutate)

    def _credentials_changed(self, provider: Provider) -> None:
        """Tell observers (the panel) that a provider's credential changed."""
        _forget_listing(provider.id)
        with self._lock:
            self._sync(self.runtime.snapshot())
        self._credential_version = getattr(self, "_credential_version", 0) + 1
        for callback in list(getattr(self, "_credential_callbacks", [])):
            callback(provider)

    def on_credentials_changed(self, callback: Any, remove: bool = False) -> None:
        """Register ``callback(provider)``, called after a key is set/cleared or a sign-in ends."""
        callbacks: list[Any] = self.__dict__.setdefault("_credential_callbacks", [])
        if remove:
            if callback in callbacks:
                callbacks.remove(callback)
        elif callback not in callbacks:
            callbacks.append(callback)

    # -- validation: check or normalise only ---------------------------------------------

    @validate("default_model", "embedding_model")
    def _check_ref(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if self._syncing or not value:
            return str(value or "")
        provider_id, _ = parse_ref(value)
        if proposal["trait"].name == "embedding_model":
            provider = self._by_id.get(provider_id)
            if provider is not None and not provider.type_info.embeddings:
                supported = ", ".join(t for t, i in PROVIDER_TYPES.items() if i.embeddings)
                raise EmbeddingsNotSupportedError(
                    f"{value!r} cannot be the embedding model: provider {provider_id!r} is of type "
                    f"{provider.type!r}, which has no embeddings. Use a provider of type {supported}."
                )
        return str(value)

    @observe("default_model", "embedding_model")
    def _save_ref(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        name, value = change["name"], change["new"]
        self._transact(lambda doc, snap: doc_ops.with_fields(doc, **{name: value}))

    # -- the public API ------------------------------------------------------------------

    def __iter__(self) -> Iterator[Provider]:
        self.reload_if_changed()
        return iter(list(self.providers))

    def __contains__(self, provider_id: object) -> bool:
        self.reload_if_changed()
        return isinstance(provider_id, str) and provider_id in self._by_id

    def get(self, provider_id: str) -> Provider:
        """The provider with this id; ModelNotFoundError (with a did-you-mean) if there is none."""
        check_text(provider_id, "provider_id", "pass a provider id such as 'work-openai'")
        self.reload_if_changed()
        provider = self._by_id.get(provider_id)
        if provider is None:
            from ._errors import ModelNotFoundError
            from ._resolve import _close, _listing

            known = list(self._by_id)
            if self._synced is not None and self._synced.damaged:
                raise ModelNotFoundError(f"No provider {provider_id!r}: {self._synced.damaged}")
            moved = self._synced.renamed.get(provider_id) if self._synced else None
            hint = (
                f" It was renamed to {moved!r}."
                if moved in self._by_id
                else _close(provider_id, known)
            )
            raise ModelNotFoundError(
                f"No provider {provider_id!r}. Known ids: {_listing(known) or '(none yet)'}.{hint}"
            )
        return provider

    def add_provider(
        self,
        type: str,
        *,
        id: str | None = None,
        name: str = "",
        base_url: str = "",
        api_key: str | None = None,
        models: Iterable[str] = (),
    ) -> Provider:
        """Add a provider of ``type``; the key (if given) goes to the secret store, never the file.

        ``id`` defaults to the type name, then ``type-2``, ``type-3``…
        """
        info = provider_type(type)
        if id is not None:
            check_provider_id(id)
        check_text(name, "name", "pass a display name such as 'Work OpenAI', or leave it out")
        url, warning = check_base_url(base_url, provider_id=id or type)
        if warning:
            warnings.warn(warning, ConfigWarning, stacklevel=2)
        if api_key is not None and info.auth != "api_key":
            raise ConfigError(
                f"{info.label} providers sign in with ChatGPT instead of an API key: add it without "
                "api_key, then call .login()."
            )
        if api_key is not None:
            check_text(api_key, "api_key", "pass the key as a string, or leave api_key out")
            if not api_key.strip():
                raise ConfigError("The API key is empty; pass a key or leave api_key out.")
        selected = doc_ops.normalise_models(models)
        chosen: list[str] = []

        def mutate(doc: dict[str, Any], snap: ConfigSnapshot) -> dict[str, Any]:
            provider_id = id or free_provider_id(type, snap.providers)
            if provider_id in snap.providers:
                existing = snap.providers[provider_id]
                raise ConfigError(
                    f"A provider with id {provider_id!r} already exists (type {existing.type!r}). "
                    f"Choose another id, e.g. {free_provider_id(provider_id, snap.providers)!r}, "
                    "or remove the existing one first."
                )
            chosen.append(provider_id)
            record = ProviderRecord(provider_id, type, name, url, selected)
            return doc_ops.with_provider_added(doc, record)

        self._transact(mutate)
        provider = self._by_id[chosen[0]]
        if api_key is not None:
            provider.set_api_key(api_key)
        log.info("added provider %s (%s)", provider.id, type)
        return provider

    def remove_provider(self, provider_id: str) -> None:
        """Remove a provider and delete its secrets. Managed providers cannot be removed."""
        provider = self.get(provider_id)
        if provider.managed:
            raise ConfigError(
                f"Provider {provider_id!r} is managed by your administrator and cannot be removed."
            )
        self._transact(lambda doc, snap: doc_ops.with_provider_removed(doc, provider_id))
        self.runtime.secrets.delete(provider_id)
        log.info("removed provider %s", provider_id)

    def rename_provider(self, old_id: str, new_id: str) -> list[str]:
        """Give a provider a new id; rewrites this config's refs to it and moves its secret.

        Provider ids are part of every saved ref, so refs kept elsewhere
        (notebooks, scripts, other tools) break. Returns the refs this config
        knows of that it could not rewrite (those in read-only admin files).
        """
        provider = self.get(old_id)
        check_provider_id(new_id)
        if provider.managed:
            raise ConfigError(
                f"Provider {old_id!r} is managed by your administrator; its id cannot be changed."
            )
        if new_id == old_id:
            return []
        rewritten: list[str] = []

        def mutate(doc: dict[str, Any], snap: ConfigSnapshot) -> dict[str, Any]:
            if new_id in snap.providers:
                raise ConfigError(
                    f"Cannot rename {old_id!r} to {new_id!r}: that id is already used. "
                    "Choose another id."
                )
            if old_id not in snap.providers:
                raise ConfigError(
                    f"Provider {old_id!r} no longer exists (removed by another kernel)."
                )
            new_doc, done = doc_ops.with_provider_renamed(doc, old_id, new_id)
            rewritten[:] = done
            return new_doc

        with self._lock:
            try:
                snapshot = self.runtime.store.transact(mutate)
            except Exception:
                self._synced = None
                self.reload_if_changed()
                raise
            # Keep the same Provider object, so widgets bound to it stay bound.
            self._by_id[new_id] = self._by_id.pop(old_id)
            self._sync(snapshot)
        self.runtime.secrets.move(old_id, new_id)
        self._credentials_changed(provider)
        prefix = old_id + "/"
        not_rewritten = [
            f"{where}: {value}"
            for where, admin_doc in self.runtime.store._admin_docs
            for value in (admin_doc.get("default_model"), admin_doc.get("embedding_model"))
            if isinstance(value, str) and value.startswith(prefix)
        ]
        log.info(
            "renamed provider %s to %s; rewrote %s; refs saved elsewhere that start with %r "
            "must be updated by hand",
            old_id,
            new_id,
            rewritten or "nothing",
            prefix,
        )
        return not_rewritten

    def resolve(self, ref: str, purpose: str = "chat") -> Any:
        """Resolve ``ref`` against this config (see :func:`takopi_nb._resolve`)."""
        from ._resolve import ResolvedModel, check_purpose, resolve_in

        check_purpose(purpose)
        self.reload_if_changed()
        record, model_id = resolve_in(self.runtime.snapshot(), ref, purpose)  # type: ignore[arg-type]
        return ResolvedModel(
            record.id,
            model_id,
            record.type,
            record.effective_base_url,
            purpose,  # type: ignore[arg-type]
            record,
            self.runtime,
        )

    @property
    def secret_notice(self) -> str | None:
        """Says where keys are kept when it is not an OS keyring (for the UI), else None."""
        return self.runtime.secrets.notice


def _forget_listing(provider_id: str) -> None:
    """A new key may list other models: drop the cached list (if that module was ever used)."""
    import sys

    module = sys.modules.get(f"{__package__}._endpoint_models")
    if module is not None:
        module.forget_endpoint_models(provider_id)


def free_provider_id(base: str, taken: Any) -> str:
    """``base`` if free, else ``base-2``, ``base-3``… (ids stay within 64 characters)."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: 64 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


_process_config: TakopiConfig | None = None
_process_lock = threading.Lock()


def _ipython_shell() -> Any:
    import sys

    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def get_config() -> TakopiConfig:
    """The process-wide config, loaded from disk on first use and refreshed when files change.

    Inside IPython it is a configurable of the shell, so ``ipython_config.py`` and
    ``%config TakopiConfig.…`` apply to it.
    """
    global _process_config
    if _process_config is None:
        with _process_lock:
            if _process_config is None:
                shell = _ipython_shell()
                config = TakopiConfig(parent=shell) if shell is not None else TakopiConfig()
                if shell is not None and config not in shell.configurables:
                    shell.configurables.append(config)
                set_active_runtime(config.runtime)
                _process_config = config
    _process_config.reload_if_changed()
    return _process_config


def _reset() -> None:
    global _process_config
    _process_config = None
