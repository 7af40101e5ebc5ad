"""The model picker: rows of every tab for the browser's checkbox list, the selection linked
to ``provider.models`` both ways, hand-added ids, catalog refresh.

Searching, filtering and the checkboxes themselves run in the browser (tests/e2e); here
the kernel side: what the browser gets, and what a tick it sends back does.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb.catalog import Catalog, ModelInfo
from takopi_nb.widgets import ModelPicker, ProvidersPanel
from takopi_nb.widgets._model_index import EMBEDDING, LISTED, REASONING, TOOLS, list_row
from takopi_nb.widgets._model_list import SOURCE, unpack
from tests.fakes.http import LoopbackServer, Response
from tests.fakes.models_dev import model_entry
from tests.leaks import places_with_secret
from tests.waiting import wait_for


@pytest.fixture
def cfg() -> tk.TakopiConfig:
    return tk.get_config()


def make_picker(provider: Any, **kwargs: Any) -> ModelPicker:
    return ModelPicker(provider, **kwargs)


@pytest.fixture
def openai_picker(cfg: tk.TakopiConfig) -> Iterator[ModelPicker]:
    picker = make_picker(cfg.add_provider("openai"))
    yield picker
    picker.close()


def row_of(picker: ModelPicker, model_id: str, purpose: str = "chat") -> list[Any]:
    found = [r for r in picker.rows if r[0] == model_id and r[11] == purpose]
    assert len(found) == 1, (model_id, purpose)
    return found[0]


def ticked(picker: ModelPicker, models: list[str]) -> None:
    """What the browser sends when boxes are ticked or a chip's × is clicked."""
    picker.list.set_state({"value": models})


