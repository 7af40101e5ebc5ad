"""The credential stays home: redirects, clients, auth, and no secret in any text a user sees."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import takopi_nb as tk
from takopi_nb._errors import ProviderRequestError, TakopiError
from tests.fakes.http import Response
from tests.fakes.providers import FakeProvider, OtherHost
from tests.leaks import places_with_secret

CREDENTIAL_HEADERS = ("authorization", "x-api-key", "chatgpt-account-id", "x-goog-api-key")


@pytest.fixture
def other() -> Iterator[OtherHost]:
    with OtherHost() as server:
        yield server


def carried_credentials(server: Any) -> list[tuple[str, str]]:
    return [
        (request.path, name)
        for request in server.requests
        for name in CREDENTIAL_HEADERS
        if request.header(name) is not None
    ]


def add(ptype: str, fake: FakeProvider, *models: str, pid: str = "p") -> None:
    tk.get_config().add_provider(
        ptype, id=pid, api_key=fake.key, base_url=fake.base_url, models=list(models)
    )


@pytest.mark.parametrize(
    ("ptype", "flavor", "model", "stream"),
    [
        ("openai", "openai", "m", False),
        ("openrouter", "openai", "m", True),
        ("anthropic", "anthropic", "claude-x", False),
        ("anthropic", "anthropic", "claude-x", True),
        ("opencode", "openai", "gemini-3-pro", False),
    ],
)
def test_a_redirect_to_another_host_keeps_the_key_home(
    other: OtherHost, ptype: str, flavor: str, model: str, stream: bool
) -> None:
    with FakeProvider(flavor=flavor, models=(model,)) as fake:  # type: ignore[arg-type]
        fake.redirect_to = other.url
        add(ptype, fake, model)
        with pytest.raises(ProviderRequestError) as info:
            tk.resolve(f"p/{model}").chat("hi", stream=stream)
        first = fake.requests[0]
        assert any(first.header(name) for name in CREDENTIAL_HEADERS)  # sent at home...
    assert len(other.requests) == 1  # ...the redirect was followed...
    assert carried_credentials(other) == []  # ...without any credential
    message = str(info.value)
    assert "redirected the chat request to another host" in message
    assert other.url.split("//")[1].split(":")[0] in message and "Base URL" in message
    assert fake.key not in message


def test_a_redirect_to_a_public_answer_still_works_without_the_key(other: OtherHost) -> None:
    other.answer = Response.json(
        {"data": [{"object": "embedding", "index": 0, "embedding": [1.0, 2.0]}], "model": "e"}
    )
    with FakeProvider() as fake:
        fake.redirect_to = other.url
        add("openai", fake, "text-embedding-3-small")
        vectors = tk.resolve("p/text-embedding-3-small", purpose="embedding").embed(["a"])
    assert vectors == [[1.0, 2.0]]
    assert carried_credentials(other) == []


def test_embeddings_redirect_keeps_the_key_home(other: OtherHost) -> None:
    with FakeProvider() as fake:
        fake.redirect_to = other.url
        add("vercel", fake, "text-embedding-3-small")
        with pytest.raises(ProviderRequestError, match="another host"):
            tk.resolve("p/text-embedding-3-small", purpose="embedding").embed(["a"])
    assert len(other.requests) == 1 and carried_credentials(other) == []


@pytest.mark.parametrize(("ptype", "flavor"), [("openai", "openai"), ("anthropic", "anthropic")])
def test_client_follows_redirects_but_drops_every_credential_header(
    other: OtherHost, ptype: str, flavor: str
) -> None:
    other.answer = Response.json({"ok": True})
    with FakeProvider(flavor=flavor) as fake:  # type: ignore[arg-type]
        add(ptype, fake, "m")
        m = tk.resolve("p/m")
        with m.client() as client:
            assert client.get("models").status_code == 200  # relative to the API base, with auth
            fake.redirect_to = other.url
            redirected = client.get("models")
            assert redirected.status_code == 200 and redirected.json() == {"ok": True}
            assert len(redirected.history) == 1
            direct = client.get(other.url + "/elsewhere")  # an absolute URL elsewhere
            assert direct.status_code == 200
        home = fake.requests[0]
        if flavor == "anthropic":
            assert home.header("x-api-key") == fake.key and home.header("anthropic-version")
        else:
            assert home.header("Authorization") == f"Bearer {fake.key}"
    assert len(other.requests) == 2 and carried_credentials(other) == []


def test_async_client_drops_credentials_off_origin(other: OtherHost) -> None:
    other.answer = Response.json({"ok": True})
    with FakeProvider(flavor="anthropic") as fake:
        add("anthropic", fake, "m")
        m = tk.resolve("p/m")

        async def go() -> list[int]:
            async with m.async_client() as client:
                first = await client.get("models")
                fake.redirect_to = other.url
                second = await client.get("models")
                return [first.status_code, second.status_code]

        assert asyncio.run(go()) == [200, 200]
        assert fake.requests[0].header("x-api-key") == fake.key
    assert carried_credentials(other) == []


def test_auth_on_a_plain_httpx_client_only_signs_the_providers_origin(other: OtherHost) -> None:
    other.answer = Response.json({"ok": True})
    with FakeProvider() as fake:
        add("openai", fake, "m")
        auth = tk.resolve("p/m").auth
        assert isinstance(auth, httpx.Auth)
        assert httpx.get(fake.base_url + "/models", auth=auth).status_code == 200
        assert httpx.get(other.url + "/x", auth=auth).status_code == 200
        assert fake.requests[0].header("Authorization") == f"Bearer {fake.key}"
    assert carried_credentials(other) == []
    assert fake.key not in repr(auth)


def test_no_secret_in_any_error_repr_or_log(
    caplog: pytest.LogCaptureFixture, isolated_env: Path, other: OtherHost
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    # Made at run time, so the tracebacks' source lines cannot contain them.
    good = "sk-good-" + secrets.token_hex(12)
    wrong = "sk-wrong-" + secrets.token_hex(12)
    seen: list[object] = []
    with FakeProvider(key=good, models=("m", "claude-x")) as fake:
        fake.echo_key = True  # a provider that quotes the key it was sent
        cfg = tk.get_config()
        cfg.add_provider("openai", id="good", api_key=good, base_url=fake.base_url, models=["m"])
        cfg.add_provider("openai", id="bad", api_key=wrong, base_url=fake.base_url, models=["m"])
        cfg.add_provider(
            "anthropic", id="ant", api_key=wrong, base_url=fake.base_url, models=["claude-x"]
        )
        m = tk.resolve("good/m")
        seen += [m, m.chat("hi"), m.auth, m.client(), cfg.get("good"), cfg]
        stream = m.chat("hi", stream=True)
        seen.append(stream)
        seen += list(stream)
        seen.append(stream)

        def server_errors() -> object:
            fake.fail_next(500, times=3)
            return tk.resolve("good/m").chat("hi")

        for call in (
            lambda: tk.resolve("bad/m").chat("hi"),
            lambda: tk.resolve("bad/m").chat("hi", stream=True),
            lambda: tk.resolve("ant/claude-x").chat("hi"),
            server_errors,
        ):
            with pytest.raises(TakopiError) as info:
                call()
            seen += [info.value, info.value.args, info.getrepr()]
        fake.redirect_to = other.url
        with pytest.raises(TakopiError) as info:
            m.chat("hi")
        seen += [info.value, info.getrepr()]
        seen += [cfg.get("good").test_connection(), cfg.get("bad").test_connection()]
    seen += [record.getMessage() for record in caplog.records]
    seen += [repr(record.args) for record in caplog.records]
    assert any("Key rejected" in str(s) for s in seen)
    for secret in (good, wrong):
        assert places_with_secret(secret, dirs=[isolated_env / "jupyter-config"], texts=seen) == []
