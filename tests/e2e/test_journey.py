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

from tests.conftest import default_routes
from tests.e2e.conftest import stop_lab
from tests.e2e.lab import Lab, open_notebook, run_all, shot, shot_of, start_lab
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.models_dev import ModelsDevServer, snapshot_doc
from tests.fakes.providers import FakeProvider
from tests.waiting import wait_for

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
    # Lab renders only the cells on screen: the element's own picture waits for it.
    shot_of(page.locator(".takopi-panel").first, "01-quickstart-panel")
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
    wait_for(lambda: models_of(world["config"], "work-openai") == ["gpt-5.2", "gpt-5-mini"])
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
    wait_for(lambda: models_of(world["config"], "work-openai") == ["gpt-5.2"])

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


# Colours as the browser computes them: rgb()/rgba(), or color(srgb r g b / a) (0-1) for
# color-mix(). Text with alpha is blended over its background first.
COLOURS = """
  const rgba = (s) => {
    const n = (s.match(/[\\d.]+/g) || []).map(Number);
    const k = s.startsWith("color(") ? 255 : 1;
    return [n[0] * k, n[1] * k, n[2] * k, n.length > 3 ? n[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const backOf = (el) => {
    let back = el;
    while (back && rgba(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
    return back ? rgba(getComputedStyle(back).backgroundColor) : [255, 255, 255, 1];
  };
  const ratio = (el) => {
    const b = backOf(el);
    const f = rgba(getComputedStyle(el).color);
    const mixed = [0, 1, 2].map((i) => f[i] * f[3] + b[i] * (1 - f[3]));
    const [x, y] = [lum(mixed), lum(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
"""
CONTRAST = "(el) => {" + COLOURS + "return ratio(el); }"
# Every element showing text of its own, below WCAG AA (4.5:1; 3:1 for large text).
LOW_CONTRAST = (
    "(root) => {"
    + COLOURS
    + """
  const low = [];
  for (const ours of root.querySelectorAll(".takopi-panel, .takopi-table, .takopi-help, .takopi-lines")) {
    for (const el of [ours, ...ours.querySelectorAll("*")]) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || !el.checkVisibility() || el.closest(":disabled, [disabled], option")) continue;
      const style = getComputedStyle(el);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const r = ratio(el);
      if (r < (large ? 3 : 4.5)) low.push(`${el.className}: ${el.textContent.trim().slice(0, 40)} (${r.toFixed(2)})`);
    }
  }
  return low;
}"""
)

SIDEWAYS = """
(root) => [root, ...root.querySelectorAll("*")]
  .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
  .filter((el) => getComputedStyle(el).overflowX !== "visible")
  // cut short with … on purpose (the full text is its tooltip), not content scrolled away
  .filter((el) => getComputedStyle(el).textOverflow !== "ellipsis" || !el.title)
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
    # Lab shows its splash (the logo and moons) over the page while a theme loads: a picture
    # taken then is of the splash (seen in a 900 px dark screenshot).
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)


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


# Every text output of the magic, shown at both widths in both themes.
SCREENS = [
    "%takopi list",
    "%takopi help",
    "%takopi models money gpt-5",
    "%takopi models money gpt-5 --live",  # (the catalog also holds the hostile names)
    "%takopi models",
    "%takopi usage",
    "%takopi resolve money/gpt-5.2",
    "%takopi import",
    "%takopi models nosuch",  # last: Run All stops at an error
]
OURS = ".takopi-panel, .takopi-table, .takopi-help, .takopi-lines"
# Our outputs that stick out of their output area (cut off at its edge), and the ones that
# need a sideways scroll of their own to be read whole (by their first line).
CUT = f"""
(root) => [...root.querySelectorAll("{OURS}")]
  .filter((el) => el.checkVisibility())
  .filter((el) => el.getBoundingClientRect().right
                  > el.closest(".jp-OutputArea-output").getBoundingClientRect().right + 1)
  .map((el) => el.textContent.slice(0, 40))
"""
SCROLLING = f"""
(root) => [...root.querySelectorAll("{OURS}")]
  .filter((el) => el.checkVisibility() && el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.firstElementChild.textContent)
"""
# The model lists whose height is not their rows' (at least 3, at most 12, 28 px each): the
# list shrinks to a short list and scrolls past twelve rows. No search is typed at the time.
ROW_H = 28
UNFITTED = f"""
(root) => [...root.querySelectorAll(".tml-list")]
  .filter((el) => el.checkVisibility())
  .filter((el) => el.clientHeight !== {ROW_H} * Math.min(12, Math.max(3,
                  el.firstElementChild.offsetHeight / {ROW_H})))
  .map((el) => `${{el.clientHeight}} px for ${{el.firstElementChild.offsetHeight / {ROW_H}}} rows`)
