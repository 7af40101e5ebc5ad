"""Storage faults under a process that cannot override file permissions, and killed writers.

Tests (and CI) run as root, for whom chmod does nothing; the scenarios therefore run in a
child process with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped (``setpriv``), or
as they are when the tests already run as a normal user.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import fault_scenarios
from tests.leaks import places_with_secret

REPO = Path(__file__).resolve().parent.parent
DROP = "-dac_override,-dac_read_search"


def _without_permission_override() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    return ["setpriv", f"--bounding-set={DROP}", f"--inh-caps={DROP}"]


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="takopi-faults-"))
    try:
        done = subprocess.run(
            [
                *_without_permission_override(),
                sys.executable,
                "-m",
                "tests.fault_scenarios",
                str(root),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, "PYTHONWARNINGS": "default"},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        yield json.loads(done.stdout)
    finally:
        for path in root.rglob("*"):  # restore what a scenario left unreadable, then remove
            if not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(root, ignore_errors=True)


def raised(report: dict[str, Any]) -> dict[str, tuple[str | None, str]]:
    assert "crashed" not in report, report["crashed"]
    return {what: (kind, message) for what, kind, message in report["raised"]}


def test_an_unreadable_config_file_is_reported_and_never_written_over(
    results: dict[str, Any],
) -> None:
    report = results["unreadable_file"]
    calls = raised(report)
    assert calls["load"] == (None, "")
    assert calls["add"][0] == "ConfigError" and "cannot be read" in calls["add"][1]
    assert any("Permission denied" in n and "chmod" in n for n in report["notices"])
    assert report["file_kept"]


def test_a_read_only_config_folder_is_a_config_error_naming_the_lock(
    results: dict[str, Any],
) -> None:
    report = results["read_only_config_folder"]
    calls = raised(report)
    assert calls["load"] == (None, "")
    kind, message = calls["add"]
    assert kind == "ConfigError" and "providers.json.lock" in message and "writable" in message
    assert report["left"] == []


def test_a_read_only_data_folder_is_a_config_error_when_saving_a_key(
    results: dict[str, Any],
) -> None:
    report = results["read_only_data_folder"]
    kind, message = raised(report)["set_api_key"]
    assert kind == "ConfigError" and "writable" in message
    assert fault_scenarios.KEY not in message


def test_an_unreadable_secrets_file_is_never_rewritten_without_its_keys(
    results: dict[str, Any],
) -> None:
    report = results["unreadable_secrets_file"]
    calls = raised(report)
    assert calls["status"] == (None, "")
    kind, message = calls["set_api_key"]
    assert kind == "ConfigError" and "would lose the keys" in message
    assert report["keys_kept"] == ["a"]


def test_a_file_size_limit_while_saving_is_a_config_error_and_leaves_no_temp_file(
    results: dict[str, Any],
) -> None:
    report = results["file_size_limit"]
    calls = raised(report)
    assert calls["set_api_key"][0] == "ConfigError" and "limit" in calls["set_api_key"][1]
    assert calls["add"][0] == "ConfigError"
    assert not any(name.endswith(".tmp") for name in report["left"])


def test_no_scenario_leaks_the_key(results: dict[str, Any]) -> None:
    assert places_with_secret(fault_scenarios.KEY, texts=[json.dumps(results)]) == []


# -- killed writers ------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, takopi_nb as tk
    cfg = tk.get_config()
    p = cfg.get("x") if "x" in cfg else cfg.add_provider("openai", id="x")
    models = [f"model-{i:05d}" for i in range(4000)]  # a file big enough to be caught mid-write
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        p.models = models[n % 7:]
        p.set_api_key(f"sk-kill-SECRET-{n:012d}")
        print("saved", flush=True)
    """
)


def test_writers_killed_mid_save_leave_no_temp_file_once_the_next_save_runs(
    isolated_env: Path,
) -> None:
    from takopi_nb._config import TakopiConfig

    config = isolated_env / "jupyter-config" / "takopi" / "providers.json"
    env = {
        **os.environ,
        "TAKOPI_NB_CONFIG": str(config),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # keys go to the file too
    }
    folders = [config.parent, isolated_env / "jupyter-data" / "takopi"]
    orphans = 0  # temp files the kills left before the next save (how often a kill hit a write)
    for round_ in range(10):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for _ in range(round_ % 4):
            assert child.stdout.readline() == "saved\n"
        time.sleep(0.003 * round_)  # not a wait for anything: spreads the kills over a save
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        orphans += sum(1 for folder in folders for p in folder.glob(".*.tmp"))
    cfg = TakopiConfig(config_file=str(config), secret_backend="file")
    cfg.get("x").models = ["after"]
    cfg.get("x").set_api_key("sk-after-0123456789")
    left = [p.name for folder in folders for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert left == [], f"{orphans} temp files were orphaned by the kills"
    assert json.loads(config.read_text())["providers"][0]["models"] == ["after"]
    assert places_with_secret("sk-kill-SECRET", dirs=[config.parent]) == []
