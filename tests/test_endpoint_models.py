"""Provider.endpoint_models(): the live list of an endpoint, merged with the catalog.

Loopback servers play an OpenAI-compatible proxy serving its own ids, Anthropic's
paginated list, the Codex backend, and the failures (401, 404, an HTML page).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.error import UsageError

import takopi_nb as tk
from takopi_nb._endpoint_models import (
    TTL,
    EndpointModel,
    fetch_endpoint_models,
    match_catalog,
    picker_rows,
)
from takopi_nb.catalog import ModelInfo, get_catalog
from takopi_nb.wire._endpoint import Origin
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.http import LoopbackServer, Response
from tests.fakes.providers import FakeProvider
from tests.leaks import places_with_secret
from tests.shells import takopi_shell

PROXY_IDS = ("llama-3.1-8b-instruct", "qwen2.5-coder:7b", "openai/gpt-4o", "my-finetune-v3")


@pytest.fixture
def proxy() -> Iterator[FakeProvider]:
    with FakeProvider(models=PROXY_IDS, embedding_models=("text-embedding-3-small",)) as server:
        yield server


def add(ptype: str, base_url: str, key: str | None, pid: str = "p") -> tk.Provider:
    return tk.get_config().add_provider(ptype, id=pid, base_url=base_url, api_key=key)


def test_a_proxy_lists_its_own_ids_with_catalog_metadata(proxy: FakeProvider) -> None:
    listed = add("openai", proxy.base_url, proxy.key).endpoint_models()
    assert listed.ids == [*PROXY_IDS, "text-embedding-3-small"]
    assert listed.url == proxy.base_url + "/models"
    by_id = {m.id: m for m in listed}
    # A vendor prefix is looked through: openai/gpt-4o is the catalog's openai gpt-4o.
    gpt = by_id["openai/gpt-4o"]
    assert gpt.info is not None and gpt.matched_as == "openai/gpt-4o"
    assert gpt.info == get_catalog().get("openai", "gpt-4o")
    assert gpt.context_window == gpt.info.context_window and gpt.name == gpt.info.name
    # An id some other catalog provider lists exactly.
    llama = by_id["llama-3.1-8b-instruct"]
    assert llama.in_catalog and llama.info is not None
    assert llama.info.id == "llama-3.1-8b-instruct"
    # Unknown ids stay, marked by info None, named by their id.
    for unknown in ("qwen2.5-coder:7b", "my-finetune-v3"):
        assert not by_id[unknown].in_catalog and by_id[unknown].name == unknown
    assert by_id["text-embedding-3-small"].info is not None
    assert by_id["text-embedding-3-small"].info.is_embedding
    assert "p" in repr(listed) and "in the catalog" in repr(listed)


def test_an_ollama_tag_is_looked_through() -> None:
    catalog = get_catalog()
    expected = catalog.get("openai", "gpt-4o")
    assert expected is not None
    assert match_catalog(catalog, "openai", "gpt-4o:latest") == expected
    # A gateway's own prefix names the catalog provider that describes it best.
    assert match_catalog(catalog, "deepseek", "openrouter/openai/gpt-4o") == catalog.get(
        "openrouter", "openai/gpt-4o"
    )
    assert match_catalog(catalog, "deepseek", "litellm/openai/gpt-4o") == expected
    assert match_catalog(catalog, "openai", "GPT-4o") == expected
    assert match_catalog(catalog, "openai", "surely-no-such-model:7b") is None


def test_the_list_is_cached_per_provider_and_refreshable(proxy: FakeProvider) -> None:
    p = add("openai", proxy.base_url, proxy.key)
    first = p.endpoint_models()
    assert p.endpoint_models() is first
    assert len(proxy.requests_to("models")) == 1
    proxy.models.append("new-model")
    again = p.endpoint_models(refresh=True)
    assert "new-model" in again.ids and len(proxy.requests_to("models")) == 2
    # A new key may list other models: the cached list is dropped.
    p.set_api_key(proxy.key)
    p.endpoint_models()
    assert len(proxy.requests_to("models")) == 3


def test_the_cache_expires_after_the_ttl(proxy: FakeProvider) -> None:
    cfg = tk.get_config()
    p = add("openai", proxy.base_url, proxy.key)
    now = [1000.0]
    fetch_endpoint_models(cfg.runtime, p.record, clock=lambda: now[0])
    now[0] += TTL - 1
    fetch_endpoint_models(cfg.runtime, p.record, clock=lambda: now[0])
    assert len(proxy.requests_to("models")) == 1
    now[0] += 2
    fetch_endpoint_models(cfg.runtime, p.record, clock=lambda: now[0])
    assert len(proxy.requests_to("models")) == 2


def test_anthropic_pages_through_with_its_own_headers() -> None:
    ids = (*(f"claude-model-{i:02d}" for i in range(7)), "claude-sonnet-4-5")
    with FakeProvider(flavor="anthropic", models=ids) as server:
        server.page_size = 3
        listed = add("anthropic", server.base_url, server.key).endpoint_models()
        pages = server.requests_to("models")
    assert listed.ids == list(ids)
    assert len(pages) == 3
    assert pages[1].query["after_id"] == ["claude-model-02"]
    assert all(r.header("x-api-key") == server.key for r in pages)
    assert all(r.header("anthropic-version") for r in pages)
    sonnet = listed.get("claude-sonnet-4-5")
    assert sonnet is not None and sonnet.info is not None and sonnet.info.provider == "anthropic"


def test_codex_lists_the_backend_models() -> None:
    with FakeChatGPT() as fake:
        cfg = tk.get_config()
        cfg.codex_issuer = fake.issuer
        p = cfg.add_provider("codex", id="chatgpt", base_url=fake.codex_base)
        cfg.runtime.secrets.set("chatgpt", fake.issue_tokens().storage_json())
        listed = p.endpoint_models()
    assert listed.ids[:2] == ["gpt-5.5", "gpt-5.4"]
    assert "codex-auto-review" not in listed.ids
    assert listed.get("gpt-5.5") is not None


def test_codex_not_signed_in_says_so() -> None:
    p = tk.get_config().add_provider("codex", id="chatgpt")
    with pytest.raises(tk.MissingCredentialsError, match="not signed in"):
        p.endpoint_models()


def test_a_rejected_key_is_said_in_plain_words(proxy: FakeProvider) -> None:
    secret = "sk-wrong-0123456789SECRETTAIL"
    p = add("openai", proxy.base_url, secret)
    with pytest.raises(tk.ProviderRequestError) as caught:
        p.endpoint_models()
    message = str(caught.value)
    assert caught.value.status == 401 and "Key rejected" in message
    assert "%takopi providers" in message
    assert places_with_secret(secret, texts=[message, repr(p)]) == []


def test_no_key_says_where_to_put_one(proxy: FakeProvider) -> None:
    with pytest.raises(tk.MissingCredentialsError, match="OPENAI_API_KEY"):
        add("openai", proxy.base_url, None).endpoint_models()
    assert proxy.requests_to("models") == []


def test_an_address_without_a_list_is_not_found(proxy: FakeProvider) -> None:
    proxy.list_models = False
    with pytest.raises(tk.ProviderRequestError) as caught:
        add("deepseek", proxy.base_url, proxy.key).endpoint_models()
    assert caught.value.status == 404
    assert "no such endpoint" in str(caught.value) and "Base URL" in str(caught.value)


@pytest.mark.parametrize("status", [200, 502])
def test_an_html_page_is_named_as_such(status: int) -> None:
    page = b"<!DOCTYPE html><html><body><h1>Welcome to our gateway</h1></body></html>"
    with LoopbackServer(
        {("GET", "*"): lambda r: Response(status, page, {}, "text/html; charset=utf-8")}
    ) as server:
        p = add("openai", server.url, "sk-some-key-1234567890")
        with pytest.raises(tk.ProviderRequestError) as caught:
            p.endpoint_models()
    message = str(caught.value)
    if status == 200:
        assert "web page (HTML)" in message and "not a JSON model list" in message
        assert "/v1" in message
    else:
        assert caught.value.status == 502 and "server error" in message
    assert "<h1>" not in message


def test_json_that_is_not_a_list() -> None:
    with LoopbackServer({("GET", "*"): lambda r: Response.json({"status": "ok"})}) as server:
        p = add("openai", server.url, "sk-some-key-1234567890")
        with pytest.raises(tk.ProviderRequestError, match="not a JSON model list"):
            p.endpoint_models()


# -- the picker's rows ---------------------------------------------------------------------------


def info(mid: str, *, embedding: bool = False) -> ModelInfo:
    return ModelInfo(provider="openai", id=mid, name=mid.upper(), is_embedding=embedding)


def served(mid: str, matched: ModelInfo | None) -> EndpointModel:
    return EndpointModel(mid, matched.name if matched else mid, matched)


def test_rows_with_a_base_url_override_show_the_endpoint_first() -> None:
    gpt, mini, emb = (
        info("gpt-4o"),
        info("gpt-4o-mini"),
        info("text-embedding-3-small", embedding=True),
    )
    listing = [served("openai/gpt-4o", gpt), served("qwen2.5-coder:7b", None), served("e", emb)]
    rows = picker_rows([gpt, mini], listing, ["qwen2.5-coder:7b", "typed-by-hand"], overridden=True)
    assert [(r.id, r.group) for r in rows] == [
        ("openai/gpt-4o", "endpoint"),
        ("qwen2.5-coder:7b", "endpoint"),
        ("gpt-4o-mini", "catalog"),
        ("typed-by-hand", "selected"),
    ]
    assert rows[0].info == gpt and rows[0].note == "" and rows[0].served
    assert rows[1].note == "not in catalog" and rows[1].selected
    assert rows[2].served is False and not rows[2].selected
    assert rows[3].served is False and rows[3].note == "not in catalog"
    embedding_rows = picker_rows([emb], listing, [], overridden=True, purpose="embedding")
    assert [r.id for r in embedding_rows] == ["qwen2.5-coder:7b", "e"]


def test_rows_at_a_default_endpoint_mark_what_the_key_can_list() -> None:
    gpt, mini = info("gpt-4o"), info("gpt-4o-mini")
    rows = picker_rows(
        [gpt, mini], [served("gpt-4o", gpt), served("dall-e-3", None)], [], overridden=False
    )
    assert [(r.id, r.group, r.served) for r in rows] == [
        ("gpt-4o", "catalog", True),
        ("gpt-4o-mini", "catalog", False),
        ("dall-e-3", "endpoint", True),
    ]
    assert rows[0].note == "available to this key" and rows[1].note == ""


def test_rows_without_a_list_are_the_catalog() -> None:
    gpt = info("gpt-4o")
    rows = picker_rows([gpt], None, ["gpt-4o", "custom"], overridden=True)
    assert [(r.id, r.group, r.served) for r in rows] == [
        ("custom", "selected", None),
        ("gpt-4o", "catalog", None),
    ]


# -- %takopi models PROVIDER --live ----------------------------------------------------------------


def test_the_magic_shows_the_endpoint_first(proxy: FakeProvider) -> None:
    p = add("openai", proxy.base_url, proxy.key)
    p.models = ["qwen2.5-coder:7b"]
    with takopi_shell() as shell:
        table = shell.run_line_magic("takopi", "models p --live --limit 6")
        text = str(table)
        rows = {row[1]: row for row in table.rows}
        assert list(rows)[:4] == list(PROXY_IDS)
        assert rows["qwen2.5-coder:7b"][0] == "✓"
        assert rows["qwen2.5-coder:7b"][5] == "served by this endpoint; not in catalog"
        assert rows["openai/gpt-4o"][5] == "served by this endpoint"
        assert rows["openai/gpt-4o"][4]  # the catalog's price
        assert "text-embedding-3-small" not in rows  # an embedding model, in a chat list
        catalog_only = [row for row in table.rows if row[5] == "catalog only"]
        assert len(catalog_only) == 6 - 4 and "more" in text
        assert f"served by {proxy.base_url}/models" in text
        narrowed = shell.run_line_magic("takopi", "models p qwen --live")
        assert [row[1] for row in narrowed.rows if "served" in row[5]] == ["qwen2.5-coder:7b"]
        p.set_api_key("sk-wrong-key-000000000000")
        with pytest.raises(UsageError) as caught:
            shell.run_line_magic("takopi", "models p --live")
    assert "Key rejected" in str(caught.value) and "\n" not in str(caught.value)
    assert places_with_secret(proxy.key, texts=[text, str(narrowed), str(caught.value)]) == []


# -- the widgets' non-blocking loader ------------------------------------------------------------


def test_the_widget_loader_never_blocks_and_says_what_happened(proxy: FakeProvider) -> None:
    from takopi_nb.widgets._endpoint_list import EndpointList

    p = add("openai", proxy.base_url, proxy.key)
    proxy.hold()  # the answer comes after load() has returned
    changes: list[str] = []
    loader = EndpointList(p, lambda: changes.append(loader.describe()))
    loader.load()
    assert loader.loading and changes == ["Asking the endpoint which models it serves…"]
    proxy.release()
    assert loader.done.wait(60)
    assert loader.models is not None and loader.models.ids[:4] == list(PROXY_IDS)
    assert changes[-1] == "Served by this endpoint: 5 models (3 in the catalog)."
    loader.load()  # fresh in the cache: no second request, no waiting
    assert not loader.loading and len(proxy.requests_to("models")) == 1

    secret = "sk-wrong-key-for-the-loader-77"
    p.set_api_key(secret)
    loader.load()
    assert loader.done.wait(60)
    assert loader.models is None and loader.error is not None
    assert changes[-1].startswith("The endpoint's model list is unavailable: Key rejected")
    assert places_with_secret(secret, texts=changes) == []
    loader.close()


def test_the_widget_loader_without_a_key_asks_nothing(proxy: FakeProvider) -> None:
    from takopi_nb.widgets._endpoint_list import EndpointList

    loader = EndpointList(add("openai", proxy.base_url, None), lambda: None)
    loader.load()
    assert loader.done.is_set() and loader.models is None and loader.describe() == ""
    assert proxy.requests_to("models") == []


# -- a type's default endpoint (routed to a loopback fake) ----------------------------------------

DEFAULT_IDS = ("gpt-4o", "gpt-4o-mini", "ft:gpt-4o-mini:acme::a1b2c3")


@pytest.fixture
def openai_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """A fake of api.openai.com: the default host's calls go to it (TAKOPI_NB_ROUTES), and a
    proxy from the environment is in the way of any call that is not routed."""
    with FakeProvider(models=DEFAULT_IDS) as server:
        monkeypatch.setenv("TAKOPI_NB_ROUTES", f"https://api.openai.com={server.url}")
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        yield server


def test_a_default_endpoint_is_asked_at_its_own_address(openai_host: FakeProvider) -> None:
    secret = "sk-default-endpoint-key-0123456789"
    openai_host.key = secret
    p = add("openai", "", secret)
    listed = p.endpoint_models()
    assert listed.url == "https://api.openai.com/v1/models"  # what the user's setup names
    assert listed.ids == [*DEFAULT_IDS, "text-embedding-3-small"]
    asked = openai_host.requests_to("models")
    assert len(asked) == 1 and asked[0].header("authorization") == f"Bearer {secret}"
    assert asked[0].header("host") == "api.openai.com"
    assert not listed.get("ft:gpt-4o-mini:acme::a1b2c3").in_catalog  # type: ignore[union-attr]
    # Chat calls take the same route (one pooled client), still naming the default host.
    p.models = ["gpt-4o"]
    assert str(tk.resolve("p/gpt-4o").chat("Hi")) == "Hello from the fake."
    openai_host.key = "sk-someone-else-entirely-000"
    with pytest.raises(tk.ProviderRequestError) as caught:
        p.endpoint_models(refresh=True)
    assert "Key rejected" in str(caught.value)
    assert places_with_secret(secret, texts=[str(caught.value), repr(listed)]) == []


def test_a_route_is_read_when_the_config_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    from takopi_nb.wire._routes import parse_routes

    assert parse_routes("https://api.openai.com=http://127.0.0.1:5, http://x:8080=https://y") == {
        "https://api.openai.com": Origin.of("http://127.0.0.1:5"),
        "http://x:8080": Origin.of("https://y"),
    }
    for bad in ("api.openai.com=http://127.0.0.1:5", "https://a.b", "https://a.b=ftp://c"):
        with pytest.raises(tk.ConfigError, match="FROM=TO"):
            parse_routes(bad)
    with pytest.raises(tk.ConfigError, match="not an origin"):
        parse_routes("https://api.openai.com/v1=http://127.0.0.1:5")
    monkeypatch.setenv("TAKOPI_NB_ROUTES", "https://api.openai.com/v1=http://127.0.0.1:5")
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="p", api_key="sk-some-key-1234567890")
    with pytest.raises(tk.ConfigError, match="TAKOPI_NB_ROUTES"):  # said at use, not at import
        p.endpoint_models()


def test_the_magic_marks_what_the_key_can_list(openai_host: FakeProvider) -> None:
    p = add("openai", "", openai_host.key)
    with takopi_shell() as shell:
        table = shell.run_line_magic("takopi", "models p gpt-4o --live --all")
    where = {row[1]: row[5] for row in table.rows}
    assert where["gpt-4o"] == "catalog; available to this key"
    assert where["gpt-4o-mini"] == "catalog; available to this key"
    assert where["ft:gpt-4o-mini:acme::a1b2c3"] == "listed for your key; not in catalog"
    assert where["gpt-4o-2024-05-13"] == "catalog"  # in the catalog, not listed for this key
    assert list(where)[-1] == "ft:gpt-4o-mini:acme::a1b2c3"  # the catalog's order first
    text = str(table)
    assert "your key can list 4 models (https://api.openai.com/v1/models)" in text
    assert "2 of the catalog's models are available to this key" in text
    assert places_with_secret(openai_host.key, texts=[text]) == []
    assert p.models == []


def test_the_widget_loader_at_a_default_endpoint(
    openai_host: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from takopi_nb.widgets._endpoint_list import EndpointList

    p = add("openai", "", openai_host.key)
    changes: list[str] = []
    loader = EndpointList(p, lambda: changes.append(loader.describe()))
    loader.load()
    assert loader.done.wait(60) and changes[0] == "Asking which models your key can use…"
    assert changes[-1] == "Your key can list 4 models; they are marked ● below."
    openai_host.key = "sk-another-key-not-this-one-00"
    loader.load(refresh=True)
    assert loader.done.wait(60)
    assert changes[-1].startswith("Could not list the models your key can use: Key rejected")
    # Offline, a default endpoint is not asked (a local server behind a Base URL would be).
    monkeypatch.setenv("TAKOPI_NB_OFFLINE", "1")
    asked = len(openai_host.requests_to("models"))
    loader.load(refresh=True)
    assert loader.done.is_set() and loader.models is None and loader.describe() == ""
    assert len(openai_host.requests_to("models")) == asked
    loader.close()
