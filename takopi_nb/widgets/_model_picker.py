"""The catalog-backed model picker of one provider.

The rows are a :class:`~takopi_nb.widgets._model_list.ModelList`: checkboxes, one
per model, searched and filtered in the browser as you type (no kernel round trip),
with Chat and Embeddings tabs, details on hover or focus, removable chips and an
undoable "select visible". Its ``value`` is linked to ``provider.models`` both ways,
so picking rows writes through to the config (and disk), and code changing
``provider.models`` updates the checkboxes at once. Around it: the catalog's state
and Refresh, and adding an id by hand.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W

from .._provider_types import PROVIDER_TYPES
from ..catalog._display import format_tokens
from ._bindings import Bindings, ErrorReporter, SafeLink
from ._endpoint_list import EndpointList
from ._errors import PanelPart
from ._factory import BUTTON, WidgetFactory
from ._html import esc, muted
from ._live import panel_head
from ._model_index import LISTED, ModelIndex, codex_plan_index, index_for, list_row
from ._model_list import ModelList

__all__ = ["ModelPicker"]


class ModelPicker(PanelPart, W.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Pick the models of ``provider`` from the catalog (or by id).

    Drive it like a user: ``list.value`` (what the browser sends when a box is
    ticked), ``list.send_add(id)`` (the "Add id" field), ``refresh_button``.
    """

    def __init__(
        self,
        provider: Any,
        *,
        report: ErrorReporter | None = None,
        factory: WidgetFactory | None = None,
        catalog: Any = None,
        standalone: bool | None = None,
        **kwargs: Any,
    ) -> None:
        f, report, standalone = self._start_part(factory, report, standalone)
        self.provider = provider
        self._bindings = Bindings(report)
        self._catalog = catalog
        self._catalog_error: str | None = None
        self._indexes: dict[str, ModelIndex] = {}
        self._plan_models: list[Any] | None = None  # codex: the signed-in plan's own list
        self._refreshing = False
        self._lock = threading.RLock()  # catalog refreshes call back from their own thread
        self.refresh_done = threading.Event()
        self.refresh_done.set()

        info = PROVIDER_TYPES[provider.type]
        self.purposes = ["chat", "embedding"] if info.embeddings else ["chat"]
        self.catalog_status = f.make(W.HTML, value="", layout={"flex": "1 1 auto"})
        self.refresh_button = f.make(
            W.Button,
            description="Refresh",
            icon="refresh",
            tooltip="Fetch the models.dev catalog again (your selection is kept)",
            layout={**BUTTON, "flex": "0 0 auto", "min_width": "96px"},
        )
        self.list = f.adopt(ModelList(purposes=self.purposes, value=list(provider.models)))
        # What the endpoint serves: with a Base URL override, listed above the catalog; at the
        # type's default endpoint, the catalog's models the key can list are marked ●.
        self.endpoint_status = f.make(W.HTML, value="")
        self.endpoint = EndpointList(provider, self._endpoint_changed)

        children: list[W.Widget] = panel_head(f, standalone)
        row = {"width": "100%", "align_items": "center", "flex_flow": "row wrap"}
        children += [
            f.make(W.HBox, children=(self.catalog_status, self.refresh_button), layout=row),
            self.endpoint_status,
            self.list,
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
            (self.list, "value"),
            where=f"Selecting models of {provider.id!r}",
            transform=list,
            inverse=list,
        )
        b.observe(provider, self._models_changed, "models", where="Showing the selection")
        self.list.on_add = b.wrap("Adding a model id", self.add_model_id)
        b.on_click(self.refresh_button, self._refresh, where="Refreshing the catalog")
        b.observe(
            provider, self._base_url_changed, "base_url", where="Listing the endpoint's models"
        )

        if provider.type != "codex":  # Codex lists its plan's models its own way
            b.on_credentials_changed(
                provider._config,
                self._endpoint_credentials_changed,
                where="Listing the endpoint's models",
            )

        self._load_catalog()
        self._show_rows()
        self._load_endpoint()

    # -- the catalog ----------------------------------------------------------------------

    def _load_catalog(self) -> None:
        self._indexes.clear()
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

    def index(self, purpose: str = "chat") -> ModelIndex:
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

    # -- the endpoint's own list ----------------------------------------------------------------

    def _load_endpoint(self, refresh: bool = False) -> None:
        # Asks in the background, and only when there is something to ask with (a key, not
        # codex, not offline at a default endpoint); otherwise it clears the list at once.
        self.endpoint.load(refresh=refresh)

    def _base_url_changed(self, change: Any) -> None:
        self._load_endpoint()

    def _endpoint_credentials_changed(self, provider: Any) -> None:
        if provider is self.provider:
            self._load_endpoint(refresh=True)  # a new key may list other models

    def _endpoint_changed(self) -> None:
        """The endpoint's list arrived, failed, or is being asked for (any thread)."""
        if self._bindings.closed:
            return
        try:
            with self._lock:
                self._show_endpoint_status()
                self._show_rows()
        except Exception as exc:  # a worker thread must not raise; the panel says it instead
            self._report("Showing the endpoint's models", exc)

    def _show_endpoint_status(self) -> None:
        text = self.endpoint.describe()
        if not text:
            value = ""
        elif self.endpoint.error:
            value = f'<span class="takopi-error" style="font-size:11px">{esc(text)}</span>'
        else:
            # The legend's ● in the colour of the marks it explains.
            shown = esc(text).replace("●", "<span class='tml-mark tml-legend'>●</span>")
            value = f"<span class='takopi-muted' style='font-size:11px'>{shown}</span>"
        if self.endpoint_status.value != value:
            self.endpoint_status.value = value

    def _served(self) -> Any:
        """The endpoint's list, once it answered (None before, on an error, or never asked)."""
        return self.endpoint.models

    # -- rows -----------------------------------------------------------------------------

    def _show_rows(self) -> None:
        """Send the rows of every tab to the browser (once per list, not per keystroke).

        With a Base URL override whose endpoint answered, two groups: what the endpoint
        serves (catalog metadata where an id matched, "not in catalog" otherwise), then
        the catalog's models it does not list, still reachable. At the type's default
        endpoint, the catalog in its own order with the models the key can list flagged
        :data:`LISTED` (shown ●, and a filter), then what the key lists beyond the catalog.
        """
        with self._lock:
            subscription = self.provider.type == "codex"
            served = self._served()
            if served is None:
                groups = ["models.dev catalog"]
                rows = [
                    list_row(info, purpose, subscription=subscription)
                    for purpose in self.purposes
                    for info in self.index(purpose).models
                ]
            else:
                from .._endpoint_models import GROUP_TITLES, picker_rows

                overridden = self.endpoint.overridden
                if overridden:
                    groups = [GROUP_TITLES["endpoint"], "models.dev catalog, not listed by it"]
                else:
                    groups = ["models.dev catalog", "Also listed for your key, not in the catalog"]
                rows = []
                for purpose in self.purposes:
                    for row in picker_rows(
                        self.index(purpose).models,
                        served,
                        [],
                        overridden=overridden,
                        purpose=purpose,
                        extra=[],
                    ):
                        rows.append(self._row(row, purpose, subscription, overridden))
            if self.list.groups != groups:
                self.list.groups = groups
            if self.list.rows != rows:
                self.list.rows = rows
            self._show_unknown()

    @staticmethod
    def _row(row: Any, purpose: str, subscription: bool, overridden: bool = True) -> list[Any]:
        # Override: the endpoint's rows head the list (0). Default: the catalog's do (0).
        group = int((row.group == "endpoint") != overridden)
        # At a default endpoint, every model the key lists gets the ● (the catalog's others not).
        listed = LISTED if row.served and not overridden else 0
        if row.info is None:
            context = format_tokens(row.context_window) if row.context_window else ""
            cells: list[Any] = [row.id, "", "", context if context != "—" else "", "", "", "", ""]
            return [*cells, listed, "not in catalog", "", purpose, group]
        cells = list_row(row.info, purpose, subscription=subscription)
        cells += [""] * (13 - len(cells))
        cells[0], cells[11], cells[12] = row.id, purpose, group
        cells[8] = (cells[8] or 0) | listed
        if row.id != row.info.id and not cells[1]:
            cells[1] = row.info.name  # "openai/gpt-4o" served as the catalog's gpt-4o
        if row.context_window:
            cells[3] = format_tokens(row.context_window)
        while len(cells) > 1 and cells[-1] in ("", 0, None):
            cells.pop()
        return cells

    def _show_unknown(self) -> None:
        served = self._served()
        listed = set(served.ids) if served is not None else set()
        unknown = [m for m in self.provider.models if m not in listed and not self.in_catalog(m)]
        if self.list.unknown != unknown:
            self.list.unknown = unknown

    @property
    def visible_ids(self) -> list[str]:
        """Every model id with a row (all tabs), catalog order."""
        return [row[0] for row in self.list.rows]

    @property
    def rows(self) -> list[list[Any]]:
        """The rows as :func:`list_row` made them."""
        return list(self.list.rows)

    # -- reactions --------------------------------------------------------------------------

    def _models_changed(self, change: Any) -> None:
        self._show_unknown()

    def add_model_id(self, text: str) -> None:
        """Select ``text`` as a model id, in the catalog or not (the list's "Add id")."""
        model_id = text.strip()
        if not model_id:
            return
        if any(c.isspace() for c in model_id):
            raise ValueError(
                f"Model id {model_id!r} contains whitespace; ids are sent as they are."
            )
        if model_id not in self.provider.models:
            self.provider.models = [*self.provider.models, model_id]

    def _refresh(self, _: Any = None) -> None:
        """Fetch the catalog again without blocking; the rows follow, the selection stays."""
        if self._catalog is None:
            self._load_catalog()
            self._show_rows()
            return
        if self._refreshing:
            return
        self._load_endpoint(refresh=True)  # a proxy's new models show up too, a key's new access
        self._refreshing = True
        self.refresh_button.disabled = True
        self.refresh_done.clear()
        self._show_catalog_status()
        future = self._catalog.refresh(background=True)
        future.add_done_callback(self._refresh_finished)

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
            self._show_catalog_status()
            self._show_rows()

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self.endpoint.close()
        self._bindings.close()
        super().close()
        self._close_part()
