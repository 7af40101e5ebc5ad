"""Reusing the sign-in of the Codex CLI: its ``$CODEX_HOME/auth.json``, shared, not copied.

The CLI keeps ``{"auth_mode", "OPENAI_API_KEY", "tokens": {"id_token", "access_token",
"refresh_token", "account_id"}, "last_refresh": RFC 3339}`` in
``$CODEX_HOME/auth.json`` (default ``~/.codex/auth.json``, mode 0600). Refresh
tokens are single use, so a plain copy would leave two holders of one token:
whichever refreshed second would get ``refresh_token_reused`` and the server
would revoke the sign-in of both.

We **share the file** instead. The CLI (``codex-rs/login``, ``AuthManager``)
re-reads ``auth.json`` before every refresh — proactive or after a 401 — and when
the tokens on disk differ from its own (same account), it takes them and does
not refresh. So:

- before refreshing, under our refresh lock, we read the file: tokens the CLI
  rotated meanwhile are taken and no request is made;
- after refreshing, we write the new tokens back to the file atomically (a temp
  file moved over it), keeping every other field, so the CLI takes ours.

Both keep working, and at any time the file holds the newest link of the token
chain. If the file now holds another account (the CLI signed in elsewhere) or
has gone (``codex logout``), the link is dropped and our copy goes on alone.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import AuthError
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
    """``$CODEX_HOME/auth.json``, else ``~/.codex/auth.json`` (where the CLI keeps it)."""
    home = os.environ.get("CODEX_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".codex") / "auth.json"


@dataclass(frozen=True)
class CliSignIn:
    """A ChatGPT sign-in found in a Codex CLI file. ``repr`` shows the account, never a token."""

    path: Path
    tokens: TokenSet = field(repr=False)

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


def _problem(path: Path, what: str) -> AuthError:
    return AuthError(
        f"No usable Codex CLI sign-in in {path}: {what}. Sign in with the CLI first "
        "(codex login), give the path of its auth.json ($CODEX_HOME/auth.json), or use "
        "Sign in with ChatGPT instead."
    )


def _read_doc(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _problem(path, "the file does not exist") from None
    except OSError as exc:
        raise _problem(path, f"it cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise _problem(path, "it is not JSON") from None
    if not isinstance(doc, dict):
        raise _problem(path, "it is not a JSON object")
    return doc


def read_cli_sign_in(path: Path | str | None = None) -> CliSignIn:
    """The ChatGPT sign-in in the CLI's ``auth.json``; AuthError saying what is missing."""
    where = Path(path).expanduser() if path else default_cli_auth_path()
    doc = _read_doc(where)
    tokens = doc.get("tokens")
    if not isinstance(tokens, dict):
        if doc.get("OPENAI_API_KEY") or doc.get("auth_mode") == "apikey":
            raise _problem(
                where,
                "it holds an OpenAI API key, not a ChatGPT sign-in (import that key with "
                "%takopi import)",
            )
        raise _problem(where, "it holds no ChatGPT tokens")
    values = {}
    for name in ("id_token", "access_token", "refresh_token"):
        value = tokens.get(name)
        if not isinstance(value, str) or not value:
            raise _problem(where, f"its tokens have no {name}")
        values[name] = value
    account_id = tokens.get("account_id")
    found = TokenSet(
        id_token=values["id_token"],
        access_token=values["access_token"],
        refresh_token=values["refresh_token"],
        account_id=account_id if isinstance(account_id, str) and account_id else None,
        last_refresh=_parse_time(doc.get("last_refresh")),
        linked_file=str(where.resolve()),
    )
    if found.account_id is None:
        found = found.with_account(found.account.account_id)
    return CliSignIn(where, replace(found, expires_at=found.expiry))


def sync_from_cli(secrets: SecretStore, provider_id: str, tokens: TokenSet) -> TokenSet:
    """Take the tokens the CLI rotated meanwhile (refresh lock held); else ``tokens``.

    Drops the link when the file is gone or now holds another account.
    """
    if not tokens.linked_file:
        return tokens
    path = Path(tokens.linked_file)
    try:
        found = read_cli_sign_in(path).tokens
    except AuthError:
        if path.exists():
            # The CLI writes in place; a half-written file is read again next time.
            log.info("Provider %r: the Codex CLI file is unreadable; kept ours", provider_id)
            return tokens
        log.warning(
            "Provider %r: the Codex CLI sign-in file %s is gone (codex logout?); the tokens "
            "are no longer shared with it",
            provider_id,
            path,
        )
        return _unlink(secrets, provider_id, tokens)
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
    """Put freshly rotated ``tokens`` into the shared CLI file, atomically, keeping its fields."""
    from .._fileio import atomic_write_bytes

    if not tokens.linked_file:
        return
    path = Path(tokens.linked_file)
    try:
        doc = _read_doc(path)
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
    atomic_write_bytes(path, json.dumps(doc, indent=2).encode(), mode=0o600)


def import_cli_sign_in(
    secrets: SecretStore, issuer: str, provider_id: str, sign_in: CliSignIn
) -> CodexAccount:
    """Store ``sign_in`` as the provider's tokens, shared with the CLI file."""
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
