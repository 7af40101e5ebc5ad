"""Pure checks for provider ids and base URLs."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ._errors import ConfigError, ConfigTypeError

__all__ = [
    "check_base_url",
    "check_provider_id",
    "check_text",
    "is_loopback_host",
    "looks_like_secret",
    "origin_of",
]

_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HOST_PATTERN = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:-]+")
"""Host names and IP literals; no control characters, slashes or other URL syntax."""
ID_RULE = (
    "1–64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
)


def check_provider_id(provider_id: object) -> str:
    """Return ``provider_id`` if it is a valid id, else raise ConfigError saying the rule."""
    if not isinstance(provider_id, str):
        raise ConfigTypeError(
            f"A provider id must be text (str), not {type(provider_id).__name__}: use {ID_RULE}."
        )
    if _ID_PATTERN.fullmatch(provider_id) and not looks_like_secret(provider_id):
        return provider_id
    if looks_like_secret(provider_id):
        raise ConfigError(
            f"Invalid provider id {SECRET_SHAPED}: use {ID_RULE}. If that was an API key, "
            "paste it in the key field instead."
        )
    shown = provider_id if len(provider_id) < 80 else (provider_id[:77] + "...")
    hint = ""
    if provider_id:
        suggestion = re.sub(r"[^a-z0-9._-]+", "-", provider_id.lower()).strip("-._")[:64]
        if suggestion and _ID_PATTERN.fullmatch(suggestion):
            hint = f" Try {suggestion!r}."
    raise ConfigError(f"Invalid provider id {shown!r}: use {ID_RULE}.{hint}")


SECRET_SHAPED = "(a value shaped like an API key; not shown)"
_KEY_PREFIXES = ("sk-", "sk_", "pk-", "rk-", "xai-", "gsk_", "aiza", "bearer ", "key-", "api-")


def looks_like_secret(value: str) -> bool:
    """True for text that may be a key pasted into the wrong field, so it is never echoed.

    Ids and URLs are words joined by punctuation; keys hold a long run of letters and
    digits (often after a known prefix). Erring on the side of not echoing is cheap.
    """
    text = value.strip()
    if "://" in text:
        return False  # a URL: only a user-info part could hold a secret, and that is refused
    runs = re.findall(r"[A-Za-z0-9]+", text)
    longest = max(runs, key=len, default="")
    has_digit = any(c.isdigit() for c in longest)
    has_alpha = any(c.isalpha() for c in longest)
    if text.lower().startswith(_KEY_PREFIXES) and len(longest) >= 16:
        return True
    if len(longest) >= 24 and has_digit and has_alpha:
        return True
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    return len(text) >= 20 and mixed and any(c.isdigit() for c in text) and " " not in text


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
        raise ConfigTypeError(
            f"Base URL{who} must be text (str), not {type(url).__name__}; use an http(s) URL, "
            "or '' for the type's default."
        )
    url = url.strip()
    if not url:
        return "", None
    if looks_like_secret(url):
        raise ConfigError(
            f"Invalid Base URL{who}: {SECRET_SHAPED}. If that was an API key, paste it in the "
            "key field instead; the Base URL is an http(s) URL such as "
            "'https://proxy.example.com/v1', or empty for the type's default."
        )
    if any(ch.isspace() for ch in url):
        raise ConfigError(f"Base URL{who} contains spaces: {url!r}. Remove them.")
    invalid = ConfigError(
        f"Invalid Base URL{who}: {url!r}. Use an http(s) URL such as "
        "'https://proxy.example.com/v1', or leave it empty for the type's default."
    )
    if not url.isprintable():
        raise invalid
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in 0-65535
        hostname = parts.hostname
    except ValueError:
        raise invalid from None
    if parts.scheme not in ("http", "https") or not hostname or port == 0:
        raise invalid
    if not _HOST_PATTERN.fullmatch(hostname):
        raise invalid
    if parts.username or parts.password:
        raise ConfigError(
            f"Base URL{who} contains a user name or password; put the key in the key field "
            "instead, where it is kept in the OS keyring."
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"Base URL{who} must not have a '?query' or '#fragment' (they can hold secrets); "
            "remove that part."
        )
    normalised = url.rstrip("/")
    warning = None
    if parts.scheme == "http" and not is_loopback_host(hostname):
        warning = (
            f"Base URL{who} uses plain http to {hostname}: the API key would travel "
            "unencrypted. Use https unless this is a trusted private network."
        )
    return normalised, warning


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased, default ports dropped.

    Credentials are bound to an origin: a Base URL that moves to another one must
    not carry a key there unnoticed.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def check_text(value: object, what: str, fix: str) -> str:
    """``value`` if it is a str, else ConfigTypeError naming ``what`` and how to ``fix`` it."""
    if not isinstance(value, str):
        raise ConfigTypeError(f"{what} must be text (str), not {type(value).__name__}; {fix}.")
    return value
