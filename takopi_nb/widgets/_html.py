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

from ..catalog._display import format_price as format_cost
from ..catalog._display import format_tokens

__all__ = [
    "PANEL_CSS",
    "badge",
    "compact_source",
    "esc",
    "link",
    "model_details",
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
.takopi-panel .takopi-mono select, .takopi-panel .takopi-mono input { font-family: var(--jp-code-font-family, monospace); font-size: 12px; }
.takopi-panel .takopi-code { font-family: var(--jp-code-font-family, monospace); font-size: 2em;
  letter-spacing: 0.12em; font-weight: 600; user-select: all; -webkit-user-select: all;
  padding: 4px 12px; border: 1px dashed #888; border-radius: 4px; display: inline-block; }
.takopi-panel .takopi-badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px;
  line-height: 16px; margin-left: 4px; border: 1px solid currentColor; white-space: nowrap; }
.takopi-panel .takopi-muted { color: var(--jp-ui-font-color2, #666); }
.takopi-panel .takopi-error { color: var(--jp-error-color1, #c62828); }
.takopi-panel .takopi-ok { color: var(--jp-success-color1, #2e7d32); }
.takopi-panel .takopi-warn { color: var(--jp-warn-color1, #b26a00); }
.takopi-panel .widget-html-content { line-height: 1.45; white-space: normal; overflow-wrap: anywhere; }
.takopi-panel .widget-inline-hbox, .takopi-panel .widget-hbox { min-width: 0; }
.takopi-stale-note { display: none !important; }
.takopi-panel.jupyter-widgets-disconnected > .takopi-stale-note { display: block !important;
  padding: 6px 10px; border: 1px solid var(--jp-warn-color1, #b26a00); border-radius: 2px; }
.takopi-panel.jupyter-widgets-disconnected > :not(.takopi-stale-note) { display: none !important; }
.takopi-panel.jupyter-widgets-disconnected::before, .takopi-stale-note::before { display: none !important; }
.takopi-panel a { color: var(--jp-content-link-color, #1976d2); text-decoration: underline; }
.takopi-panel table.takopi-details { border-collapse: collapse; margin-top: 2px; }
.takopi-panel table.takopi-details td { padding: 0 12px 0 0; vertical-align: top; line-height: 1.4; }
.takopi-panel .takopi-section { font-weight: 600; margin-top: 6px; }
.takopi-panel .takopi-rows-header { font-family: var(--jp-code-font-family, monospace); font-size: 12px;
  white-space: pre; overflow: hidden; padding-left: 4px; color: var(--jp-ui-font-color2, #666); }
"""
    + _LIST_CSS
    + "</style>"
)

_BADGE_COLOURS = {
    "ok": "#2e7d32",
    "warn": "#b26a00",
    "error": "#c62828",
    "info": "#1565c0",
    "muted": "#666",
}


def esc(value: Any) -> str:
    """HTML-escape ``value`` (quotes too); None becomes ""."""
    return "" if value is None else html.escape(str(value), quote=True)


def public_status(status: str) -> str:
    """``provider.status`` without the account ("signed in as a@b.c" -> "signed in"): the
    list and the header are widget state, which a saved notebook keeps."""
    return re.sub(r"^signed in as [^;]*", "signed in", status)


def badge(text: str, kind: str = "muted") -> str:
    colour = _BADGE_COLOURS.get(kind, _BADGE_COLOURS["muted"])
    return f'<span class="takopi-badge" style="color:{colour}">{esc(text)}</span>'


def muted(text: str) -> str:
    return f'<span class="takopi-muted">{esc(text)}</span>'


def link(url: str, text: str | None = None) -> str:
    """A link that opens in a new tab; only http(s) URLs become links."""
    shown = esc(text if text is not None else url)
    if not url.startswith(("https://", "http://")):
        return shown
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{shown}</a>'


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def model_details(info: Any, model_id: str, *, selected: bool, in_catalog: bool) -> str:
    """The details view of one model (``info`` is a catalog ModelInfo or None)."""
    if info is None:
        head = f"<b>{esc(model_id)}</b>"
        state = badge("selected", "ok") if selected else ""
        text = (
            "This id is not in the models.dev catalog. It is sent to the provider "
            "unchanged; the provider decides whether it exists."
        )
        return (
            f"<div>{head}{badge('not in catalog', 'warn')}{state}</div>"
            f'<div class="takopi-muted">{esc(text)}</div>'
        )
    rows: list[tuple[str, str]] = []
    if info.name and info.name != info.id:
        rows.append(("Name", esc(info.name)))
    if info.family:
        rows.append(("Family", esc(info.family)))
    rows.append(("Context", esc(format_tokens(info.context_window))))
    if info.max_output:
        rows.append(("Max output", esc(format_tokens(info.max_output))))
    price = (
        f"{esc(format_cost(info.cost_input))} in / {esc(format_cost(info.cost_output))} out"
        " <span class='takopi-muted'>(USD per 1M tokens)</span>"
    )
    rows.append(("Price", price))
    if info.cost_cache_read is not None:
        rows.append(("Cached input", esc(format_cost(info.cost_cache_read))))
    inputs = ", ".join(info.input_modalities) or "—"
    outputs = ", ".join(info.output_modalities) or "—"
    rows.append(("Input / output", f"{esc(inputs)} → {esc(outputs)}"))
    rows.append(
        (
            "Abilities",
            esc(
                ", ".join(
                    name
                    for name, flag in (
                        ("tools", info.tool_call),
                        ("reasoning", info.reasoning),
                        ("structured output", info.structured_output),
                        ("attachments", info.attachment),
                        ("embeddings", info.is_embedding),
                        ("open weights", info.open_weights),
                    )
                    if flag
                )
                or "—"
            ),
        )
    )
    dates = [
        f"{label} {value}"
        for label, value in (
            ("knowledge", info.knowledge),
            ("released", info.release_date),
            ("updated", info.last_updated),
        )
        if value
    ]
    if dates:
        rows.append(("Dates", esc(", ".join(dates))))
    badges = []
    if selected:
        badges.append(badge("selected", "ok"))
    if info.status:
        badges.append(badge(info.status, "error" if info.status == "deprecated" else "info"))
    if not in_catalog:
        badges.append(badge("not in catalog", "warn"))
    body = "".join(f"<tr><td class='takopi-muted'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return (
        f"<div><b>{esc(info.id)}</b>{''.join(badges)}</div>"
        f"<table class='takopi-details'>{body}</table>"
    )


def join_ids(ids: Iterable[str], limit: int = 12) -> str:
    """Escaped, comma separated ids, with "… and N more" past ``limit``."""
    items = list(ids)
    shown = ", ".join(f"<code>{esc(i)}</code>" for i in items[:limit])
    if len(items) > limit:
        shown += f" … and {len(items) - limit} more"
    return shown
