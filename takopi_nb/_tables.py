"""Small tables that render as escaped HTML in a notebook and as aligned text in a terminal.

Used by the ``%takopi`` magic. Nothing here imports ipywidgets, httpx or the catalog,
and every cell is plain text: it is HTML-escaped on the way into ``_repr_html_``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from ._mathjax import IGNORE_CLASSES

__all__ = ["CommandHelp", "Lines", "Table"]

# JupyterLab's theme variables (light and dark); the fallbacks are for other front ends.
_MUTED = "var(--jp-content-font-color2, #555)"
_RULE = "var(--jp-border-color1, #999)"
_BOX = "max-width:100%;overflow-x:auto"
# JupyterLab right-aligns and pads every cell of an HTML output's table and centres the
# table: each cell and the table say what they want.
_TABLE = "border-collapse:collapse;font-size:0.92em;margin:0 0 4px 0;table-layout:auto"
_CELL = "line-height:1.4"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    return str(value)


class _Shown:
    """Text for terminals: ``repr()`` and IPython's pretty printer both give ``str()``."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


class Table(_Shown):
    """Rows of plain-text cells with a title and notes.

    ``_repr_html_`` gives an escaped HTML table (notebooks); ``str()``/``repr()`` and
    ``_repr_pretty_`` give aligned text (terminal IPython). In HTML only the ``wrap``
    columns may wrap: an id or a ref broken at its hyphen ("openai-/main") reads as two.
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str = "",
        notes: Sequence[str] = (),
        numeric: Sequence[str] = (),
        wrap: Sequence[str] = (),
    ) -> None:
        self.columns = [str(c) for c in columns]
        self.rows = [[_cell(v) for v in row] for row in rows]
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} does not have {len(self.columns)} cells")
        self.title = title
        self.notes = list(notes)
        self._numeric = set(numeric)
        self._wrap = set(wrap)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    # -- text ------------------------------------------------------------------------------

    def __str__(self) -> str:
        lines: list[str] = []
        if self.title:
            lines.append(self.title)
        if self.rows:
            widths = [len(c) for c in self.columns]
            for row in self.rows:
                for i, value in enumerate(row):
                    widths[i] = max(widths[i], len(value))

            def fmt(cells: Sequence[str]) -> str:
                out = []
                for i, value in enumerate(cells):
                    if self.columns[i] in self._numeric:
                        out.append(value.rjust(widths[i]))
                    else:
                        out.append(value.ljust(widths[i]))
                return "  ".join(out).rstrip()

            lines.append(fmt(self.columns))
            lines.append("  ".join("-" * w for w in widths))
            lines.extend(fmt(row) for row in self.rows)
        elif not self.notes:
            lines.append("(nothing to show)")
        lines.extend(self.notes)
        return "\n".join(lines)

    # -- HTML ------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        esc = html.escape
        # Prices such as "$1.25 / $10" are money: MathJax must not typeset them. A table wider
        # than the output (900 px with the file browser open) scrolls inside its own box
        # instead of being cut at the output's edge.
        parts = [f'<div class="takopi-table {IGNORE_CLASSES}" style="{_BOX}">']
        if self.title:
            parts.append(f'<div style="font-weight:600;margin:2px 0 4px">{esc(self.title)}</div>')
        if self.rows:
            parts.append(f'<table style="{_TABLE}">')
            # Headings may wrap between words ("input / tokens"): on a narrow output the
            # columns shrink to their values, not to their headings.
            head = "".join(
                f'<th style="text-align:{self._align(c)};{_CELL};padding:2px 7px 2px 0;vertical-align:bottom;'
                f'border-bottom:1px solid {_RULE}">{esc(c)}</th>'
                for c in self.columns
            )
            parts.append(f"<thead><tr>{head}</tr></thead><tbody>")
            for row in self.rows:
                cells = "".join(
                    f'<td style="text-align:{self._align(self.columns[i])};{_CELL};'
                    f"{self._wrapping(self.columns[i])}"
                    f'padding:1px 7px 1px 0;vertical-align:top">{self._text(self.columns[i], v)}</td>'
                    for i, v in enumerate(row)
                )
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</tbody></table>")
        elif not self.notes:
            parts.append("<div><i>(nothing to show)</i></div>")
        for note in self.notes:
            parts.append(f'<div style="margin-top:4px;color:{_MUTED}">{esc(note)}</div>')
        parts.append("</div>")
        return "".join(parts)

    def _align(self, column: str) -> str:
        return "right" if column in self._numeric else "left"

    def _wrapping(self, column: str) -> str:
        return "" if column in self._wrap else "white-space:nowrap;"

    def _text(self, column: str, value: str) -> str:
        """The escaped cell; in a wrapping column a URL or a path may also break after each
        ``/``, so that it does not push the table past a narrow output's edge."""
        text = html.escape(value)
        return text.replace("/", "/<wbr>") if column in self._wrap else text


class Lines(_Shown):
    """A few lines of plain text shown as-is (escaped in HTML)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        body = "<br>".join(html.escape(line) for line in self.lines)
        return f'<div class="takopi-lines {IGNORE_CLASSES}">{body}</div>'


class CommandHelp(_Shown):
    """Commands with their usage and a description, laid out for reading.

    Text (terminals): names in an aligned column, the description beside, the usage
    line under it. HTML (notebooks): one row per command, the name and the usage in
    monospace, never wrapped, the description beside them.
    """

    def __init__(
        self,
        title: str,
        entries: Sequence[tuple[str, str, str]],
        *,
        notes: Sequence[str] = (),
    ) -> None:
        self.title = title
        self.entries = [(str(n), str(u), str(d)) for n, u, d in entries]
        self.notes = list(notes)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.entries]

    def __str__(self) -> str:
        width = max((len(name) for name in self.names()), default=0)
        indent = " " * (2 + width + 2)
        lines = [self.title, ""]
        for name, usage, description in self.entries:
            lines.append(f"  {name.ljust(width)}  {description}")
            lines.append(f"{indent}{usage}")
        if self.notes:
            import textwrap

            lines.append("")
            lines.extend(line for note in self.notes for line in textwrap.wrap(note, 100))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        mono = "font-family:var(--jp-code-font-family,monospace);white-space:nowrap"
        parts = [
            f'<div class="takopi-help {IGNORE_CLASSES}" style="{_BOX}">',
            f'<div style="font-weight:600;margin:2px 0 6px">{esc(self.title)}</div>',
            f'<table style="{_TABLE}">',
        ]
        for name, usage, description in self.entries:
            parts.append(
                f'<tr><td style="{mono};text-align:left;font-weight:600;padding:3px 14px 3px 0;'
                f'vertical-align:top">{esc(name)}</td>'
                f'<td style="text-align:left;padding:3px 0;vertical-align:top">{esc(description)}'
                f'<br><code style="opacity:0.8">{_unbroken_words(usage)}</code></td></tr>'
            )
        parts.append("</table>")
        for note in self.notes:
            parts.append(f'<div style="margin-top:6px">{esc(note)}</div>')
        parts.append("</div>")
        return "".join(parts)


_USAGE_WORD = re.compile(r"\[[^\]]*\]|\S+")


def _unbroken_words(usage: str) -> str:
    """Escaped usage text that wraps between options only, never inside one ("[--limit N]")."""
    return " ".join(
        f'<span style="white-space:nowrap">{html.escape(word)}</span>'
        for word in _USAGE_WORD.findall(usage)
    )
