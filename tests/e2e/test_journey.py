"""The whole journey in a real JupyterLab, driven in headless Chromium as a person would.

Loopback fakes stand in for models.dev (with hostile model names), an OpenAI-compatible
provider and the ChatGPT sign-in server. Widget-state saving is on, and the API key
typed into the panel must not reach the saved notebook or the page.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import stop_lab
from tests.e2e.lab import Lab, open_notebook, run_all, shot, start_lab
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.models_dev import ModelsDevServer, snapshot_doc
from tests.fakes.providers import FakeProvider

pytestmark = pytest.mark.e2e

KEY = "sk-e2e-TYPED-IN-THE-PANEL-7f3a9c"
XSS_IMG = '<img src=x onerror="window.__takopi_pwned=1">'
XSS_SCRIPT = "<script>window.__takopi_pwned=2</script>"
REPO = Path(__file__).resolve().parents[2]


def hostile_catalog() -> bytes:
    """The real snapshot plus two openai models whose names are markup."""
    doc = snapshot_doc()
    template = dict(doc["openai"]["models"]["gpt-5.2"])
    for model_id, name in (("evil-img", f"Evil {XSS_IMG}"), ("evil-script", f"Evil {XSS_SCRIPT}")):
        doc["openai"]["models"][model_id] = {**template, "id": model_id, "name": name}
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("journey")
    with (
        ModelsDevServer(hostile_catalog()) as models_dev,
        FakeProvider(models=("gpt-5.2", "gpt-5-mini")) as provider,
        FakeChatGPT(interval="1") as chatgpt,
    ):
        models_dev.mode, models_dev.status = "error", 503  # offline at first: bundled snapshot
        lab = start_lab(
            work / "lab",
            {
                "TAKOPI_NB_CATALOG_URL": models_dev.api_url,
                "TAKOPI_NB_CODEX_ISSUER": chatgpt.issuer,
                "TAKOPI_NB_CONFIG": str(work / "providers.json"),
            },
        )
        try:
            yield {"lab": lab, "models_dev": models_dev, "provider": provider, "chatgpt": chatgpt,
                   "config": work / "providers.json"}  # fmt: skip
        finally:
            stop_lab(lab)


def panel(page: Any) -> Any:
    # The outermost panel; the provider form inside it carries the same class.
    return page.locator(".takopi-panel").filter(has_text="LLM providers").first


def press_enter_in(locator: Any, text: str) -> None:
    locator.fill(text)
    locator.press("Enter")


def run_cell(page: Any, index: int) -> None:
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def test_quickstart_notebook_runs_top_to_bottom(page: Any, world: dict[str, Any]) -> None:
    lab: Lab = world["lab"]
    shutil.copy(REPO / "notebooks" / "quickstart.ipynb", lab.root / "quickstart.ipynb")
    open_notebook(page, lab, "quickstart.ipynb")
    run_all(page)
    expect(page.locator(".takopi-panel").first).to_be_visible()
    outputs = page.locator(".jp-OutputArea-output")
    expect(outputs.filter(has_text="Traceback")).to_have_count(0)
    expect(page.locator(".jp-RenderedMarkdown").last).not_to_be_empty()
    shot(page, "01-quickstart-end")
    page.locator(".takopi-panel").first.scroll_into_view_if_needed()
    shot(page, "01-quickstart-panel")
    lab.stop_sessions()


def test_the_journey(page: Any, world: dict[str, Any]) -> None:
    lab: Lab = world["lab"]
    provider: FakeProvider = world["provider"]
    chatgpt: FakeChatGPT = world["chatgpt"]
    models_dev: ModelsDevServer = world["models_dev"]
    lab.write_notebook(
        "journey.ipynb",
        [
            "import takopi_nb as tk\n%load_ext takopi_nb",
            "%takopi providers",
            'm = tk.resolve("work-openai/gpt-5.2")\nprint("REPLY:", m.chat("Say hello"))',
        ],
    )
    open_notebook(page, lab, "journey.ipynb")
    run_cell(page, 0)
    run_cell(page, 1)
    p = panel(page)
    expect(p.get_by_text("No providers yet")).to_be_visible()
    shot(page, "02-empty-panel")

    # Add an OpenAI provider and point it at the loopback provider.
    p.get_by_placeholder("openai (default)").fill("work-openai")
    p.get_by_role("button", name="Add provider").click()
    form = p.locator(".takopi-provider-form")
    expect(form.get_by_role("textbox", name="Id")).to_have_value("work-openai")
    press_enter_in(form.get_by_role("textbox", name="Base URL"), provider.base_url)
    expect(form.get_by_role("textbox", name="Base URL")).to_have_value(provider.base_url)

    # Type a key: it goes to the secret store and the field empties itself.
    key_field = form.locator("input[type=password]")
    press_enter_in(key_field, KEY)
    expect(key_field).to_have_value("")
    expect(form).to_contain_text(re.compile(r"Saved in .*secrets\.json|keyring"))
    expect(form).not_to_contain_text(KEY)
    shot(page, "03-provider-with-key")

    # Search the catalog and select two models: the provider turns usable.
    picker = form.locator(".takopi-model-picker")
    search = picker.get_by_placeholder(re.compile("Search models"))
    search.fill("gpt-5")
    rows = picker.locator("select[multiple]")
    expect(rows.locator("option", has_text="gpt-5.2").first).to_be_attached()
    values = rows.locator("option").evaluate_all(
        "els => els.filter(e => /^(gpt-5\\.2|gpt-5-mini)\\s/.test(e.textContent.trim()))"
        ".map(e => e.value)"
    )
    assert len(values) == 2, values
    rows.select_option(values)
    expect(picker).to_contain_text(re.compile(r"2 of \d+ selected"))
    expect(p.locator("select").first).to_contain_text("work-openai · usable")
    shot(page, "04-models-selected")

    # Resolve a ref and chat in a cell, against the loopback provider.
    run_cell(page, 2)
    expect(page.locator(".jp-OutputArea-output", has_text="REPLY:")).to_be_visible()
    assert provider.requests_to("chat/completions")
    assert provider.requests_to("chat/completions")[-1].header("authorization") == (f"Bearer {KEY}")
    shot(page, "05-chat-reply")

    # Refresh the catalog: from the bundled snapshot to models.dev.
    expect(picker).to_contain_text(re.compile(r"bundled|offline", re.I))
    models_dev.mode = "ok"
    picker.get_by_role("button", name="Refresh").click()
    expect(picker).to_contain_text(re.compile(r"Catalog: 127\.0\.0\.1:\d+, (just now|\d+ s)"))
    shot(page, "05b-catalog-refreshed")

    # Hostile names (served by the refreshed catalog) are shown as text and run nothing.
    search.fill("evil")
    expect(rows.locator("option")).to_have_count(2)
    rows.locator("option").first.click()
    details = picker.get_by_text("onerror", exact=False)
    expect(details.first).to_be_visible()
    expect(picker).to_contain_text(XSS_IMG.split(" ")[0])
    assert page.evaluate("window.__takopi_pwned") is None
    assert page.locator("img[src=x]").count() == 0
    shot(page, "06-hostile-names-as-text")
    picker.get_by_role("button", name="Clear visible").click()
    search.fill("gpt-5")
    expect(picker).to_contain_text(re.compile(r"2 of \d+ selected"))

    # Rename: the confirmation says refs saved elsewhere break.
    id_field = form.get_by_role("textbox", name="Id")
    press_enter_in(id_field, "openai-main")
    expect(form).to_contain_text(re.compile(r"saved ref.*stop working"))
    shot(page, "08-rename-confirmation")
    form.get_by_role("button", name="Rename").click()
    expect(p.locator("select").first).to_contain_text("openai-main")
    assert json.loads(world["config"].read_text())["providers"][0]["id"] == "openai-main"

    # Codex: Sign in with ChatGPT, approve on the fake, see "Connected as".
    p.get_by_role("combobox", name="Type").first.select_option(label="Codex (ChatGPT OAuth)")
    p.get_by_placeholder("codex (default)").fill("chatgpt")
    p.get_by_role("button", name="Add provider").click()
    form = p.locator(".takopi-provider-form")
    form.get_by_role("button", name="Sign in with ChatGPT").click()
    device = form.locator(".takopi-device-code")
    expect(device).to_contain_text(re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4,5}"))
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4,5}", device.inner_text())
    assert code is not None
    expect(device.locator("a")).to_have_attribute("href", f"{chatgpt.issuer}/codex/device")
    shot(page, "09-device-code")
    chatgpt.approve(code.group(0))
    expect(form).to_contain_text(re.compile(r"Connected as .+@"), timeout=30_000)
    shot(page, "10-connected")

    # Save with widget-state saving on: the key is in neither the file nor the page.
    page.keyboard.press("Control+s")
    saved = lab.root / "journey.ipynb"
    expect(page.locator(".jp-mod-dirty")).to_have_count(0)
    text = saved.read_text()
    assert "application/vnd.jupyter.widget-state+json" in text
    assert KEY not in text
    assert KEY not in page.content()
    assert KEY not in lab.log.read_text()
    assert KEY not in world["config"].read_text()
    assert not page.js_errors, page.js_errors
