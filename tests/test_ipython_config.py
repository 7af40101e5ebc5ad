"""Inside IPython the config is a configurable of the shell: %config and profiles apply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import takopi_nb as tk


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    yield ip
    InteractiveShell.clear_instance()


def test_percent_config_reaches_the_process_config(shell: InteractiveShell, tmp_path: Path) -> None:
    cfg = tk.get_config()
    assert cfg in shell.configurables
    target = tmp_path / "team.json"
    shell.run_line_magic("config", f"TakopiConfig.config_file = {str(target)!r}")
    assert cfg.runtime.store.path == target
    shell.run_line_magic("config", "TakopiConfig.secret_backend = 'file'")
    p = cfg.add_provider("openai", id="nb", api_key="sk-nb-0000000000000000", models=["m"])
    assert p.credential_source == "file"
    assert json.loads(target.read_text())["providers"][0]["id"] == "nb"
    assert tk.resolve("nb/m").provider_id == "nb"  # resolve() follows the process config


def test_profile_config_applies_at_creation(shell: InteractiveShell, tmp_path: Path) -> None:
    shell.config.TakopiConfig.config_file = str(tmp_path / "profile.json")
    cfg = tk.get_config()
    assert cfg.runtime.store.path == tmp_path / "profile.json"
