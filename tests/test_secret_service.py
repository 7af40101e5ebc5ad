"""A real Secret Service (gnome-keyring, unlocked, inside dbus-run-session) round trip."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.secret_service import run_with_secret_service

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
    out, home = run_with_secret_service(SCRIPT, tmp_path)
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
