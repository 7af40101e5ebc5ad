"""Facades stay what they say: no submodule import can replace a facade name (issue 11.1).

Importing ``pkg.sub`` sets the attribute ``pkg.sub`` to the module. When a facade
also exports a function called ``sub``, whichever ran last wins, so
``tk.resolve(...)`` once raised "'module' object is not callable" after a typo
elsewhere had imported ``takopi_nb.resolve``. Implementation modules are private
(``_name.py``) and this test checks every package, so the clash cannot return.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import takopi_nb

PACKAGE_DIR = Path(takopi_nb.__file__).parent
PUBLIC_MODULES = {"demo"}  # a module users import by name: `from takopi_nb import demo`


def _packages() -> list[str]:
    names = ["takopi_nb"]
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="takopi_nb."):
        if info.ispkg:
            names.append(info.name)
    return names


def _defined_names(init: Path) -> set[str]:
    """Names bound at the top level of a package's ``__init__.py`` (defs, classes, assignments)."""
    names: set[str] = set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("package", _packages())
def test_no_facade_name_is_also_a_submodule(package: str) -> None:
    module = importlib.import_module(package)
    directory = Path(module.__file__ or "").parent
    submodules = {info.name for info in pkgutil.iter_modules([str(directory)])}
    exported = set(getattr(module, "__all__", ()))
    clashes = (exported | _defined_names(directory / "__init__.py")) & submodules
    assert not clashes, f"{package}: {sorted(clashes)} are both a facade name and a submodule"


@pytest.mark.parametrize("package", _packages())
def test_implementation_modules_are_private(package: str) -> None:
    module = importlib.import_module(package)
    directory = Path(module.__file__ or "").parent
    public = {
        info.name
        for info in pkgutil.iter_modules([str(directory)])
        if not info.ispkg and not info.name.startswith("_")
    }
    assert public <= PUBLIC_MODULES, f"{package}: make {sorted(public - PUBLIC_MODULES)} private"


def test_resolve_stays_a_function_after_every_submodule_is_imported(tmp_path: Path) -> None:
    """The report's sequence: a typo's did-you-mean, then the README's `tk.resolve(...)`."""
    code = """
import importlib, pkgutil
import takopi_nb as tk
cfg = tk.get_config()
cfg.add_provider("openai", id="work", models=["gpt-5.2"])
try:
    cfg.get("wrk")
except LookupError:
    pass
for info in pkgutil.walk_packages(tk.__path__, prefix="takopi_nb."):
    if info.name.split(".")[1] not in ("server", "widgets", "_magics"):
        importlib.import_module(info.name)
for name in tk.__all__:
    value = getattr(tk, name)
    assert not isinstance(value, type(tk)), name
print(tk.resolve("work/gpt-5.2").model_id)
"""
    env = {
        "TAKOPI_NB_CONFIG": str(tmp_path / "providers.json"),
        "TAKOPI_NB_CACHE_DIR": str(tmp_path / "cache"),
        "TAKOPI_NB_OFFLINE": "1",
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "gpt-5.2"
