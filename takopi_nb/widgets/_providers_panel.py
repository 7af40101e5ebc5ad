"""``ProvidersPanel``: the whole configuration UI in one widget.

Left: the providers with their status, Add (type picker; the id defaults to the
type, then ``-2``, ``-3``…) and Remove (with confirmation). Right: the selected
provider's form and model picker. Below: the default model and the embedding
model. Everything is bound to the config object through traitlets, both ways,
and every failure is shown in the panel's error line.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

import ipywidgets as W

from .._provider_types import PROVIDER_TYPES
from .._validation import looks_like_secret
from ._bindings import Bindings, SafeLink
from ._errors import ErrorLine
from ._factory import BUTTON, WidgetFactory
from ._html import esc, muted, public_status
from ._live import PrivateHTML, panel_head
from ._provider_form import ProviderForm

__all__ = ["ProvidersPanel", "close_all", "open_panels", "panel"]

log = logging.getLogger("takopi_nb.widgets")

_panels: weakref.WeakSet[ProvidersPanel] = weakref.WeakSet()

NONE_LABEL = "(none)"
# The provider list is as tall as its providers, between these: at least a few rows (one
# row would make the browser draw a drop-down), and scrolling past the most.
LIST_ROWS = (3, 9)
CHOICE = {"description_width": "120px"}
# The add row's Type and Id fields: labels of one width, so the two boxes line up.
ADD_FIELD: dict[str, Any] = {
    "style": {"description_width": "40px"},
    "layout": {"width": "calc(100% - 4px)"},
}


class _ModelChoice(NamedTuple):
    """One of the panel's two model dropdowns, and the config trait it is linked to."""

    trait: str
    description: str
    tooltip: str
    where: str


_MODEL_CHOICES = {
    "chat": _ModelChoice(
        "default_model",
        "Default model",
        "Used by %%takopi when no ref is given",
        "Setting the default model",
    ),
    "embedding": _ModelChoice(
        "embedding_model",
        "Embedding model",
        "Only embedding models of providers that support embeddings",
        "Setting the embedding model",
    ),
}


def open_panels() -> list[ProvidersPanel]:
    return list(_panels)


def close_all() -> None:
    """Close every open panel (``%unload_ext takopi_nb`` does this)."""
    for opened in list(_panels):
        opened.close()


def panel(config: Any = None, **kwargs: Any) -> ProvidersPanel:
    """The providers panel for ``config`` (default: ``takopi_nb.get_config()``)."""
    return ProvidersPanel(config, **kwargs)


def _label(provider: Any) -> str:
    text = f"{provider.id} · {public_status(provider.status)}"
    if provider.managed:
        text += " · managed"
    return text


