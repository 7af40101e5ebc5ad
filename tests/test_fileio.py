"""atomic_write_bytes and file_lock when things go wrong: real failures, real other processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from takopi_nb._errors import ConfigError, TakopiError
from takopi_nb._fileio import atomic_write_bytes, file_lock

REPO = Path(__file__).resolve().parents[1]


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# A write the operating system refuses halfway: the file-size limit (RLIMIT_FSIZE) makes the
# temp file's write fail with EFBIG after the first bytes (SIGXFSZ ignored, so it is an error).
WRITE_OVER_LIMIT = """
import resource, signal, sys
from pathlib import Path
from takopi_nb._fileio import atomic_write_bytes
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    atomic_write_bytes(Path(sys.argv[1]), b"new" * 100_000)
except OSError as exc:
    print("failed", exc.errno)
"""


def test_a_write_that_fails_midway_removes_its_temp_file_and_keeps_the_old(
    tmp_path: Path,
) -> None:
    target = tmp_path / "providers.json"
    target.write_bytes(b"old")
    child = run_child(WRITE_OVER_LIMIT, str(target))
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert out.split()[0] == "failed"  # the write really failed (EFBIG), in our code's hands
    assert target.read_bytes() == b"old"
    assert temp_files(tmp_path) == []


def test_a_replace_that_fails_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "providers.json"
    target.mkdir()  # a folder where the file should go: os.replace refuses
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert temp_files(tmp_path) == [] and (target / "keep").read_text() == "x"


def test_a_write_over_an_existing_file_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "providers.json"
    atomic_write_bytes(target, b"one", mode=0o600)
    atomic_write_bytes(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two" and temp_files(target.parent) == []
    assert target.stat().st_mode & 0o777 == 0o600


HOLD_LOCK = """
import sys
from pathlib import Path
from takopi_nb._fileio import file_lock
with file_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says so
"""


def test_a_lock_held_by_another_process_times_out_with_what_to_do(tmp_path: Path) -> None:
    lock = tmp_path / "providers.json.lock"
    holder = run_child(HOLD_LOCK, str(lock))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError) as info, file_lock(lock, timeout=1):
            pass
        message = str(info.value)
        assert isinstance(info.value, TakopiError) and isinstance(info.value, ValueError)
        assert message == (
            f"Another process has held the lock {lock} for over 1 s. "
            "If no other kernel is saving, delete that lock file and retry."
        )
        assert info.value.__cause__ is None and info.value.__suppress_context__
    finally:
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.flush()
        holder.communicate(timeout=60)
    with file_lock(lock, timeout=30):  # released with the holder: the lock is free again
        pass
