"""Download ``api.json`` with httpx: timeouts, a total deadline, a size cap, proxies from
the environment, conditional requests. Failures become :class:`FetchError` in plain words.

httpx is imported on first fetch only, never at import time.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_URL",
    "FetchError",
    "Fetched",
    "Timeouts",
    "fetch",
    "host_label",
    "redact_url",
]

DEFAULT_URL = "https://models.dev/api.json"
MAX_BYTES = 64 * 1024 * 1024
USER_AGENT = "takopi_nb (+https://models.dev catalog reader)"


class Timeouts(NamedTuple):
    connect: float = 10.0
    read: float = 20.0
    total: float = 60.0
    """Deadline for the whole download, so a server trickling bytes cannot hold it forever."""


class Fetched(NamedTuple):
    body: bytes | None
    """``None`` when the server said 304 Not Modified."""
    etag: str | None
    last_modified: str | None


class FetchError(Exception):
    """The catalog could not be downloaded; ``str()`` says why in plain words.

    ``unreachable`` is True when no connection could be made at all (no network, no
    DNS, the host refusing): the machine is offline, which is a state, not a fault.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def redact_url(url: str) -> str:
    """``url`` without a password it may carry (``https://user:***@mirror/...``)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
    except ValueError:
        return "(unparsable URL)"


def host_label(url: str) -> str:
    """What to call the source in messages: ``models.dev`` or the mirror's host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or url
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return url
    return host


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeouts: Timeouts | None = None,
    transport: httpx.BaseTransport | None = None,
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """GET ``url``. Honours ``HTTP(S)_PROXY``/``NO_PROXY``/``SSL_CERT_FILE`` (``trust_env``)."""
    import httpx

    host = host_label(url)
    timeouts = timeouts or Timeouts()
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise FetchError(
            f"The catalog URL is not an http(s) URL (it starts with {scheme or 'no scheme'!r}); "
            "fix TAKOPI_NB_CATALOG_URL."
        )
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeouts.total
    timeout = httpx.Timeout(timeouts.read, connect=timeouts.connect)
    try:
        with (
            httpx.Client(
                timeout=timeout, trust_env=True, follow_redirects=True, transport=transport
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304 and (etag or last_modified):
                return Fetched(None, etag, last_modified)
            if response.status_code != 200:
                reason = response.reason_phrase or "error"
                raise FetchError(f"{host} answered HTTP {response.status_code} ({reason}).")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(
                        f"{host} sent more than {max_bytes // 2**20} MiB, which is not the catalog."
                    )
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"{host} was too slow: the download took over {timeouts.total:g} s."
                    )
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except FetchError:
        raise
    except httpx.ConnectTimeout:
        raise FetchError(f"{host} did not answer in time.", unreachable=True) from None
    except httpx.TimeoutException:
        raise FetchError(f"{host} did not answer in time.") from None
    except httpx.ProxyError as exc:
        raise FetchError(
            f"The proxy failed to reach {host} ({_detail(exc)}); check HTTPS_PROXY / NO_PROXY."
        ) from None
    except httpx.ConnectError as exc:
        raise FetchError(
            f"Could not connect to {host} ({_detail(exc)}).", unreachable=True
        ) from None
    except httpx.RemoteProtocolError:
        raise FetchError(f"The download from {host} was cut off before the end.") from None
    except httpx.DecodingError:
        raise FetchError(f"{host} sent a body that could not be decompressed.") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"Could not download from {host} ({_detail(exc)}).") from None
    except OSError as exc:
        raise FetchError(f"Could not download from {host} ({_detail(exc)}).") from None


_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


def _detail(exc: BaseException) -> str:
    """The last line of an error's text, without ``[Errno N]`` noise; its type when it is empty."""
    text = str(exc).strip().splitlines()[-1:] or [""]
    detail = _ERRNO.sub("", text[0]).strip()
    return detail[:200] or type(exc).__name__
