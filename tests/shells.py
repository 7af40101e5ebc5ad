"""A fresh IPython shell with ``%load_ext takopi_nb``, for tests of the magics."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@contextlib.contextmanager
def takopi_shell() -> Iterator[InteractiveShell]:
    saved = (sys.displayhook, sys.excepthook)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    made = InteractiveShell.instance(config=config)
    made.run_line_magic("load_ext", "takopi_nb")
    try:
        yield made
    finally:
        made.run_line_magic("unload_ext", "takopi_nb")
        InteractiveShell.clear_instance()
        sys.displayhook, sys.excepthook = saved
