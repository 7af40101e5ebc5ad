"""What a resolved model needs at use time: the config store, the secret store, the issuer.

Kept free of traitlets so that ``tk.resolve()`` in a fresh process costs only a
JSON read. A :class:`~takopi_nb._config.TakopiConfig` owns a Runtime and makes
it the active one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._document import ConfigSnapshot, ProviderRecord
from ._storage import ConfigStore

if TYPE_CHECKING:
    from ._secrets import SecretStore

__all__ = ["DEFAULT_CODEX_ISSUER", "Runtime", "active_runtime"]

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

    def snapshot(self) -> ConfigSnapshot:
        return self.store.snapshot()

    def env_var_names(self, record: ProviderRecord) -> tuple[str, ...]:
        names = record.type_info.env_vars
        return (record.api_key_env, *names) if record.api_key_env else names

    def api_key(self, record: ProviderRecord) -> tuple[str, str] | None:
        """(key, source) for an API-key provider: the secret store first, then env vars."""
        from ._secrets import env_secret

        found = self.secrets.get(record.id)
        if found is not None:
            return found
        from_env = env_secret(self.env_var_names(record))
        if from_env is not None:
            return from_env[0], f"env:{from_env[1]}"
        return None

    def credential_source(self, record: ProviderRecord) -> str | None:
        """ "keyring" | "file" | "env:NAME" | "oauth" | None; never the value."""
        if record.type_info.auth == "oauth":
            return "oauth" if self.secrets.get(record.id) is not None else None
        found = self.api_key(record)
        return found[1] if found else None


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
