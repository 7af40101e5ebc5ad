"""Reading claims from the ChatGPT JWTs. Signatures are not checked: we only display
claims and schedule refreshes; the servers are the ones that trust or reject a token."""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = [
    "AUTH_CLAIMS",
    "PROFILE_CLAIMS",
    "account_id_of",
    "auth_claims",
    "decode_claims",
    "email_of",
    "expiry_of",
    "plan_of",
]

AUTH_CLAIMS = "https://api.openai.com/auth"
PROFILE_CLAIMS = "https://api.openai.com/profile"


def decode_claims(token: str | None) -> dict[str, Any] | None:
    """The payload of a JWT, or None when ``token`` is not three non-empty base64url parts."""
    if not token or not isinstance(token, str):
        return None
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def auth_claims(claims: dict[str, Any] | None) -> dict[str, Any]:
    """The namespaced ``https://api.openai.com/auth`` object ({} when absent)."""
    if not claims:
        return {}
    value = claims.get(AUTH_CLAIMS)
    return value if isinstance(value, dict) else {}


def account_id_of(claims: dict[str, Any] | None) -> str | None:
    """``chatgpt_account_id`` of the namespaced ``https://api.openai.com/auth`` claim, only.

    Pass the **id token**'s claims: the Codex CLI takes the account id from
    there and nowhere else (not a top-level claim, not the access token, not
    an organization id), and the backend checks the header against it.
    """
    value = auth_claims(claims).get("chatgpt_account_id")
    return value if isinstance(value, str) and value else None


def plan_of(claims: dict[str, Any] | None) -> str | None:
    value = auth_claims(claims).get("chatgpt_plan_type")
    return value if isinstance(value, str) and value else None


def email_of(claims: dict[str, Any] | None) -> str | None:
    if not claims:
        return None
    value = claims.get("email")
    if isinstance(value, str) and value:
        return value
    profile = claims.get(PROFILE_CLAIMS)
    if isinstance(profile, dict):
        value = profile.get("email")
        if isinstance(value, str) and value:
            return value
    return None


def expiry_of(token: str | None) -> float | None:
    """The ``exp`` claim of a JWT as epoch seconds, or None when it cannot be read."""
    claims = decode_claims(token)
    if not claims:
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp)
