"""Fixed values of the "Sign in with ChatGPT" protocol (see the protocol note §1, §3, §4)."""

from __future__ import annotations

__all__ = [
    "CLIENT_ID",
    "CLIENT_VERSION",
    "DEFAULT_INTERVAL",
    "LAST_REFRESH_MAX_AGE",
    "MAX_WAIT",
    "MIN_INTERVAL",
    "ORIGINATOR",
    "REFRESH_WINDOW",
    "SLOW_DOWN_STEP",
    "redirect_uri",
    "verification_url",
]

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
"""The public OAuth client id of the Codex CLI; the device endpoints accept only it."""

ORIGINATOR = "takopi_nb"
"""Third-party clients send their own originator (opencode sends "opencode", pi "pi")."""

CLIENT_VERSION = "0.135.0"
"""The Codex client version we claim for ``/models?client_version=`` and the ``version``
header. The server hides models whose ``minimal_client_version`` is above it, so this is
pinned to a realistic recent release rather than our own package version."""

DEFAULT_INTERVAL = 5.0
MIN_INTERVAL = 1.0
SLOW_DOWN_STEP = 5.0
MAX_WAIT = 15 * 60.0
"""The Codex CLI gives up on a device code after 15 minutes, whatever the server says."""

REFRESH_WINDOW = 5 * 60.0
"""Refresh when the access token expires within this many seconds."""

LAST_REFRESH_MAX_AGE = 8 * 24 * 3600.0
"""Only when no expiry can be read: refresh tokens older than this."""


def _base(issuer: str) -> str:
    return issuer.rstrip("/")


def verification_url(issuer: str) -> str:
    """The page where the user types the code (there is no pre-filled URL)."""
    return f"{_base(issuer)}/codex/device"


def redirect_uri(issuer: str) -> str:
    """Sent in the code exchange; a literal on the issuer, not a loopback URL."""
    return f"{_base(issuer)}/deviceauth/callback"
