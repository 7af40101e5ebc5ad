"""Import and resolve figures (issue 2), each beside its baseline measured in the same run.

python benchmarks/bench_core.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, fresh_process_ms, in_process_us, table, verdict

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
    json_only = fresh_process_ms(f"import json\njson.load(open({config_file!r}))", env=env)
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, takopi_nb as tk\ntk.resolve('p0/m7')\n"
         f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"],
        env=dict(os.environ, PYTHONPATH=REPO, **env), capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip

    os.environ.update(env)
    import takopi_nb as tk

    tk.resolve("p0/m7")
    warm = in_process_us(lambda: tk.resolve("p3/m5"), number=5000)
    dict_lookup = in_process_us(lambda: PROVIDERS["providers"][3]["models"][5], number=5000)

    ratio = import_tk / import_tl
    rows = [
        ["import takopi_nb (fresh process)", f"{import_tk:.1f} ms", f"import traitlets {import_tl:.1f} ms",
         f"{ratio:.2f}× " + verdict("import takopi_nb", "target ≤ 1.5×", ratio <= 1.5)],
        ["import + read config + first resolve()", f"{first:.1f} ms",
         f"json.load of the file {json_only:.1f} ms",
         verdict("first resolve()", "target ≤ 50 ms", first <= 50)],
        ["warm resolve() per call", f"{warm:.2f} µs", f"nested dict lookup {dict_lookup:.2f} µs",
         verdict("warm resolve()", "target ≤ 20 µs", warm <= 20)],
        ["heavy modules after first resolve()", heavy or "none", "checked: " + ", ".join(HEAVY),
         verdict("heavy modules", "target: none", not heavy)],
    ]  # fmt: skip
    print(table("Core: import and resolve", rows))
    return rows


if __name__ == "__main__":
    main()
