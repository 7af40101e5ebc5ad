"""Loading takopi_nb through ``c.InteractiveShellApp.extensions`` (no ``%load_ext``), as
README and docs/jupyterhub.md tell admins to: a profile's ipython_config.py for the terminal
IPython, and the kernel-wide ipython_kernel_config.json for a real ipykernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHECK = """
import json
import takopi_nb as tk
ip = get_ipython()
cfg = tk.get_config()
cfg.add_provider("openai", id="from-profile", models=["m"])
print("RESULT", json.dumps({
    "loaded": sorted(ip.extension_manager.loaded),
    "magic": "takopi" in ip.magics_manager.magics["line"],
    "configurable": cfg in ip.configurables,
    "config_file": str(cfg.runtime.store.path),
}))
"""


def isolated_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        TAKOPI_NB_OFFLINE="1",
    )
    env.pop("TAKOPI_NB_CONFIG", None)  # the profile must be what names the file
    return env


def result_of(output: str) -> dict[str, object]:
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    loaded: dict[str, object] = json.loads(line.removeprefix("RESULT "))
    return loaded


def check_loaded(result: dict[str, object], config_file: Path) -> None:
    assert "takopi_nb" in result["loaded"]  # type: ignore[operator]
    assert result["magic"] is True and result["configurable"] is True
    assert result["config_file"] == str(config_file)
    doc = json.loads(config_file.read_text())
    assert [p["id"] for p in doc["providers"]] == ["from-profile"]


def test_a_terminal_ipython_profile_loads_the_extension(tmp_path: Path) -> None:
    config_file = tmp_path / "team-providers.json"
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text(
        'c.InteractiveShellApp.extensions = ["takopi_nb"]\n'
        f"c.TakopiConfig.config_file = {str(config_file)!r}\n"
    )
    script = tmp_path / "check.ipy"
    script.write_text(CHECK)
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", str(script)],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    check_loaded(result_of(done.stdout), config_file)


def test_a_kernel_wide_config_loads_the_extension_in_a_real_kernel(tmp_path: Path) -> None:
    jupyter_client = pytest.importorskip("jupyter_client.manager")
    config_file = tmp_path / "team-providers.json"
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.json").write_text(
        json.dumps(
            {
                "InteractiveShellApp": {"extensions": ["takopi_nb"]},
                "TakopiConfig": {"config_file": str(config_file)},
            }
        )
    )
    km, kc = jupyter_client.start_new_kernel(
        kernel_name="python3", env=isolated_env(tmp_path), startup_timeout=240
    )
    try:
        chunks: list[str] = []

        def keep(msg: dict[str, object]) -> None:
            content = msg["content"]
            assert isinstance(content, dict)
            if msg["msg_type"] == "stream":
                chunks.append(str(content["text"]))
            elif msg["msg_type"] == "error":
                chunks.append("\n".join(content["traceback"]))

        reply = kc.execute_interactive(CHECK, timeout=240, output_hook=keep)
        assert reply["content"]["status"] == "ok", "".join(chunks)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    check_loaded(result_of("".join(chunks)), config_file)
