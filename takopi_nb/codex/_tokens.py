"""The token set of a signed-in codex provider, and its JSON form in the secret store.

The secret store keeps one entry per provider id; for codex that entry is this
JSON document (other parts of the package and their tests write it directly)::

    {"kind": "codex-oauth", "id_token": ..., "access_token": ..., "refresh_token": ...,
     "account_id": ..., "expires_at": <epoch float>, "last_refresh": <epoch float>,
     "linked_file": <path of a Codex CLI auth.json shared with, only when imported>}

Nothing here puts a token in a repr, a message or a log line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import _jwt as jwt
from ._constants import LAST_REFRESH_MAX_AGE, REFRESH_WINDOW

if TYPE_CHECKING:
    from .._secrets import SecretStore

__all__ = [
    "STORAGE_KIND",
    "CodexAccount",
    "TokenSet",
    "delete_tokens",
    "load_tokens",
    "store_tokens",
]

STORAGE_KIND = "codex-oauth"
log = logging.getLogger("takopi_nb.codex")

# Display names of the plans the Codex CLI knows (protocol note §2); anything else is shown as is.
_PLAN_LABELS = {
    "free": "Free",
    "go": "Go",
    "plus": "Plus",
    "pro": "Pro",
    "prolite": "Pro Lite",
    "team": "Team",
    "self_serve_business_usage_based": "Business",
    "business": "Business",
    "enterprise_cbp_usage_based": "Enterprise",
    "enterprise": "Enterprise",
    "hc": "Enterprise",
    "edu": "Edu",
    "education": "Edu",
}


@dataclass(frozen=True)
class CodexAccount:
    """Who is signed in: for display only, never a token."""

    email: str | None
    plan: str | None
    account_id: str | None

    @property
    def plan_label(self) -> str | None:
        if not self.plan:
            return None
        return _PLAN_LABELS.get(self.plan.lower(), self.plan)

    def __str__(self) -> str:
        who = self.email or self.account_id or "unknown account"
        return f"{who} ({self.plan_label})" if self.plan_label else who


@dataclass(frozen=True)
class TokenSet:
    """OAuth tokens of one provider. ``repr`` shows the account and expiry, never a token."""

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    account_id: str | None = None
    expires_at: float | None = None
    last_refresh: float | None = None
    linked_file: str | None = field(default=None, repr=False)
    """The Codex CLI ``auth.json`` these tokens are shared with (imported with
    ``login_from_codex_cli``): rotated tokens are written back there."""

    # -- reading ------------------------------------------------------------------------

    @property
    def expiry(self) -> float | None:
        """When the access token expires: its JWT ``exp``, else the stored ``expires_at``."""
        exp = jwt.expiry_of(self.access_token)
        return exp if exp is not None else self.expires_at

    def needs_refresh(self, now: float) -> bool:
        """True when the access token expires within 5 minutes.

        When no expiry can be read at all, the age of the last refresh decides
        (8 days), as in the Codex CLI.
        """
        expiry = self.expiry
        if expiry is not None:
            return expiry <= now + REFRESH_WINDOW
        if self.last_refresh is None:
            return True
        return self.last_refresh <= now - LAST_REFRESH_MAX_AGE

    @property
    def account(self) -> CodexAccount:
        """Email and plan from the id token (else the access token); the account id only
        from the id token's auth claim, as the Codex CLI reads it."""
        id_claims = jwt.decode_claims(self.id_token)
        access_claims = jwt.decode_claims(self.access_token)
        return CodexAccount(
            email=jwt.email_of(id_claims) or jwt.email_of(access_claims),
            plan=jwt.plan_of(id_claims) or jwt.plan_of(access_claims),
            account_id=self.account_id or jwt.account_id_of(id_claims),
        )

    # -- building -----------------------------------------------------------------------

    @classmethod
    def from_token_response(
        cls, data: Any, now: float, previous: TokenSet | None = None
    ) -> TokenSet:
        """Tokens from an ``/oauth/token`` answer.

        Without ``previous`` (a code exchange) all three tokens are required. For
        a refresh, a token the server left out is kept from ``previous``, as the
        Codex CLI does. Raises ValueError naming what is missing (never a value).
        """
        if not isinstance(data, dict):
            raise ValueError("the token endpoint did not answer with a JSON object")
        values: dict[str, str] = {}
        for name in ("id_token", "access_token", "refresh_token"):
            value = data.get(name)
            if isinstance(value, str) and value:
                values[name] = value
            elif value is not None:
                raise ValueError(f"the token endpoint answered with an unusable {name}")
            elif previous is not None and name != "access_token":
                # A refresh exists to get a new access token; the others may be left out.
                values[name] = getattr(previous, name)
            else:
                raise ValueError(f"the token endpoint answered without {name}")
        account_id = jwt.account_id_of(jwt.decode_claims(values["id_token"])) or (
            previous.account_id if previous else None
        )
        expires_at = jwt.expiry_of(values["access_token"])
        expires_in = data.get("expires_in")
        if (
            expires_at is None
            and isinstance(expires_in, (int, float))
            and not isinstance(expires_in, bool)
        ):
            expires_at = now + float(expires_in)
        return cls(
            id_token=values["id_token"],
            access_token=values["access_token"],
            refresh_token=values["refresh_token"],
            account_id=account_id,
            expires_at=expires_at,
            last_refresh=now,
            linked_file=previous.linked_file if previous is not None else None,
        )

    def with_account(self, account_id: str | None) -> TokenSet:
        return replace(self, account_id=account_id)

    # -- storage form -------------------------------------------------------------------

    def to_storage(self) -> str:
        doc: dict[str, Any] = {
            "kind": STORAGE_KIND,
            "id_token": self.id_token,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "account_id": self.account_id,
            "expires_at": self.expires_at,
            "last_refresh": self.last_refresh,
        }
        if self.linked_file:
            doc["linked_file"] = self.linked_file
        return json.dumps(doc)

    @classmethod
    def from_storage(cls, text: str) -> TokenSet | None:
        """Parse the secret-store document; None when it is not a codex token set."""
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if not isinstance(doc, dict) or doc.get("kind", STORAGE_KIND) != STORAGE_KIND:
            return None
        access = doc.get("access_token")
        refresh = doc.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            return None
        id_token = doc.get("id_token")
        account_id = doc.get("account_id")
        linked = doc.get("linked_file")
        return cls(
            id_token=id_token if isinstance(id_token, str) else "",
            access_token=access,
            refresh_token=refresh,
            account_id=account_id if isinstance(account_id, str) and account_id else None,
            expires_at=_number(doc.get("expires_at")),
            last_refresh=_number(doc.get("last_refresh")),
            linked_file=linked if isinstance(linked, str) and linked else None,
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def load_tokens(secrets: SecretStore, provider_id: str) -> TokenSet | None:
    """The stored token set of ``provider_id``, or None (not signed in, or not codex tokens)."""
    found = secrets.get(provider_id)
    if found is None:
        return None
    tokens = TokenSet.from_storage(found[0])
    if tokens is None:
        log.warning(
            "The secret stored for provider %r is not a ChatGPT sign-in; sign in again.",
            provider_id,
        )
    return tokens


def store_tokens(secrets: SecretStore, provider_id: str, tokens: TokenSet) -> None:
    """Save ``tokens`` as the one secret-store entry of ``provider_id``."""
    secrets.set(provider_id, tokens.to_storage())


def delete_tokens(secrets: SecretStore, provider_id: str) -> None:
    secrets.delete(provider_id)
