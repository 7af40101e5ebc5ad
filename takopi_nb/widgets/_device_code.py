"""The "Sign in with ChatGPT" device-code display.

Shows the verification URL as a link, the user code large and easy to copy
(one click selects it all; a Copy button where the browser allows), a live
countdown, the state in words, and Cancel; at the end "Connected as email
(plan)" or what went wrong. The flow polls on its own thread and updates its
traits; this view only observes them, so the kernel is never blocked.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ._bindings import Bindings, ErrorReporter
from ._errors import error_line_for
from ._factory import BUTTON, WidgetFactory
from ._html import esc, link
from ._live import PrivateHTML, panel_head

__all__ = ["DeviceCodeView", "format_countdown"]

FINAL = ("signed_in", "expired", "denied", "cancelled", "error")

STATE_WORDS = {
    "requesting": "Requesting a sign-in code…",
    "waiting": "Waiting for you to approve the sign-in…",
    "exchanging": "Approved. Finishing sign-in…",
    "signed_in": "Signed in.",
    "expired": "The code expired before it was approved. Click “Sign in with ChatGPT” for a new one.",
    "denied": "The sign-in was denied. Click “Sign in with ChatGPT” to try again.",
    "cancelled": "Sign-in cancelled.",
    "error": "Sign-in failed.",
}


def format_countdown(seconds: int) -> str:
    minutes, secs = divmod(max(int(seconds), 0), 60)
    return f"{minutes}:{secs:02d}"


class DeviceCodeView(W.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Shows one :class:`~takopi_nb.codex.DeviceCodeFlow` (``provider.login()``) live."""

    def __init__(
        self,
        flow: Any,
        *,
        report: ErrorReporter | None = None,
        standalone: bool = True,
        **kwargs: Any,
    ) -> None:
        self._factory = WidgetFactory()
        self._error_line, report = error_line_for(self._factory, report)
        self.flow = flow
        self._bindings = Bindings(report)
        f = self._factory
        self.state_html = f.make(PrivateHTML, value="")  # "Connected as <email>": not saved
        self.code_html = f.make(W.HTML, value="")
        self.countdown_html = f.make(W.HTML, value="")
        self.cancel_button = f.make(
            W.Button,
            description="Cancel",
            icon="times",
            tooltip="Stop waiting for this sign-in",
            layout=BUTTON,
        )
        self._bindings.on_click(self.cancel_button, lambda _: self.flow.cancel(), where="Cancel")
        children: list[W.Widget] = panel_head(f, standalone)
        self.cancel_row = f.make(W.HBox, children=(self.cancel_button,))
        children += [self.state_html, self.code_html, self.countdown_html, self.cancel_row]
        if self._error_line is not None:
            children.append(self._error_line.box)
        self._all_children = tuple(children)
        super().__init__(children=self._all_children, layout=f.layout(), **kwargs)
        if standalone:
            self.add_class("takopi-panel")
        self.add_class("takopi-device-code")
        self._bindings.observe(
            flow,
            self._render,
            ["state", "user_code", "verification_url", "seconds_left", "error", "account"],
            where="Showing the sign-in",
        )
        self._render()

    # -- rendering ------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return str(self.flow.state)

    def _render(self, change: Any = None) -> None:
        flow = self.flow
        state = str(flow.state)
        if state == "signed_in":
            who = str(flow.account) if flow.account is not None else "your ChatGPT account"
            self.state_html.value = f'<div class="takopi-ok"><b>✓ Connected as {esc(who)}</b></div>'
        elif state == "error" and flow.error:
            self.state_html.value = f'<div class="takopi-error">✗ {esc(flow.error)}</div>'
        elif state in ("expired", "denied"):
            words = flow.error or STATE_WORDS[state]
            self.state_html.value = f'<div class="takopi-error">✗ {esc(words)}</div>'
        else:
            words = STATE_WORDS.get(state, state)
            self.state_html.value = f"<div><b>{esc(words)}</b></div>"

        showing_code = state == "waiting" and bool(flow.user_code)
        if showing_code:
            url = str(flow.verification_url)
            code = str(flow.user_code)
            self.code_html.value = (
                "<div style='margin:6px 0'>1. Open "
                f"{link(url)}<br>2. Sign in and enter this code:</div>"
                f"<div style='margin:4px 0 6px 12px'><span class='takopi-code' "
                f"title='Click to select the code'>{esc(code)}</span> "
                f"<button class='jupyter-button' data-code='{esc(code)}' "
                "onclick='navigator.clipboard &amp;&amp; "
                "navigator.clipboard.writeText(this.dataset.code)'>Copy</button></div>"
            )
            self.countdown_html.value = (
                f"<div class='takopi-muted'>The code expires in "
                f"<b>{format_countdown(flow.seconds_left)}</b>.</div>"
            )
        else:
            self.code_html.value = ""
            self.countdown_html.value = ""
        self.cancel_button.disabled = state in FINAL
        wanted = tuple(
            c
            for c in self._all_children
            if not (c is self.cancel_row and state in FINAL)
            and not (c in (self.code_html, self.countdown_html) and not showing_code)
        )
        current: tuple[W.Widget, ...] = tuple(self.children)  # type: ignore[has-type]
        if current != wanted:
            self.children = wanted

    @property
    def text(self) -> str:
        """What the view says, as plain text (for tests and terminals)."""
        return self.flow.describe() if hasattr(self.flow, "describe") else self.state

    def close(self) -> None:
        self._bindings.close()
        super().close()
        self._factory.close()
