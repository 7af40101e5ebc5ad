"""The catalog-backed model picker of one provider.

A ``SelectMultiple`` shows the top matches of the search and filters (at most
``max_rows``, with "N more — refine the search"), each row with its context
window and price. Its value is *the selected models among the visible rows*;
the selection itself is ``provider.models``, so searching, filtering, switching
between chat and embedding models or refreshing the catalog never changes it.
Picking rows writes through to ``provider.models`` (and so to disk), and code
changing ``provider.models`` updates the rows at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
from traitlets import Unicode

from .._provider_types import PROVIDER_TYPES
from ._bindings import Bindings, ErrorReporter, SafeLink
from ._endpoint_list import EndpointList
from ._errors import PanelPart
from ._factory import BUTTON, WidgetFactory
from ._html import PANEL_CSS, badge, esc, join_ids, model_details, muted
from ._model_index import ModelIndex, codex_plan_index, header_label, index_for, option_label

__all__ = ["ModelPicker"]

DESC = {"description_width": "0px"}


class ModelPicker(PanelPart, W.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Pick the models of ``provider`` from the catalog (or by id).

    Drive it like a user: ``search.value``, the filter checkboxes, ``rows.value``
    (the visible selected ids), ``select_visible`` / ``clear_visible``,
    ``manual_id`` + ``manual_add``, ``refresh_button``.
    """

    highlighted = Unicode("", help="The model whose details are shown")

    def __init__(
        self,
        provider: Any,
        *,
        report: ErrorReporter | None = None,
        factory: WidgetFactory | None = None,
        catalog: Any = None,
        max_rows: int = 50,
        standalone: bool | None = None,
        **kwargs: Any,
    ) -> None:
        f, report, standalone = self._start_part(factory, report, standalone)
        self.provider = provider
        self.max_rows = max_rows
        self._bindings = Bindings(report)
        self._catalog = catalog
        self._catalog_error: str | None = None
        self._indexes: dict[str, ModelIndex] = {}
        self._plan_models: list[Any] | None = None  # codex: the signed-in plan's own list
        self._labels: dict[tuple[str, int], str] = {}
        self._visible: list[str] = []
        self._matches = 0
        self._refreshing = False
        self._lock = threading.RLock()  # catalog refreshes call back from their own thread
        self.refresh_done = threading.Event()
        self.refresh_done.set()
        self.last_filter_seconds = 0.0

        info = PROVIDER_TYPES[provider.type]
        purposes = [("Chat", "chat")]
        if info.embeddings:
            purposes.append(("Embeddings", "embedding"))
        self.purpose = f.make(
            W.ToggleButtons,
            options=purposes,
            value="chat",
            tooltips=["Chat models", "Embedding models"][: len(purposes)],
            style={"button_width": "104px"},
            # Never wrap the two buttons onto two lines when the status text beside is long.
            layout={"flex": "0 0 auto", "width": f"{112 * len(purposes)}px"},
        )
        self.catalog_status = f.make(W.HTML, value="", layout={"flex": "1 1 auto"})
        self.endpoint_status = f.make(W.HTML, value="")
        self.endpoint = EndpointList(provider, self._endpoint_changed)
        self._endpoint_rows_from: Any = None
        self.refresh_button = f.make(
            W.Button,
            description="Refresh",
            icon="refresh",
            tooltip="Fetch the models.dev catalog again (your selection is kept)",
            layout={**BUTTON, "flex": "0 0 auto", "min_width": "96px"},
        )
        self.search = f.make(
            W.Text,
            value="",
            placeholder="Search models: id, name or family…",
            continuous_update=True,
            layout={"width": "calc(100% - 4px)"},
        )
        self.tools = f.make(
            W.Checkbox, value=False, description="tools", indent=False, layout={"width": "auto"}
        )
        self.reasoning = f.make(
            W.Checkbox, value=False, description="reasoning", indent=False, layout={"width": "auto"}
        )
        self.image_input = f.make(
            W.Checkbox,
            value=False,
            description="image input",
            indent=False,
            layout={"width": "auto"},
        )
        self.hide_deprecated = f.make(
            W.Checkbox,
            value=True,
            description="hide deprecated",
            indent=False,
            layout={"width": "auto"},
        )
        self.rows = f.make(
            W.SelectMultiple,
            options=(),
            value=(),
            rows=12,
            style=DESC,
            layout={"width": "calc(100% - 4px)"},
        )
        self.rows.add_class("takopi-mono")
        self.rows_header = f.make(W.HTML, value="")
        self.count = f.make(W.HTML, value="", layout={"flex": "1 1 auto"})
        self.select_visible = f.make(
            W.Button,
            description="Select visible",
            tooltip="Select every row shown",
            layout=BUTTON,
        )
        self.clear_visible = f.make(
            W.Button,
            description="Clear visible",
            tooltip="Unselect every row shown",
            layout=BUTTON,
        )
        self.details = f.make(W.HTML, value="")
        self.selected_summary = f.make(W.HTML, value="")
        self.manual_id = f.make(
            W.Text,
            value="",
            placeholder="Add a model id by hand (proxies, new releases)",
            continuous_update=False,
            layout={"flex": "1 1 auto"},
        )
        self.manual_add = f.make(W.Button, description="Add id", icon="plus", layout=BUTTON)

        children: list[W.Widget] = []
        if standalone:
            children.append(f.make(W.HTML, value=PANEL_CSS))
        row = {"width": "100%", "align_items": "center"}
        children += [
            f.make(
                W.HBox,
                children=(self.purpose, self.catalog_status, self.refresh_button),
                layout=row,
            ),
            self.endpoint_status,
            self.search,
            f.make(
                W.HBox,
                children=(
                    muted_label(f, "Only:"),
                    self.tools,
                    self.reasoning,
                    self.image_input,
                    self.hide_deprecated,
                ),
                layout=row,
            ),
            self.rows_header,
            self.rows,
            f.make(
                W.HBox, children=(self.count, self.select_visible, self.clear_visible), layout=row
            ),
            self.details,
            self.selected_summary,
            f.make(W.HBox, children=(self.manual_id, self.manual_add), layout=row),
        ]
        if self._error_line is not None:
            children.append(self._error_line.box)
        super().__init__(children=children, layout=f.layout(width="100%"), **kwargs)
        if standalone:
            self.add_class("takopi-panel")
        self.add_class("takopi-model-picker")

        b = self._bindings
        self._link: SafeLink = b.link(
            (provider, "models"),
            (self.rows, "value"),
            where=f"Selecting models of {provider.id!r}",
            transform=self._visible_selected,
            inverse=self._merge_visible,
        )
        b.observe(provider, self._models_changed, "models", where="Showing the selection")
        b.observe(self.rows, self._value_changed, "value", where="Showing model details")
        b.observe(self, self._show_details, "highlighted", where="Showing model details")
        for box in (
            self.search,
            self.tools,
            self.reasoning,
            self.image_input,
            self.hide_deprecated,
            self.purpose,
        ):
            b.observe(box, self._refilter, "value", where="Filtering models")
        b.on_click(self.select_visible, self._select_visible, where="Selecting the visible models")
        b.on_click(self.clear_visible, self._clear_visible, where="Clearing the visible models")
        b.on_click(self.manual_add, self._add_manual, where="Adding a model id")
        b.observe(self.manual_id, self._manual_submitted, "value", where="Adding a model id")
        b.on_click(self.refresh_button, self._refresh, where="Refreshing the catalog")
        # Asked when the picker is built, when the Base URL changes and on Refresh. Not on every
        # key change: an answer landing while the user is clicking rows lost their selection in
        # the browser journey (tests/e2e/test_journey.py).
        b.observe(provider, self._reload_endpoint, "base_url", where="Asking the endpoint")

        self._load_catalog()
        self.endpoint.load()
        self._refilter()
        self._show_details()

    # -- the catalog ----------------------------------------------------------------------

    def _load_catalog(self) -> None:
        self._indexes.clear()
        self._labels.clear()
        if self._catalog is None:
            try:
                from ..catalog import get_catalog

                self._catalog = get_catalog()
            except Exception as exc:
                self._catalog_error = str(exc) or type(exc).__name__
                self._report("Loading the models.dev catalog", exc)
        if self._catalog is not None and hasattr(self._catalog, "on_change"):
            listener = self._bindings.wrap("Showing the refreshed catalog", self._catalog_changed)
            self._bindings.add_undo(self._catalog.on_change(listener))
        self._show_catalog_status()
        if self.provider.type == "codex":
            config = self.provider._config
            self._bindings.on_credentials_changed(
                config, self._codex_credentials_changed, where="Loading your plan's models"
            )
            self._load_plan_models()

    def _codex_credentials_changed(self, provider: Any) -> None:
        if provider is self.provider:
            self._load_plan_models()

    def _load_plan_models(self) -> None:
        """Ask the Codex backend which models the signed-in plan offers, off the kernel's thread.

        Until it answers, and whenever it cannot, the catalog's Codex list is shown.
        """
        if self.provider.account is None:
            if self._plan_models is not None:
                self._plan_models = None
                self._catalog_changed()
            return

        def fetch() -> None:
            from ..codex import backend_models

            models = backend_models(self.provider._config.runtime, self.provider.record)
            if models and not self._bindings.closed:
                self._plan_models = list(models)
                self._catalog_changed()

        threading.Thread(target=fetch, name="takopi-codex-models", daemon=True).start()

    # -- the endpoint's own list ------------------------------------------------------------

    def _reload_endpoint(self, change: Any = None, *, refresh: bool = False) -> None:
        self.endpoint.load(refresh=refresh)

    def _endpoint_changed(self) -> None:
        """The endpoint's list arrived (or failed, or is being asked for): show it."""
        if self._bindings.closed:
            return
        text = self.endpoint.describe()
        # A proxy that cannot list is worth a red line; a default endpoint is only a hint.
        css = "takopi-error" if self.endpoint.error and self.endpoint.overridden else "takopi-muted"
        value = f"<span class='{css}' style='font-size:11px'>{esc(text)}</span>" if text else ""
        if self.endpoint_status.value != value:
            self.endpoint_status.value = value
        # Rebuild the rows only when there is a new list: a rebuild while the user is clicking
        # could overwrite a selection still on its way from the browser.
        if not self.endpoint.loading and self.endpoint.models is not self._endpoint_rows_from:
            self._endpoint_rows_from = self.endpoint.models
            self._catalog_changed()

    def _show_catalog_status(self) -> None:
        if self._refreshing:
            self.catalog_status.value = muted("Catalog: refreshing…")
        elif self._catalog is None:
            self.catalog_status.value = (
                f'<span class="takopi-error">No catalog: {esc(self._catalog_error or "")}</span>'
            )
        else:
            plan = " · models offered by your ChatGPT plan" if self._plan_models else ""
            self.catalog_status.value = (
                "<span class='takopi-muted' style='font-size:11px'>Catalog: "
                f"{esc(self._catalog.describe())}{plan}</span>"
            )

    def index(self, purpose: str | None = None) -> ModelIndex:
        purpose = purpose or str(self.purpose.value)
        found = self._indexes.get(purpose)
        if found is None:
            if self._plan_models:
                found = codex_plan_index(self._catalog, self._plan_models)
            elif self._catalog is None:
                found = ModelIndex(())
            else:
                found = index_for(self._catalog, self.provider.type, purpose)
            self._indexes[purpose] = found
        return found

    def info(self, model_id: str) -> Any | None:
        """The catalog entry of ``model_id`` for this provider's type (either purpose), or None."""
        served = self.endpoint.models.get(model_id) if self.endpoint.models else None
        if served is not None and served.info is not None:
            return served.info
        for purpose in ("chat", "embedding"):
            if purpose == "embedding" and not PROVIDER_TYPES[self.provider.type].embeddings:
                continue
            found = self.index(purpose).get(model_id)
            if found is not None:
                return found
        if self._catalog is not None and self.provider.type != "codex":
            catalog_provider = PROVIDER_TYPES[self.provider.type].catalog_provider
            return self._catalog.get(catalog_provider, model_id)
        return None

    def in_catalog(self, model_id: str) -> bool:
        return self.info(model_id) is not None

    # -- rows -----------------------------------------------------------------------------

    def _visible_selected(self, models: Sequence[str]) -> tuple[str, ...]:
        chosen = set(models)
        return tuple(m for m in self._visible if m in chosen)

    def _merge_visible(self, value: Sequence[str]) -> list[str]:
        """The new selection when the visible rows now hold ``value`` selected."""
        visible = set(self._visible)
        chosen = set(value)
        current = list(self.provider.models)
        kept = [m for m in current if m not in visible or m in chosen]
        added = [m for m in self._visible if m in chosen and m not in current]
        return kept + added

    def _label(self, model_id: str, info: Any, id_width: int) -> str:
        key = (model_id, id_width)
        label = self._labels.get(key)
        if label is None:
            label = self._labels[key] = option_label(
                info, model_id, id_width=id_width, subscription=self.provider.type == "codex"
            )
        return label

    def _refilter(self, change: Any = None) -> None:
        """Recompute the visible rows from the search and filters; the selection is untouched."""
        with self._lock:
            self._refilter_locked()

    def _refilter_locked(self) -> None:
        started = time.perf_counter()
        index = self.index()
        query = str(self.search.value)
        matches = index.search(
            query,
            tool_call=bool(self.tools.value),
            reasoning=bool(self.reasoning.value),
            image_input=bool(self.image_input.value),
            hide_deprecated=bool(self.hide_deprecated.value),
        )
        # Selected ids that no catalog list of this type knows are shown first (when they
        # match the search), so a hand-added id can always be seen and unselected.
        words = query.lower().split()
        manual = [
            m
            for m in self.provider.models
            if not self.in_catalog(m) and all(w in m.lower() for w in words)
        ]
        shown = matches[: self.max_rows]
        id_width = min(30, max([12, *(len(m) for m in manual), *(len(i.id) for i in shown)]))
        if self.endpoint.models is not None:
            options = self._endpoint_options(shown, manual, words, id_width)
        else:
            options = [(self._label(m, None, id_width), m) for m in manual]
            options += [(self._label(info.id, info, id_width), info.id) for info in shown]
        self._visible = [value for _, value in options]
        header = f"<div class='takopi-rows-header'>{esc(header_label(id_width))}</div>"
        if self.rows_header.value != header:
            self.rows_header.value = header
        self._matches = len(matches)
        with self._link.quiet(), self.rows.hold_sync():
            if tuple(self.rows.options) != tuple(options):
                self.rows.options = options
            visible_selected = self._visible_selected(self.provider.models)
            if tuple(self.rows.value) != visible_selected:
                self.rows.value = visible_selected
        self._show_count()
        self.last_filter_seconds = time.perf_counter() - started

    def _endpoint_options(
        self, shown: list[Any], manual: list[str], words: list[str], id_width: int
    ) -> list[tuple[str, str]]:
        """Rows when the endpoint's list is known: what it serves first (Base URL override),
        or the catalog with the models the key can list marked ●."""
        from .._endpoint_models import picker_rows

        assert self.endpoint.models is not None
        flags = {
            "tool_call": bool(self.tools.value),
            "reasoning": bool(self.reasoning.value),
            "image_input": bool(self.image_input.value),
        }
        served = [
            m
            for m in self.endpoint.models
            if all(w in f"{m.id} {m.name}".lower() for w in words)
            and all(getattr(m.info, name, False) for name, on in flags.items() if on)
        ]
        rows = picker_rows(
            shown,
            served,
            self.provider.models,
            overridden=self.endpoint.overridden,
            purpose=str(self.purpose.value),
            extra=manual,
        )
        width = min(30, max([id_width, *(len(r.id) for r in rows if r.group == "endpoint")]))
        options = []
        for row in rows:
            label = self._label(row.id, row.info, width)
            if row.group == "catalog" and row.served:
                label += " ● listed"
            elif row.group == "catalog" and self.endpoint.overridden:
                label += " · catalog only"
            options.append((label, row.id))
        return options

    def _show_count(self) -> None:
        index = self.index()
        selected = list(self.provider.models)
        here = sum(1 for m in selected if m in index or not self.in_catalog(m))
        total = len(index) + sum(1 for m in selected if not self.in_catalog(m))
        parts = [f"<b>{here} of {total} selected</b>"]
        if self._matches < len(index) or str(self.search.value).strip():
            parts.append(f"{self._matches} match")
        more = self._matches - min(self._matches, self.max_rows)
        if more:
            parts.append(f"<span class='takopi-warn'>{more} more — refine the search</span>")
        self.count.value = " · ".join(parts)
        self._show_summary()

    def _show_summary(self) -> None:
        selected = list(self.provider.models)
        if not selected:
            self.selected_summary.value = muted(
                "No models selected: this provider is not usable until you select at least one."
            )
            return
        unknown = [m for m in selected if not self.in_catalog(m)]
        text = f"<b>Selected ({len(selected)}):</b> {join_ids(selected)}"
        if unknown:
            text += " " + badge(f"{len(unknown)} not in catalog", "warn")
        self.selected_summary.value = f"<div>{text}</div>"

    # -- reactions --------------------------------------------------------------------------

    def _models_changed(self, change: Any) -> None:
        old_manual = {m for m in change["old"] if not self.in_catalog(m)}
        new_manual = {m for m in change["new"] if not self.in_catalog(m)}
        if old_manual != new_manual:
            self._refilter()
        else:
            self._link.resync()
            self._show_count()
        if self.highlighted:
            self._show_details()

    def _value_changed(self, change: Any) -> None:
        if self._link.updating:
            return  # our own update of the rows, not a click
        old, new = list(change["old"]), list(change["new"])
        added = [m for m in new if m not in old]
        removed = [m for m in old if m not in new]
        if added:
            self.highlighted = added[-1]
        elif removed:
            self.highlighted = removed[-1]

    def _show_details(self, change: Any = None) -> None:
        model_id = str(self.highlighted)
        if not model_id:
            self.details.value = muted("Click a model to see its details.")
            return
        info = self.info(model_id)
        self.details.value = model_details(
            info,
            model_id,
            selected=model_id in self.provider.models,
            in_catalog=info is not None,
        )

    def _select_visible(self, _: Any = None) -> None:
        current = list(self.provider.models)
        self.provider.models = current + [m for m in self._visible if m not in current]

    def _clear_visible(self, _: Any = None) -> None:
        visible = set(self._visible)
        self.provider.models = [m for m in self.provider.models if m not in visible]

    def _add_manual(self, _: Any = None) -> None:
        model_id = str(self.manual_id.value).strip()
        if not model_id:
            return
        if any(c.isspace() for c in model_id):
            raise ValueError(
                f"Model id {model_id!r} contains whitespace; ids are sent as they are."
            )
        if model_id not in self.provider.models:
            self.provider.models = [*self.provider.models, model_id]
        self.highlighted = model_id
        self.manual_id.value = ""

    def _manual_submitted(self, change: Any) -> None:
        if change["new"].strip():
            self._add_manual()

    def _refresh(self, _: Any = None) -> None:
        """Fetch the catalog again without blocking; the rows follow, the selection stays."""
        if self._catalog is None:
            self._load_catalog()
            self._refilter()
            return
        if self._refreshing:
            return
        self._refreshing = True
        self.refresh_button.disabled = True
        self.refresh_done.clear()
        self._show_catalog_status()
        future = self._catalog.refresh(background=True)
        future.add_done_callback(self._refresh_finished)
        self._reload_endpoint(refresh=True)

    def _refresh_finished(self, future: Any) -> None:
        try:
            if self._bindings.closed:
                return
            try:
                ok = future.result()
            except Exception as exc:
                self._report("Refreshing the catalog", exc)
            else:
                if not ok:
                    why = getattr(self._catalog, "last_error", None) or "no new data"
                    self._report("Refreshing the catalog", RuntimeError(why))
            self._refreshing = False
            self.refresh_button.disabled = False
            self._catalog_changed()
        finally:
            self._refreshing = False
            self.refresh_done.set()

    def _catalog_changed(self, catalog: Any = None) -> None:
        """New catalog data (a refresh here or elsewhere): rebuild the rows, keep the selection."""
        if self._bindings.closed:
            return
        with self._lock:
            self._indexes.clear()
            self._labels.clear()
            self._show_catalog_status()
            self._refilter()
            self._show_details()

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def visible(self) -> list[str]:
        """The model ids of the rows shown now."""
        return list(self._visible)

    def close(self) -> None:
        self.endpoint.close()
        self._bindings.close()
        super().close()
        self._close_part()


def muted_label(factory: WidgetFactory, text: str) -> W.HTML:
    return factory.make(W.HTML, value=muted(text))
