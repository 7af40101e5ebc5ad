"""The model picker: search as you type, filters, details, hand-added ids, catalog refresh."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb.catalog import Catalog, ModelInfo
from takopi_nb.widgets import ModelPicker, ProvidersPanel
from tests.fakes.http import LoopbackServer, Response


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


def infos(picker: ModelPicker) -> list[ModelInfo]:
    found = [picker.info(m) for m in picker.visible]
    assert all(found), "every visible row of a plain search is a catalog model"
    return [f for f in found if f is not None]


def index_of(picker: ModelPicker, model_id: str) -> int:
    return list(picker.rows._options_values).index(model_id)


def test_search_as_you_type(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    everything = picker.visible
    assert len(everything) > 20
    for typed in ("g", "gp", "gpt-5", "gpt-5.2"):
        picker.search.value = typed  # one update per keystroke, like continuous_update
        assert picker.visible, typed
        assert all(
            typed in m.lower() or typed in (picker.info(m).name or "").lower()
            for m in picker.visible
        )
    assert picker.visible[0] == "gpt-5.2"  # the exact id ranks first
    picker.search.value = "codex 5.2"  # every word must match id, name or family, in any order
    assert "gpt-5.2-codex" in picker.visible
    for model_id in picker.visible:
        info = picker.info(model_id)
        text = f"{info.id} {info.name} {info.family}".lower()
        assert "5.2" in text and "codex" in text
    picker.search.value = "no-such-model-anywhere"
    assert picker.visible == [] and "0 match" in picker.count.value
    picker.search.value = ""
    assert picker.visible == everything


def test_filters(cfg: tk.TakopiConfig) -> None:
    picker = make_picker(cfg.add_provider("openrouter"), max_rows=1000)
    try:
        total = len(picker.visible)
        picker.tools.value = True
        assert 0 < len(picker.visible) < total and all(i.tool_call for i in infos(picker))
        picker.tools.value = False
        picker.reasoning.value = True
        assert 0 < len(picker.visible) < total and all(i.reasoning for i in infos(picker))
        picker.image_input.value = True
        assert picker.visible
        assert all(i.reasoning and "image" in i.input_modalities for i in infos(picker))
    finally:
        picker.close()
    anthropic = make_picker(cfg.add_provider("anthropic"))
    try:
        assert anthropic.hide_deprecated.value is True
        assert not any(i.status == "deprecated" for i in infos(anthropic))
        shown = len(anthropic.visible)
        anthropic.hide_deprecated.value = False
        assert len(anthropic.visible) > shown
        assert any(i.status == "deprecated" for i in infos(anthropic))
        deprecated = [m for m in anthropic.visible if anthropic.info(m).status == "deprecated"]
        assert "deprecated" in anthropic.rows.options[index_of(anthropic, deprecated[0])][0]
    finally:
        anthropic.close()


def test_rows_are_capped_with_a_hint(cfg: tk.TakopiConfig) -> None:
    picker = make_picker(cfg.add_provider("openrouter"), max_rows=40)
    try:
        assert len(picker.rows.options) == 40
        assert "more — refine the search" in picker.count.value
        picker.search.value = "claude sonnet"
        assert 0 < len(picker.visible) < 40
        assert "refine" not in picker.count.value
    finally:
        picker.close()


def test_row_labels_show_context_and_price(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    picker.search.value = "gpt-5.2"
    label = picker.rows.options[index_of(picker, "gpt-5.2")][0]
    info = picker.info("gpt-5.2")
    assert info is not None and info.context_window and info.cost_input
    assert "400K" in label and "$1.75 / $14" in label and "tools" in label


def test_catalog_options_never_rewrite_the_selection(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai", models=["gpt-5.2", "text-embedding-3-small", "mine"])
    path = Path(cfg.runtime.store.path)
    before = path.read_bytes()
    changes: list[Any] = []
    provider.observe(changes.append, names=["models"])
    picker = make_picker(provider)
    try:
        picker.search.value = "gpt-4"
        picker.tools.value = True
        picker.reasoning.value = True
        picker.image_input.value = True
        picker.hide_deprecated.value = False
        picker.purpose.value = "embedding"
        picker.search.value = ""
        picker.purpose.value = "chat"
        picker._catalog_changed()  # what a catalog refresh does
        assert changes == []
        assert provider.models == ["gpt-5.2", "text-embedding-3-small", "mine"]
        assert path.read_bytes() == before
    finally:
        picker.close()


def test_clicking_rows_merges_with_what_is_not_visible(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai", models=["text-embedding-3-small", "gpt-4o"])
    picker = make_picker(provider)
    try:
        picker.search.value = "gpt-5"
        assert picker.rows.value == ()
        picker.rows.set_state({"index": [index_of(picker, "gpt-5.2"), index_of(picker, "gpt-5")]})
        assert provider.models == ["text-embedding-3-small", "gpt-4o", "gpt-5", "gpt-5.2"]
        assert picker.highlighted in ("gpt-5", "gpt-5.2")
        # a plain click on one row: the other visible rows are unselected, hidden ones stay
        picker.rows.set_state({"index": [index_of(picker, "gpt-5")]})
        assert provider.models == ["text-embedding-3-small", "gpt-4o", "gpt-5"]
        assert picker.highlighted == "gpt-5.2"  # the one just unselected
        assert "3 selected" not in picker.count.value
        assert "Selected (3)" in picker.selected_summary.value
    finally:
        picker.close()


def test_select_and_clear_visible(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    provider = picker.provider
    provider.models = ["kept-by-hand"]
    picker.search.value = "gpt-5.4"
    visible = [m for m in picker.visible if m != "kept-by-hand"]
    picker.select_visible.click()
    assert provider.models == ["kept-by-hand", *visible]
    assert f"{len(visible) + 1} of" in picker.count.value
    picker.search.value = "gpt-5.4-mini"
    picker.clear_visible.click()
    assert "gpt-5.4-mini" not in provider.models and "gpt-5.4" in provider.models
    assert "kept-by-hand" in provider.models


def test_details_of_the_highlighted_model(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    assert "Click a model" in picker.details.value
    picker.search.value = "gpt-5.2"
    picker.rows.set_state({"index": [index_of(picker, "gpt-5.2")]})
    details = picker.details.value
    assert "<b>gpt-5.2</b>" in details
    for text in ("GPT-5.2", "400K", "$1.75", "$14", "tools", "reasoning", "selected"):
        assert text in details, text


def test_add_a_model_id_by_hand(openai_picker: ModelPicker) -> None:
    picker = openai_picker
    provider = picker.provider
    picker.manual_id.set_state({"value": "ft:gpt-4o:acme:v1"})  # submit (Enter)
    assert provider.models == ["ft:gpt-4o:acme:v1"]
    assert picker.manual_id.value == ""
    assert picker.visible[0] == "ft:gpt-4o:acme:v1"
    assert "not in catalog" in picker.rows.options[0][0]
    assert picker.rows.value == ("ft:gpt-4o:acme:v1",)
    assert "not in catalog" in picker.details.value
    assert "1 not in catalog" in picker.selected_summary.value
    picker.manual_id.value = "gpt-5.2"  # in the catalog: added, no badge
    picker.manual_add.click()
    assert provider.models == ["ft:gpt-4o:acme:v1", "gpt-5.2"]
    assert "1 not in catalog" in picker.selected_summary.value
    # unselecting the hand-added row removes it from the list
    picker.rows.set_state({"index": [index_of(picker, "gpt-5.2")]})
    assert provider.models == ["gpt-5.2"]
    assert "ft:gpt-4o:acme:v1" not in picker.visible


def test_a_bad_hand_added_id_is_reported(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai")
    made = ProvidersPanel(cfg)
    try:
        picker = made.select("openai").picker
        picker.manual_id.value = "two words"
        assert provider.models == []
        assert made.errors and "whitespace" in made.errors[-1]
    finally:
        made.close()


def test_embedding_purpose(openai_picker: ModelPicker, cfg: tk.TakopiConfig) -> None:
    picker = openai_picker
    assert not any("embedding" in m for m in picker.visible)
    picker.purpose.value = "embedding"
    assert picker.visible and all(picker.info(m).is_embedding for m in picker.visible)
    picker.rows.set_state({"index": [index_of(picker, "text-embedding-3-small")]})
    assert picker.provider.models == ["text-embedding-3-small"]
    codex = make_picker(cfg.add_provider("codex"))
    try:
        assert [v for _, v in codex.purpose.options] == ["chat"]
        assert set(codex.visible) <= {
            "gpt-5.2",
            "gpt-5.3-codex",
            "gpt-5.3-codex-spark",
            "gpt-5.4",
            "gpt-5.4-mini",
            "gpt-5.5",
            "gpt-5.5-pro",
        }
        assert codex.visible
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


def test_catalog_text_is_escaped(cfg: tk.TakopiConfig) -> None:
    provider = cfg.add_provider("openai", models=["<i>hand</i>"])
    catalog = HostileCatalog()
    picker = make_picker(provider, catalog=catalog)
    try:
        picker.rows.set_state({"index": [index_of(picker, "evil<script>")]})
        html = picker.details.value + picker.selected_summary.value + picker.catalog_status.value
        assert "<img" not in html and "<script>" not in html and "<i>hand" not in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in picker.details.value
        assert "&lt;b&gt;not bold&lt;/b&gt;" in picker.catalog_status.value
        picker.highlighted = "<i>hand</i>"
        assert "&lt;i&gt;hand&lt;/i&gt;" in picker.details.value
    finally:
        picker.close()


def _models_dev(model_ids: list[str]) -> bytes:
    models = {
        mid: {
            "id": mid,
            "name": mid.upper(),
            "attachment": False,
            "reasoning": False,
            "tool_call": True,
            "release_date": "2026-11-01",
            "last_updated": "2026-11-01",
            "modalities": {"input": ["text"], "output": ["text"]},
            "open_weights": False,
            "limit": {"context": 128000, "output": 8192},
            "cost": {"input": 1, "output": 2},
        }
        for mid in model_ids
    }
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
        assert "gpt-5.2" in picker.visible and "brand-new-1" not in picker.visible
        picker.refresh_button.click()
        assert picker.refresh_done.wait(20)
        assert picker.visible[:3] == ["gpt-5.2", "brand-new-1", "brand-new-2"]
        assert "not in catalog" in picker.rows.options[0][0]  # the selection stays, flagged
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
        before = picker.visible
        picker.refresh_button.click()
        assert picker.refresh_done.wait(20)
        deadline = time.monotonic() + 5
        while not made.errors and time.monotonic() < deadline:
            time.sleep(0.02)
        assert made.errors and made.errors[-1].startswith("Refreshing the catalog")
        assert picker.visible == before
    finally:
        made.close()
        catalog.close()
