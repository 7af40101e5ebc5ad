"""Builds the panel's widgets with shared Layout and Style models, and closes them all.

Each ipywidgets control normally opens three comms (the widget, its Layout and
its Style, about 1.8 KB of state together). The panel has dozens of controls,
so identical layouts and styles are shared: it keeps the widget-state payload
small (what the browser receives, and what a saved notebook holds with
widget-state saving on). A shared Layout/Style is never modified after creation;
widgets are shown and hidden by changing their parent's children.
"""

from __future__ import annotations

from typing import Any, TypeVar

import ipywidgets as W

__all__ = ["BUTTON", "WidgetFactory"]

BUTTON = {"width": "auto", "min_width": "84px"}
"""The one layout of every button: as wide as its label, and never tiny."""

T = TypeVar("T", bound=W.Widget)


def _key(kwargs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(kwargs.items()))


class WidgetFactory:
    """Creates widgets for one panel (or one standalone view) and remembers them for close()."""

    def __init__(self) -> None:
        self._layouts: dict[tuple[tuple[str, Any], ...], W.Layout] = {}
        self._styles: dict[tuple[type, tuple[tuple[str, Any], ...]], W.Widget] = {}
        self._created: list[W.Widget] = []

    def layout(self, **kwargs: Any) -> W.Layout:
        """A Layout shared by every widget asking for the same settings."""
        key = _key(kwargs)
        found = self._layouts.get(key)
        if found is None:
            found = self._layouts[key] = W.Layout(**kwargs)
        return found

    def own_layout(self, **kwargs: Any) -> W.Layout:
        """A Layout for one widget only (for one that is resized later)."""
        made = W.Layout(**kwargs)
        self._created.append(made)
        return made

    def style(self, widget_class: type[W.Widget], **kwargs: Any) -> W.Widget | None:
        trait = widget_class.class_traits().get("style")
        if trait is None:
            return None
        style_class = trait.klass  # type: ignore[attr-defined]
        key = (style_class, _key(kwargs))
        found = self._styles.get(key)
        if found is None:
            found = self._styles[key] = style_class(**kwargs)
        return found

    def make(
        self,
        widget_class: type[T],
        *,
        layout: W.Layout | dict[str, Any] | None = None,
        style: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> T:
        """``widget_class(**kwargs)`` with a shared layout and style."""
        if isinstance(layout, dict) or layout is None:
            layout = self.layout(**(layout or {}))
        shared_style = self.style(widget_class, **(style or {}))
        if shared_style is not None:
            kwargs["style"] = shared_style
        widget: T = widget_class(layout=layout, **kwargs)
        self._created.append(widget)
        return widget

    def adopt(self, widget: W.Widget) -> W.Widget:
        """Close ``widget`` together with this factory's widgets."""
        self._created.append(widget)
        return widget

    @property
    def widgets(self) -> list[W.Widget]:
        return [*self._created, *self._layouts.values(), *self._styles.values()]

    def close(self) -> None:
        for widget in reversed(self._created):
            widget.close()
        for shared in [*self._layouts.values(), *self._styles.values()]:
            shared.close()
        self._created.clear()
        self._layouts.clear()
        self._styles.clear()
