"""Several kernels (processes) sharing one config file: no lost updates, no torn files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import takopi_nb as tk

pytestmark = pytest.mark.slow

ADD_MANY = """
import sys, takopi_nb as tk
worker, count = int(sys.argv[1]), int(sys.argv[2])
cfg = tk.get_config()
for i in range(count):
    cfg.add_provider("openai", id=f"w{worker}-p{i}", models=[f"m{i}"])
"""

SAVE_FOREVER = """
import sys, takopi_nb as tk
cfg = tk.get_config()
p = cfg.get("big") if "big" in cfg else cfg.add_provider("openrouter", id="big")
n = 0
print("ready", flush=True)
while True:
    n += 1
    p.models = [f"vendor/model-{n}-{i}" for i in range(2000)]
"""


def child_env(config_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TAKOPI_NB_CONFIG"] = str(config_file)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def test_eight_processes_adding_fifty_providers_each(tmp_path: Path) -> None:
    config_file = tmp_path / "providers.json"
    torn: list[str] = []
    reads = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                raw = config_file.read_bytes()
            except FileNotFoundError:
                continue
            reads += 1
            try:
                json.loads(raw)
            except ValueError as exc:
                torn.append(str(exc))

    watcher = threading.Thread(target=watch)
    watcher.start()
    procs = [
        subprocess.Popen([sys.executable, "-c", ADD_MANY, str(w), "50"], env=child_env(config_file))
        for w in range(8)
    ]
    try:
        codes = [p.wait(timeout=240) for p in procs]
    finally:
        stop.set()
        watcher.join()
    assert codes == [0] * 8
    doc = json.loads(config_file.read_text())
    ids = [entry["id"] for entry in doc["providers"]]
    assert len(ids) == 400 and len(set(ids)) == 400
    assert torn == [] and reads > 0


def test_sigkill_mid_save_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    config_file = tmp_path / "providers.json"
    for round_ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVE_FOREVER],
            env=child_env(config_file),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.037 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        doc = json.loads(config_file.read_text())  # never torn
        models = doc["providers"][0]["models"]
        assert len(models) in (0, 2000)
        assert len({m.split("-")[1] for m in models}) <= 1  # one whole generation
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # A killed writer may leave its temp file; it never replaces the real one.
    assert all(name.startswith(".providers.json.") for name in leftovers)


def test_a_kernel_sees_a_provider_added_by_another(tmp_path: Path, monkeypatch) -> None:
    config_file = tmp_path / "providers.json"
    monkeypatch.setenv("TAKOPI_NB_CONFIG", str(config_file))
    cfg = tk.get_config()
    assert list(cfg.providers) == []
    script = (
        "import takopi_nb as tk; "
        "tk.get_config().add_provider('anthropic', id='elsewhere', models=['claude-sonnet-4-5'])"
    )
    subprocess.run([sys.executable, "-c", script], env=child_env(config_file), check=True)
    assert tk.resolve("elsewhere/claude-sonnet-4-5").provider_type == "anthropic"
    assert [p.id for p in tk.get_config().providers] == ["elsewhere"]
    seen: list[int] = []
    cfg.observe(lambda c: seen.append(len(c["new"])), names=["providers"])
    script = "import takopi_nb as tk; tk.get_config().remove_provider('elsewhere')"
    subprocess.run([sys.executable, "-c", script], env=child_env(config_file), check=True)
    with pytest.raises(tk.ModelNotFoundError):
        tk.resolve("elsewhere/claude-sonnet-4-5")
    tk.get_config()
    assert seen == [0]


def test_a_change_by_another_kernel_is_merged_not_overwritten(tmp_path: Path, monkeypatch) -> None:
    config_file = tmp_path / "providers.json"
    monkeypatch.setenv("TAKOPI_NB_CONFIG", str(config_file))
    cfg = tk.get_config()
    mine = cfg.add_provider("openai", id="mine")
    script = "import takopi_nb as tk; tk.get_config().add_provider('deepseek', id='theirs')"
    subprocess.run([sys.executable, "-c", script], env=child_env(config_file), check=True)
    mine.models = ["gpt-5.2"]  # saved on top of the other kernel's change
    doc = json.loads(config_file.read_text())
    assert [e["id"] for e in doc["providers"]] == ["mine", "theirs"]
    assert doc["providers"][0]["models"] == ["gpt-5.2"]
