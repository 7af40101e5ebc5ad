"""Several kernels (processes) sharing one config file: no lost updates, no torn files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
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

# Saves again and again; a hook on os.fsync / os.replace (the standard library, not our code)
# stops the process inside the ``pause_at``-th save of the config file, at ``point``, and says
# so on stdout with the temp file's name: the parent's SIGKILL then lands inside that write.
SAVE_UNTIL_PAUSED = """
import os, sys, time
import takopi_nb as tk
point, pause_at = sys.argv[1], int(sys.argv[2])
prefix = "." + os.path.basename(os.environ["TAKOPI_NB_CONFIG"]) + "."
real_fsync, real_replace = os.fsync, os.replace
saved = 0

def ours(path):
    name = os.path.basename(str(path))
    return name.startswith(prefix) and name.endswith(".tmp")

def pause(tmp):
    print("paused", saved, tmp, flush=True)
    time.sleep(3600)  # the parent kills us here

def fsync(fd):
    real_fsync(fd)  # the bytes are written and on disk; the rename has not happened
    tmp = os.readlink(f"/proc/self/fd/{fd}")
    if point == "fsync" and ours(tmp) and saved + 1 == pause_at:
        pause(tmp)

def replace(src, dst):
    global saved
    if ours(src) and point == "replace" and saved + 1 == pause_at:
        pause(src)
    real_replace(src, dst)
    saved += ours(src)

os.fsync, os.replace = fsync, replace
cfg = tk.get_config()
p = cfg.add_provider("openrouter", id="big")
for n in range(1, 200):
    p.models = [f"vendor/model-{n}-{i}" for i in range(2000)]
print("never paused", saved, flush=True)
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


@pytest.mark.parametrize(("point", "pause_at"), [("fsync", 1), ("replace", 2), ("fsync", 5)])
def test_sigkill_inside_a_save_leaves_the_old_file(
    tmp_path: Path, point: str, pause_at: int
) -> None:
    config_file = tmp_path / "providers.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", SAVE_UNTIL_PAUSED, point, str(pause_at)],
        env=child_env(config_file),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    said = proc.stdout.readline().split()
    before = config_file.read_bytes() if config_file.exists() else None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()

    # The proof that the kill landed inside a write: the child stopped in that save, whose
    # temp file holds the complete new document and was never moved over the config file.
    assert said[:2] == ["paused", str(pause_at - 1)], said
    temp = Path(said[2])
    assert temp.parent == tmp_path and temp.exists()
    written = json.loads(temp.read_text())
    assert proc.returncode == -signal.SIGKILL
    if pause_at == 1:  # the very first save: there was no config file, and there is none
        assert before is None and not config_file.exists()
        assert [p["id"] for p in written["providers"]] == ["big"]
        return
    assert config_file.read_bytes() == before  # untouched by the killed write
    doc = json.loads(before or b"")  # and never torn
    assert doc != written
    models = doc["providers"][0]["models"]
    assert len(models) in (0, 2000)
    assert len({m.split("-")[1] for m in models}) <= 1  # one whole generation


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
