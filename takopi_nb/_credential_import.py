"""``%takopi import``: find the keys you already have elsewhere and import the chosen ones.

Sources, in this order:

- environment variables of every type (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, …);
- `llm <https://llm.datasette.io>`_'s ``keys.json`` (``$LLM_KEYS_PATH``, else
  ``$LLM_USER_PATH/keys.json``, else ``io.datasette.llm/keys.json`` in the user
  config dir): ``{"// Note": "...", "openai": "sk-...", "anthropic": "..."}``;
- opencode's ``auth.json`` (``$XDG_DATA_HOME/opencode/auth.json``, default
  ``~/.local/share/opencode``): ``{"<models.dev id>": {"type": "api", "key"} |
  {"type": "oauth", "refresh", "access", "expires" (ms), "accountId"}}``;
- the Codex CLI's sign-in, wherever the CLI of ``$CODEX_HOME`` (default
  ``~/.codex``) keeps it: ``auth.json`` or the OS keyring (its config.toml says).

A :class:`FoundCredential` holds no secret: the value is read again from its
source at import time. opencode's OpenAI OAuth entry is a ChatGPT sign-in; its
refresh token is single use, so importing it **takes it over**: the entry is
removed from opencode's file (opencode must sign in again) and the user is told.
The Codex CLI's ChatGPT sign-in is **shared** instead (as ``--from-codex-cli``):
tokens refreshed here are written back where the CLI keeps them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ConfigError
from ._provider_types import PROVIDER_TYPES

if TYPE_CHECKING:
    from ._config import Provider, TakopiConfig

__all__ = [
    "FoundCredential",
    "find_credentials",
    "import_credential",
    "llm_keys_path",
    "opencode_auth_path",
]

# llm's key names (``needs_key`` of its plugins) → our types.
_LLM_NAMES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "claude": "anthropic",
    "openrouter": "openrouter",
    "deepseek": "deepseek",
    "zai": "zai",
    "opencode": "opencode",
    "vercel": "vercel",
}
# opencode's provider ids are models.dev ids: the catalog provider of each type, plus aliases.
_OPENCODE_NAMES = {
    **{info.catalog_provider: name for name, info in PROVIDER_TYPES.items() if name != "codex"},
    "zai-coding-plan": "zai",
    "zhipuai": "zai",
}


@dataclass(frozen=True)
class FoundCredential:
    """A credential found on this machine. Holds no secret: it is read again on import."""

    source: Literal["env", "llm", "opencode", "codex-cli"]
    name: str
    """The environment variable, or the entry's name in the file (for the Codex CLI:
    ``auth.json`` or ``keyring``, where its sign-in was found, or ``unreadable``)."""
    provider_type: str | None
    """The type it fits, or None when takopi_nb has no such type."""
    kind: Literal["api_key", "oauth"]
    path: str = ""
    """The file it is in ("" for an environment variable; the CODEX_HOME for the Codex CLI)."""
    note: str = ""

    @property
    def where(self) -> str:
        if self.source == "env":
            return f"env:{self.name}"
        if self.source == "codex-cli":
            if self.name == "keyring":
                return f"codex-cli OS keyring (CODEX_HOME {self.path})"
            if self.name == "auth.json":
                return f"codex-cli {Path(self.path) / self.name}"
            return f"codex-cli (CODEX_HOME {self.path})"
        return f"{self.source} {self.path} [{self.name}]"

    @property
    def importable(self) -> bool:
        return self.provider_type is not None and not self.note

    @property
    def what(self) -> str:
        return "ChatGPT sign-in (OAuth)" if self.kind == "oauth" else "API key"


def llm_keys_path() -> Path:
    """Where llm keeps its keys (the logic of ``llm keys path``)."""
    if os.environ.get("LLM_KEYS_PATH"):
        return Path(os.environ["LLM_KEYS_PATH"]).expanduser()
    if os.environ.get("LLM_USER_PATH"):
        return Path(os.environ["LLM_USER_PATH"]).expanduser() / "keys.json"
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home())
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "io.datasette.llm" / "keys.json"


def opencode_auth_path() -> Path:
    """Where opencode keeps its credentials (XDG data dir on every platform)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "opencode" / "auth.json"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def find_credentials(
    *,
    environ: Mapping[str, str] | None = None,
    llm_keys: Path | None = None,
    opencode_auth: Path | None = None,
    codex_home: Path | None = None,
) -> list[FoundCredential]:
    """Every credential found, by source then type; never a value."""
    env = os.environ if environ is None else environ
    found: list[FoundCredential] = []
    seen_vars: set[str] = set()
    for name, info in PROVIDER_TYPES.items():
        for var in info.env_vars:
            if var not in seen_vars and env.get(var, "").strip():
                seen_vars.add(var)
                found.append(FoundCredential("env", var, name, "api_key"))
    path = llm_keys or llm_keys_path()
    for key, value in sorted((_read_json(path) or {}).items()):
        if key.startswith("//") or not isinstance(value, str) or not value.strip():
            continue
        found.append(FoundCredential("llm", key, _LLM_NAMES.get(key), "api_key", str(path)))
    path = opencode_auth or opencode_auth_path()
    for key, entry in sorted((_read_json(path) or {}).items()):
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if kind == "api" and isinstance(entry.get("key"), str) and entry["key"].strip():
            ptype = _OPENCODE_NAMES.get(key)
            found.append(FoundCredential("opencode", key, ptype, "api_key", str(path)))
        elif kind == "oauth":
            codex = key == "openai"
            note = "" if codex else "only OpenAI's ChatGPT sign-in can be imported"
            found.append(
                FoundCredential(
                    "opencode", key, "codex" if codex else None, "oauth", str(path), note
                )
            )
    cli = _codex_cli_credential(codex_home)
    if cli is not None:
        found.append(cli)
    return found


