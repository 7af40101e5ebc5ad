"""The panel shows what a proxy serves, in a real JupyterLab and headless Chromium.

A loopback OpenAI-compatible proxy serves its own ids; the provider points its Base
URL at it. The picker must list those ids first, with the catalog's metadata where
known and "not in catalog" otherwise, keep catalog-only models reachable, and never
put the key on the page or in the saved notebook.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import stop_lab
from tests.e2e.lab import Lab, open_notebook, run_all, shot, start_lab
from tests.fakes.providers import FakeProvider

pytestmark = pytest.mark.e2e

KEY = "sk-e2e-PROXY-KEY-4d1e8b"
SERVED = ("llama-3.1-8b-instruct", "qwen2.5-coder:7b", "openai/gpt-4o")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, FakeProvider, Path]]:
    work = tmp_path_factory.mktemp("endpoint-picker")
    with FakeProvider(models=SERVED, key=KEY) as proxy:
        lab = start_lab(
            work / "lab",
            {
                "TAKOPI_NB_CATALOG_URL": "http://127.0.0.1:9/api.json",  # the bundled snapshot
                "TAKOPI_NB_CONFIG": str(work / "providers.json"),
                "OPENAI_API_KEY": KEY,  # the kernel's key: never typed into the notebook
            },
        )
        try:
            yield lab, proxy, work / "providers.json"
        finally:
            stop_lab(lab)


def test_the_picker_lists_the_proxy_models_first(
    world: tuple[Lab, FakeProvider, Path], page: Any
) -> None:
    lab, proxy, config_file = world
    lab.write_notebook(
        "proxy.ipynb",
        [
            "import takopi_nb as tk\n"
            "cfg = tk.get_config()\n"
            f"p = cfg.add_provider('openai', id='team-proxy', base_url={proxy.base_url!r},\n"
            "                     models=['qwen2.5-coder:7b'])",
            "from takopi_nb.widgets import ModelPicker\nModelPicker(p)",
        ],
    )
    open_notebook(page, lab, "proxy.ipynb")
    run_all(page)
    picker = page.locator(".takopi-model-picker").first
    # Its three chat models and text-embedding-3-small, which a chat list leaves out.
    expect(picker).to_contain_text("Served by this endpoint: 4 models (3 in the catalog).")
    options = picker.locator("select option")
    expect(options.first).to_contain_text("llama-3.1-8b-instruct")
    labels = [label.replace("\xa0", " ") for label in options.all_inner_texts()]  # padding
    assert [label.split()[0] for label in labels[:3]] == list(SERVED)
    assert "not in catalog" in labels[1] and "128K" in labels[2]
    assert any("catalog only" in label for label in labels[3:])  # still reachable
    assert picker.locator("select option:checked").all_inner_texts()[0].startswith("qwen2.5")
    shot(page, "endpoint-picker")

    assert KEY not in page.content() and KEY not in config_file.read_text()
    assert proxy.requests_to("models")[0].header("Authorization") == f"Bearer {KEY}"
