"""The whole journey in a real JupyterLab, driven in headless Chromium as a person would.

Loopback fakes stand in for models.dev (with hostile model names), an OpenAI-compatible
provider and the ChatGPT sign-in server. Widget-state saving is on, and the API key
typed into the panel must not reach the saved notebook or the page.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import default_routes
from tests.e2e.conftest import stop_lab
from tests.e2e.lab import Lab, open_notebook, run_all, shot, start_lab
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.models_dev import ModelsDevServer, snapshot_doc
from tests.fakes.providers import FakeProvider

pytestmark = pytest.mark.e2e

KEY = "sk-e2e-TYPED-IN-THE-PANEL-7f3a9c"
DEFAULT_KEY = "sk-e2e-DEFAULT-ENDPOINT-KEY-41d2"
# What DEFAULT_KEY can list at api.openai.com (a loopback fake behind TAKOPI_NB_ROUTES).
DEFAULT_IDS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "ft:gpt-4o-mini:acme::a1b2c3")
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
        FakeProvider(key=DEFAULT_KEY, models=DEFAULT_IDS) as openai_host,
    ):
        models_dev.mode, models_dev.status = "error", 503  # offline at first: bundled snapshot
        lab = start_lab(
            work / "lab",
            {
                "TAKOPI_NB_CATALOG_URL": models_dev.api_url,
                "TAKOPI_NB_CODEX_ISSUER": chatgpt.issuer,
                "TAKOPI_NB_CONFIG": str(work / "providers.json"),
                # The kernel's calls to api.openai.com go to a loopback fake; every other
                # default host to a closed port.
                "TAKOPI_NB_ROUTES": default_routes("http://127.0.0.1:9")
                + f" https://api.openai.com={openai_host.url}",
            },
        )
        try:
            yield {"lab": lab, "models_dev": models_dev, "provider": provider, "chatgpt": chatgpt,
                   "config": work / "providers.json", "openai_host": openai_host}  # fmt: skip
        finally:
            stop_lab(lab)


def models_of(config: Path, provider_id: str) -> list[str]:
    for provider in json.loads(config.read_text())["providers"]:
        if provider["id"] == provider_id:
            return list(provider["models"])
    raise AssertionError(f"no provider {provider_id!r} in {config}")


def wait_until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


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
    expect(form.get_by_role("textbox", name="Id", exact=True)).to_have_value("work-openai")
    press_enter_in(form.get_by_role("textbox", name="Base URL"), provider.base_url)
    expect(form.get_by_role("textbox", name="Base URL")).to_have_value(provider.base_url)

    # Type a key: it goes to the secret store and the field empties itself.
    key_field = form.locator("input[type=password]")
    provider.key = KEY  # the loopback provider accepts the key typed here (its model list too)
    press_enter_in(key_field, KEY)
    expect(key_field).to_have_value("")
    expect(form).to_contain_text(re.compile(r"Saved in .*secrets\.json|keyring"))
    expect(form).not_to_contain_text(KEY)
    shot(page, "03-provider-with-key")

    # Search the catalog and tick two models with two plain clicks: both stay selected.
    picker = form.locator(".takopi-model-picker")
    # A Base URL override: what the endpoint serves heads the list, the catalog below it.
    expect(picker).to_contain_text(re.compile(r"Served by this endpoint: 3 models"))
    expect(picker.locator(".tml-group").first).to_have_text("Served by this endpoint (2)")
    expect(picker.locator(".tml-group").nth(1)).to_contain_text("models.dev catalog")
    search = picker.get_by_role("searchbox", name="Search models")
    search.fill("gpt-5")
    picker.get_by_role("checkbox", name="gpt-5.2", exact=True).click()
    picker.get_by_role("checkbox", name="gpt-5-mini", exact=True).click()
    expect(picker.get_by_role("checkbox", name="gpt-5.2", exact=True)).to_be_checked()
    expect(picker).to_contain_text(re.compile(r"2 of \d+ selected"))
    expect(p.locator("select").first).to_contain_text("work-openai · usable")
    # Read back from the kernel: it saved both.
    wait_until(lambda: models_of(world["config"], "work-openai") == ["gpt-5.2", "gpt-5-mini"])
    # Keyboard: arrows move between rows, Space toggles one; details show on focus.
    picker.get_by_role("checkbox", name="gpt-5.2", exact=True).focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused and focused != "gpt-5.2", focused
    expect(picker.locator(".tml-details")).to_contain_text(focused.split(" ")[0])
    shot(page, "04-models-selected")
    # The chip's × removes one model, and only that one.
    picker.get_by_role("button", name="Remove gpt-5-mini").click()
    expect(picker).to_contain_text(re.compile(r"1 of \d+ selected"))
    expect(picker.get_by_role("checkbox", name="gpt-5.2", exact=True)).to_be_checked()
    wait_until(lambda: models_of(world["config"], "work-openai") == ["gpt-5.2"])

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
    rows = picker.locator(".tml-list [role=checkbox]")
    expect(rows).to_have_count(2)
    rows.first.hover()
    details = picker.locator(".tml-details")
    expect(details).to_contain_text("onerror")
    expect(picker).to_contain_text(XSS_IMG.split(" ")[0])
    assert page.evaluate("window.__takopi_pwned") is None
    assert page.locator("img[src=x]").count() == 0
    shot(page, "06-hostile-names-as-text")
    # Bulk "select visible" can be undone.
    picker.get_by_role("button", name=re.compile(r"Select visible")).click()
    expect(picker).to_contain_text(re.compile(r"3 of \d+ selected"))
    picker.get_by_role("button", name="Undo").click()
    expect(picker).to_contain_text(re.compile(r"1 of \d+ selected"))
    search.fill("gpt-5")
    expect(picker).to_contain_text(re.compile(r"1 of \d+ selected"))

    # Rename: the confirmation says refs saved elsewhere break.
    id_field = form.get_by_role("textbox", name="Id", exact=True)
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
    # Signed in: "Reconnect" replaces the primary "Sign in" button.
    expect(form.get_by_role("button", name="Reconnect")).to_be_visible()
    expect(form.get_by_role("button", name="Sign in with ChatGPT")).to_have_count(0)
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
    # Nor the key's tail, the account email or a local path: those are shown as messages.
    private = ["•" * 4 + KEY[-4:], "\\u2022" * 4 + KEY[-4:], "@example.com"]
    private += [str(world["config"]), str(lab.root.parent)]
    found = [p for p in private if p in text]
    assert not found, found

    # Shut the kernel down and reopen the saved notebook: the panel comes back from the
    # saved widget state with no kernel behind it, and says so instead of claiming anything.
    lab.stop_sessions()
    open_notebook(page, lab, "journey.ipynb")
    note = page.locator(".takopi-stale-note").first
    expect(note).to_be_visible()
    expect(note).to_contain_text("Run the cell again")
    note.scroll_into_view_if_needed()
    shown = page.locator(".jp-Notebook").inner_text()  # what is on screen, hidden parts not
    for claim in ("Connected as", "usable", "signed in", "Sign in with ChatGPT", "Test connection"):
        assert claim not in shown, claim
    assert page.locator(".takopi-panel .tml-row:visible").count() == 0  # no dead controls
    shot(page, "11-reopened-without-kernel")
    assert not page.js_errors, page.js_errors


CONTRAST = """
(el) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let back = el;
  while (back && (rgb(getComputedStyle(back).backgroundColor)[3] === 0
                  || getComputedStyle(back).backgroundColor === "transparent")) {
    back = back.parentElement;
  }
  const a = lum(rgb(getComputedStyle(el).color));
  const b = lum(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255,255,255)"));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""

