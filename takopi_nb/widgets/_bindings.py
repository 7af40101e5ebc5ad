"""Links between widgets and the config objects, with errors reported instead of lost.

Every widget of the panel is tied to a :class:`~takopi_nb._config.Provider` or
:class:`~takopi_nb._config.TakopiConfig` trait through :class:`SafeLink` /
:class:`SafeDirectionalLink` (subclasses of ``traitlets.link`` / ``dlink``) or a
named-trait observer. A :class:`Bindings` keeps track of all of them so that
closing a panel unlinks everything, and wraps every callback so that an
exception is shown in the panel's error line rather than vanishing into the
kernel log.

This module does not import ipywidgets.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from traitlets import HasTraits, dlink, link

AnyLink = link | dlink
_Link = TypeVar("_Link", bound=AnyLink)

__all__ = ["Bindings", "ErrorReporter", "SafeDirectionalLink", "SafeLink"]

log = logging.getLogger("takopi_nb.widgets")

ErrorReporter = Callable[[str, BaseException], None]
"""``report(where, exc)``: show that ``where`` (e.g. "Saving the Base URL") failed."""


def _identity(value: Any) -> Any:
    return value


def _set_if_changed(owner_trait: tuple[HasTraits, str], value: Any) -> None:
    """Assign only a different value, so an unchanged one fires no observer and no comm message."""
    owner, name = owner_trait
    if getattr(owner, name) != value:
        setattr(owner, name, value)


class _Reporting:
    """What both safe links share: where errors go, and showing the config in the widget."""

    _on_error: ErrorReporter
    _where: str
    updating: bool
    source: tuple[HasTraits, str]
    target: tuple[HasTraits, str]

    def _report_to(self, on_error: ErrorReporter, where: str) -> None:
        self._on_error = on_error
        self._where = where

    if TYPE_CHECKING:  # provided by traitlets' link / dlink, which come later in the MRO

        def _busy_updating(self) -> Any: ...

        def _transform(self, value: Any) -> Any: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._where}>"

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Change the widget without writing back to the config (re-entrant)."""
        if self.updating:
            yield
            return
        with self._busy_updating():
            yield

    @contextlib.contextmanager
    def _reported(self) -> Iterator[None]:
        """Report an error of the block into the panel instead of raising it."""
        try:
            yield
        except Exception as exc:
            self._on_error(self._where, exc)

    def _push(self) -> None:
        """Config -> widget (caller holds the busy flag)."""
        _set_if_changed(self.target, self._transform(getattr(self.source[0], self.source[1])))

    def resync(self) -> None:
        """Show the config's current value in the widget again."""
        with self.quiet(), self._reported():
            self._push()


class SafeLink(_Reporting, link):
    """A two-way link, config trait (source) <-> widget trait (target).

    Unlike ``traitlets.link``:

    - a failed write to the config (validation, a locked file, a managed
      provider...) is reported through ``on_error`` and the widget is put back to
      the config's value, so the two never disagree silently;
    - when the config normalises a value (trailing slash, duplicate models), the
      widget shows the normalised value instead of raising "Broken link";
    - :meth:`resync` re-applies the config value, for transforms that depend on
      other state (the picker's visible rows).
    """

    def __init__(
        self,
        source: tuple[HasTraits, str],
        target: tuple[HasTraits, str],
        *,
        on_error: ErrorReporter,
        where: str,
        transform: Callable[[Any], Any] = _identity,
        inverse: Callable[[Any], Any] = _identity,
    ) -> None:
        self._report_to(on_error, where)
        super().__init__(source, target, transform=(transform, inverse))

    def link(self) -> None:
        with self._busy_updating():
            self._push()
        self.source[0].observe(self._update_target, names=self.source[1])
        self.target[0].observe(self._update_source, names=self.target[1])

    def _update_target(self, change: Any) -> None:
        if not self.updating:
            self.resync()

    def _update_source(self, change: Any) -> None:
        if self.updating:
            return
        with self._busy_updating():
            with self._reported():
                _set_if_changed(self.source, self._transform_inv(change.new))
            with self._reported():
                self._push()  # show what the config holds now (normalised, or unchanged)


