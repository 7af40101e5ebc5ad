"""Catalog benchmarks, each printed beside its baseline measured in the same run.

    .venv/bin/python benchmarks/bench_catalog.py [--runs 15]

Figures (medians; targets are ratios to a baseline of the same run, as this machine's speed
varies several-fold):
- one provider's models in a fresh process with a warm cache (target <= 0.25x), beside a fresh
  process that reads and ``json.loads`` the raw ``api.json`` to answer the same question;
  with ``import takopi_nb.catalog`` counted (target <= 1.0x), beside that same process (both
  load ``json`` before their clock starts); the same with no cache at all, i.e. a first use answered from the
  snapshot shipped pre-indexed in the package (target <= 1.0x);
- the full catalog (all 5,276 ModelInfo) in a fresh process and in-process
  (target <= 1.0x a plain ``json.loads`` of the raw file); after a download, ``json.loads``
  plus the tolerant parse (target <= 5.0x the plain ``json.loads``);
- memory of the parsed catalog with its search index (target <= 4 MiB), beside ``json.loads``;
- search per keystroke while typing, over nano-gpt (617 models, target <= 2 ms) and over the
  whole catalog (5,276, target <= 10 ms), beside a naive scan that lowercases as it goes.

Child processes run with compiled bytecode (as after ``pip install``), in a private pycache.
Timings inside a child start after the interpreter is up; import time is shown separately.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from takopi_nb.catalog import Catalog  # noqa: E402
from takopi_nb.catalog._bundled import snapshot_bytes  # noqa: E402
from takopi_nb.catalog._cache import CacheFiles  # noqa: E402
from takopi_nb.catalog._index import Index, encode  # noqa: E402
from takopi_nb.catalog._parse import load_json, parse_catalog  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from harness import verdict  # noqa: E402

MiB = 2**20

CHILD_CATALOG_ONE = """
import json, time
t0 = time.perf_counter()
from takopi_nb.catalog import get_catalog
t1 = time.perf_counter()
models = get_catalog().models("openai")
t2 = time.perf_counter()
assert len(models) == 51
print(json.dumps({"import": t1 - t0, "work": t2 - t1}))
"""

# A first use: an empty cache dir of its own for every run (nothing left by the one before).
CHILD_CATALOG_FIRST = (
    "import os, tempfile\nos.environ['TAKOPI_NB_CACHE_DIR'] = tempfile.mkdtemp()\n"
    + CHILD_CATALOG_ONE
)

CHILD_CATALOG_ALL = """
import json, time
t0 = time.perf_counter()
from takopi_nb.catalog import get_catalog
t1 = time.perf_counter()
models = get_catalog().all_models()
t2 = time.perf_counter()
assert len(models) == 5276
print(json.dumps({"import": t1 - t0, "work": t2 - t1}))
"""

CHILD_JSON_ONE = """
import json, sys, time
t0 = time.perf_counter()
import json
t1 = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    models = json.loads(f.read())["openai"]["models"]
t2 = time.perf_counter()
assert len(models) == 51
print(json.dumps({"import": t1 - t0, "work": t2 - t1}))
"""

CHILD_MEMORY = """
import gc, json, tracemalloc
from takopi_nb.catalog import get_catalog
gc.collect()
tracemalloc.start()
catalog = get_catalog()
assert len(catalog.all_models()) == 5276
catalog.search("warm")                       # builds the whole-catalog search index
catalog.search("warm", provider="nano-gpt")  # and one provider's
gc.collect()
current, peak = tracemalloc.get_traced_memory()
print(json.dumps({"current": current, "peak": peak}))
"""

CHILD_MEMORY_JSON = """
import gc, json, sys, tracemalloc
raw = open(sys.argv[1], "rb").read()
gc.collect()
tracemalloc.start()
doc = json.loads(raw)
gc.collect()
current, peak = tracemalloc.get_traced_memory()
print(json.dumps({"current": current, "peak": peak}))
"""


def child_env(cache_dir: Path, pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPATH=str(REPO),
        PYTHONPYCACHEPREFIX=str(pycache),
        TAKOPI_NB_CACHE_DIR=str(cache_dir),
        TAKOPI_NB_CATALOG_URL="http://127.0.0.1:9/api.json",  # never reached: the cache is fresh
    )
    return env


def run_child(script: str, env: dict[str, str], *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def fresh_process(script: str, env: dict[str, str], runs: int, *args: str) -> dict[str, float]:
    run_child(script, env, *args)  # warm-up: compiles bytecode, fills the OS page cache
    samples = [run_child(script, env, *args) for _ in range(runs)]
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def median_time(action: Callable[[], object], runs: int) -> float:
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def keystrokes(phrase: str) -> list[str]:
    return [phrase[:n] for n in range(1, len(phrase) + 1)]


def naive_search(models: list, query: str) -> list:  # type: ignore[type-arg]
    words = query.lower().split()
    return [
        m
        for m in models
        if all(w in m.id.lower() or w in m.name.lower() or w in (m.family or "").lower()
               for w in words)
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print (``benchmarks/run.py`` calls this with no arguments)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per figure")
    args = parser.parse_args(argv)
    runs = args.runs

    with tempfile.TemporaryDirectory(prefix="takopi-bench-") as tmp:
        measure(Path(tmp), runs)


def measure(work: Path, runs: int) -> None:
    raw = snapshot_bytes()
    raw_path = work / "api.json"
    raw_path.write_bytes(raw)
    parsed = parse_catalog(load_json(raw))
    meta = {"origin": "network", "url": "http://127.0.0.1:9/api.json", "fetched_at": time.time()}
    stored = encode(parsed, meta)
    files = CacheFiles(work / "cache" / "catalog")
    files.write(files.download, stored)  # a warm cache, as a fetch would leave it
    env = child_env(work / "cache", work / "pycache")

    rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, mine: float, base: float | None, target: str, met: bool, unit: str) -> None:
        scale = 1 / MiB if unit == "MiB" else 1e3
        ratio = f"{mine / base:.2f}x" if base else ""
        base_text = f"{base * scale:8.2f} {unit}" if base is not None else ""
        rows.append(
            (name, f"{mine * scale:8.2f} {unit}", base_text, ratio, verdict(name, target, met))
        )

    # 1. One provider in a fresh process, warm cache.
    one = fresh_process(CHILD_CATALOG_ONE, env, runs)
    one_json = fresh_process(CHILD_JSON_ONE, env, runs, str(raw_path))
    row("fresh process: models('openai'), warm cache", one["work"], one_json["work"],
        "<= 0.25x json", one["work"] <= 0.25 * one_json["work"], "ms")  # fmt: skip
    with_import = one["import"] + one["work"]
    json_with_import = one_json["import"] + one_json["work"]
    row("  same, including `import takopi_nb.catalog`", with_import, json_with_import,
        "<= 1.0x json", with_import <= json_with_import, "ms")  # fmt: skip
    # A first use: no cache at all, so the snapshot shipped in the package (pre-indexed).
    first = fresh_process(CHILD_CATALOG_FIRST, dict(env, TAKOPI_NB_OFFLINE="1"), runs)
    first_total = first["import"] + first["work"]
    row("fresh process, no cache: models('openai'), import included", first_total,
        json_with_import, "<= 1.0x json", first_total <= json_with_import, "ms")  # fmt: skip
    # 2. Full catalog load.
    full = fresh_process(CHILD_CATALOG_ALL, env, runs)
    full_json = fresh_process(
        CHILD_JSON_ONE.replace('["openai"]["models"]', "").replace("== 51", "== 147"),
        env, runs, str(raw_path),
    )  # fmt: skip
    row("fresh process: all 5,276 models, warm cache", full["work"], full_json["work"],
        "<= 1.0x json", full["work"] <= full_json["work"], "ms")  # fmt: skip
    in_process = median_time(lambda: Index(stored).all_models(), runs)
    in_process_json = median_time(lambda: json.loads(raw), runs)
    row("in process: decode all 5,276 models", in_process, in_process_json, "<= 1.0x json",
        in_process <= in_process_json, "ms")  # fmt: skip
    parse_time = median_time(lambda: parse_catalog(load_json(raw)), max(3, runs // 3))
    row("  after a download: json.loads + tolerant parse", parse_time, in_process_json,
        "<= 5.0x json", parse_time <= 5 * in_process_json, "ms")  # fmt: skip

    # 3. Memory.
    memory = run_child(CHILD_MEMORY, env)
    memory_json = run_child(CHILD_MEMORY_JSON, env, str(raw_path))
    row("memory: parsed catalog + search index", memory["current"], memory_json["current"],
        "<= 4 MiB", memory["current"] <= 4 * MiB, "MiB")  # fmt: skip

    # 4. Search per keystroke.
    catalog = Catalog(cache_dir=work / "cache" / "catalog", offline=True, auto_refresh=False)
    everything = catalog.all_models()
    nano = catalog.models("nano-gpt")
    assert len(nano) == 617 and len(everything) == 5276
    catalog.search("warm")
    catalog.search("warm", provider="nano-gpt")
    typed = keystrokes("claude sonnet") + keystrokes("gpt-5") + keystrokes("qwen3 coder")
    per_key_nano = [median_time(lambda q=q: catalog.search(q, provider="nano-gpt"), 9)
                    for q in typed]  # fmt: skip
    per_key_all = [median_time(lambda q=q: catalog.search(q), 9) for q in typed]
    naive_nano = [median_time(lambda q=q: naive_search(nano, q), 9) for q in typed]
    naive_all = [median_time(lambda q=q: naive_search(everything, q), 5) for q in typed]
    worst_nano, worst_all = max(per_key_nano), max(per_key_all)
    row("search per keystroke, nano-gpt (617): median", statistics.median(per_key_nano),
        statistics.median(naive_nano), "<= 2 ms", statistics.median(per_key_nano) <= 0.002, "ms")  # fmt: skip
    row("search per keystroke, nano-gpt (617): worst key", worst_nano, max(naive_nano),
        "<= 2 ms", worst_nano <= 0.002, "ms")  # fmt: skip
    row("search per keystroke, all (5,276): median", statistics.median(per_key_all),
        statistics.median(naive_all), "<= 10 ms", statistics.median(per_key_all) <= 0.010, "ms")  # fmt: skip
    row("search per keystroke, all (5,276): worst key", worst_all, max(naive_all),
        "<= 10 ms", worst_all <= 0.010, "ms")  # fmt: skip
    header = ("figure", "takopi_nb", "baseline", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; medians of {runs} runs")
    print("baselines: json.loads of the raw api.json (2.4 MB) in the same kind of process;")
    print("           with `import takopi_nb.catalog` counted, the same json.loads process;")
    print("           for search, a naive scan that lowercases every model per keystroke")
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
    print(f"stored catalog: {len(stored):,} bytes (api.json: {len(raw):,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
