"""Tiny measuring helpers shared by the benchmark scripts: medians, fresh processes, tables,
and the verdict on every target (``run.py --check`` fails when one is missed)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VERDICTS: list[tuple[str, bool]] = []
"""``(figure, met)`` for every target compared in this process, in order (``run.py`` reads it)."""


def verdict(figure: str, target: str, met: bool) -> str:
    """The target column of one row: the target and whether this run met it.

    Every printed target goes through here, so none is printed without being compared.
    """
    VERDICTS.append((figure.strip(), met))
    return f"{target}: {'met' if met else 'MISSED'}"


def misses() -> list[str]:
    return [figure for figure, met in VERDICTS if not met]


def fresh_process_ms(code: str, runs: int = 15, env: dict[str, str] | None = None) -> float:
    """Median of ``runs`` fresh interpreters, each timing ``code`` in-process (ms).

    ``code`` runs between two perf_counter readings; interpreter start-up is not counted,
    so the figure is what the user waits for after the kernel is up. Modules load from
    bytecode caches, as after ``pip install`` (a private pycache, written by a first run
    that is not counted), even where the environment sets PYTHONDONTWRITEBYTECODE.
    """
    wrapper = (
        "import time as _t\n_t0 = _t.perf_counter()\n"
        + code
        + "\nprint('ELAPSED', (_t.perf_counter() - _t0) * 1000)\n"
    )
    full_env = dict(os.environ, **(env or {}))
    full_env.setdefault("PYTHONPATH", REPO)
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    full_env.setdefault("PYTHONPYCACHEPREFIX", _pycache())
    samples = []
    for attempt in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", wrapper],
            env=full_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if attempt:
            samples.append(float(out.rsplit("ELAPSED", 1)[1]))
    return statistics.median(samples)


_PYCACHE: list[str] = []


def _pycache() -> str:
    """One throw-away pycache folder per benchmark process (the checkout is not touched)."""
    if not _PYCACHE:
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="takopi-bench-pycache-")
        atexit.register(shutil.rmtree, folder, True)
        _PYCACHE.append(folder)
    return _PYCACHE[0]


def in_process_us(fn: Callable[[], object], number: int = 2000, repeat: int = 7) -> float:
    """Median per-call time of ``fn`` in microseconds."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(times)


def table(title: str, rows: Sequence[Sequence[str]]) -> str:
    header = ("figure", "takopi_nb", "baseline", "ratio / target")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(4)]

    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([f"\n### {title}\n", line(header), sep, *(line(r) for r in rows)])