"""


def screen_name(source: str) -> str:
    return "-".join(source.replace("%takopi", "").replace("/", "_").split())


def test_every_screen_at_both_widths_in_both_themes(page: Any, world: dict[str, Any]) -> None:
    lab: Lab = world["lab"]
    provider: FakeProvider = world["provider"]
    provider.reply = "Hi there."
    setup = (
        "import takopi_nb as tk\n%load_ext takopi_nb\ncfg = tk.get_config()\n"
        "for old in list(cfg.providers):\n    cfg.remove_provider(old.id)\n"
        f"cfg.add_provider('openai', id='money', base_url={provider.base_url!r},\n"
        f"    api_key={provider.key!r}, models=['gpt-5.2', 'gpt-5-mini', 'my-proxy-model'])\n"
        "cfg.add_provider('anthropic', id='claude')\ncfg.add_provider('codex', id='chatgpt')\n"
        "cfg.default_model = 'money/gpt-5.2'\n"
        "tk.resolve('money/gpt-5.2').chat('Hello')"
    )
    # Two panels: the first shows the form's states, the second a ChatGPT sign-in under way.
    panels = ["%takopi providers", "%takopi providers"]
    lab.write_notebook("screens.ipynb", [setup, *panels, *SCREENS])
    page.set_viewport_size({"width": 1400, "height": 900})
    open_notebook(page, lab, "screens.ipynb")
    run_all(page)
    cells = page.locator(".jp-Notebook .jp-Cell")
    p = panel(page)
    expect(p).to_be_visible()
    error = cells.nth(len(SCREENS) + 2).locator(".jp-OutputArea")
    expect(error).to_contain_text("UsageError: No provider or provider type 'nosuch'")
    expect(page.locator(".jp-OutputArea-output", has_text="Traceback")).to_have_count(0)

    # An Anthropic provider without a key says where one can go.
    providers = p.locator("select").first
    providers.select_option("claude · no models selected")
    form = p.locator(".takopi-provider-form")
    expect(form.get_by_role("textbox", name="Id", exact=True)).to_have_value("claude")
    expect(form).to_contain_text("No key yet. Paste one above, or set the environment variable")
    shot_of(form, "31-anthropic-without-key")
    # The Base URL moves to another host: the key is held back until confirmed.
    providers.select_option("money · usable")
    expect(form.get_by_role("textbox", name="Id", exact=True)).to_have_value("money")
    press_enter_in(form.get_by_role("textbox", name="Base URL"), "http://localhost:1/v1")
    send = form.get_by_role("button", name="Send key to new host")
    expect(send).to_be_visible()
    assert send.bounding_box()["width"] < form.bounding_box()["width"] / 2  # a button, not a bar
    expect(form).to_contain_text("The key is held back")
    form.get_by_role("button", name="Test connection").click()
    expect(form.get_by_role("button", name="Test connection")).to_be_enabled()
    # And the panel's error line, and the remove confirmation.
    press_enter_in(form.get_by_role("textbox", name="Id", exact=True), "Bad Id!")
    expect(p.locator(".takopi-error", has_text="Invalid provider id 'Bad Id!'")).to_be_visible()
    p.get_by_role("button", name="Remove…").click()
    expect(p).to_contain_text("Remove money")
    # The device-code view, in the second panel.
    second = page.locator(".takopi-panel").filter(has_text="LLM providers").nth(1)
    second.locator("select").first.select_option("chatgpt · not signed in")
    sign_in = second.locator(".takopi-provider-form")
    expect(sign_in.get_by_role("textbox", name="Id", exact=True)).to_have_value("chatgpt")
    sign_in.get_by_role("button", name="Sign in with ChatGPT").click()
    device = sign_in.locator(".takopi-device-code")
    expect(device).to_contain_text(re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4,5}"))
    # Under way, a second sign-in is not offered (the view's own Cancel stops this one).
    expect(sign_in.get_by_role("button", name="Sign in with ChatGPT")).to_be_disabled()
    # A model id the catalog lacks says so in its row at every width.
    proxy_row = form.get_by_role("checkbox", name="my-proxy-model, not in catalog")

    notebook = page.locator(".jp-Notebook")
    for theme, width in (("light", 1400), ("light", 900), ("dark", 900), ("dark", 1400)):
        if theme == "dark" and page.locator("body").get_attribute("data-jp-theme-light") == "true":
            set_theme(page, "JupyterLab Dark")
        # Tall, so that each output is on screen whole for its picture.
        page.set_viewport_size({"width": width, "height": 2600})
        page.wait_for_timeout(500)  # one layout pass after the resize
        for index, source in enumerate(SCREENS, 1):
            output = cells.nth(index + 2).locator(".jp-OutputArea")
            shot_of(output, f"30-{theme}-{width}-{index:02d}-{screen_name(source)}")
        shot_of(p, f"31-{theme}-{width}-panel-states")
        shot_of(sign_in, f"32-{theme}-{width}-device-code")
        assert notebook.evaluate(CUT) == [], (theme, width)
        assert notebook.evaluate(UNFITTED) == [], (theme, width)
        # Narrow, the features column (which says "not in catalog") gives way to a badge.
        if width < 1000:
            expect(proxy_row.locator(".tml-nib")).to_be_visible()
            expect(proxy_row.locator(".tml-flags")).to_be_hidden()
        else:
            expect(proxy_row.locator(".tml-nib")).to_be_hidden()
            expect(proxy_row.locator(".tml-flags")).to_have_text("not in catalog")
        # Nine columns of numbers: at 900 px the usage table scrolls in its own box, as a
        # DataFrame does; every other output fits.
        allowed = {"Usage this session"} if width < 1000 else set()
        assert set(notebook.evaluate(SCROLLING)) <= allowed, (theme, width)
        low = notebook.evaluate(LOW_CONTRAST)
        assert low == [], (theme, width)
        assert notebook.locator(f":is({OURS}) mjx-container").count() == 0
    # The Codex list (a few rows) keeps its height while a search narrows it.
    codex_list = sign_in.locator(".tml-list")
    fitted = codex_list.evaluate("el => el.clientHeight")
    assert fitted < 12 * ROW_H
    sign_in.get_by_role("searchbox", name="Search models").fill("mini")
    expect(sign_in.locator(".tml-count")).to_contain_text("match")
    assert codex_list.evaluate("el => el.firstElementChild.offsetHeight") < fitted
    assert codex_list.evaluate("el => el.clientHeight") == fitted
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
