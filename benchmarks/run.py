"""Every benchmark figure of the project, each beside its baseline from the same run.

python benchmarks/run.py            # or: make bench
"""

from __future__ import annotations

import importlib
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

SUITES = ["bench_core", "bench_catalog", "bench_panel", "bench_server"]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = f"{names[0]} ×{len(names)}" if names else cpu
    except OSError:
        pass
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {cpu}"


def main() -> None:
    print(f"# takopi_nb benchmarks\n\nMachine: {machine()}")
    for name in SUITES:
        module = importlib.import_module(name)
        module.main()


if __name__ == "__main__":
    main()
