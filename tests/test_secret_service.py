"""A real Secret Service (gnome-keyring, unlocked, inside dbus-run-session) round trip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, keyring, takopi_nb as tk
    backend = keyring.get_keyring()
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="ss", api_key="sk-secret-service-0123456789", models=["m"])
    out = {
        "backend": type(backend).__module__ + "." + type(backend).__name__,
        "source": p.credential_source,
        "raw": keyring.get_password("takopi_nb", "ss"),
        "header": tk.resolve("ss/m").headers()["Authorization"],
        "notice": cfg.secret_notice,
    }
    cfg.rename_provider("ss", "ss2")
    out["moved"] = keyring.get_password("takopi_nb", "ss2")
    cfg.remove_provider("ss2")
    out["after_remove"] = keyring.get_password("takopi_nb", "ss2")
    print(json.dumps(out))
    """
)


def test_real_secret_service_round_trip(tmp_path: Path) -> None:
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
    }
    inner = (
        "printf %s test-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f'exec "{sys.executable}" -c "$TAKOPI_SCRIPT"'
    )
    env["TAKOPI_SCRIPT"] = SCRIPT
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["backend"] == "keyring.backends.SecretService.Keyring"
    assert out["source"] == "keyring" and out["notice"] is None
    assert out["raw"] == "sk-secret-service-0123456789"
    assert out["header"] == "Bearer sk-secret-service-0123456789"
    assert out["moved"] == "sk-secret-service-0123456789" and out["after_remove"] is None
    config_dir = home / "jupyter-config"
    assert not any(
        b"sk-secret-service" in f.read_bytes() for f in config_dir.rglob("*") if f.is_file()
    )
    assert not (home / "jupyter-data" / "takopi" / "secrets.json").exists()