SIDEWAYS = """
(root) => [root, ...root.querySelectorAll("*")]
  .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
  .filter((el) => getComputedStyle(el).overflowX !== "visible")
  .map((el) => `${el.tagName}.${el.className} ${el.scrollWidth}>${el.clientWidth}`)
"""


# A list with two sources, as a provider whose endpoint serves its own models will have.
TWO_LISTS = """\
from takopi_nb.widgets._model_index import index_for, list_row
from takopi_nb.widgets._model_list import ModelList
chat = index_for(tk.get_catalog(), "openai", "chat").models
rows = [list_row(m, "chat", group=0) for m in chat[:2]]
rows += [list_row(m, "chat", group=1) for m in chat[2:5]]
two = ModelList(rows=rows, groups=["served by this endpoint", "models.dev catalog"])
two.add_class("two-lists")
print("ORDER", " ".join(m.id for m in chat[:5]))
two
"""


def set_theme(page: Any, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel:text-is('Settings')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Theme')").click()
    page.locator(f".lm-Menu-itemLabel:text-is('{name}')").click()
    light = name == "JupyterLab Light"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", str(light).lower())


def check_contrast(p: Any, picker: Any) -> None:
    """WCAG AA (4.5:1) for what the issue saw unreadable in JupyterLab Dark."""
    for what, locator in (
        ("selected row", picker.locator(".tml-row.tml-on").first),
        ("active tab", picker.locator(".tml-tab-on").first),
        ("selected provider", p.locator("select").first.locator("option:checked")),
        ("status badge", p.locator(".takopi-provider-form .takopi-badge").first),
    ):
        ratio = locator.evaluate(CONTRAST)
        assert ratio >= 4.5, (what, ratio)


def test_layout_themes_and_money(page: Any, world: dict[str, Any]) -> None:
    lab: Lab = world["lab"]
    provider: FakeProvider = world["provider"]
    provider.reply = ["It costs $2", " and $10 a month; ", "maths still works: $$x^2$$"]
    lab.write_notebook(
        "looks.ipynb",
        [
            "import takopi_nb as tk\n%load_ext takopi_nb\ncfg = tk.get_config()\n"
            "for old in list(cfg.providers):\n    cfg.remove_provider(old.id)\n"
            f"cfg.add_provider('openai', id='money', base_url={provider.base_url!r},\n"
            f"    api_key={provider.key!r}, models=['gpt-5.2', 'gpt-5-mini', 'my-proxy-model'])",
            "%takopi providers",
            "%takopi models money gpt-5.2",
            "%%takopi money/gpt-5.2\nHow much is it?",
            TWO_LISTS,
        ],
    )
    page.set_viewport_size({"width": 1400, "height": 900})
    open_notebook(page, lab, "looks.ipynb")
    for index in range(5):
        run_cell(page, index)
    cells = page.locator(".jp-Notebook .jp-Cell")

    # `$` is money: the table and the reply keep it, MathJax leaves them alone.
    table = cells.nth(2).locator(".jp-OutputArea-output")
    expect(table).to_contain_text("$1.75")
    assert table.locator("mjx-container").count() == 0
    reply = cells.nth(3).locator(".jp-RenderedMarkdown").last
    expect(reply).to_contain_text("It costs $2 and $10 a month")
    expect(reply.locator("mjx-container")).to_have_count(1)  # $$x^2$$ is still maths

    # Two sources, each under its heading; the keyboard moves past the headings.
    two = page.locator(".two-lists")
    expect(two.locator(".tml-group")).to_have_text(
        ["served by this endpoint (2)", "models.dev catalog (3)"]
    )
    order = cells.nth(4).locator(".jp-OutputArea-output").first.inner_text().split()[1:]
    two.get_by_role("checkbox", name=order[0], exact=True).click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # over the catalog's heading
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == order[2]
    page.keyboard.press("Space")
    for model_id in (order[0], order[2]):
        expect(two.get_by_role("checkbox", name=model_id, exact=True)).to_be_checked()
    expect(two.get_by_role("checkbox", name=order[1], exact=True)).not_to_be_checked()
    two.scroll_into_view_if_needed()
    shot(page, "20a-two-lists")

    p = panel(page)
    picker = p.locator(".takopi-model-picker")
    expect(picker.get_by_role("checkbox", name="gpt-5.2", exact=True)).to_be_checked()
    expect(picker).to_contain_text("$1.75 / $14")  # prices in the panel are money too
    assert p.locator("mjx-container").count() == 0
    # Chat and Embeddings: each tab its own filters; a search names the other tab's matches.
    search = picker.get_by_role("searchbox", name="Search models")
    search.fill("embedding")
    hint = picker.get_by_role("button", name=re.compile(r"\d+ match under Embeddings"))
    expect(hint).to_be_visible()
    hint.click()
    expect(picker.get_by_role("tab", name="Embeddings")).to_have_attribute("aria-selected", "true")
    expect(picker.locator(".tml-filters")).not_to_contain_text("tools")
    expect(picker.locator(".tml-list [role=checkbox]").first).to_be_visible()
    picker.locator(".tml-list [role=checkbox]").first.hover()  # details without selecting
    expect(picker.locator(".tml-details")).to_contain_text("Context")
    shot(page, "20b-embeddings-tab")
    picker.get_by_role("tab", name="Chat").click()
    expect(picker.locator(".tml-filters")).to_contain_text("tools")
    search.fill("")
    p.scroll_into_view_if_needed()
    check_contrast(p, picker)
    shot(page, "20-light-1400")

    # 900 px wide with the file browser open: the columns stack, nothing scrolls sideways.
    page.set_viewport_size({"width": 900, "height": 700})
    expect(page.locator("#filebrowser")).to_be_visible()
    form = p.locator(".takopi-provider-form")
    expect(form).to_be_visible()
    page.wait_for_timeout(500)  # one layout pass after the resize
    assert p.locator("select").first.bounding_box()["y"] < form.bounding_box()["y"]
    providers_box = p.locator("select").first.bounding_box()
    assert form.bounding_box()["y"] >= providers_box["y"] + providers_box["height"]
    assert p.evaluate(SIDEWAYS) == []
    p.evaluate("el => el.scrollIntoView({block: 'start'})")
    shot(page, "21a-light-900-stacked")
    for button in p.locator("button:visible").all():
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), button.inner_text()
    picker.scroll_into_view_if_needed()
    shot(page, "21-light-900")

    set_theme(page, "JupyterLab Dark")
    check_contrast(p, picker)
    p.evaluate("el => el.scrollIntoView({block: 'start'})")
    shot(page, "22a-dark-900-stacked")
    picker.scroll_into_view_if_needed()
    shot(page, "22-dark-900")
    page.set_viewport_size({"width": 1400, "height": 900})
    p.scroll_into_view_if_needed()
    shot(page, "23-dark-1400")
    set_theme(page, "JupyterLab Light")
    assert not page.js_errors, page.js_errors


