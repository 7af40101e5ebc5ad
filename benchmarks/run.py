"""Every benchmark figure of the project, each beside its baseline from the same run.

python benchmarks/run.py            # or: make bench
python benchmarks/run.py --check    # exit 1 when a figure misses its target

Every target printed is compared (``harness.verdict``); the run ends with the list of misses.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from collections.abc import Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import harness  # noqa: E402

SUITES = [
    "bench_core",
    "bench_catalog",
    "bench_panel",
    "bench_picker",
    "bench_scale",
    "bench_endpoints",
    "bench_frameworks",
    "bench_server",
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = f"{names[0]} ×{len(names)}" if names else cpu
    except OSError:
        pass
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {cpu}"


def summary() -> str:
    """One closing line: how many targets were compared, and which were missed."""
    missed = harness.misses()
    line = f"{len(harness.VERDICTS)} targets compared, {len(missed)} missed"
    return line + (": " + "; ".join(missed) if missed else ".")


def main(argv: Sequence[str] | None = None, suites: Sequence[str] = SUITES) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when any target is missed"
    )
    args = parser.parse_args(argv)
    print(f"# takopi_nb benchmarks\n\nMachine: {machine()}")
    for name in suites:
        importlib.import_module(name).main([])
    print("\n" + summary())
    return 1 if args.check and harness.misses() else 0


if __name__ == "__main__":
    sys.exit(main())
