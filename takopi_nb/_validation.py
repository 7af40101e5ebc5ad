"""Pure checks for provider ids and base URLs."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ._errors import ConfigError

__all__ = ["check_base_url", "check_provider_id", "is_loopback_host"]

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
ID_RULE = (
    "1–64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
)


def check_provider_id(provider_id: object) -> str:
    """Return ``provider_id`` if it is a valid id, else raise ConfigError saying the rule."""
    if isinstance(provider_id, str) and _ID_PATTERN.fullmatch(provider_id):
        return provider_id
    shown = (
        provider_id
        if not isinstance(provider_id, str) or len(provider_id) < 80
        else (provider_id[:77] + "...")
    )
    hint = ""
    if isinstance(provider_id, str) and provider_id:
        suggestion = re.sub(r"[^a-z0-9._-]+", "-", provider_id.lower()).strip("-._")[:64]
        if suggestion and _ID_PATTERN.fullmatch(suggestion):
            hint = f" Try {suggestion!r}."
    raise ConfigError(f"Invalid provider id {shown!r}: use {ID_RULE}.{hint}")


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: object, *, provider_id: str = "") -> tuple[str, str | None]:
    """Normalise a Base URL override; returns ``(url, warning or None)``.

    ``""`` means the type's default. Only http and https are allowed; plain http
    to a host other than this machine gets a warning because the key would
    travel in clear text.
    """
    who = f" for provider {provider_id!r}" if provider_id else ""
    if url is None:
        return "", None
    if not isinstance(url, str):
        raise ConfigError(f"Base URL{who} must be a string, not {type(url).__name__}.")
    url = url.strip()
    if not url:
        return "", None
    if any(ch.isspace() for ch in url):
        raise ConfigError(f"Base URL{who} contains spaces: {url!r}. Remove them.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"Invalid Base URL{who}: {url!r}. Use an http(s) URL such as "
            "'https://proxy.example.com/v1', or leave it empty for the type's default."
        )
    if parts.username or parts.password:
        raise ConfigError(
            f"Base URL{who} contains a user name or password; put the key in the key field "
            "instead, where it is kept in the OS keyring."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"Base URL{who} must not have a '?query' or '#fragment': {url!r}.")
    normalised = url.rstrip("/")
    warning = None
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        warning = (
            f"Base URL{who} uses plain http to {parts.hostname}: the API key would travel "
            "unencrypted. Use https unless this is a trusted private network."
        )
    return normalised, warning
