"""The providers panel, driven like a browser would: ``set_state()``, ``.value`` and clicks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import comm
import ipywidgets as W
import pytest
from comm import DummyComm

import takopi_nb as tk
from takopi_nb.widgets import ProvidersPanel
from takopi_nb.widgets._provider_form import ProviderForm
from tests.fakes.keyring_backend import MemoryKeyring

KEY = "sk-test-PANEL-0123456789-abcdefXYZ"


class RecordingComm(DummyComm):
    """A comm that keeps every message the kernel would send to the browser."""

    log: ClassVar[list[str]] = []

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        # As jupyter_client packs it: UTF-8, not \u escapes.
        message = json.dumps({"type": msg_type, "data": data}, default=str, ensure_ascii=False)
        RecordingComm.log.append(message)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every comm message sent to the front end by widgets created in the test."""
    RecordingComm.log = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    yield RecordingComm.log


@pytest.fixture
def cfg() -> tk.TakopiConfig:
    return tk.get_config()


@pytest.fixture
def panel(cfg: tk.TakopiConfig) -> Iterator[ProvidersPanel]:
    made = ProvidersPanel(cfg)
    yield made
    made.close()


def row_index(select: W.SelectMultiple | W.Select | W.Dropdown, value: Any) -> int:
    return list(select._options_values).index(value)


def all_widget_state() -> str:
    """The state of every live widget, as the front end (or a saved notebook) would get it."""
    from ipywidgets.widgets.widget import _instances

    return json.dumps([w.get_state() for w in list(_instances.values())], default=str)


def form_of(panel: ProvidersPanel) -> ProviderForm:
    form = panel.form
    assert form is not None
    return form


# -- the main journey ---------------------------------------------------------------------------