def test_a_default_endpoint_marks_the_models_the_key_can_list(
    page: Any, world: dict[str, Any]
) -> None:
    lab: Lab = world["lab"]
    host: FakeProvider = world["openai_host"]
    lab.write_notebook(
        "marks.ipynb",
        [
            # The key comes from $OPENAI_API_KEY, as an org's spawner would set it.
            "import os, pathlib\nimport takopi_nb as tk\n%load_ext takopi_nb\n"
            "os.environ['OPENAI_API_KEY'] = pathlib.Path('openai-key.txt').read_text()\n"
            "cfg = tk.get_config()\n"
            "for old in list(cfg.providers):\n    cfg.remove_provider(old.id)\n"
            "cfg.add_provider('openai', id='mine', models=['gpt-4o'])",
            "%takopi providers",
            "%takopi models mine gpt-4o --live",
        ],
    )
    (lab.root / "openai-key.txt").write_text(DEFAULT_KEY)
    page.set_viewport_size({"width": 1400, "height": 900})
    open_notebook(page, lab, "marks.ipynb")
    for index in range(3):
        run_cell(page, index)
    p = panel(page)
    picker = p.locator(".takopi-model-picker")
    # No Base URL: api.openai.com (the fake) is asked in the background, and says 6 models.
    expect(picker).to_contain_text("Your key can list 6 models; they are marked ● below.")
    assert host.requests_to("models")[-1].header("host") == "api.openai.com"
    # The text twin says the same.
    text = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-OutputArea-output")
    expect(text).to_contain_text("catalog; available to this key")
    # Narrow to what the key can use: the catalog's four, then what the catalog lacks.
    only = picker.locator(".tml-filter", has_text="available to my key")
    expect(only).to_have_text("● available to my key (5)")
    only.locator("input").check()
    rows = picker.locator(".tml-list [role=checkbox]")
    expect(rows).to_have_count(5)
    expect(picker.locator(".tml-group")).to_have_text(
        ["models.dev catalog (4)", "Also listed for your key, not in the catalog (1)"]
    )
    expect(rows.locator(".tml-mark")).to_have_text(["●"] * 5)
    tuned = picker.get_by_role(
        "checkbox", name="ft:gpt-4o-mini:acme::a1b2c3, available to this key"
    )
    tuned.hover()
    expect(picker.locator(".tml-details")).to_contain_text("available to this key")
    expect(picker.locator(".tml-details")).to_contain_text("not in the models.dev catalog")
    only.locator("input").uncheck()
    # Searching shows marked and unmarked models side by side, ids lined up.
    picker.get_by_role("searchbox", name="Search models").fill("gpt-4o")
    listed = picker.get_by_role("checkbox", name="gpt-4o-mini, available to this key")
    expect(listed.locator(".tml-mark")).to_have_text("●")
    expect(picker.get_by_role("checkbox", name="gpt-4o, available to this key")).to_be_checked()
    unmarked = picker.locator(".tml-list [role=checkbox]:not([aria-label*=available])")
    expect(unmarked.first.locator(".tml-mark")).to_have_text("")
    p.scroll_into_view_if_needed()
    mark = listed.locator(".tml-mark")
    shot(page, "30-marks-light-1400")
    assert mark.evaluate(CONTRAST) >= 3.0  # a graphic beside its text (WCAG 1.4.11)
    page.set_viewport_size({"width": 900, "height": 700})
    page.wait_for_timeout(500)  # one layout pass after the resize
    assert p.evaluate(SIDEWAYS) == []
    picker.scroll_into_view_if_needed()
    shot(page, "31-marks-light-900")
    set_theme(page, "JupyterLab Dark")
    assert mark.evaluate(CONTRAST) >= 3.0
    picker.scroll_into_view_if_needed()
    shot(page, "32-marks-dark-900")
    page.set_viewport_size({"width": 1400, "height": 900})
    p.scroll_into_view_if_needed()
    shot(page, "33-marks-dark-1400")
    set_theme(page, "JupyterLab Light")
    # The key is in neither the page nor the kernel's outputs.
    assert DEFAULT_KEY not in page.content()
    assert DEFAULT_KEY not in lab.log.read_text()
    assert not page.js_errors, page.js_errors
    lab.stop_sessions()
