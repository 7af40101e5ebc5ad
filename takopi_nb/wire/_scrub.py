"""Keep secrets out of text that reaches the user: error messages, reprs, logs.

Pure functions. Exact secrets we know of are masked first (showing at most a
4-character tail, as the UI does); then anything shaped like a credential
(bearer tokens, JWTs, ``sk-`` keys) is masked too, because a provider may
echo a key we did not send (an old one) or a proxy may echo headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["CREDENTIAL_HEADERS", "quote", "scrub"]

MASK = "••••"

CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "chatgpt-account-id",
        "cookie",
    }
)
"""Request headers that carry a credential or identify the account; never sent off-origin."""

_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}"),
    re.compile(
        r"(?i)\b(api[_-]?key|access_token|refresh_token|id_token)(\"?\s*[:=]\s*\"?)[^\s\",}]{6,}"
    ),
)


def _mask(secret: str) -> str:
    return MASK + secret[-4:] if len(secret) >= 16 else MASK


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every credential-shaped string masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, _mask(secret))
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _PATTERNS[1].sub(MASK, text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)}-{MASK}", text)
    text = _PATTERNS[3].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


def quote(text: str, secrets: Iterable[str] = (), limit: int = 300) -> str:
    """A one-line, length-limited, scrubbed form of provider text for an error message."""
    text = scrub(" ".join(text.split()), secrets)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
