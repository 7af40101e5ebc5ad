"""benchmarks/run.py compares every target it prints and, with --check, fails on a miss."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

SUITE = """
from harness import table, verdict

def main(argv):
    rows = [
        ["fast thing", "1.0 ms", "2.0 ms baseline", verdict("fast thing", "target ≤ 5 ms", 1.0 <= 5)],
        ["slow thing", "9.0 ms", "2.0 ms baseline", verdict("slow thing", "target ≤ 5 ms", 9.0 <= 5)],
    ]
    print(table("A suite", rows))
"""


@pytest.fixture
def bench(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, ModuleType]]:
    (tmp_path / "bench_fixture_suite.py").write_text(SUITE)
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.syspath_prepend(str(tmp_path))
    harness = importlib.import_module("harness")
    monkeypatch.setattr(harness, "VERDICTS", [])  # a fresh run's verdicts
    run = importlib.import_module("run")
    yield run, harness
    for name in ("run", "harness", "bench_fixture_suite"):
        sys.modules.pop(name, None)


def test_a_missed_target_is_marked_and_fails_the_check(
    bench: tuple[ModuleType, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    run, harness = bench
    assert run.main(["--check"], suites=["bench_fixture_suite"]) == 1
    out = capsys.readouterr().out
    assert "target ≤ 5 ms: met" in out and "target ≤ 5 ms: MISSED" in out
    assert "2 targets compared, 1 missed: slow thing" in out
    assert harness.misses() == ["slow thing"]


def test_without_check_a_miss_is_printed_but_the_exit_is_zero(
    bench: tuple[ModuleType, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = bench
    assert run.main([], suites=["bench_fixture_suite"]) == 0
    assert "1 missed: slow thing" in capsys.readouterr().out


def test_all_met_passes_the_check(
    bench: tuple[ModuleType, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    run, harness = bench
    assert harness.verdict("x", "target ≤ 1", True) == "target ≤ 1: met"
    assert run.main(["--check"], suites=[]) == 0
    assert "1 targets compared, 0 missed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "suite",
    [
        "bench_core.py",
        "bench_catalog.py",
        "bench_panel.py",
        "bench_picker.py",
        "bench_endpoints.py",
        "bench_frameworks.py",
    ],
)
def test_no_suite_prints_a_target_without_comparing_it(suite: str) -> None:
    """Every target column goes through verdict(): no fixed "ok", "(info)" or "asserted"."""
    source = (BENCHMARKS / suite).read_text()
    assert "verdict(" in source
    for fixed in ("'ok'", "(info)", '"asserted"', "(one-off)", "} ok", " ok "):
        assert fixed not in source, (suite, fixed)
