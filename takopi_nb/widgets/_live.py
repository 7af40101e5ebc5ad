"""What keeps a saved notebook honest: :class:`PrivateHTML` and :func:`stale_note`.

JupyterLab can save widget state in the notebook. Reopened on a fresh kernel, the
panel came back claiming "Connected" or "usable", with dead controls, and the saved
state held whatever it showed. Now:

- private text (a key's last characters, the account email, local paths) is a
  :class:`PrivateHTML`: sent as a message, never kept as state, so never saved;
- the widget manager marks every view whose kernel link is gone with the class
  ``jupyter-widgets-disconnected``; the panel's CSS then hides the panel's content
  and shows its :func:`stale_note` ("run the cell again") instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as W

from ._factory import WidgetFactory
from ._html import PANEL_CSS, compact_source

__all__ = ["STALE_TEXT", "PrivateHTML", "panel_head", "stale_note"]

_ESM = compact_source((Path(__file__).parent / "_live.js").read_text(encoding="utf-8"), "//")

STALE_TEXT = (
    "This panel was saved with the notebook and its kernel is gone: nothing shown here is "
    "current, and its controls would do nothing. Run the cell again to use it."
)


def stale_note(factory: WidgetFactory) -> W.HTML:
    """The line shown instead of a panel whose kernel is gone (hidden while it is live)."""
    note = factory.make(W.HTML, value=f"<div role='status'>⚠ {STALE_TEXT}</div>")
    note.add_class("takopi-stale-note")
    return note


def panel_head(factory: WidgetFactory, standalone: bool) -> list[W.Widget]:
    """The first children of a widget shown on its own: the panel's CSS and its stale note.

    Inside the panel a part has neither: the panel brings them once for all its parts.
    """
    if not standalone:
        return []
    return [factory.make(W.HTML, value=PANEL_CSS), stale_note(factory)]


class PrivateHTML(anywidget.AnyWidget):  # type: ignore[misc]  # anywidget is untyped
    """Like ``ipywidgets.HTML``, but ``value`` is sent as a message and never kept in the
    widget state (so a saved notebook does not hold it). Shown again on every new view."""

    _esm = _ESM

    def __init__(self, value: str = "", **kwargs: Any) -> None:
        self._value = value
        super().__init__(**kwargs)
        self.on_msg(self._wanted)

    @property
    def value(self) -> str:
        return self._value

    @value.setter
    def value(self, html: str) -> None:
        if html != self._value:
            self._value = html
            self._push_html()

    def _wanted(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("want"):
            self._push_html()

    def _push_html(self) -> None:
        if self.comm is not None:
            self.send({"html": self._value})
