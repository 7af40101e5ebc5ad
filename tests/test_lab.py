"""`make lab` never changes a tracked file: running the quick-start and saving it leaves git clean.

JupyterLab autosaves what it opens, outputs included. The repository is cloned into a
temporary folder, `make lab` prepares its working copies there, the quick-start copy
is run with nbclient and saved over itself, and `git status` must show nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.test_notebooks import kernel_env

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_running_the_quick_start_from_make_lab_leaves_git_clean(
    tmp_path: Path, isolated_env: Path
) -> None:
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", str(REPO), str(clone), cwd=tmp_path)

    # What `make lab` runs: it opens the working copy, not notebooks/quickstart.ipynb.
    venv = str(Path(sys.executable).parents[1])
    planned = run("make", "-n", "lab", f"VENV={venv}", cwd=clone).splitlines()
    (jupyter,) = [line for line in planned if "/bin/jupyter lab" in line]
    assert jupyter.endswith(" lab/quickstart.ipynb")
    said = run("make", "lab-notebooks", cwd=clone)
    assert "Working copies of the notebooks are in lab/" in said
    copies = sorted(p.name for p in (clone / "lab").glob("*.ipynb"))
    assert copies == sorted(p.name for p in (clone / "notebooks").glob("*.ipynb"))

    copy = clone / "lab" / "quickstart.ipynb"
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(copy.parent)}},  # the kernel's cwd, as in the lab
        store_widget_state=True,
        # As Lab shows it: a streamed answer the kernel flushed in several messages on a busy
        # machine would split "Hello from the demo server" across outputs.
        coalesce_streams=True,
    )
    client.execute(env=kernel_env(isolated_env))
    nbformat.write(notebook, copy)  # what the lab's autosave does
    checkpoints = copy.parent / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "quickstart-checkpoint.ipynb").write_text(copy.read_text())
    assert "Hello from the demo server" in copy.read_text()  # it ran and saved outputs

    assert run("git", "status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
    tracked = nbformat.read(clone / "notebooks" / "quickstart.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in tracked.cells if c.cell_type == "code")

    # A second `make lab` keeps the work saved in the copy.
    run("make", "lab-notebooks", cwd=clone)
    assert "Hello from the demo server" in copy.read_text()
