"""Storage faults that only show without root's powers; run by test_storage_faults.py.

Run as ``python -m tests.fault_scenarios ROOT`` in a process that cannot override file
permissions (a non-root user, or root with CAP_DAC_OVERRIDE dropped by ``setpriv``).
Each scenario builds its own folders under ROOT, acts through the public API, and
reports what escaped: ``{"name": {"raised": [...], "notices": [...], ...}}`` on stdout.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

KEY = "sk-fault-SECRET-0123456789abcdef"


def _config(root: Path, name: str) -> tuple[Any, Path, Path]:
    """A config whose file and secrets live in ``root/name``; keys go to the secrets file."""
    from takopi_nb._config import TakopiConfig

    base = root / name
    (base / "config").mkdir(parents=True)
    (base / "data").mkdir()
    os.environ["JUPYTER_DATA_DIR"] = str(base / "data")
    cfg = TakopiConfig(
        config_file=str(base / "config" / "providers.json"),
        admin_config_files=[],
        secret_backend="file",
    )
    return cfg, base / "config", base / "data"


def _attempt(report: dict[str, Any], what: str, call: Callable[[], object]) -> None:
    """Run ``call``; record the class of anything raised (project errors expected)."""
    import takopi_nb as tk

    try:
        call()
    except tk.TakopiError as exc:
        report["raised"].append([what, type(exc).__name__, str(exc)])
    except BaseException as exc:
        report["raised"].append([what, "ESCAPED " + type(exc).__name__, str(exc)])
    else:
        report["raised"].append([what, None, ""])


def unreadable_file(root: Path, report: dict[str, Any]) -> None:
    cfg, folder, _ = _config(root, "unreadable")
    path = folder / "providers.json"
    path.write_text(json.dumps({"version": 1, "providers": [{"id": "a", "type": "openai"}]}))
    path.chmod(0)
    _attempt(report, "load", cfg.reload_if_changed)
    _attempt(report, "add", lambda: cfg.add_provider("openai", id="b"))
    report["notices"] = list(cfg.notices)
    path.chmod(0o600)
    report["file_kept"] = json.loads(path.read_text())["providers"][0]["id"] == "a"


def read_only_config_folder(root: Path, report: dict[str, Any]) -> None:
    cfg, folder, _ = _config(root, "ro-config")
    folder.chmod(0o555)
    _attempt(report, "load", cfg.reload_if_changed)
    _attempt(report, "add", lambda: cfg.add_provider("openai", id="b"))
    folder.chmod(0o755)
    report["left"] = sorted(p.name for p in folder.iterdir())


def read_only_data_folder(root: Path, report: dict[str, Any]) -> None:
    cfg, _, data = _config(root, "ro-data")
    provider = cfg.add_provider("openai", id="a")
    data.chmod(0o555)
    _attempt(report, "set_api_key", lambda: provider.set_api_key(KEY))
    data.chmod(0o755)
    report["left"] = sorted(str(p.relative_to(data)) for p in data.rglob("*"))


def unreadable_secrets_file(root: Path, report: dict[str, Any]) -> None:
    cfg, _, data = _config(root, "ro-secrets")
    provider = cfg.add_provider("openai", id="a")
    other = cfg.add_provider("openai", id="b")
    provider.set_api_key(KEY)
    secrets = data / "takopi" / "secrets.json"
    secrets.chmod(0)
    _attempt(report, "status", lambda: provider.status)
    _attempt(report, "set_api_key", lambda: other.set_api_key(KEY[::-1]))
    secrets.chmod(0o600)
    report["keys_kept"] = sorted(json.loads(secrets.read_text())["secrets"])


def file_size_limit(root: Path, report: dict[str, Any]) -> None:
    cfg, _, data = _config(root, "fsize")
    provider = cfg.add_provider("openai", id="a")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, hard))
    try:
        _attempt(report, "set_api_key", lambda: provider.set_api_key(KEY))
        _attempt(report, "add", lambda: cfg.add_provider("anthropic", id="b"))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    folder = data / "takopi"
    report["left"] = sorted(p.name for p in folder.iterdir()) if folder.exists() else []


SCENARIOS = {
    f.__name__: f
    for f in (
        unreadable_file,
        read_only_config_folder,
        read_only_data_folder,
        unreadable_secrets_file,
        file_size_limit,
    )
}


def main(root: Path) -> None:
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    results: dict[str, Any] = {}
    for name, scenario in SCENARIOS.items():
        report: dict[str, Any] = {"raised": []}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                scenario(root, report)
            except BaseException as exc:  # the scenario itself broke: report, go on
                report["crashed"] = f"{type(exc).__name__}: {exc}"
        report["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
        results[name] = report
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