def test_every_tab_is_sent_once_with_its_columns(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    assert picker.list.purposes == ["chat", "embedding"]
    assert picker.list.groups == ["models.dev catalog"]  # one source: no headings
    assert all(len(r) < 13 or r[12] == 0 for r in picker.rows)
    chat = [r for r in picker.rows if r[11] == "chat"]
    embedding = [r for r in picker.rows if r[11] == "embedding"]
    assert len(chat) == len(picker.index("chat")) > 20
    assert len(embedding) == len(picker.index("embedding")) > 0
    assert all(r[8] & EMBEDDING for r in embedding) and not any(r[8] & EMBEDDING for r in chat)
    gpt = row_of(picker, "gpt-5.2")
    assert gpt[1] == "" and gpt[3] == "400K" and gpt[5] == "$1.75 / $14"  # the name adds nothing
    assert gpt[8] & TOOLS and gpt[8] & REASONING
    assert "text" in gpt[7] and "→" in gpt[7]
    knowledge, released, *_ = gpt[10].split("|")
    assert "20" + released == picker.info("gpt-5.2").release_date.replace("-", "") and knowledge


def test_rows_travel_gzipped(openai_picker: ModelPicker) -> None:
    state = openai_picker.list.get_state()
    assert "rows" not in state  # the kernel-side list is not sent as such
    assert unpack(state["packed"]) == openai_picker.list.rows == openai_picker.rows
    assert len(state["packed"]) < len(json.dumps(openai_picker.rows)) / 3


def test_a_row_is_compact() -> None:
    named = ModelInfo(provider="x", id="acme/m-1", name="Mighty M-1", input_modalities=("text",))
    assert list_row(named, "chat")[1] == "Mighty M-1"  # "mighty" is not in the id: searchable
    info = ModelInfo(provider="x", id="m", name="M", input_modalities=("text",))
    assert list_row(info, "chat") == ["m", "", "", "", "", "—", "", "text → —", 0, "", "", "chat"]
    assert list_row(info, "chat", group=1)[-1] == 1  # a second source ("served by …")
    assert list_row(info, "chat", subscription=True)[5] == "in your plan"


def test_ticks_from_the_browser_write_through_and_back(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai", models=["text-embedding-3-small"])
    path = Path(cfg.runtime.store.path)
    picker = make_picker(provider)
    try:
        assert picker.list.value == ["text-embedding-3-small"]
        ticked(picker, ["text-embedding-3-small", "gpt-5.2"])  # one plain click adds one
        ticked(picker, ["text-embedding-3-small", "gpt-5.2", "gpt-5"])  # a second adds another
        assert provider.models == ["text-embedding-3-small", "gpt-5.2", "gpt-5"]
        saved = json.loads(path.read_text())["providers"][0]["models"]
        assert saved == ["text-embedding-3-small", "gpt-5.2", "gpt-5"]
        ticked(picker, ["text-embedding-3-small", "gpt-5"])  # a chip's ×
        assert provider.models == ["text-embedding-3-small", "gpt-5"]
        provider.models = ["gpt-4o"]  # code changes the selection: the boxes follow
        assert picker.list.value == ["gpt-4o"]
    finally:
        picker.close()
    provider.models = ["gpt-5.2"]  # a closed picker no longer follows
    assert picker.list.value == ["gpt-4o"]


def test_catalog_rows_never_rewrite_the_selection(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai", models=["gpt-5.2", "text-embedding-3-small", "mine"])
    path = Path(cfg.runtime.store.path)
    before = path.read_bytes()
    changes: list[Any] = []
    provider.observe(changes.append, names=["models"])
    picker = make_picker(provider)
    try:
        picker._catalog_changed()  # what a catalog refresh does
        assert changes == []
        assert provider.models == ["gpt-5.2", "text-embedding-3-small", "mine"]
        assert path.read_bytes() == before
        assert picker.list.unknown == ["mine"]
    finally:
        picker.close()


def test_add_a_model_id_by_hand(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    provider = picker.provider
    picker.list.send_add(" ft:gpt-4o:acme:v1 ")  # typed into "Add id", Enter
    assert provider.models == ["ft:gpt-4o:acme:v1"]
    assert picker.list.value == ["ft:gpt-4o:acme:v1"]
    assert picker.list.unknown == ["ft:gpt-4o:acme:v1"]  # shown as a row and a chip, flagged
    picker.list.send_add("gpt-5.2")  # in the catalog: added, not flagged
    assert provider.models == ["ft:gpt-4o:acme:v1", "gpt-5.2"]
    assert picker.list.unknown == ["ft:gpt-4o:acme:v1"]
    ticked(picker, ["gpt-5.2"])
    assert picker.list.unknown == []


def test_a_bad_hand_added_id_is_reported(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai")
    made = ProvidersPanel(cfg)
    try:
        picker = made.select("openai").picker
        picker.list.send_add("two words")
        assert provider.models == []
        assert made.errors and "whitespace" in made.errors[-1]
    finally:
        made.close()


def test_codex_offers_its_plan_models_without_prices(cfg: tk.TakopiConfig) -> None:
    codex = make_picker(cfg.add_provider("codex"))
    try:
        assert codex.list.purposes == ["chat"]
        ids = {r[0] for r in codex.list.rows}
        assert ids and ids <= {
            "gpt-5.2",
            "gpt-5.3-codex",
            "gpt-5.3-codex-spark",
            "gpt-5.4",
            "gpt-5.4-mini",
            "gpt-5.5",
            "gpt-5.5-pro",
        }
        assert {r[5] for r in codex.rows} == {"in your plan"}
    finally:
        codex.close()


class HostileCatalog:
    """Real ModelInfo records with markup in every text field (a test double for the catalog)."""

    EVIL = '<img src=x onerror="alert(1)">'

    def __init__(self) -> None:
        self.model = ModelInfo(
            provider="openai",
            id="evil<script>",
            name=self.EVIL,
            family=self.EVIL,
            context_window=1000,
            cost_input=1.0,
            cost_output=2.0,
            input_modalities=("text",),
            output_modalities=("text",),
            knowledge=self.EVIL,
            status="beta",
        )

    def models_for_type(self, provider_type: str, purpose: str = "chat") -> list[ModelInfo]:
        return [self.model] if purpose == "chat" else []

    def get(self, provider: str, model_id: str) -> ModelInfo | None:
        return self.model if model_id == self.model.id else None

    def describe(self) -> str:
        return "<b>not bold</b>"

    def __len__(self) -> int:
        return 1


def test_catalog_text_is_data_never_markup(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai", models=["<i>hand</i>"])
    catalog = HostileCatalog()
    picker = make_picker(provider, catalog=catalog)
    try:
        row = row_of(picker, "evil<script>")
        assert row[1] == HostileCatalog.EVIL  # raw text: the browser sets it as textContent
        assert "&lt;b&gt;not bold&lt;/b&gt;" in picker.catalog_status.value
        assert "<b>" not in picker.catalog_status.value
        # The list never parses outside text as HTML.
        assert "innerHTML" not in SOURCE and "insertAdjacentHTML" not in SOURCE
        assert picker.list.unknown == ["<i>hand</i>"]
    finally:
        picker.close()


def _models_dev(model_ids: list[str]) -> bytes:
    models = {mid: model_entry(mid, cost={"input": 1, "output": 2}) for mid in model_ids}
    return json.dumps(
        {
            "openai": {
                "id": "openai",
                "name": "OpenAI",
                "env": ["OPENAI_API_KEY"],
                "npm": "@ai-sdk/openai",
                "doc": "https://example.com",
                "models": models,
            }
        }
    ).encode()


def test_refresh_updates_rows_and_keeps_the_selection(
    cfg: tk.TakopiConfig, isolated_env: Path
) -> None:
    server = LoopbackServer(
        {("GET", "/api.json"): lambda r: Response(200, _models_dev(["brand-new-1", "brand-new-2"]))}
    ).start()
    catalog = Catalog(url=server.url + "/api.json", auto_refresh=False, offline=False)
    provider = cfg.add_provider("openai", models=["gpt-5.2"])
    picker = make_picker(provider, catalog=catalog)
    try:
        assert "bundled snapshot" in picker.catalog_status.value
        assert "gpt-5.2" in picker.visible_ids and "brand-new-1" not in picker.visible_ids
        picker.refresh_button.click()
        assert picker.refresh_done.wait(60)
        assert picker.visible_ids == ["brand-new-1", "brand-new-2"]
        assert picker.list.unknown == ["gpt-5.2"]  # the selection stays, flagged
        assert provider.models == ["gpt-5.2"]
        assert "bundled" not in picker.catalog_status.value
        assert not picker.refresh_button.disabled
        assert len(server.requests) == 1
    finally:
        picker.close()
        catalog.close()
        server.stop()


def test_a_failed_refresh_is_reported(cfg: tk.TakopiConfig) -> None:
    catalog = Catalog(url="http://127.0.0.1:9/api.json", auto_refresh=False, offline=False)
    cfg.add_provider("openai")
    made = ProvidersPanel(cfg, catalog=catalog)
    try:
        picker = made.select("openai").picker
        before = picker.visible_ids
        picker.refresh_button.click()
        assert picker.refresh_done.wait(60)  # set after the error is reported
        assert made.errors and made.errors[-1].startswith("Refreshing the catalog")
        assert picker.visible_ids == before
    finally:
        made.close()
        catalog.close()


# -- a Base URL override: the endpoint's own list first -------------------------------------------

PROXY_IDS = ("llama-3.1-8b-instruct", "qwen2.5-coder:7b", "openai/gpt-4o")


@pytest.fixture
def proxy() -> Iterator[Any]:
    from tests.fakes.providers import FakeProvider

    with FakeProvider(models=PROXY_IDS) as server:
        yield server


def proxied(cfg: tk.TakopiConfig, proxy: Any, key: str | None = None) -> tk.Provider:
    return cfg.add_provider("openai", id="proxy", base_url=proxy.base_url, api_key=key or proxy.key)


def group(row: list[Any]) -> int:
    return row[12] if len(row) > 12 else 0  # a trailing 0 is dropped


def test_an_overridden_endpoint_lists_its_models_first(cfg: tk.TakopiConfig, proxy: Any) -> None:
    proxy.hold()  # the picker is built before the endpoint answers
    picker = make_picker(proxied(cfg, proxy))
    try:
        assert "Asking the endpoint" in picker.endpoint_status.value
        assert picker.list.groups == ["models.dev catalog"]  # the catalog meanwhile
        proxy.release()
        assert picker.endpoint.done.wait(60)
        assert picker.list.groups[0] == "Served by this endpoint" and len(picker.list.groups) == 2
        chat = [r for r in picker.rows if r[11] == "chat"]
        served = [r for r in chat if group(r) == 0]
        assert [r[0] for r in served] == list(PROXY_IDS)  # the endpoint's ids, as it lists them
        assert all(group(r) == 1 for r in chat[len(served) :])  # catalog-only rows below
        assert len(chat) > len(served) + 20
        qwen = row_of(picker, "qwen2.5-coder:7b")
        assert qwen[9] == "not in catalog"
        gpt = row_of(picker, "openai/gpt-4o")
        assert gpt[3] == "128K" and gpt[5] and gpt[9:10] != ["not in catalog"]
        assert "gpt-4o" not in [r[0] for r in chat]  # shown once, under the served id
        assert (
            "Served by this endpoint: 4 models (3 in the catalog)" in picker.endpoint_status.value
        )
        assert unpack(picker.list.get_state()["packed"]) == picker.rows
        # Picking a served id not in the catalog: a row, not a "not in catalog" extra.
        ticked(picker, ["qwen2.5-coder:7b", "gpt-5.2"])
        assert picker.provider.models == ["qwen2.5-coder:7b", "gpt-5.2"]
        assert picker.list.unknown == []
    finally:
        picker.close()


def test_an_endpoint_error_is_said_without_blocking(cfg: tk.TakopiConfig, proxy: Any) -> None:
    secret = "sk-wrong-key-for-the-picker-42"
    picker = make_picker(proxied(cfg, proxy, key=secret))
    try:
        wait_for(lambda: "unavailable" in picker.endpoint_status.value, "the error is shown")
        status = picker.endpoint_status.value
        assert "Key rejected" in status and secret not in status and "takopi-error" in status
        assert picker.list.groups == ["models.dev catalog"]  # the catalog stays usable
        assert len(picker.rows) > 20
        # Fixing the key asks again.
        picker.provider.set_api_key(proxy.key)
        wait_for(lambda: len(picker.list.groups) == 2, "the list with the right key")
        assert "Served by this endpoint" in picker.endpoint_status.value
        # Refresh asks the endpoint again too (a proxy's new model shows up).
        asked = len(proxy.requests_to("models"))
        picker.refresh_button.click()
        wait_for(lambda: len(proxy.requests_to("models")) > asked, "Refresh asks the endpoint")
        wait_for(picker.refresh_done.is_set, "the catalog refresh")
        wait_for(picker.endpoint.done.is_set, "the endpoint's answer")
    finally:
        picker.close()


@pytest.fixture
def openai_host(cfg: tk.TakopiConfig) -> Iterator[Any]:
    """A fake of api.openai.com: calls to the type's default host go to it (the runtime's
    routes, as TAKOPI_NB_ROUTES sets them)."""
    from tests.fakes.providers import FakeProvider

    with FakeProvider(models=DEFAULT_IDS, embedding_models=("text-embedding-3-small",)) as host:
        cfg.runtime.routes = f"https://api.openai.com={host.url}"
        yield host


DEFAULT_IDS = ("gpt-4o", "gpt-4o-mini", "ft:gpt-4o-mini:acme::a1b2c3")


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def listed(row: list[Any]) -> bool:
    return bool(row[8] & LISTED) if len(row) > 8 else False


def test_a_default_endpoint_marks_what_the_key_can_list(
    cfg: tk.TakopiConfig, openai_host: Any
) -> None:
    openai_host.hold()  # the picker is built before the endpoint answers
    picker = make_picker(cfg.add_provider("openai", id="mine", api_key=openai_host.key))
    try:
        assert "Asking which models your key can use" in picker.endpoint_status.value
        assert not any(listed(r) for r in picker.rows)  # the plain catalog meanwhile
        openai_host.release()
        assert picker.endpoint.done.wait(60)
        status = picker.endpoint_status.value
        assert "<span class='tml-mark tml-legend'>●</span>" in status  # coloured like the marks
        assert "Your key can list 4 models; they are marked ● below." in text_of(status)
        assert picker.list.groups == [
            "models.dev catalog",
            "Also listed for your key, not in the catalog",
        ]
        chat = [r for r in picker.rows if r[11] == "chat"]
        # The catalog keeps its order and its rows; the key's models carry the flag.
        assert [r[0] for r in chat if group(r) == 0] == [m.id for m in picker.index("chat").models]
        assert {r[0] for r in chat if listed(r) and group(r) == 0} == {"gpt-4o", "gpt-4o-mini"}
        assert not listed(row_of(picker, "gpt-5.2"))
        assert listed(row_of(picker, "text-embedding-3-small", "embedding"))
        # What the key lists beyond the catalog comes after it, flagged and "not in catalog".
        tuned = row_of(picker, "ft:gpt-4o-mini:acme::a1b2c3")
        assert group(tuned) == 1 and listed(tuned) and tuned[9] == "not in catalog"
        assert chat[-1][0] == tuned[0]
        assert list_row(picker.info("gpt-4o"), "chat")[8] | LISTED == row_of(picker, "gpt-4o")[8]
        state = json.dumps(picker.list.get_state(), default=str)
        assert places_with_secret(openai_host.key, texts=[state, status]) == []
        # Refresh asks again: a model the key has just been given shows up marked.
        openai_host.models.append("gpt-5.2")
        picker.refresh_button.click()
        wait_for(lambda: listed(row_of(picker, "gpt-5.2")), "the new model is marked")
        wait_for(picker.refresh_done.is_set, "the catalog refresh")
    finally:
        picker.close()


def test_a_rejected_key_at_a_default_endpoint_leaves_the_catalog_usable(
    cfg: tk.TakopiConfig, openai_host: Any
) -> None:
    secret = "sk-wrong-key-for-the-default-host-7"
    picker = make_picker(cfg.add_provider("openai", id="mine", api_key=secret))
    try:
        assert picker.endpoint.done.wait(60)
        status = picker.endpoint_status.value
        assert "Could not list the models your key can use: Key rejected" in status
        assert "takopi-error" in status and secret not in status
        assert picker.list.groups == ["models.dev catalog"] and len(picker.rows) > 20
        assert not any(listed(r) for r in picker.rows)
        picker.provider.set_api_key(openai_host.key)  # fixing the key asks again
        wait_for(lambda: any(listed(r) for r in picker.rows), "the marks with the right key")
    finally:
        picker.close()


def test_without_a_key_or_for_codex_nothing_is_asked(
    cfg: tk.TakopiConfig, openai_host: Any
) -> None:
    for provider in (cfg.add_provider("openai", id="keyless"), cfg.add_provider("codex")):
        picker = make_picker(provider)
        try:
            assert picker.endpoint.done.is_set() and picker.endpoint_status.value == ""
            assert not any(listed(r) for r in picker.rows)
        finally:
            picker.close()
    assert openai_host.requests_to("models") == []


@pytest.mark.parametrize("word", ["1", "true", "On"])
def test_offline_as_the_catalog_reads_it_asks_no_default_endpoint(
    cfg: tk.TakopiConfig, openai_host: Any, monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.setenv("TAKOPI_NB_OFFLINE", word)
    picker = make_picker(cfg.add_provider("openai", id="offline", api_key="sk-offline-0000"))
    try:
        assert picker.endpoint.done.is_set() and picker.endpoint_status.value == ""
    finally:
        picker.close()
    assert openai_host.requests_to("models") == []


def test_a_base_url_set_later_lists_that_endpoint(
    cfg: tk.TakopiConfig, proxy: Any, openai_host: Any
) -> None:
    provider = cfg.add_provider("openai", id="later", api_key=proxy.key)
    openai_host.key = proxy.key
    picker = make_picker(provider)
    try:
        assert picker.endpoint.done.wait(60)
        assert "Your key can list" in picker.endpoint_status.value
        assert proxy.requests_to("models") == []  # the default endpoint was asked, not the proxy
        provider.base_url = proxy.base_url
        provider.confirm_base_url()  # the key was saved for api.openai.com: send it here once
        # groups and rows are two traits set one after the other on the fetch's thread:
        # wait for both, not for the first alone.
        wait_for(
            lambda: (
                picker.list.groups[0] == "Served by this endpoint"
                and [r[0] for r in picker.rows if group(r) == 0][:3] == list(PROXY_IDS)
            ),
            "the endpoint's list",
        )
        assert not any(listed(r) for r in picker.rows)  # an override lists, it does not mark
        provider.base_url = ""
        # The key is now bound to the proxy's host: it is held back, and the picker says so
        # in one line pointing at the form (which explains it), without asking anyone.
        asked = len(openai_host.requests_to("models"))
        wait_for(lambda: "waits for the key" in picker.endpoint_status.value, "held back")
        assert "not sent to another host" not in picker.endpoint_status.value
        assert picker.endpoint.done.is_set() and picker.endpoint.error is None
        assert len(openai_host.requests_to("models")) == asked
        provider.confirm_base_url()
        wait_for(
            lambda: (
                picker.list.groups[0] == "models.dev catalog" and listed(row_of(picker, "gpt-4o"))
            ),
            "the default endpoint's marks again",
        )
        assert "Your key can list" in picker.endpoint_status.value
    finally:
        picker.close()


def test_closing_the_picker_closes_its_endpoint_list(cfg: tk.TakopiConfig, proxy: Any) -> None:
    proxy.hold()
    picker = make_picker(proxied(cfg, proxy))
    wait_for(lambda: len(proxy.requests_to("models")) == 1, "the request is in flight")
    fetching = [t for t in threading.enumerate() if t.name == "takopi-endpoint-models-proxy"]
    assert fetching
    picker.close()
    assert picker.endpoint._closed and picker.endpoint.done.is_set()
    proxy.release()
    for thread in fetching:
        thread.join(60)
        assert not thread.is_alive()  # the answer came in after close...
    assert picker.list.groups == ["models.dev catalog"]  # ...and nothing was drawn
