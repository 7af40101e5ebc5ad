"""What a resolved model needs at use time: the config store, the secret store, the issuer.

Kept free of traitlets so that ``tk.resolve()`` in a fresh process costs only a
JSON read. A :class:`~takopi_nb._config.TakopiConfig` owns a Runtime and makes
it the active one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._document import ConfigSnapshot, ProviderRecord
from ._errors import MissingCredentialsError
from ._storage import ConfigStore
from ._validation import origin_of

if TYPE_CHECKING:
    from ._secrets import SecretStore

__all__ = ["DEFAULT_CODEX_ISSUER", "Runtime", "active_runtime", "held_back", "key_moved_error"]

DEFAULT_CODEX_ISSUER = "https://auth.openai.com"


def _secret_store() -> SecretStore:
    # Imported on first use: resolve() needs no secret, and the keyring machinery is slow to load.
    from ._secrets import SecretStore

    return SecretStore()


def default_codex_issuer() -> str:
    return os.environ.get("TAKOPI_NB_CODEX_ISSUER") or DEFAULT_CODEX_ISSUER


@dataclass(eq=False)
class Runtime:
    store: ConfigStore = field(default_factory=ConfigStore)
    secrets: SecretStore = field(default_factory=_secret_store)
    codex_issuer: str = field(default_factory=default_codex_issuer)
    routes: str = field(default_factory=lambda: os.environ.get("TAKOPI_NB_ROUTES", ""))
    """``TAKOPI_NB_ROUTES`` as it was when this runtime was made: hosts whose calls go to
    another address (a test and deployment seam, see :mod:`takopi_nb.wire._routes`)."""

    def snapshot(self) -> ConfigSnapshot:
        return self.store.snapshot()

    def env_var_names(self, record: ProviderRecord) -> tuple[str, ...]:
        names = record.type_info.env_vars
        return (record.api_key_env, *names) if record.api_key_env else names

    def api_key(self, record: ProviderRecord) -> tuple[str, str] | None:
        """(key, source) that may be sent to the provider's Base URL now, or None.

        Raises MissingCredentialsError when a key exists but is bound to another
        origin than the one the Base URL points to (see :meth:`held_back`).
        """
        found = self.stored_api_key(record, recent=True)
        if found is not None:
            bound = self.held_back(record, found[1])
            if bound is not None:
                raise key_moved_error(record, found[1], bound)
        return found

    def stored_api_key(
        self, record: ProviderRecord, *, recent: bool = False
    ) -> tuple[str, str] | None:
        """(key, source) wherever the Base URL points: the secret store first, then env vars.

        For display (a masked tail) and checks only; what is sent goes through :meth:`api_key`.
        ``recent``: a key this process read moments ago will do (``SecretStore.get_recent``).
        """
        from ._secrets import env_secret

        found = self.secrets.get_recent(record.id) if recent else self.secrets.get(record.id)
        if found is not None:
            return found
        from_env = env_secret(self.env_var_names(record))
        if from_env is not None:
            return from_env[0], f"env:{from_env[1]}"
        return None

    def held_back(self, record: ProviderRecord, source: str) -> str | None:
        """The origin a credential is bound to, when the Base URL now points elsewhere; else None."""
        return held_back(record, source)

    def credential_source(self, record: ProviderRecord) -> str | None:
        """ "keyring" | "file" | "env:NAME" | "oauth" | None; never the value."""
        if record.type_info.auth == "oauth":
            return "oauth" if self.secrets.get(record.id) is not None else None
        found = self.stored_api_key(record)
        return found[1] if found else None


def held_back(record: Any, source: str) -> str | None:
    """The origin a credential is bound to, when the Base URL now points elsewhere; else None.

    A stored key (or ChatGPT sign-in) is bound to the origin it was saved (or last
    confirmed) for; a key from an environment variable to the type's own default
    host. An administrator's Base URL (managed providers) is trusted as it is.
    """
    if getattr(record, "managed", False):
        return None
    key_origin = getattr(record, "key_origin", "")
    target = origin_of(record.effective_base_url)
    if key_origin:
        allowed = {key_origin}
    elif source.startswith("env:"):
        info = record.type_info
        allowed = {origin_of(info.default_base_url), origin_of(info.fallback_base_url)}
    else:
        return None  # saved before credentials were bound: bound where it is used now
    return None if target in allowed else (key_origin or min(allowed))


def key_moved_error(record: Any, source: str, bound: str) -> MissingCredentialsError:
    """Why a key is held back, and the three ways to confirm the new host once."""
    target = origin_of(record.effective_base_url)
    button = "the panel's 'Send key to new host' button, "
    if source.startswith("env:"):
        what = f"The key in ${source[4:]} is for {bound}"
    elif source == "oauth":
        what = f"The ChatGPT sign-in of provider {record.id!r} was made for {bound}"
        button = "the panel's 'Use sign-in at new host' button, "
    else:
        what = f"The API key of provider {record.id!r} was saved for {bound}"
    return MissingCredentialsError(
        f"{what}, but the Base URL of provider {record.id!r} now points to {target}; the "
        f"credential is not sent to another host until you confirm it once: {button}"
        f"%takopi confirm {record.id}, or tk.get_config().get({record.id!r}).confirm_base_url(). "
        "Otherwise fix the Base URL, or enter a credential meant for the new host."
    )


_active: Runtime | None = None


def active_runtime() -> Runtime:
    """The runtime of the process-wide config, or a default one reading the default files."""
    global _active
    if _active is None:
        _active = Runtime()
    return _active


def set_active_runtime(runtime: Runtime | None) -> None:
    global _active
    _active = runtime


def _reset() -> None:
    set_active_runtime(None)