def test_add_key_select_usable_resolve(
    panel: ProvidersPanel,
    cfg: tk.TakopiConfig,
    memory_keyring: MemoryKeyring,
    sent: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert panel.selected is None
    assert "No providers yet" in panel.empty.value
    # Add: pick the type like the browser does (index), click Add.
    panel.add_type.set_state({"index": row_index(panel.add_type, "openai")})
    assert panel.add_id.placeholder == "openai (default)"
    panel.add_button.click()
    provider = cfg.get("openai")
    assert panel.selected is provider
    assert panel.provider_list.label == "openai · no models selected"
    form = form_of(panel)
    assert form.provider is provider
    assert form.type_field.disabled and "OpenAI" in form.type_field.value

    # Key: typed into the password field; the kernel stores it and empties the field at once.
    assert form.key_input is not None
    form.key_input.set_state({"value": KEY})
    assert form.key_input.value == ""
    assert form.key_input.get_state()["value"] == ""
    assert memory_keyring.passwords[("takopi_nb", "openai")] == KEY
    assert provider.credential_source == "keyring"
    assert "OS keyring" in form.auth_status.value
    assert "••••" + KEY[-4:] in form.auth_status.value
    assert KEY not in all_widget_state()
    assert not any(KEY in message for message in sent)  # never echoed back to the browser
    # Shown, but as messages: the key's tail and the config's path are no widget state,
    # so a saved notebook does not hold them.
    state = all_widget_state()
    assert KEY[-4:] not in state and str(cfg.runtime.store.path) not in state
    assert str(cfg.runtime.store.path) in panel.title.value
    assert panel.provider_list.label == "openai · no models selected"

    # Tick a model in the picker (the browser sends the new selection).
    picker = form.picker
    assert "gpt-5.2" in picker.visible_ids
    picker.list.set_state({"value": ["gpt-5.2"]})
    assert provider.models == ["gpt-5.2"]
    assert provider.status == "usable"
    assert panel.provider_list.label == "openai · usable"

    # The default model, chosen in the dropdown.
    panel.default_model.set_state({"index": row_index(panel.default_model, "openai/gpt-5.2")})
    assert cfg.default_model == "openai/gpt-5.2"

    resolved = tk.resolve("openai/gpt-5.2")
    assert (resolved.provider_id, resolved.model_id) == ("openai", "gpt-5.2")
    assert resolved.api_key() == KEY

    saved = Path(cfg.runtime.store.path).read_text()
    assert '"gpt-5.2"' in saved and '"openai/gpt-5.2"' in saved
    assert KEY not in saved
    assert panel.errors == []
    assert KEY not in caplog.text and KEY not in repr(panel) and KEY not in repr(form.key_input)


def test_save_button_and_failures_never_keep_the_key(
    panel: ProvidersPanel, cfg: tk.TakopiConfig, memory_keyring: MemoryKeyring
) -> None:
    cfg.add_provider("anthropic")
    form = form_of(panel)
    assert form.key_input is not None and form.save_key is not None
    form.save_key.click()  # nothing typed yet: a hint, no error
    assert "Paste a key" in form.auth_status.value
    assert panel.errors == []

    form.key_input.set_state({"value": "   "})  # blank: refused, and still cleared
    assert form.key_input.value == ""
    assert len(panel.errors) == 1 and "empty" in panel.errors[0]
    assert ("takopi_nb", "anthropic") not in memory_keyring.passwords

    form.key_input.set_state({"value": KEY})
    form.save_key.click()
    assert memory_keyring.passwords[("takopi_nb", "anthropic")] == KEY
    assert form.key_input.value == ""

    assert form.clear_key is not None
    form.clear_key.click()
    assert ("takopi_nb", "anthropic") not in memory_keyring.passwords
    assert "No key yet" in form.auth_status.value and "ANTHROPIC_API_KEY" in form.auth_status.value
    assert KEY not in all_widget_state()


def test_env_var_credential_is_named_and_masked(
    panel: ProvidersPanel, cfg: tk.TakopiConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", KEY)
    cfg.add_provider("deepseek", models=["deepseek-chat"])
    form = form_of(panel)
    assert "environment variable DEEPSEEK_API_KEY" in form.auth_status.value
    assert KEY not in form.auth_status.value and KEY[-4:] in form.auth_status.value
    assert panel.provider_list.label == "deepseek · usable"


def test_add_ids_default_to_type_then_numbered(panel: ProvidersPanel, cfg: tk.TakopiConfig) -> None:
    panel.add_button.click()
    panel.add_button.click()
    assert [p.id for p in cfg.providers] == ["openai", "openai-2"]
    assert panel.add_id.placeholder == "openai-3 (default)"
    panel.add_id.value = "work"
    panel.add_button.click()
    assert panel.selected is cfg.get("work")
    assert panel.add_id.value == ""
    panel.add_id.value = "work"  # taken: the error is shown in the panel
    panel.add_button.click()
    assert len(panel.errors) == 1 and "already exists" in panel.errors[0]
    assert "Adding a provider" in panel.error_line.html.value


def test_remove_asks_first(
    panel: ProvidersPanel, cfg: tk.TakopiConfig, memory_keyring: MemoryKeyring
) -> None:
    cfg.add_provider("openai", api_key=KEY)
    cfg.add_provider("zai")
    panel.provider_list.value = cfg.get("openai")
    panel.remove_button.click()
    assert panel.pending_remove is cfg.get("openai")
    assert "Remove openai" in panel.remove_message.value
    assert "openai/…" in panel.remove_message.value
    panel.remove_cancel.click()
    assert "openai" in cfg and panel.pending_remove is None

    panel.remove_button.click()
    panel.remove_confirm.click()
    assert "openai" not in cfg
    assert ("takopi_nb", "openai") not in memory_keyring.passwords
    assert panel.selected is cfg.get("zai")
    assert [label for label, _ in panel.provider_list.options] == ["zai · no models selected"]


def test_managed_provider_is_shown_as_such(tmp_path: Path) -> None:
    admin = tmp_path / "admin" / "providers.json"
    admin.parent.mkdir()
    admin.write_text(
        json.dumps(
            {
                "version": 1,
                "providers": [
                    {
                        "id": "corp",
                        "type": "openai",
                        "base_url": "https://llm.corp.example/v1",
                        "models": ["gpt-5.2"],
                    }
                ],
            }
        )
    )
    config = tk.TakopiConfig(admin_config_files=[str(admin)])
    made = ProvidersPanel(config)
    try:
        assert made.provider_list.label == "corp · no credentials · managed"
        assert made.remove_button.disabled
        form = form_of(made)
        assert form.base_url.disabled and form.id_field.disabled
        assert "managed by your administrator" in form.header.value
        assert form.base_url.value == "https://llm.corp.example/v1"
        made.remove_button.click()  # a forced click still cannot remove it
        assert "corp" in config and "managed" in made.errors[-1]
    finally:
        made.close()


# -- binding: code changes show at once, panel edits write through --------------------------------


def test_code_side_changes_are_reflected(panel: ProvidersPanel, cfg: tk.TakopiConfig) -> None:
    p = cfg.add_provider("openai", id="work")
    assert panel.selected is p
    form = form_of(panel)
    p.models = ["gpt-5.2", "gpt-4o"]
    assert set(form.picker.list.value) == {"gpt-5.2", "gpt-4o"}
    assert panel.provider_list.label == "work · no credentials"
    p.name = "Work account"
    assert form.name_field.value == "Work account"
    assert "Work account" in form.header.value
    p.base_url = "https://proxy.example.com/v1/"
    assert form.base_url.value == "https://proxy.example.com/v1"
    cfg.default_model = "work/gpt-4o"
    assert panel.default_model.value == "work/gpt-4o"
    p.set_api_key(KEY)
    assert panel.provider_list.label == "work · usable"
    assert "••••" in form.auth_status.value
    cfg.rename_provider("work", "main")
    assert form.id_field.value == "main"
    assert panel.provider_list.label == "main · usable"
    assert panel.default_model.value == "main/gpt-4o"
    cfg.add_provider("anthropic")
    assert [p.id for _, p in panel.provider_list.options] == ["main", "anthropic"]
    cfg.remove_provider("anthropic")
    assert [p.id for _, p in panel.provider_list.options] == ["main"]
    assert panel.errors == []


def test_the_provider_list_is_as_tall_as_its_providers(
    panel: ProvidersPanel, cfg: tk.TakopiConfig
) -> None:
    """A few rows at least (one row would be a drop-down), then one per provider up to nine,
    then it scrolls: one provider no longer sits in a box nine rows tall."""
    assert panel.provider_list.rows == 3  # none yet
    cfg.add_provider("openai", id="p0")
    assert panel.provider_list.rows == 3
    heights = []
    for n in range(1, 11):
        cfg.add_provider("openai", id=f"p{n}")
        heights.append(panel.provider_list.rows)
    assert heights == [3, 3, 4, 5, 6, 7, 8, 9, 9, 9]
    assert len(panel.provider_list.options) == 11
    for n in range(10, 3, -1):
        cfg.remove_provider(f"p{n}")
    assert len(panel.provider_list.options) == panel.provider_list.rows == 4
    assert panel.errors == []


def test_panel_edits_write_through(panel: ProvidersPanel, cfg: tk.TakopiConfig) -> None:
    p = cfg.add_provider("opencode")
    form = form_of(panel)
    form.name_field.set_state({"value": "Zen"})
    form.base_url.set_state({"value": "https://zen.proxy.example/v1/"})
    assert (p.name, p.base_url) == ("Zen", "https://zen.proxy.example/v1")
    assert form.base_url.value == "https://zen.proxy.example/v1"  # shows the normalised value
    doc = json.loads(Path(cfg.runtime.store.path).read_text())
    assert doc["providers"][0]["name"] == "Zen"
    assert doc["providers"][0]["base_url"] == "https://zen.proxy.example/v1"
    # opencode: the placeholder is the documented URL, and the help says what empty means.
    assert form.base_url.placeholder == "https://api.opencode.ai/v1"
    assert "Empty uses https://opencode.ai/zen/v1" in form.base_url_help.value


def test_a_bad_value_is_reported_and_the_field_reverts(
    panel: ProvidersPanel, cfg: tk.TakopiConfig
) -> None:
    p = cfg.add_provider("openai", base_url="https://good.example/v1")
    form = form_of(panel)
    form.base_url.set_state({"value": "ftp://nope"})
    assert p.base_url == "https://good.example/v1"
    assert form.base_url.value == "https://good.example/v1"
    assert len(panel.errors) == 1
    assert (
        "Saving the Base URL of 'openai'" in panel.errors[0]
        and "Invalid Base URL" in panel.errors[0]
    )
    panel.error_line.dismiss.click()
    assert panel.errors == [] and panel.error_line.box.children == ()


def test_rename_needs_confirmation(panel: ProvidersPanel, cfg: tk.TakopiConfig) -> None:
    p = cfg.add_provider("openai", id="work", models=["gpt-5.2"])
    cfg.default_model = "work/gpt-5.2"
    form = form_of(panel)
    form.id_field.set_state({"value": "main"})
    assert form.pending_rename == "main"
    assert p.id == "work"  # nothing happens before confirming
    assert "stop working" in form.rename_message.value
    assert "work/…" in form.rename_message.value
    form.rename_cancel.click()
    assert form.pending_rename is None and form.id_field.value == "work" and p.id == "work"

    form.id_field.set_state({"value": "main"})
    form.rename_confirm.click()
    assert p.id == "main" and "main" in cfg and "work" not in cfg
    assert cfg.default_model == "main/gpt-5.2"
    assert panel.default_model.value == "main/gpt-5.2"
    assert "Refs saved elsewhere" in form.rename_result.value
    assert form.pending_rename is None

    cfg.add_provider("anthropic", id="taken")
    panel.provider_list.value = p
    form.id_field.set_state({"value": "taken"})
    form.rename_confirm.click()
    assert p.id == "main" and form.id_field.value == "main"
    assert "already used" in panel.errors[-1]

    # An id that could never be saved is said at once, without asking "Rename main to …?".
    form.id_field.set_state({"value": "Bad Id!"})
    assert form.pending_rename is None and form.id_field.value == "main"
    assert (
        "Invalid provider id 'Bad Id!'" in panel.errors[-1] and "Try 'bad-id'" in panel.errors[-1]
    )


def test_default_and_embedding_pickers_offer_the_right_models(
    panel: ProvidersPanel, cfg: tk.TakopiConfig
) -> None:
    cfg.add_provider("openai", models=["gpt-5.2", "text-embedding-3-small", "my-proxy-model"])
    cfg.add_provider("codex", id="chatgpt", models=["gpt-5.4"])
    chat = [v for _, v in panel.default_model.options]
    embed = [v for _, v in panel.embedding_model.options]
    assert chat == ["", "openai/gpt-5.2", "openai/my-proxy-model", "chatgpt/gpt-5.4"]
    assert embed == ["", "openai/text-embedding-3-small", "openai/my-proxy-model"]
    assert (
        "(not in catalog)"
        in dict((v, k) for k, v in panel.embedding_model.options)["openai/my-proxy-model"]
    )
    panel.embedding_model.set_state(
        {"index": row_index(panel.embedding_model, "openai/text-embedding-3-small")}
    )
    assert cfg.embedding_model == "openai/text-embedding-3-small"
    # A ref set from code that no provider selects is still shown, not silently dropped.
    cfg.default_model = "elsewhere/some-model"
    assert panel.default_model.value == "elsewhere/some-model"
    assert "(no such provider)" in panel.default_model.label
    cfg.default_model = "openai/text-embedding-3-small"
    assert panel.default_model.label.endswith("(an embedding model)")
    assert panel.errors == []


def test_close_unlinks_everything(cfg: tk.TakopiConfig) -> None:
    p = cfg.add_provider("openai", models=["gpt-5.2"])
    made = ProvidersPanel(cfg)
    form = form_of(made)
    assert made.links
    made.close()
    assert list(made.links) == []
    assert made.comm is None and form.comm is None and form.picker.list.comm is None
    p.models = ["gpt-4o"]
    p.name = "after close"
    assert form.picker.list.value == ["gpt-5.2"]
    assert form.name_field.value == ""
    cfg.add_provider("anthropic")
    assert len(made.provider_list.options) == 1
    assert made not in tk.widgets.open_panels()


def test_payload_is_small_with_eight_providers(cfg: tk.TakopiConfig, sent: list[str]) -> None:
    for type_name in tk.PROVIDER_TYPES:
        cfg.add_provider(type_name, models=["x-model"])
    made = ProvidersPanel(cfg)
    try:
        made.provider_list.value = cfg.get("openrouter")  # the biggest catalog list
        size = sum(len(m.encode()) for m in sent)  # bytes on the wire
        assert size < 150_000, size
        assert len(form_of(made).picker.list.rows) == len(tk.get_catalog().models("openrouter"))
    finally:
        made.close()


def test_panel_function_uses_the_process_config() -> None:
    made = tk.panel()
    try:
        assert made.config is tk.get_config()
        assert made in tk.widgets.open_panels()
    finally:
        made.close()


def test_a_failed_save_is_reported_and_the_rows_revert(
    panel: ProvidersPanel, cfg: tk.TakopiConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = cfg.add_provider("openai", models=["gpt-5.2"])
    picker = form_of(panel).picker

    def disk_full(mutation: Any) -> Any:
        raise tk.ConfigError("Could not save providers.json: No space left on device.")

    monkeypatch.setattr(cfg.runtime.store, "transact", disk_full)  # the file write fails
    picker.list.set_state({"value": ["gpt-5.2", "gpt-5"]})
    assert p.models == ["gpt-5.2"]
    assert picker.list.value == ["gpt-5.2"]  # the box unticks itself
    assert panel.errors == [
        "Selecting models of 'openai': Could not save providers.json: No space left on device."
    ]
    assert "No space left" in panel.error_line.html.value


def test_changes_from_another_kernel_show_on_interaction(
    panel: ProvidersPanel, cfg: tk.TakopiConfig
) -> None:
    cfg.add_provider("openai")
    other_kernel = tk.TakopiConfig()  # same file, another config object
    other_kernel.add_provider("zai", models=["glm-4.6"])
    panel.add_id.value = "second"
    panel.add_button.click()
    assert [p.id for _, p in panel.provider_list.options] == ["openai", "zai", "second"]


def test_test_connection_button(panel: ProvidersPanel, cfg: tk.TakopiConfig) -> None:
    from takopi_nb.demo import DemoOpenAIServer

    with DemoOpenAIServer() as server:
        cfg.add_provider("openai", base_url=server.base_url)
        form = form_of(panel)
        form.test_button.click()
        assert form.test_done.wait(60)
        assert "takopi-error" in form.test_result.value  # no key yet: said in plain words
        assert "key" in form.test_result.value.lower()
        assert form.key_input is not None
        form.key_input.set_state({"value": KEY})
        form.test_button.click()
        assert form.test_done.wait(60)
        assert "✓" in form.test_result.value and not form.test_button.disabled
        cfg.rename_provider("openai", "renamed")  # the result spoke of the old provider
        assert form.test_result.value == ""
    assert panel.errors == []