class ProvidersPanel(W.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Add, configure and remove providers; pick their models; set the default models."""

    def __init__(
        self,
        config: Any = None,
        *,
        catalog: Any = None,
        **kwargs: Any,
    ) -> None:
        if config is None:
            from .._config import get_config

            config = get_config()
        config.reload_if_changed()  # a new TakopiConfig reads its files on first use
        self.config = config
        self._factory = f = WidgetFactory()
        self.error_line = ErrorLine(f)
        self._bindings = b = Bindings(self.error_line.report)
        self.forms: dict[Any, ProviderForm] = {}
        self._watched: dict[Any, Any] = {}
        self._catalog = catalog
        self._catalog_tried = catalog is not None
        self._list_busy = False
        self._labels: dict[Any, str] = {}

        # The title names a local path and notices may: neither is saved with the notebook.
        self.title = f.make(PrivateHTML, value="")
        self.notices = f.make(PrivateHTML, value="")
        # -- left: the list, add, remove ----------------------------------------------------
        self.provider_list = f.make(
            W.Select,
            options=(),
            rows=LIST_ROWS[0],
            layout={"width": "calc(100% - 4px)"},
            style={"description_width": "0px"},
        )
        self.add_type = f.make(
            W.Dropdown,
            options=[(info.label, name) for name, info in PROVIDER_TYPES.items()],
            value="openai",
            description="Type",
            **ADD_FIELD,
        )
        self.add_id = f.make(
            W.Text,
            value="",
            description="Id",
            continuous_update=True,
            **ADD_FIELD,
        )
        self.add_button = f.make(
            W.Button,
            description="Add provider",
            icon="plus",
            button_style="primary",
            layout=BUTTON,
        )
        self.remove_button = f.make(W.Button, description="Remove…", icon="trash", layout=BUTTON)
        self.remove_message = f.make(W.HTML, value="")
        self.remove_confirm = f.make(
            W.Button, description="Remove", button_style="danger", layout=BUTTON
        )
        self.remove_cancel = f.make(W.Button, description="Cancel", layout=BUTTON)
        self.remove_box = f.make(
            W.VBox,
            children=(
                self.remove_message,
                f.make(W.HBox, children=(self.remove_confirm, self.remove_cancel)),
            ),
            layout={"border": "1px solid var(--jp-error-color1, #d32f2f)", "padding": "4px 8px"},
        )
        self.left_tail = f.make(W.VBox, children=(), layout={"width": "100%"})
        self.left = f.make(
            W.VBox,
            children=(
                f.make(W.HTML, value="<div class='takopi-section'>Providers</div>"),
                self.provider_list,
                f.make(W.HBox, children=(self.remove_button,)),
                self.left_tail,
                f.make(W.HTML, value="<div class='takopi-section'>Add a provider</div>"),
                self.add_type,
                self.add_id,
                self.add_button,
            ),
            # With the right column, in a row while both fit; stacked when narrower (below
            # about 740 px: a 900 px window with the file browser open).
            layout={"flex": "0 1 250px", "min_width": "220px", "margin": "0 14px 8px 0"},
        )
        # -- right: the selected provider ---------------------------------------------------
        self.empty = f.make(
            W.HTML,
            value=muted("No providers yet. Pick a type on the left and click “Add provider”."),
        )
        self.right = f.make(
            W.VBox,
            children=(self.empty,),
            layout={"flex": "1 1 470px", "min_width": "0", "width": "auto"},
        )
        # -- below: default and embedding models --------------------------------------------
        self.default_model = self._model_dropdown("chat")
        self.embedding_model = self._model_dropdown("embedding")
        self._choice_links: dict[str, SafeLink] = {}
        self.defaults = f.make(
            W.VBox,
            children=(
                f.make(W.HTML, value="<div class='takopi-section'>Defaults</div>"),
                self.default_model,
                self.embedding_model,
            ),
            layout={"width": "100%", "margin": "8px 0 0 0"},
        )
        super().__init__(
            children=(
                *panel_head(f, standalone=True),
                f.make(W.HTML, value="<div style='font-size:1.15em'><b>LLM providers</b></div>"),
                self.title,
                self.notices,
                self.error_line.box,
                f.make(
                    W.HBox,
                    children=(self.left, self.right),
                    layout={"width": "100%", "align_items": "flex-start", "flex_flow": "row wrap"},
                ),
                self.defaults,
            ),
            layout=f.layout(width="100%", max_width="1200px"),
            **kwargs,
        )
        self.add_class("takopi-panel")

        # -- bindings -----------------------------------------------------------------------
        b.observe(config, self._providers_changed, "providers", where="Listing the providers")
        b.observe(config, self._show_notices, "notices", where="Showing notices")
        b.on_credentials_changed(config, self._credentials_changed, where="Updating the status")
        b.observe(
            self.provider_list, self._selection_changed, "value", where="Showing the provider"
        )
        b.observe(self.add_type, self._update_add_placeholder, "value", where="Adding a provider")
        b.on_click(self.add_button, self._add_clicked, where="Adding a provider")
        b.on_click(self.remove_button, self._remove_clicked, where="Removing a provider")
        b.on_click(self.remove_confirm, self._remove_confirmed, where="Removing a provider")
        b.on_click(self.remove_cancel, lambda _: self._close_remove(), where="Removing a provider")
        for kind, choice in _MODEL_CHOICES.items():
            self._choice_links[kind] = b.link(
                (config, choice.trait),
                (self._dropdown(kind), "value"),
                where=choice.where,
                transform=functools.partial(self._ensure_choice, kind),
            )
        self._show_title()
        self._show_notices()
        self._providers_changed()
        _panels.add(self)

    # -- catalog (for telling embedding models from chat models) ----------------------------

    @property
    def catalog(self) -> Any:
        if not self._catalog_tried:
            self._catalog_tried = True
            try:
                from ..catalog import get_catalog

                self._catalog = get_catalog()
            except Exception as exc:
                self.error_line.report("Loading the models.dev catalog", exc)
        return self._catalog

    def _model_info(self, provider: Any, model_id: str) -> Any:
        catalog = self.catalog
        if catalog is None:
            return None
        return catalog.get(PROVIDER_TYPES[provider.type].catalog_provider, model_id)

    # -- the list -------------------------------------------------------------------------------

    @property
    def providers(self) -> list[Any]:
        return list(self.config.providers)

    @property
    def selected(self) -> Any:
        """The Provider shown on the right, or None."""
        return self.provider_list.value

    @property
    def form(self) -> ProviderForm | None:
        """The form of the selected provider."""
        selected = self.selected
        return self.forms.get(selected) if selected is not None else None

    def select(self, provider_id: str) -> ProviderForm:
        """Show the provider ``provider_id`` (like clicking it in the list)."""
        self.provider_list.value = self.config.get(provider_id)
        form = self.form
        assert form is not None
        return form

    def _show_title(self) -> None:
        path = self.config.runtime.store.path
        self.title.value = f"<div>{muted('Saved in ' + str(path))}</div>"

    def _show_notices(self, change: Any = None) -> None:
        notices = list(self.config.notices)
        self.notices.value = "".join(
            f"<div class='takopi-warn'>Note: {esc(n)}</div>" for n in notices
        )

    def _providers_changed(self, change: Any = None) -> None:
        providers = self.providers
        current = set(providers)
        for gone in [p for p in self._watched if p not in current]:
            gone.unobserve(self._watched.pop(gone), names=["id", "name", "models"])
            form = self.forms.pop(gone, None)
            if form is not None:
                form.close()
        for provider in providers:
            if provider not in self._watched:
                handler = self._bindings.wrap("Updating the provider list", self._provider_changed)
                provider.observe(handler, names=["id", "name", "models"])
                self._watched[provider] = handler
        self._relist()
        self._rebuild_choices()
        self._update_add_placeholder()

    def _provider_changed(self, change: Any) -> None:
        self._relist(change["owner"])
        if change["name"] in ("models", "id"):
            self._rebuild_choices()
        if change["name"] == "id":
            self._update_add_placeholder()

    def _credentials_changed(self, provider: Any) -> None:
        self._relist(provider)

    def _relist(self, changed: Any = None) -> None:
        """Show the providers with their status; only ``changed`` and new ones are looked up.

        The status reads the secret store (an OS keyring call per provider), so the
        labels of unchanged providers are reused.
        """
        providers = self.providers
        selected = self.provider_list.value
        if selected not in providers:
            selected = providers[0] if providers else None
        if changed is not None:
            self._labels.pop(changed, None)
        for provider in providers:
            if provider not in self._labels:
                self._labels[provider] = _label(provider)
        self._labels = {p: self._labels[p] for p in providers}
        options = tuple((self._labels[p], p) for p in providers)
        self._list_busy = True
        try:
            with self.provider_list.hold_sync():
                if tuple(self.provider_list.options) != options:
                    self.provider_list.options = options
                    low, high = LIST_ROWS
                    self.provider_list.rows = min(high, max(low, len(options)))
                if self.provider_list.value is not selected:
                    self.provider_list.value = selected
        finally:
            self._list_busy = False
        self._show_selected()

    def _selection_changed(self, change: Any) -> None:
        if not self._list_busy:
            self._close_remove()
            self.config.reload_if_changed()  # another kernel may have changed the file
            self._show_selected()

    def _show_selected(self) -> None:
        provider = self.provider_list.value
        if provider is None:
            self.right.children = (self.empty,)
            self.remove_button.disabled = True
            return
        form = self.forms.get(provider)
        if form is None:
            form = self.forms[provider] = ProviderForm(
                self.config,
                provider,
                report=self.error_line.report,
                factory=self._factory,
                catalog=self.catalog,
                standalone=False,
            )
        if tuple(self.right.children) != (form,):
            self.right.children = (form,)
        self.remove_button.disabled = bool(provider.managed)
        self.remove_button.tooltip = (
            "Managed by your administrator: it cannot be removed here"
            if provider.managed
            else "Remove this provider and delete its stored key"
        )

    # -- add / remove ----------------------------------------------------------------------

    def _default_id(self, type_name: str) -> str:
        from .._config import free_provider_id

        return free_provider_id(type_name, {p.id for p in self.providers})

    def _update_add_placeholder(self, change: Any = None) -> None:
        self.add_id.placeholder = f"{self._default_id(str(self.add_type.value))} (default)"

    def _add_clicked(self, _: Any = None) -> None:
        self.config.reload_if_changed()
        type_name = str(self.add_type.value)
        wanted = str(self.add_id.value).strip() or None
        if wanted is not None and looks_like_secret(wanted):
            self.add_id.value = ""  # a key pasted into the wrong field must not stay in it
        provider = self.config.add_provider(type_name, id=wanted)
        self.add_id.value = ""
        self.provider_list.value = provider

    def _remove_clicked(self, _: Any = None) -> None:
        provider = self.selected
        if provider is None:
            return
        if provider.managed:
            raise PermissionError(
                f"Provider {provider.id!r} is managed by your administrator and cannot be removed."
            )
        what = (
            "its stored key is deleted"
            if provider.type_info.auth == "api_key"
            else ("its ChatGPT sign-in is deleted")
        )
        self.remove_message.value = (
            f"<div><b>Remove {esc(provider.id)}</b> ({esc(provider.type_info.label)})? "
            f"{esc(what)}, and refs such as <code>{esc(provider.id)}/…</code> stop working.</div>"
        )
        self._pending_remove = provider
        self.left_tail.children = (self.remove_box,)

    @property
    def pending_remove(self) -> Any:
        return getattr(self, "_pending_remove", None) if self.left_tail.children else None

    def _close_remove(self) -> None:
        self._pending_remove = None
        self.left_tail.children = ()

    def _remove_confirmed(self, _: Any = None) -> None:
        provider = self.pending_remove
        self._close_remove()
        if provider is not None:
            self.config.remove_provider(provider.id)

    # -- default and embedding model --------------------------------------------------------

    def _choices(self, kind: str) -> list[tuple[str, str]]:
        options = [(NONE_LABEL, "")]
        for provider in self.providers:
            if kind == "embedding" and not provider.type_info.embeddings:
                continue
            for model_id in provider.models:
                info = self._model_info(provider, model_id)
                if info is not None and info.is_embedding != (kind == "embedding"):
                    continue
                ref = f"{provider.id}/{model_id}"
                label = ref if info is not None else f"{ref} (not in catalog)"
                options.append((label, ref))
        return options

    def _why_not_offered(self, kind: str, ref: str) -> str:
        """Why a ref set from code is not among the dropdown's choices (shown next to it)."""
        provider_id, _, model_id = ref.partition("/")
        provider = next((p for p in self.providers if p.id == provider_id), None)
        if provider is None:
            return "no such provider"
        if model_id not in provider.models:
            return "not selected in its provider"
        if kind == "embedding" and not provider.type_info.embeddings:
            return "this provider type has no embeddings"
        return "not an embedding model" if kind == "embedding" else "an embedding model"

    def _model_dropdown(self, kind: str) -> W.Dropdown:
        choice = _MODEL_CHOICES[kind]
        return self._factory.make(
            W.Dropdown,
            options=[(NONE_LABEL, "")],
            value="",
            description=choice.description,
            tooltip=choice.tooltip,
            style=CHOICE,
            layout={"width": "calc(100% - 4px)", "max_width": "620px"},
        )

    def _dropdown(self, kind: str) -> W.Dropdown:
        return self.default_model if kind == "chat" else self.embedding_model

    def _ensure_choice(self, kind: str, ref: str) -> str:
        """The link's transform: make sure ``ref`` is one of the dropdown's options."""
        if ref not in self._dropdown(kind)._options_values:
            self._set_choices(kind, ref)
        return ref

    def _set_choices(self, kind: str, current: str) -> None:
        dropdown = self._dropdown(kind)
        # None while the link is being made: its first push calls in here.
        link = self._choice_links.get(kind)
        options = self._choices(kind)
        if current and current not in {value for _, value in options}:
            options.append((f"{current} ({self._why_not_offered(kind, current)})", current))
        quiet = link.quiet() if link is not None else contextlib.nullcontext()
        with quiet, dropdown.hold_sync():
            if tuple(dropdown.options) != tuple(options):
                dropdown.options = options
            if dropdown.value != current:
                dropdown.value = current

    def _rebuild_choices(self) -> None:
        for kind, choice in _MODEL_CHOICES.items():
            self._set_choices(kind, getattr(self.config, choice.trait))

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """The error messages shown in the panel (newest last)."""
        return list(self.error_line.messages)

    def close(self) -> None:
        """Unlink everything from the config and close every widget of the panel."""
        _panels.discard(self)
        self._bindings.close()
        for provider, handler in self._watched.items():
            try:
                provider.unobserve(handler, names=["id", "name", "models"])
            except Exception:
                log.debug("unobserve failed", exc_info=True)
        self._watched.clear()
        for form in self.forms.values():
            form.close()
        self.forms.clear()
        super().close()
        self._factory.close()

    @property
    def links(self) -> Iterable[Any]:
        return self._bindings.links
