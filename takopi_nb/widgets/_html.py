"""HTML fragments for the panel. Every piece of outside text goes through :func:`esc`.

Catalog names, model ids, provider names, error messages and URLs are data, never
markup: the catalog can hold ``<img src=x onerror=...>``. This module does not
import ipywidgets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "PANEL_CSS",
    "badge",
    "compact_source",
    "esc",
    "link",
    "muted",
    "public_status",
]


def compact_source(source: str, comment: str) -> str:
    """``source`` (JS or CSS) without comment lines and indentation. Widget state carries it
    (and a saved notebook keeps it), so the bytes count; line breaks stay, so the code means
    the same."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith(comment))


_LIST_CSS = compact_source(
    (Path(__file__).parent / "_model_list.css").read_text(encoding="utf-8"), "/*"
)

# Styles scoped to the panel's own classes (added with widget.add_class), and the model
# list's (it is always inside a panel, a form or a picker that shows these).
PANEL_CSS = (
    """<style>
.takopi-panel { font-size: 13px; }
.takopi-panel .takopi-code { font-family: var(--jp-code-font-family, monospace); font-size: 2em;
  letter-spacing: 0.12em; font-weight: 600; user-select: all; -webkit-user-select: all;
  padding: 4px 12px; border: 1px dashed var(--jp-border-color1, #888); border-radius: 4px; display: inline-block; }
.takopi-panel .takopi-badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px;
  line-height: 16px; margin-left: 4px; border: 1px solid currentColor; white-space: nowrap; }
.takopi-panel .takopi-muted { color: var(--jp-ui-font-color2, #666); }
/* Status colours from the theme, moved towards its strongest text colour (black on a light
   theme, white on a dark one): the theme's own shades are below WCAG AA 4.5:1 as text
   (orange on white: 3.8:1). */
.takopi-panel .takopi-error { color: color-mix(in srgb, var(--jp-error-color0, #b71c1c) 70%, var(--jp-ui-font-color0, #000)); }
.takopi-panel .takopi-ok { color: color-mix(in srgb, var(--jp-success-color0, #1b5e20) 70%, var(--jp-ui-font-color0, #000)); }
.takopi-panel .takopi-warn { color: color-mix(in srgb, var(--jp-warn-color0, #e65100) 70%, var(--jp-ui-font-color0, #000)); }
.takopi-panel .takopi-info { color: color-mix(in srgb, var(--jp-info-color0, #006064) 70%, var(--jp-ui-font-color0, #000)); }
/* The orange button (Rename, Send key to new host): ipywidgets writes the light theme's white
   on it, 2.7:1; dark text reads on it in every theme (as on a warning sign). */
.takopi-panel .jupyter-button.mod-warning { color: var(--md-grey-900, #212121); }
/* The provider list's selected row: the theme's strongest text on a plain grey. */
.takopi-panel select option:checked { color: var(--jp-ui-font-color0, #000); font-weight: 600;
  background: var(--jp-layout-color3, #bdbdbd) linear-gradient(var(--jp-layout-color3, #bdbdbd), var(--jp-layout-color3, #bdbdbd)); }
.takopi-panel .widget-html-content { line-height: 1.45; white-space: normal; overflow-wrap: anywhere; }
.takopi-panel .widget-inline-hbox, .takopi-panel .widget-hbox { min-width: 0; }
.takopi-stale-note { display: none !important; }
.takopi-panel.jupyter-widgets-disconnected > .takopi-stale-note { display: block !important;
  padding: 6px 10px; border: 1px solid var(--jp-warn-color1, #f57c00); border-radius: 2px; }
.takopi-panel.jupyter-widgets-disconnected > :not(.takopi-stale-note) { display: none !important; }
.takopi-panel.jupyter-widgets-disconnected::before, .takopi-stale-note::before { display: none !important; }
.takopi-panel a { color: var(--jp-content-link-color, #1976d2); text-decoration: underline; }
.takopi-panel .takopi-section { font-weight: 600; margin-top: 6px; }
"""
    + _LIST_CSS
    + "</style>"
)


def esc(value: Any) -> str:
    """HTML-escape ``value`` (quotes too); None becomes ""."""
    return "" if value is None else html.escape(str(value), quote=True)


def public_status(status: str) -> str:
    """``provider.status`` without the account ("signed in as a@b.c" -> "signed in"): the
    list and the header are widget state, which a saved notebook keeps."""
    return re.sub(r"^signed in as [^;]*", "signed in", status)


def badge(text: str, kind: str = "muted") -> str:
    """A small label; ``kind`` (ok, warn, error, info, muted) picks its colour for the theme."""
    kind = kind if kind in ("ok", "warn", "error", "info") else "muted"
    return f'<span class="takopi-badge takopi-{kind}">{esc(text)}</span>'


def muted(text: str) -> str:
    return f'<span class="takopi-muted">{esc(text)}</span>'


def link(url: str, text: str | None = None) -> str:
    """A link that opens in a new tab; only http(s) URLs become links."""
    shown = esc(text if text is not None else url)
    if not url.startswith(("https://", "http://")):
        return shown
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{shown}</a>'


def join_ids(ids: Iterable[str], limit: int = 12) -> str:
    """Escaped, comma separated ids, with "… and N more" past ``limit``."""
    items = list(ids)
    shown = ", ".join(f"<code>{esc(i)}</code>" for i in items[:limit])
    if len(items) > limit:
        shown += f" … and {len(items) - limit} more"
    return shown
