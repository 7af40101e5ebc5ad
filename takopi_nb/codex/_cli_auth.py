"""Reusing the sign-in of the Codex CLI: shared where the CLI keeps it, not copied.

The CLI keeps ``{"auth_mode", "OPENAI_API_KEY", "tokens": {"id_token", "access_token",
"refresh_token", "account_id"}, "last_refresh": RFC 3339}`` in
``$CODEX_HOME/auth.json`` (default ``~/.codex/auth.json``, mode 0600), or as the
same JSON in the OS keyring, as its config.toml says (see :mod:`._cli_store`).
Refresh tokens are single use, so a plain copy would leave two holders of one
token: whichever refreshed second would get ``refresh_token_reused`` and the
server would revoke the sign-in of both.

We **share it** instead. The CLI (``codex-rs/login``, ``AuthManager``) re-reads
its storage before every refresh — proactive or after a 401 — and when the tokens
there differ from its own (same account), it takes them and does not refresh. So:

- before refreshing, under our refresh lock, we read the CLI's sign-in: tokens
  the CLI rotated meanwhile are taken and no request is made;
- after refreshing, we write the new tokens back to the same place (a file
  replaced atomically, or the keyring entry updated in place), keeping every
  other field, so the CLI takes ours.

Both keep working, and at any time the CLI's storage holds the newest link of
the token chain. If it now holds another account (the CLI signed in elsewhere)
or nothing (``codex logout``), the link is dropped and our copy goes on alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import AuthError
from ._cli_store import (
    CliPlace,
    CliSignInGone,
    default_codex_home,
    find_document,
    home_link,
    place_to_write,
)
from ._tokens import CodexAccount, TokenSet, load_tokens, store_tokens

if TYPE_CHECKING:
    from .._secrets import SecretStore

__all__ = [
    "CliSignIn",
    "default_cli_auth_path",
    "import_cli_sign_in",
    "read_cli_sign_in",
    "sync_from_cli",
    "write_back_to_cli",
]

log = logging.getLogger("takopi_nb.codex")


def default_cli_auth_path() -> Path:
    """``$CODEX_HOME/auth.json``, else ``~/.codex/auth.json`` (the CLI's file)."""
    return default_codex_home() / "auth.json"


@dataclass(frozen=True)
class CliSignIn:
    """A ChatGPT sign-in of the Codex CLI. ``repr`` shows the account, never a token."""

    place: CliPlace
    tokens: TokenSet = field(repr=False)

    @property
    def where(self) -> str:
        """Where it was found: the auth.json path, or the OS keyring entry."""
        return self.place.describe()

    @property
    def account(self) -> CodexAccount:
        return self.tokens.account


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _format_time(epoch: float | None) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_cli_sign_in(
    path: Path | str | None = None, *, codex_home: Path | str | None = None
) -> CliSignIn:
    """The CLI's ChatGPT sign-in; AuthError saying what is missing and how to fix it.

    ``path`` is an auth.json file; without it, wherever the CLI of ``codex_home``
    (default ``$CODEX_HOME``, else ``~/.codex``) keeps it: its config.toml's
    ``cli_auth_credentials_store`` says the file or the OS keyring.
    """
    if path:
        return _sign_in_at(str(Path(path).expanduser().resolve()))
    home = Path(codex_home).expanduser() if codex_home else default_codex_home()
    return _sign_in_at(home_link(home))


def _sign_in_at(link: str) -> CliSignIn:
    place, doc = find_document(link)
    tokens = doc.get("tokens")
    if not isinstance(tokens, dict):
        if doc.get("OPENAI_API_KEY") or doc.get("auth_mode") == "apikey":
            raise place.problem(
                "it holds an OpenAI API key, not a ChatGPT sign-in",
                "Import that key with %takopi import, or sign in with the CLI using ChatGPT "
                "(codex login).",
            )
        raise place.problem("it holds no ChatGPT tokens", "Sign in with the CLI (codex login).")
    values = {}
    for name in ("id_token", "access_token", "refresh_token"):
        value = tokens.get(name)
        if not isinstance(value, str) or not value:
            raise place.problem(
                f"its tokens have no {name}", "Sign in with the CLI again (codex login)."
            )
        values[name] = value
    account_id = tokens.get("account_id")
    found = TokenSet(
        id_token=values["id_token"],
        access_token=values["access_token"],
        refresh_token=values["refresh_token"],
        account_id=account_id if isinstance(account_id, str) and account_id else None,
        last_refresh=_parse_time(doc.get("last_refresh")),
        linked_file=link,
    )
    if found.account_id is None:
        found = found.with_account(found.account.account_id)
    return CliSignIn(place, replace(found, expires_at=found.expiry))


def sync_from_cli(secrets: SecretStore, provider_id: str, tokens: TokenSet) -> TokenSet:
    """Take the tokens the CLI rotated meanwhile (refresh lock held); else ``tokens``.

    Drops the link when the CLI's sign-in is gone or now holds another account.
    """
    if not tokens.linked_file:
        return tokens
    try:
        found = _sign_in_at(tokens.linked_file).tokens
    except CliSignInGone:
        log.warning(
            "Provider %r: the Codex CLI sign-in is gone (codex logout?); the tokens are no "
            "longer shared with it",
            provider_id,
        )
        return _unlink(secrets, provider_id, tokens)
    except AuthError as exc:
        # A half-written file or a locked keyring: read again next time.
        log.info(
            "Provider %r: kept ours, the Codex CLI sign-in is unreadable: %s", provider_id, exc
        )
        return tokens
    if found.account.account_id != tokens.account.account_id:
        log.warning(
            "Provider %r: the Codex CLI is now signed in to another account; the tokens are "
            "no longer shared with it",
            provider_id,
        )
        return _unlink(secrets, provider_id, tokens)
    if found.refresh_token == tokens.refresh_token and found.access_token == tokens.access_token:
        return tokens
    adopted = replace(found, linked_file=tokens.linked_file)
    store_tokens(secrets, provider_id, adopted)
    log.info("Provider %r: took the tokens the Codex CLI refreshed", provider_id)
    return adopted


def _unlink(secrets: SecretStore, provider_id: str, tokens: TokenSet) -> TokenSet:
    alone = replace(tokens, linked_file=None)
    store_tokens(secrets, provider_id, alone)
    return alone


def write_back_to_cli(tokens: TokenSet) -> None:
    """Put freshly rotated ``tokens`` where the CLI keeps them, keeping the other fields.

    OSError when that fails.
    """
    if not tokens.linked_file:
        return
    place = place_to_write(tokens.linked_file)
    try:
        doc = place.read() or {"OPENAI_API_KEY": None}
    except AuthError:
        doc = {"OPENAI_API_KEY": None}
    old = doc.get("tokens") if isinstance(doc.get("tokens"), dict) else {}
    doc["auth_mode"] = doc.get("auth_mode") or "chatgpt"
    doc["tokens"] = {
        **(old or {}),
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "account_id": tokens.account.account_id,
    }
    doc["last_refresh"] = _format_time(tokens.last_refresh)
    place.write(doc)


def import_cli_sign_in(
    secrets: SecretStore, issuer: str, provider_id: str, sign_in: CliSignIn
) -> CodexAccount:
    """Store ``sign_in`` as the provider's tokens, shared with the CLI."""
    from ._refresh import forget, refresh_lock, revoke_refresh_token

    with refresh_lock(provider_id):
        try:
            old = load_tokens(secrets, provider_id)
        except Exception:  # an unreadable old entry must not block the import
            old = None
        store_tokens(secrets, provider_id, sign_in.tokens)
    forget(provider_id)
    if (
        old is not None
        and not old.linked_file
        and old.refresh_token != sign_in.tokens.refresh_token
    ):
        # Our own earlier sign-in is replaced: end it, as a new sign-in does. Never a
        # linked one: that token chain may be the CLI's, which must keep working.
        revoke_refresh_token(issuer, old.refresh_token)
    return sign_in.account
