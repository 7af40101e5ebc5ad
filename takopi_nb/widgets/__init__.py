"""The ipywidgets UI: :class:`ProvidersPanel` and its parts.

ipywidgets is imported only when one of these names is first used, so the
``%takopi`` magic and ``import takopi_nb`` stay fast. :mod:`.model_index`,
:mod:`.html` and :mod:`.bindings` do not import ipywidgets at all.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .device_code import DeviceCodeView
    from .model_picker import ModelPicker
    from .provider_form import ProviderForm, SecretInput
    from .providers_panel import ProvidersPanel, close_all, open_panels, panel

__all__ = [
    "DeviceCodeView",
    "ModelPicker",
    "ProviderForm",
    "ProvidersPanel",
    "SecretInput",
    "close_all",
    "open_panels",
    "panel",
]

_LAZY = {
    "DeviceCodeView": "device_code",
    "ModelPicker": "model_picker",
    "ProviderForm": "provider_form",
    "SecretInput": "provider_form",
    "ProvidersPanel": "providers_panel",
    "close_all": "providers_panel",
    "open_panels": "providers_panel",
    "panel": "providers_panel",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _reset() -> None:
    """Close every open panel (test isolation, ``%unload_ext``)."""
    loaded = sys.modules.get(f"{__name__}.providers_panel")
    if loaded is not None:
        loaded.close_all()
