"""Module attributes loaded on first use, so that importing a package stays instant."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # importing typing costs ~8 ms; this runs at `import takopi_nb`
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any


def lazy_attributes(
    package: str, namespace: dict[str, Any], where: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``where`` maps a name to its submodule.

    A loaded name is stored in ``namespace`` (the package's globals), so it is looked up once.
    """
    names = set(public)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | names)

    return __getattr__, __dir__
