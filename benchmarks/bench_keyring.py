"""Calls with the key in the real Secret Service (gnome-keyring), beside the same calls
with the key in takopi_nb's file store, in the same run.

    .venv/bin/python benchmarks/bench_keyring.py

Runs itself inside ``dbus-run-session`` with an unlocked gnome-keyring (skipped when
those are not installed). ``m.chat()`` per call against a loopback server, keeping the
key read for a call for the next calls (the default), and reading it for every call
(``RECENT_SECONDS = 0``, what takopi_nb did before); and one ``keyring.get_password``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_scale import per_call_ms  # noqa: E402
from harness import table, verdict  # noqa: E402

CALLS = 100


def measure() -> dict[str, float]:
    """Inside the D-Bus session: the figures, as JSON on the last line."""
    import keyring

    import takopi_nb as tk
    from takopi_nb import _secrets, demo

    server = demo.DemoOpenAIServer().start()
    cfg = tk.get_config()
    key = "sk-bench-keyring-0123456789"
    cfg.add_provider("openai", id="k", base_url=server.base_url, api_key=key, models=["m"])
    assert cfg.get("k").credential_source == "keyring", cfg.get("k").credential_source
    figures = {"get_password": per_call_ms(lambda: keyring.get_password("takopi_nb", "k"), CALLS)}
    m = tk.resolve("k/m")
    figures["kept"] = per_call_ms(lambda: m.chat("hi"), CALLS)
    _secrets.RECENT_SECONDS = 0.0
    figures["every_call"] = per_call_ms(lambda: m.chat("hi"), CALLS)
    cfg.secret_backend = "file"  # the same calls, key in the file store
    cfg.add_provider("openai", id="f", base_url=server.base_url, api_key=key, models=["m"])
    assert cfg.get("f").credential_source == "file", cfg.get("f").credential_source
    f = tk.resolve("f/m")
    figures["file"] = per_call_ms(lambda: f.chat("hi"), CALLS)
    server.stop()
    return figures


def main(argv: object = ()) -> list[list[str]]:
    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(t)]
    if missing:
        print(f"Keys in the Secret Service: skipped ({', '.join(missing)} not installed)")
        return []
    home = Path(tempfile.mkdtemp(prefix="takopi-bench-keyring-"))
    (home / "run").mkdir(mode=0o700)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "TAKOPI_NB_OFFLINE": "1",
        "TAKOPI_NB_CACHE_DIR": str(home / "cache"),
        "PYTHONPATH": str(REPO),
    }
    inner = (
        "printf %s bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f'exec "{sys.executable}" "{__file__}" --inside'
    )
    out = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    f = json.loads(out.strip().splitlines()[-1])
    shutil.rmtree(home, ignore_errors=True)
    ratio = f["kept"] / f["file"]
    figure = "m.chat() per call, key in the Secret Service"
    rows = [
        [figure, f"{f['kept']:.2f} ms", f"key in the file store {f['file']:.2f} ms",
         f"{ratio:.2f}× " + verdict(figure, "target ≤ 1.2×", ratio <= 1.2)],
        ["  … reading the key for every call (before)", f"{f['every_call']:.2f} ms",
         f"one keyring.get_password {f['get_password']:.2f} ms",
         f"{f['every_call'] / f['file']:.2f}× the file store"],
    ]  # fmt: skip
    print(table("Keys in the Secret Service (gnome-keyring in dbus-run-session)", rows))
    print(f"loopback demo server in this process; medians of 5 runs of {CALLS // 5} calls")
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inside"]:
        print(json.dumps(measure()))
    else:
        main()
