"""The panel's error line: every failed callback is shown here, never lost."""

from __future__ import annotations

import logging
import threading

import ipywidgets as W
from traitlets import TraitError

from .._errors import TakopiError
from ._bindings import ErrorReporter
from ._factory import BUTTON, WidgetFactory
from ._html import esc
from ._live import PrivateHTML

__all__ = ["ErrorLine", "describe_error"]

log = logging.getLogger("takopi_nb.widgets")

MAX_SHOWN = 4


def describe_error(exc: BaseException) -> str:
    """A one-line, secret-free description: our errors carry a full sentence already."""
    if isinstance(exc, (TakopiError, TraitError)):
        return str(exc) or type(exc).__name__
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ErrorLine:
    """Shows the latest errors (escaped) with a Dismiss button; hidden when there are none."""

    def __init__(self, factory: WidgetFactory) -> None:
        self._lock = threading.Lock()
        self.messages: list[str] = []
        # Messages may name local paths: shown, never saved with the notebook.
        self.html = factory.make(PrivateHTML, value="", layout={"flex": "1 1 auto"})
        self.dismiss = factory.make(
            W.Button,
            description="Dismiss",
            tooltip="Hide these messages",
            layout=BUTTON,
        )
        self.dismiss.on_click(lambda _: self.clear())
        self.box = factory.make(W.HBox, children=(), layout={"width": "100%"})

    def report(self, where: str, exc: BaseException) -> None:
        """Show ``where: message`` for ``exc`` (a debug log keeps the traceback)."""
        message = f"{where}: {describe_error(exc)}" if where else describe_error(exc)
        log.debug("panel error in %s", where, exc_info=exc)
        with self._lock:
            self.messages.append(message)
            del self.messages[:-50]
            shown = self.messages[-MAX_SHOWN:]
            self.html.value = "".join(
                f'<div class="takopi-error">⚠ {esc(line)}</div>' for line in shown
            )
            if not self.box.children:
                self.box.children = (self.html, self.dismiss)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.html.value = ""
            self.box.children = ()


def error_line_for(
    factory: WidgetFactory, report: ErrorReporter | None
) -> tuple[ErrorLine | None, ErrorReporter]:
    """A part inside the panel reports into the panel's line; a part shown alone gets its own."""
    if report is not None:
        return None, report
    line = ErrorLine(factory)
    return line, line.report


class PanelPart:
    """What the panel's parts (provider form, model picker) share at start and at close.

    Inside the panel a part builds with the panel's factory and reports into the panel's
    error line; shown alone (no factory given) it owns both, and closes its factory itself.
    """

    _factory: WidgetFactory
    _own_factory: bool
    _error_line: ErrorLine | None
    _report: ErrorReporter

    def _start_part(
        self, factory: WidgetFactory | None, report: ErrorReporter | None, standalone: bool | None
    ) -> tuple[WidgetFactory, ErrorReporter, bool]:
        """Returns (factory, reporter, standalone); standalone defaults to "no factory given"."""
        self._own_factory = factory is None
        self._factory = factory or WidgetFactory()
        self._error_line, self._report = error_line_for(self._factory, report)
        return self._factory, self._report, self._own_factory if standalone is None else standalone

    def _close_part(self) -> None:
        if self._own_factory:
            self._factory.close()
