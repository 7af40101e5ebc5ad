"""``ModelList``: the purpose-made checkbox list of the model picker (an anywidget).

Stock ipywidgets have no multi-column checkbox list, and filtering a
``SelectMultiple`` as you type costs a kernel round trip per keystroke. This widget
gets its rows once and does searching, filtering, tabs, details and keyboard moves
in the browser (``_model_list.js``, a plain ES module, no build step). Only the
selection travels back: ``value`` is linked to ``provider.models`` by the picker,
so the kernel stays the source of truth both ways.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
from traitlets import List, Unicode, observe

from ._html import compact_source

__all__ = ["ModelList"]

_HERE = Path(__file__).parent
SOURCE = compact_source((_HERE / "_model_list.js").read_text(encoding="utf-8"), "//")

# Every widget instance carries its module in its state (anywidget's design), and a panel
# holds one list per provider form opened: shipped gzipped, the module is a third of its
# size. The browser unpacks it with the standard DecompressionStream and imports it.
_LOADER = """const packed = "{packed}";
const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
const source = await new Response(stream).text();
const url = URL.createObjectURL(new Blob([source], {{ type: "text/javascript" }}));
const loaded = await import(url);
URL.revokeObjectURL(url);
export default loaded.default;
"""


def pack(value: Any) -> str:
    """``value`` as JSON (or text as it is), gzipped, in base64: what ``unpack`` in the JS reads."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")


def unpack(packed: str) -> Any:
    return json.loads(gzip.decompress(base64.b64decode(packed))) if packed else []


def packed_module(source: str) -> str:
    return _LOADER.format(packed=pack(source))


class ModelList(anywidget.AnyWidget):  # type: ignore[misc]  # anywidget is untyped
    """Checkbox rows of models, searchable in the browser; ``value`` is the selection."""

    _esm = packed_module(SOURCE)
    # Its CSS is in PANEL_CSS, shown once per panel rather than carried by every list.

    value = List(Unicode(), help="The selected model ids, in order").tag(sync=True)
    rows: List[list[object]] = List(help="Rows as _model_index.list_row makes them (kernel side)")
    packed = Unicode(help="The rows as the browser gets them: gzipped JSON, base64").tag(sync=True)
    purposes = List(Unicode(), default_value=["chat"], help="The tabs, in order").tag(sync=True)
    unknown = List(Unicode(), help="Selected ids that no catalog list knows").tag(sync=True)
    groups = List(
        Unicode(),
        default_value=["models.dev catalog"],
        help="The lists rows come from, by a row's group number; with two or more, the "
        "browser shows each under its heading (e.g. what an endpoint serves, then the catalog)",
    ).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_add: Callable[[str], None] | None = None
        self.on_msg(self._received)

    @observe("rows")
    def _pack(self, change: Any) -> None:
        # Sent once per catalog (never per keystroke), and kept by a saved notebook: gzipped,
        # OpenRouter's 337 rows are a fifth of their JSON.
        self.packed = pack(change["new"])

    def send_add(self, text: str) -> None:
        """What the browser sends when an id is typed into "Add id" (for tests and code)."""
        self._received(self, {"add": text}, [])

    def _received(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and isinstance(content.get("add"), str) and self.on_add:
            self.on_add(content["add"])
