"""A real JupyterLab on 127.0.0.1 with isolated Jupyter dirs, and helpers to drive it."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Lab:
    base: str
    token: str
    root: Path
    dirs: dict[str, Path]
    proc: subprocess.Popen[bytes]
    log: Path
    log_handle: Any = None

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"token {self.token}"}
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        nb = {
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
                 "execution_count": None}
                for src in cells
            ],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                               "language": "python"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }  # fmt: skip
        path = self.root / name
        path.write_text(json.dumps(nb))
        return path

    def stop_sessions(self) -> None:
        for session in self.api("GET", "/api/sessions").json():
            self.api("DELETE", f"/api/sessions/{session['id']}")


def start_lab(work: Path, extra_env: dict[str, str]) -> Lab:
    dirs = {
        name: work / name
        for name in ("cfg", "data", "runtime", "ipython", "lab-settings", "lab-ws", "nb", "cache")
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    # Widget-state saving on: the secret must still never reach the saved notebook.
    manager = dirs["lab-settings"] / "@jupyter-widgets" / "jupyterlab-manager"
    manager.mkdir(parents=True)
    (manager / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))
    notif = dirs["lab-settings"] / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    token = secrets.token_hex(16)
    port = free_port()
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["cfg"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["lab-settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["lab-ws"]),
        TAKOPI_NB_CACHE_DIR=str(dirs["cache"]),
        # Never the user's real keyring: the kernel falls back to the private file.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    env.update(extra_env)
    log = work / "lab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={dirs['nb']}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_handle = log.open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log_handle, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/status?token={token}", timeout=2).status_code == 200:
                return Lab(base, token, dirs["nb"], dirs, proc, log, log_handle)
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    proc.terminate()
    proc.wait()
    log_handle.close()
    raise RuntimeError(f"JupyterLab did not start: {log.read_text()[-3000:]}")


KERNEL_IDLE = re.compile(r"Python 3 \(ipykernel\) \| Idle")


def open_notebook(page: Any, lab: Lab, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{lab.base}/lab/tree/{name}?reset&token={lab.token}")
    expect(page.locator("#jp-main-statusbar")).to_contain_text(KERNEL_IDLE, timeout=90_000)


def run_all(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
    # The status bar reads "Idle" between two cells (and before the first one starts): done
    # is when every code cell has its execution count.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                 .every((p) => /\\[\\d+\\]/.test(p.textContent))""",
        timeout=180_000,
    )
    expect(page.locator("#jp-main-statusbar")).to_contain_text(KERNEL_IDLE, timeout=90_000)


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def shot_of(locator: Any, name: str) -> Path:
    """A screenshot of one element (an output, the panel), scrolled into view first. The
    window grows to hold a tall element whole (Lab's bars would cover part of it), then
    goes back to its size."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page = locator.page
    size = page.viewport_size
    box = locator.bounding_box()
    if box is not None and box["height"] > size["height"] - 200:
        page.set_viewport_size({"width": size["width"], "height": int(box["height"]) + 300})
    try:
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path
