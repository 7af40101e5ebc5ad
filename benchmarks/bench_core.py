"""Import and resolve figures (issue 2), each beside its baseline measured in the same run.

Fresh-process figures are ratios to a baseline from the same run (this machine's speed varies
several-fold): ``import traitlets`` for the import; for the first ``resolve()``, what reading
the file costs with the modules it is built on (stdlib pieces, ``jupyter_core.paths``);
for a warm ``resolve()``, the ``os.stat`` of each config file it checks for changes (the two
timed in turns, fastest round of each).

python benchmarks/bench_core.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, fresh_process_ms, table, verdict

HEAVY = ("httpx", "ipywidgets", "keyring", "traitlets")

PROVIDERS = {
    "version": 1,
    "providers": [
        {
            "id": f"p{i}",
            "type": t,
            "name": "",
            "base_url": "",
            "models": [f"m{j}" for j in range(20)],
        }
        for i, t in enumerate(
            ["openai", "anthropic", "codex", "openrouter", "deepseek", "opencode", "zai", "vercel"]
        )
    ],
    "default_model": "p0/m1",
    "embedding_model": "",
}


def interleaved_best_us(
    ours: Callable[[], object], baseline: Callable[[], object], number: int, rounds: int = 21
) -> tuple[float, float]:
    """Per-call µs of each, timed in turns, the fastest round of each: other processes on the
    machine only ever add time, and taking turns exposes both to the same load."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for side, fn in enumerate((ours, baseline)):
            started = time.perf_counter()
            for _ in range(number):
                fn()
            best[side] = min(best[side], (time.perf_counter() - started) / number * 1e6)
    return best[0], best[1]


def main(argv: object = ()) -> list[list[str]]:
    tmp = tempfile.mkdtemp(prefix="takopi-bench-")
    config_file = os.path.join(tmp, "providers.json")
    with open(config_file, "w") as f:
        json.dump(PROVIDERS, f)
    env = {
        "TAKOPI_NB_CONFIG": config_file,
        "JUPYTER_CONFIG_DIR": os.path.join(tmp, "cfg"),
        "JUPYTER_DATA_DIR": os.path.join(tmp, "data"),
    }
    import_tk = fresh_process_ms("import takopi_nb", env=env)
    import_tl = fresh_process_ms("import traitlets", env=env)
    first = fresh_process_ms("import takopi_nb as tk\ntk.resolve('p0/m7')", env=env)
    # What any reader of this file built on the same pieces pays: their imports (stdlib,
    # and jupyter_core for the config dirs) and json.load. The rest of the figure is ours.
    floor = fresh_process_ms(
        f"import json, dataclasses, pathlib, jupyter_core.paths\njson.load(open({config_file!r}))",
        env=env,
    )
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, takopi_nb as tk\ntk.resolve('p0/m7')\n"
         f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"],
        env=dict(os.environ, PYTHONPATH=REPO, **env), capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip

    os.environ.update(env)
    import takopi_nb as tk

    tk.resolve("p0/m7")
    # Each call checks every config file for a change made by another kernel: those stats
    # are the floor of a warm resolve().
    from takopi_nb._paths import admin_config_files

    watched = [config_file, *map(str, admin_config_files())]

    def stat_all() -> None:
        for path in watched:
            try:  # noqa: SIM105  # as stat_signature does (contextlib.suppress is slower)
                os.stat(path)
            except OSError:  # an admin file that does not exist: as costly to find out
                pass

    warm, stats = interleaved_best_us(lambda: tk.resolve("p3/m5"), stat_all, number=2000)

    ratio = import_tk / import_tl
    rows = [
        ["import takopi_nb (fresh process)", f"{import_tk:.1f} ms", f"import traitlets {import_tl:.1f} ms",
         f"{ratio:.2f}× " + verdict("import takopi_nb", "target ≤ 1.5×", ratio <= 1.5)],
        ["import + read config + first resolve()", f"{first:.1f} ms",
         f"import json, dataclasses, pathlib, jupyter_core.paths + json.load {floor:.1f} ms",
         f"{first / floor:.2f}× " + verdict("first resolve()", "target ≤ 2.0×", first <= 2 * floor)],
        ["warm resolve() per call", f"{warm:.2f} µs",
         f"os.stat of the {len(watched)} config files it watches {stats:.2f} µs",
         f"{warm / stats:.2f}× " + verdict("warm resolve()", "target ≤ 2.0×", warm <= 2 * stats)],
        ["heavy modules after first resolve()", heavy or "none", "checked: " + ", ".join(HEAVY),
         verdict("heavy modules", "target: none", not heavy)],
    ]  # fmt: skip
    print(table("Core: import and resolve", rows))
    return rows


if __name__ == "__main__":
    main()