class SafeDirectionalLink(_Reporting, dlink):
    """A one-way link, config trait -> widget trait, reporting errors instead of raising."""

    def __init__(
        self,
        source: tuple[HasTraits, str],
        target: tuple[HasTraits, str],
        *,
        on_error: ErrorReporter,
        where: str,
        transform: Callable[[Any], Any] = _identity,
    ) -> None:
        self._report_to(on_error, where)
        super().__init__(source, target, transform=transform)

    def _update(self, change: Any) -> None:
        if self.updating:
            return
        with self._busy_updating(), self._reported():
            _set_if_changed(self.target, self._transform(change.new))


class Bindings:
    """Owns every link, observer and callback of one widget, and undoes them on :meth:`close`."""

    def __init__(self, on_error: ErrorReporter) -> None:
        self.on_error = on_error
        self._links: list[AnyLink] = []
        self._observers: list[tuple[HasTraits, Callable[..., None], tuple[str, ...]]] = []
        self._undo: list[Callable[[], None]] = []
        self.closed = False

    def wrap(self, where: str, fn: Callable[..., Any]) -> Callable[..., None]:
        """``fn`` with its exceptions reported through ``on_error`` (and never raised)."""

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> None:
            if self.closed:
                return
            try:
                fn(*args, **kwargs)
            except Exception as exc:
                self.on_error(where, exc)

        return wrapped

    def link(
        self,
        source: tuple[HasTraits, str],
        target: tuple[HasTraits, str],
        *,
        where: str,
        transform: Callable[[Any], Any] = _identity,
        inverse: Callable[[Any], Any] = _identity,
    ) -> SafeLink:
        return self._keep(
            SafeLink(
                source,
                target,
                on_error=self.on_error,
                where=where,
                transform=transform,
                inverse=inverse,
            )
        )

    def dlink(
        self,
        source: tuple[HasTraits, str],
        target: tuple[HasTraits, str],
        *,
        where: str,
        transform: Callable[[Any], Any] = _identity,
    ) -> SafeDirectionalLink:
        return self._keep(
            SafeDirectionalLink(
                source, target, on_error=self.on_error, where=where, transform=transform
            )
        )

    def _keep(self, made: _Link) -> _Link:
        """Track a new link, so that :meth:`close` unlinks it."""
        self._links.append(made)
        return made

    def observe(
        self,
        obj: HasTraits,
        handler: Callable[[Any], Any],
        names: str | Sequence[str],
        *,
        where: str,
    ) -> Callable[[Any], None]:
        """``obj.observe(handler, names=names)`` with errors reported; undone on close."""
        trait_names = (names,) if isinstance(names, str) else tuple(names)
        wrapped = self.wrap(where, handler)
        obj.observe(wrapped, names=list(trait_names))
        self._observers.append((obj, wrapped, trait_names))
        return wrapped

    def on_click(self, button: Any, handler: Callable[[Any], Any], *, where: str) -> None:
        wrapped = self.wrap(where, handler)
        button.on_click(wrapped)
        self._undo.append(lambda: button.on_click(wrapped, remove=True))

    def on_credentials_changed(
        self, config: Any, handler: Callable[[Any], Any], *, where: str
    ) -> None:
        wrapped = self.wrap(where, handler)
        config.on_credentials_changed(wrapped)
        self._undo.append(lambda: config.on_credentials_changed(wrapped, remove=True))

    def add_undo(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    @property
    def links(self) -> list[AnyLink]:
        return list(self._links)

    def close(self) -> None:
        """Unlink and unobserve everything (idempotent)."""
        self.closed = True
        for made in self._links:
            try:
                made.unlink()
            except Exception:  # already unlinked, or the object is gone
                log.debug("unlink failed for %r", made, exc_info=True)
        self._links.clear()
        for obj, handler, names in self._observers:
            try:
                obj.unobserve(handler, names=list(names))
            except Exception:
                log.debug("unobserve failed", exc_info=True)
        self._observers.clear()
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception:
                log.debug("undo failed", exc_info=True)
        self._undo.clear()


def close_widgets(widgets: Iterable[Any]) -> None:
    """Close every widget in ``widgets`` (and, for boxes, not their children: pass those too)."""
    for widget in widgets:
        try:
            widget.close()
        except Exception:
            log.debug("closing %r failed", widget, exc_info=True)
