"""The download itself, as pure protocol units over httpx.MockTransport (the catalog tests use a
real loopback server)."""

from __future__ import annotations

import httpx
import pytest

from takopi_nb.catalog._fetch import FetchError, Timeouts, fetch, host_label, redact_url

URL = "https://models.dev/api.json"


def transport(handler: object) -> httpx.MockTransport:
    assert callable(handler)
    return httpx.MockTransport(handler)


def test_plain_download_sends_a_user_agent_and_keeps_validators() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"{}", headers={"ETag": '"e1"', "Last-Modified": "x"})

    got = fetch(URL, transport=transport(handler))
    assert got.body == b"{}" and got.etag == '"e1"' and got.last_modified == "x"
    assert seen[0].headers["User-Agent"].startswith("takopi_nb")
    assert "If-None-Match" not in seen[0].headers


def test_conditional_request_and_not_modified() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["If-None-Match"] == '"e1"'
        assert request.headers["If-Modified-Since"] == "Tue, 01 Jul 2026 16:40:28 GMT"
        return httpx.Response(304)

    got = fetch(
        URL, etag='"e1"', last_modified="Tue, 01 Jul 2026 16:40:28 GMT",
        transport=transport(handler),
    )  # fmt: skip
    assert got.body is None and got.etag == '"e1"'


def test_304_without_a_conditional_request_is_an_error() -> None:
    with pytest.raises(FetchError, match="HTTP 304"):
        fetch(URL, transport=transport(lambda request: httpx.Response(304)))


def test_redirects_are_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api.json":
            return httpx.Response(301, headers={"Location": "https://models.dev/v2/api.json"})
        return httpx.Response(200, content=b"[]")

    assert fetch(URL, transport=transport(handler)).body == b"[]"


def test_size_cap() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000)

    with pytest.raises(FetchError, match="sent more than 0 MiB, which is not the catalog"):
        fetch(URL, transport=transport(handler), max_bytes=4096)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"),
         "Could not connect to models.dev (Connection refused)."),
        (httpx.ConnectTimeout("timed out"), "models.dev did not answer in time."),
        (httpx.ReadTimeout("timed out"), "models.dev did not answer in time."),
        (httpx.ProxyError("407 Proxy Authentication Required"),
         "The proxy failed to reach models.dev (407 Proxy Authentication Required); "
         "check HTTPS_PROXY / NO_PROXY."),
        (httpx.RemoteProtocolError("peer closed connection"),
         "The download from models.dev was cut off before the end."),
    ],
)  # fmt: skip
def test_transport_errors_in_plain_words(error: Exception, words: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(FetchError) as info:
        fetch(URL, transport=transport(handler))
    assert str(info.value) == words


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (httpx.ConnectError("[Errno -3] Temporary failure in name resolution"), True),
        (httpx.ConnectError("[Errno 111] Connection refused"), True),
        (httpx.ConnectTimeout("timed out"), True),
        (httpx.ReadTimeout("timed out"), False),
        (httpx.ProxyError("407 Proxy Authentication Required"), False),
        (httpx.RemoteProtocolError("peer closed connection"), False),
    ],
)
def test_no_connection_at_all_is_unreachable(error: Exception, unreachable: bool) -> None:
    """Offline (a state) apart from a fault: a proxy, a server or a cut that did answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(FetchError) as info:
        fetch(URL, transport=transport(handler))
    assert info.value.unreachable is unreachable


@pytest.mark.parametrize("status", [404, 500, 503])
def test_an_http_error_is_not_offline(status: int) -> None:
    with pytest.raises(FetchError) as info:
        fetch(URL, transport=transport(lambda request: httpx.Response(status)))
    assert info.value.unreachable is False
    with pytest.raises(FetchError) as info:
        fetch("ftp://mirror.example/api.json")
    assert info.value.unreachable is False


def test_http_errors_name_the_status() -> None:
    with pytest.raises(FetchError) as info:
        fetch(URL, transport=transport(lambda request: httpx.Response(404)))
    assert str(info.value) == "models.dev answered HTTP 404 (Not Found)."


def test_timeouts_defaults() -> None:
    assert Timeouts() == Timeouts(connect=10.0, read=20.0, total=60.0)


def test_host_label() -> None:
    assert host_label("https://models.dev/api.json") == "models.dev"
    assert host_label("http://127.0.0.1:8123/api.json") == "127.0.0.1:8123"
    assert host_label("https://user:secret@mirror.corp/api.json") == "mirror.corp"


def test_redact_url() -> None:
    assert redact_url("https://models.dev/api.json") == "https://models.dev/api.json"
    assert redact_url("https://bob:hunter2@mirror.corp:8443/api.json") == (
        "https://bob:***@mirror.corp:8443/api.json"
    )


def test_a_non_http_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(FetchError) as info:
        fetch("ftp://bob:hunter2@mirror/api.json")
    assert "hunter2" not in str(info.value) and "'ftp'" in str(info.value)
