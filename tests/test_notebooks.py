"""The example notebooks run top to bottom offline in a real kernel, and leak no key.

Each notebook is executed with nbclient (widget-state saving on, its default),
written to disk, and the saved file is searched for the keys the run used: one
read by the notebook from the environment, one typed into the panel's key field
the way the browser sends it.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

TYPE_INTO_PANEL = """\
# (added by the test) type a key into the panel's API key field, as the browser sends it
import os
from takopi_nb.widgets import open_panels

_form = open_panels()[0].select("openai")
_form.key_input.set_state({"value": os.environ["PANEL_TYPED_KEY"]})
assert _form.key_input.value == "" and _form.key_input.get_state()["value"] == ""
assert tk.get_config().get("openai").credential_source == "file"
print("typed into the panel:", _form.auth_status.value.count("••••"))
"""

EXPECTED_OUTPUT = {
    "quickstart.ipynb": [
        "Hello from the demo server",
        "You asked: “Write a haiku about sea otters.”",
        "offline: bundled snapshot",
        "openai · usable",
        "typed into the panel: 1",
    ],
    "embeddings.ipynb": ["(3, 8)", "text-embedding-3-small", "which has no embeddings"],
    "dataframe-batch.ipynb": [
        "ChatBatch 6 items: 6 ok, 0 failed; cost $",
        "You asked: “One more question about otters”",
        "whole column: $0.0",
        "cached: True cost: 0.0 texts equal: True",
        "You asked: “Stream this answer”",
        "Usage this session",
        "openai/gpt-4o-mini",
        "application/vnd.jupyter.widget-view+json",
    ],
    "tool-agents.ipynb": [
        "step 1: → to_fahrenheit(celsius=21.0)",
        "rounds: 2 complete: True",
        "LangChain tool call: to_fahrenheit {'celsius': 21.0}",
        "pydantic-ai: **Demo server**",
        "the tool answered “69.8”",
        "key in the LangChain repr: False",
        "key in the pydantic-ai repr: False",
        "tool rounds",
    ],
    "codex-sign-in.ipynb": [
        "signed_in",
        "ada@example.com (Plus)",
        "You asked: “Explain a device-code sign-in in one sentence.”",
        "not signed in",
    ],
}

NO_WIDGETS = {"tool-agents.ipynb"}  # shows text only: there is no widget state to search


def kernel_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        TAKOPI_NB_OFFLINE="1",
        TAKOPI_NB_CONFIG=str(home / "kernel-config" / "providers.json"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        IPYTHONDIR=str(home / "ipython"),
        **extra,
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_notebook_runs_offline_and_leaks_no_key(
    name: str, tmp_path: Path, isolated_env: Path
) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "notebooks are stored without outputs"
    )
    env_key = "sk-envkey-" + secrets.token_hex(12)
    typed_key = "sk-typedkey-" + secrets.token_hex(12)
    if name == "quickstart.ipynb":
        stop_server = len(notebook.cells) - 1
        notebook.cells.insert(stop_server, nbformat.v4.new_code_cell(TYPE_INTO_PANEL))
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
        # Lab shows consecutive prints as one block; the kernel may flush a streamed
        # answer in several messages when the machine is busy.
        coalesce_streams=True,
    )
    client.execute(env=kernel_env(isolated_env, DEMO_API_KEY=env_key, PANEL_TYPED_KEY=typed_key))

    saved = tmp_path / name
    nbformat.write(notebook, saved)
    text = saved.read_text()
    if name not in NO_WIDGETS:
        assert "application/vnd.jupyter.widget-state+json" in text  # widget state was saved
    for expected in EXPECTED_OUTPUT[name]:
        assert expected in text, expected  # the search below looks at real content
    assert env_key not in text
    assert typed_key not in text
    # What the panel showed privately (account email, key tail, local paths) is no widget
    # state: the saved widget state holds none of it (issue 12).
    state = json.dumps(
        notebook.metadata.get("widgets", {}) if name in NO_WIDGETS else notebook.metadata["widgets"]
    )
    private = ["@example.com", "••••", str(isolated_env), str(tmp_path)]
    assert [p for p in private if p in state] == []
    errors = [
        out
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error" or out.get("name") == "stderr"
    ]
    assert errors == [], json.dumps(errors)[:2000]
