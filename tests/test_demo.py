"""``demo.sandbox()``: a scratch folder that says why keys are in a file, and is gone at exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """\
import sys
from takopi_nb import demo

cfg = demo.sandbox(*sys.argv[1:])
cfg.add_provider("openai", api_key="sk-sandbox-SECRET-0123")
print(cfg.config_file)
print(cfg.notices[-1])
"""


def run_sandbox(tmp_path: Path, *args: str) -> tuple[Path, str]:
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "TMPDIR": str(temp),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    config_file, notice = result.stdout.strip().splitlines()
    assert "SECRET" not in result.stdout + result.stderr
    return Path(config_file), notice


def test_sandbox_folder_is_removed_at_exit(tmp_path: Path) -> None:
    config_file, notice = run_sandbox(tmp_path)
    folder = config_file.parent
    assert folder.parent == tmp_path / "temp" and folder.name.startswith("takopi-demo-")
    assert not folder.exists()  # the key file went with it
    assert list((tmp_path / "temp").iterdir()) == []
    assert "this demo keeps keys in a scratch file on purpose" in notice
    assert "deleted when Python exits" in notice
    assert "Install" not in notice and "keyring (e.g." not in notice


def test_sandbox_keeps_a_folder_it_was_given(tmp_path: Path) -> None:
    given = tmp_path / "mine"
    config_file, notice = run_sandbox(tmp_path, str(given))
    assert config_file == given / "providers.json" and config_file.is_file()
    keys = list(given.rglob("secrets.json"))
    assert len(keys) == 1 and "kept after exit" in notice and str(keys[0]) in notice