def _codex_cli_credential(codex_home: Path | None) -> FoundCredential | None:
    """The Codex CLI's sign-in (ChatGPT or API key), where its config says; never a value."""
    from ._errors import AuthError
    from .codex._cli_store import CliSignInGone, default_codex_home, find_document, home_link

    home = (codex_home or default_codex_home()).absolute()
    try:
        place, doc = find_document(home_link(home))
    except CliSignInGone:
        return None
    except AuthError as exc:  # listed, so that the user learns why it cannot be used
        return FoundCredential("codex-cli", "unreadable", "codex", "oauth", str(home), str(exc))
    name = "keyring" if place.kind == "keyring" else "auth.json"
    if isinstance(doc.get("tokens"), dict):
        return FoundCredential("codex-cli", name, "codex", "oauth", str(home))
    key = doc.get("OPENAI_API_KEY")
    if isinstance(key, str) and key.strip():
        return FoundCredential("codex-cli", name, "openai", "api_key", str(home))
    return None


def _read_value(found: FoundCredential) -> Any:
    """The secret, read again from its source now; ConfigError when it has gone."""
    gone = ConfigError(
        f"The credential {found.where} is no longer there; run %takopi import again to see "
        "what can be imported."
    )
    if found.source == "env":
        value = os.environ.get(found.name, "").strip()
        if not value:
            raise gone
        return value
    doc = _read_json(Path(found.path)) or {}
    entry = doc.get(found.name)
    if found.source == "llm":
        if not isinstance(entry, str) or not entry.strip():
            raise gone
        return entry.strip()
    if found.source == "codex-cli":
        from .codex._cli_store import CliSignInGone, find_document, home_link

        try:
            key = find_document(home_link(Path(found.path)))[1].get("OPENAI_API_KEY")
        except CliSignInGone:
            raise gone from None
        if not isinstance(key, str) or not key.strip():
            raise gone
        return key.strip()
    if not isinstance(entry, dict):
        raise gone
    if found.kind == "api_key":
        key = entry.get("key")
        if not isinstance(key, str) or not key.strip():
            raise gone
        return key.strip()
    if not (isinstance(entry.get("access"), str) and isinstance(entry.get("refresh"), str)):
        raise gone
    return entry


def import_credential(
    found: FoundCredential, *, into: str | None = None, config: TakopiConfig | None = None
) -> tuple[Provider, str]:
    """Import ``found`` as a new provider, or as the key of provider ``into``.

    Returns the provider and a sentence saying what was done (never a value).
    """
    if config is None:
        from ._config import get_config

        config = get_config()
    if not found.importable or found.provider_type is None:
        why = found.note or "takopi_nb has no provider type for it"
        raise ConfigError(f"{found.where} cannot be imported: {why}.")
    shared = found.source == "codex-cli" and found.kind == "oauth"
    if shared:
        from .codex._cli_auth import read_cli_sign_in

        # Read before a provider is made: an unusable sign-in must leave nothing behind.
        read_cli_sign_in(codex_home=found.path)
        value: Any = None
    else:
        value = _read_value(found)
    if into is not None:
        provider = config.get(into)
        if provider.type != found.provider_type:
            raise ConfigError(
                f"{found.where} is a {found.provider_type} credential and provider {into!r} is "
                f"of type {provider.type!r}: import it into a {found.provider_type} provider, or "
                "as a new provider (leave out --into)."
            )
    else:
        from ._config import free_provider_id

        pid = free_provider_id(found.provider_type, {p.id for p in config.providers})
        provider = config.add_provider(found.provider_type, id=pid)
    if found.kind == "api_key":
        where = provider.set_api_key(value)
        return provider, f"Imported {found.where} as the API key of {provider.id!r} ({where})."
    if shared:
        shared_account = provider.login_from_codex_cli(codex_home=found.path)
        return provider, (
            f"Imported the ChatGPT sign-in of {shared_account} from the Codex CLI into {provider.id!r}. "
            "It is shared, not copied: tokens refreshed here are written back where the CLI "
            "keeps them, so both keep working."
        )
    _take_over_opencode_sign_in(config, provider, found, value)
    account = provider.account
    return provider, (
        f"Imported the ChatGPT sign-in of {account} from opencode into {provider.id!r}. It was "
        "taken over, not shared: it was removed from opencode's auth.json, so opencode will need "
        "to sign in again (opencode auth login)."
    )


def _take_over_opencode_sign_in(
    config: TakopiConfig, provider: Provider, found: FoundCredential, entry: dict[str, Any]
) -> None:
    from ._fileio import atomic_write_bytes
    from .codex import TokenSet
    from .codex._refresh import forget, refresh_lock
    from .codex._tokens import store_tokens

    expires = entry.get("expires")
    account_id = entry.get("accountId")
    tokens = TokenSet(
        id_token="",
        access_token=entry["access"],
        refresh_token=entry["refresh"],
        account_id=account_id if isinstance(account_id, str) and account_id else None,
        expires_at=float(expires) / 1000 if isinstance(expires, (int, float)) else None,
    )
    if tokens.account_id is None:
        tokens = tokens.with_account(tokens.account.account_id)
    with refresh_lock(provider.id):
        store_tokens(config.runtime.secrets, provider.id, tokens)
        # Only one holder may keep a single-use refresh token: opencode lets go of it.
        path = Path(found.path)
        doc = _read_json(path) or {}
        if doc.pop(found.name, None) is not None:
            atomic_write_bytes(path, json.dumps(doc, indent=2).encode(), mode=0o600)
    forget(provider.id)
    config._credentials_changed(provider)
