"""The form of one provider: type, id (rename with confirmation), name, Base URL, auth, models.

Every field is bound to the :class:`~takopi_nb._config.Provider` traits both ways.
The API key field is the exception on purpose: it is bound to nothing. A key
typed into it is moved to the secret store by the handler that receives it and
the field is emptied before that handler returns, so the key never stays in
widget state (the kernel does not even echo it back to the browser).
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W
from traitlets import Unicode

from .._provider_types import PROVIDER_TYPES
from .._secrets import mask_secret
from .._validation import check_provider_id, origin_of
from ._bindings import Bindings, ErrorReporter, SafeDirectionalLink
from ._device_code import DeviceCodeView
from ._errors import PanelPart
from ._factory import BUTTON, WidgetFactory
from ._html import badge, esc, join_ids, muted, public_status
from ._live import PrivateHTML, panel_head
from ._model_picker import ModelPicker

__all__ = ["ProviderForm", "SecretInput"]

LABEL_WIDTH = "90px"
FIELD = {"description_width": LABEL_WIDTH}
FIELD_LAYOUT = {"width": "calc(100% - 4px)", "max_width": "640px"}


class SecretInput(W.Password):  # type: ignore[misc]  # ipywidgets is untyped
    """A password field whose value the kernel never echoes back to the browser.

    ipywidgets echoes every value it receives to all front ends; for a key that
    would be one more copy on the wire, so the echo is switched off here.
    """

    value = Unicode("", help="Write-only: emptied as soon as the kernel receives a value").tag(
        sync=True, echo_update=False
    )


class ProviderForm(PanelPart, W.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Edit one provider. Use it inside :class:`~takopi_nb.widgets.ProvidersPanel` or alone."""

    def __init__(
        self,
        config: Any,
        provider: Any,
        *,
        report: ErrorReporter | None = None,
        factory: WidgetFactory | None = None,
        catalog: Any = None,
        standalone: bool | None = None,
        **kwargs: Any,
    ) -> None:
        f, report, standalone = self._start_part(factory, report, standalone)
        self.config = config
        self.provider = provider
        self.info = info = PROVIDER_TYPES[provider.type]
        self._bindings = b = Bindings(report)
        self.flow: Any = None
        self._confirm_reconnect = False
        self.device_view: DeviceCodeView | None = None
        self.last_saved_to: str | None = None
        self.test_done = threading.Event()
        self.test_done.set()

        self.header = f.make(W.HTML, value="")
        self.type_field = f.make(
            W.Text,
            value=f"{info.label} ({info.type})",
            description="Type",
            disabled=True,
            tooltip="The type is fixed once the provider exists; add a new provider for another type.",
            style=FIELD,
            layout=FIELD_LAYOUT,
        )
        # -- id, with rename confirmation --------------------------------------------------
        self.id_field = f.make(
            W.Text,
            value=provider.id,
            description="Id",
            continuous_update=False,
            disabled=bool(provider.managed),
            tooltip="Part of every ref to this provider's models (id/model)",
            style=FIELD,
            layout=FIELD_LAYOUT,
        )
        self.rename_message = f.make(W.HTML, value="")
        self.rename_confirm = f.make(
            W.Button,
            description="Rename",
            button_style="warning",
            icon="check",
            layout=BUTTON,
        )
        self.rename_cancel = f.make(W.Button, description="Keep id", layout=BUTTON)
        self.rename_box = f.make(
            W.VBox,
            children=(
                self.rename_message,
                f.make(W.HBox, children=(self.rename_confirm, self.rename_cancel)),
            ),
            layout={
                "border": "1px solid var(--jp-warn-color1, #f57c00)",
                "padding": "4px 8px",
                "margin": "2px 0",
            },
        )
        self.rename_result = f.make(W.HTML, value="")
        self.id_area = f.make(W.VBox, children=(self.id_field,), layout={"width": "100%"})
        # -- name, base URL ---------------------------------------------------------------
        self.name_field = f.make(
            W.Text,
            value=provider.name,
            description="Name",
            placeholder="Display name (optional)",
            continuous_update=False,
            style=FIELD,
            layout=FIELD_LAYOUT,
        )
        self.base_url = f.make(
            W.Text,
            value=provider.base_url,
            description="Base URL",
            placeholder=info.default_base_url,
            continuous_update=False,
            disabled=bool(provider.managed),
            style=FIELD,
            layout=FIELD_LAYOUT,
        )
        if info.fallback_base_url != info.default_base_url:
            url_help = (
                f"Empty uses {info.fallback_base_url} ({info.label}'s endpoint); the placeholder "
                f"shows the documented API address {info.default_base_url}. Set a URL only for a "
                "proxy or another endpoint."
            )
        else:
            url_help = f"Empty uses the default, {info.default_base_url}. Set a URL for a proxy."
        if provider.managed:
            url_help = "Set by your administrator. " + url_help
        self.base_url_help = f.make(
            W.HTML,
            value=f"<div class='takopi-muted' "
            f"style='margin-left:{LABEL_WIDTH}'>{esc(url_help)}</div>",
        )

        # -- auth --------------------------------------------------------------------------
        self.key_input: SecretInput | None = None
        self.save_key: W.Button | None = None
        self.clear_key: W.Button | None = None
        self.sign_in: W.Button | None = None
        self.disconnect: W.Button | None = None
        # Says where the key is (a local path, maybe), its last characters, the account
        # email: never widget state, so never in a saved notebook.
        self.auth_status = f.make(PrivateHTML, value="")
        self.device_area = f.make(W.VBox, children=(), layout={"width": "100%"})
        # Shown only while the credential is held back because the Base URL moved to another
        # host (a key and a ChatGPT sign-in alike). Its own layout: shown and hidden by it.
        self.confirm_key = f.make(
            W.Button,
            description="Send key to new host"
            if info.auth == "api_key"
            else "Use sign-in at new host",
            icon="check",
            button_style="warning",
            layout=f.own_layout(**BUTTON, display="none", align_self="flex-start"),
        )
        b.on_click(self.confirm_key, self._confirm_clicked, where="Confirming the new host")
        b.observe(
            provider, self._base_url_moved, "base_url", where="Checking the credential's host"
        )
        auth_children: list[W.Widget]
        if info.auth == "api_key":
            self.key_input = f.adopt(
                SecretInput(
                    value="",
                    description="API key",
                    # Short enough to show whole in the field at 900 px; the rest on hover.
                    placeholder="Paste key, press Enter",
                    tooltip="The key goes to the secret store (OS keyring), never into the "
                    "notebook, and the field empties itself.",
                    continuous_update=False,
                    style=f.style(W.Password, **FIELD),
                    layout=f.layout(flex="1 1 260px", max_width="520px", min_width="0"),
                )
            )
            self.save_key = f.make(
                W.Button,
                description="Save key",
                icon="lock",
                button_style="primary",
                layout=BUTTON,
            )
            self.clear_key = f.make(W.Button, description="Clear key", icon="trash", layout=BUTTON)
            auth_children = [
                f.make(
                    W.HBox,
                    children=(self.key_input, self.save_key, self.clear_key),
                    layout={"width": "100%", "max_width": "760px", "flex_flow": "row wrap"},
                ),
                self.auth_status,
                self.confirm_key,
            ]
            b.observe(self.key_input, self._key_received, "value", where="Saving the API key")
            b.on_click(self.save_key, self._save_clicked, where="Saving the API key")
            b.on_click(self.clear_key, self._clear_clicked, where="Clearing the API key")
        else:
            self.sign_in = f.make(
                W.Button,
                description="Sign in with ChatGPT",
                icon="sign-in",
                button_style="primary",
                layout=BUTTON,
            )
            self.disconnect = f.make(
                W.Button, description="Disconnect", icon="sign-out", layout=BUTTON
            )
            auth_children = [
                f.make(W.HBox, children=(self.sign_in, self.disconnect)),
                self.auth_status,
                self.confirm_key,
                self.device_area,
            ]
            b.on_click(self.sign_in, self._sign_in_clicked, where="Signing in with ChatGPT")
            b.on_click(self.disconnect, self._disconnect_clicked, where="Disconnecting")
        self.test_button = f.make(
            W.Button, description="Test connection", icon="plug", layout=BUTTON
        )
        self.test_result = f.make(W.HTML, value="", layout={"flex": "1 1 auto"})
        b.on_click(self.test_button, self._test_clicked, where="Testing the connection")

        self.picker = ModelPicker(
            provider,
            report=report,
            factory=f,
            catalog=catalog,
            standalone=False,
        )

        children: list[W.Widget] = panel_head(f, standalone)
        children += [
            self.header,
            self.type_field,
            self.id_area,
            self.rename_result,
            self.name_field,
            self.base_url,
            self.base_url_help,
            section(f, "Credentials"),
            *auth_children,
            f.make(
                W.HBox,
                children=(self.test_button, self.test_result),
                layout={"width": "100%", "align_items": "center", "flex_flow": "row wrap"},
            ),
            section(f, "Models"),
            self.picker,
        ]
        if self._error_line is not None:
            children.append(self._error_line.box)
        super().__init__(children=children, layout=f.layout(width="100%"), **kwargs)
        if standalone:
            self.add_class("takopi-panel")
        self.add_class("takopi-provider-form")

        # -- bindings ----------------------------------------------------------------------
        self._id_link: SafeDirectionalLink = b.dlink(
            (provider, "id"), (self.id_field, "value"), where="Showing the provider id"
        )
        b.observe(self.id_field, self._id_edited, "value", where="Renaming the provider")
        b.on_click(self.rename_confirm, self._rename_confirmed, where="Renaming the provider")
        b.on_click(self.rename_cancel, self._rename_cancelled, where="Renaming the provider")
        b.link(
            (provider, "name"),
            (self.name_field, "value"),
            where=f"Saving the name of {provider.id!r}",
        )
        b.link(
            (provider, "base_url"),
            (self.base_url, "value"),
            where=f"Saving the Base URL of {provider.id!r}",
        )
        b.observe(
            provider, self._render_header, ["id", "name", "models"], where="Showing the provider"
        )
        b.observe(provider, self._forget_test, ["id", "base_url"], where="Showing the provider")
        b.on_credentials_changed(config, self._credentials_changed, where="Showing the credential")
        self._render_header()
        self._render_auth()

    # -- header ---------------------------------------------------------------------------

    def _render_header(self, change: Any = None) -> None:
        p = self.provider
        status = public_status(p.status)
        kind = (
            "ok" if status == "usable" or (status.startswith("signed in") and p.models) else "warn"
        )
        parts = [
            f"<b style='font-size:1.1em'>{esc(p.name or p.id)}</b>",
            muted(f" {self.info.label} · ref prefix {p.id}/"),
            badge(status, kind),
        ]
        if p.managed:
            parts.append(badge("managed by your administrator", "info"))
        self.header.value = "".join(parts)

    # -- rename -----------------------------------------------------------------------------

    def _id_edited(self, change: Any) -> None:
        if self._id_link.updating:
            return
        new = str(change["new"]).strip()
        old = self.provider.id
        if new == old or not new:
            self._close_rename(reset=True)
            return
        try:
            # Before asking "Rename …?": an id that cannot be saved is said at once. A key
            # pasted into the wrong field gets a masked error and leaves the field.
            check_provider_id(new)
        except Exception:
            self._close_rename(reset=True)
            raise  # the panel's error line shows it
        self.rename_message.value = (
            f"<div class='takopi-warn'><b>Rename {esc(old)!s} to {esc(new)}?</b></div>"
            "<div>Provider ids are part of every saved ref: refs such as "
            f"<code>{esc(old)}/…</code> saved in notebooks, scripts or other tools stop "
            "working and must be changed by hand. This config's default and embedding "
            "model refs are updated, and the stored key moves with the provider.</div>"
        )
        self.rename_result.value = ""
        self.id_area.children = (self.id_field, self.rename_box)

    @property
    def pending_rename(self) -> str | None:
        """The id waiting for confirmation, or None."""
        if self.rename_box in self.id_area.children:
            return str(self.id_field.value).strip()
        return None

    def _close_rename(self, *, reset: bool) -> None:
        self.id_area.children = (self.id_field,)
        if reset:
            self._id_link.resync()

    def _rename_confirmed(self, _: Any = None) -> None:
        new = self.pending_rename
        old = self.provider.id
        if not new or new == old:
            self._close_rename(reset=True)
            return
        try:
            not_rewritten = self.config.rename_provider(old, new)
        finally:
            self._close_rename(reset=True)
        lines = [
            f"Renamed <code>{esc(old)}</code> to <code>{esc(new)}</code>. Refs saved elsewhere "
            f"that start with <code>{esc(old)}/</code> must now use <code>{esc(new)}/</code>."
        ]
        if not_rewritten:
            lines.append(
                "These refs could not be rewritten (read-only admin config): "
                + join_ids(not_rewritten)
            )
        self.rename_result.value = "<div class='takopi-warn'>" + "<br>".join(lines) + "</div>"

    def _rename_cancelled(self, _: Any = None) -> None:
        self._close_rename(reset=True)

    # -- API key ----------------------------------------------------------------------------

    def _key_received(self, change: Any) -> None:
        """The key arrived (Enter, leaving the field, or Save): store it and empty the field."""
        assert self.key_input is not None
        secret = str(change["new"])
        if not secret:
            return
        # Empty the widget first, so nothing below can leave the key in widget state.
        self.key_input.value = ""
        where = self.provider.set_api_key(secret)
        self.last_saved_to = where
        self._render_auth(saved=True)

    def _save_clicked(self, _: Any = None) -> None:
        assert self.key_input is not None
        if self.key_input.value:
            self._key_received({"new": self.key_input.value})
        elif self.last_saved_to is None:
            self._render_auth(hint="Paste a key in the field first, then press Enter or Save key.")

    def _clear_clicked(self, _: Any = None) -> None:
        self.provider.clear_api_key()
        self.last_saved_to = None
        self._render_auth(cleared=True)

    # -- codex sign-in ----------------------------------------------------------------------

    def _sign_in_clicked(self, _: Any = None) -> None:
        if self.provider.account is not None and not self._confirm_reconnect:
            # Already signed in: a second flow replaces the sign-in, so ask first.
            self._confirm_reconnect = True
            self._render_auth(
                hint="You are signed in. Click “Reconnect” again to sign in anew "
                "(for another account or plan); the current sign-in stays until then."
            )
            return
        self._confirm_reconnect = False
        self._stop_flow()
        self.flow = self.provider.login()
        self.device_view = DeviceCodeView(self.flow, report=self._report, standalone=False)
        self.device_area.children = (self.device_view,)
        self._bindings.observe(self.flow, self._flow_changed, "state", where="Signing in")
        self._render_auth()

    @property
    def _signing_in(self) -> bool:
        return self.flow is not None and not getattr(self.flow, "done", True)

    def _flow_changed(self, change: Any) -> None:
        self._render_auth()
        self._render_header()

    def _stop_flow(self) -> None:
        if self._signing_in:
            self.flow.cancel()
        if self.device_view is not None:
            self.device_area.children = ()
            self.device_view.close()
            self.device_view = None

    def _confirm_clicked(self, _: Any = None) -> None:
        self.provider.confirm_base_url()  # re-renders through the credentials callback

    def _base_url_moved(self, change: Any = None) -> None:
        self._render_auth()

    def _disconnect_clicked(self, _: Any = None) -> None:
        self._stop_flow()
        self.provider.logout()
        self._render_auth(cleared=True)

    # -- status -----------------------------------------------------------------------------

    def _credentials_changed(self, provider: Any) -> None:
        if provider is self.provider:
            self._render_auth()
            self._render_header()

    def _render_auth(
        self, *, saved: bool = False, cleared: bool = False, hint: str | None = None
    ) -> None:
        p = self.provider
        runtime = self.config.runtime
        if self.info.auth == "oauth":
            held = self._show_confirm("oauth" if runtime.secrets.get(p.id) is not None else None)
            account = p.account
            shown_by_flow = (
                self.device_view is not None and getattr(self.flow, "state", "") == "signed_in"
            )
            if account is not None and shown_by_flow:
                text = ""  # the device-code view right below already says "Connected as …"
            elif account is not None:
                text = f"<span class='takopi-ok'>✓ Connected as {esc(str(account))}</span>"
            elif self._signing_in:
                text = muted("Signing in: follow the steps below.")
            elif cleared:
                text = muted("Disconnected. Sign in again to use this provider.")
            else:
                text = muted("Not signed in. Click “Sign in with ChatGPT” and follow the steps.")
            if self.disconnect is not None:
                self.disconnect.disabled = account is None
            if self.sign_in is not None:
                # Signed in: Reconnect is no longer the main action. A sign-in under way:
                # nothing to start either (a second one would drop the code shown below,
                # whose own Cancel stops it).
                under_way = self._signing_in
                self.sign_in.description = (
                    "Sign in with ChatGPT" if account is None else "Reconnect"
                )
                self.sign_in.button_style = "primary" if account is None and not under_way else ""
                self.sign_in.disabled = under_way
                self.sign_in.tooltip = (
                    "A sign-in is under way: finish it below, or Cancel it there to start again."
                    if under_way
                    else None
                )
            if held is not None and hint is None:
                hint = (
                    f"The sign-in is held back: it was made for {held}, and the Base URL now "
                    f"points to {origin_of(p.effective_base_url)}. Check the Base URL, then click "
                    "“Use sign-in at new host” to use it there."
                )
            if hint:
                text = f"<div class='takopi-warn'>{esc(hint)}</div>" + text
            self.auth_status.value = text
            return
        found = runtime.stored_api_key(p.record)
        held = self._show_confirm(found[1] if found is not None else None)
        if found is not None and held is not None:
            hint = (
                f"The key is held back: it was meant for {held}, and the Base URL now points to "
                f"{origin_of(p.effective_base_url)}. Check the Base URL, then click “Send key "
                "to new host” to use the key there."
            )
        env_names = " or ".join(runtime.env_var_names(p.record))
        if found is None:
            text = muted(
                "No key yet. Paste one above"
                + (f", or set the environment variable {env_names}." if env_names else ".")
            )
            if cleared:
                text = muted("Key deleted. ") + text
        else:
            secret, source = found
            tail = mask_secret(secret)
            if source == "keyring":
                where = "in the OS keyring"
            elif source == "file":
                where = f"in {runtime.secrets.file_path} (readable only by you)"
            else:
                where = f"from the environment variable {source.removeprefix('env:')}"
            verb = "Saved" if saved else "Key"
            # The masked tail (••••-key) never breaks at its hyphen.
            tail_html = f"<span style='white-space:nowrap'>{muted(tail)}</span>"
            text = f"<span class='takopi-ok'>✓ {esc(verb)} {esc(where)}</span> {tail_html}"
            if source.startswith("env:"):
                text += muted(" — a key saved here takes precedence.")
            elif cleared and found:
                text = muted("Stored key deleted; ") + text
        if hint:
            text = f"<div class='takopi-warn'>{esc(hint)}</div>" + text
        if self.clear_key is not None:
            self.clear_key.disabled = runtime.secrets.get(p.id) is None
        self.auth_status.value = text

    def _show_confirm(self, source: str | None) -> str | None:
        """The origin the credential from ``source`` is held back for (None: not held back);
        the confirm button is shown exactly while it is."""
        held = (
            None if source is None else self.config.runtime.held_back(self.provider.record, source)
        )
        self.confirm_key.layout.display = "none" if held is None else ""
        return held

    # -- test ---------------------------------------------------------------------------------

    def _forget_test(self, change: Any = None) -> None:
        """A test result speaks of the provider as it was: a rename or a new URL voids it."""
        if self.test_done.is_set():
            self.test_result.value = ""

    def _test_clicked(self, _: Any = None) -> None:
        self.test_button.disabled = True
        self.test_result.value = muted("Testing…")
        self.test_done.clear()

        def work() -> None:
            try:
                result = self.provider.test_connection()
                mark, cls = ("✓", "takopi-ok") if result.ok else ("✗", "takopi-error")
                message = result.message
                if not result.ok and self.confirm_key.layout.display != "none":
                    # Credentials above already say why, at length, beside the button.
                    message = (
                        "Not sent: the credential is held back until you confirm the new host."
                    )
                self.test_result.value = f"<span class='{cls}'>{mark} {esc(message)}</span>"
            except Exception as exc:
                self.test_result.value = ""
                self._report("Testing the connection", exc)
            finally:
                self.test_button.disabled = False
                self.test_done.set()

        threading.Thread(target=work, name="takopi-test-connection", daemon=True).start()

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self._bindings.close()
        self._stop_flow()
        self.picker.close()
        super().close()
        self._close_part()


def section(factory: WidgetFactory, title: str) -> W.HTML:
    return factory.make(W.HTML, value=f"<div class='takopi-section'>{esc(title)}</div>")
