"""Run a Python script against a real Secret Service: gnome-keyring, unlocked, in dbus-run-session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def run_with_secret_service(
    script: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[dict[str, Any], Path]:
    """Run ``script`` in a private D-Bus session with an unlocked gnome-keyring.

    Returns the JSON object the script printed last and the HOME it ran with.
    Skips without the tools (fails on CI, which must install them).
    """
    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(t)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {missing} (apt: dbus-daemon gnome-keyring)")
        pytest.skip(f"needs {missing}")
    home = tmp_path / "ss-home"
    runtime = tmp_path / "ss-xdg-runtime"
    for d in (home, runtime):
        d.mkdir(mode=0o700)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        **(extra_env or {}),
    }
    inner = (
        "printf %s test-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f'exec "{sys.executable}" -c "$TAKOPI_SCRIPT"'
    )
    env["TAKOPI_SCRIPT"] = script
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out, home
