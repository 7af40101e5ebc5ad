"""The ipywidgets UI: :class:`ProvidersPanel` and its parts.

ipywidgets is imported only when one of these names is first used, so the
``%takopi`` magic and ``import takopi_nb`` stay fast. :mod:`.model_index`,
:mod:`.html` and :mod:`.bindings` do not import ipywidgets at all.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._device_code import DeviceCodeView
    from ._model_picker import ModelPicker
    from ._provider_form import ProviderForm, SecretInput
    from ._providers_panel import ProvidersPanel, close_all, open_panels, panel

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
    "DeviceCodeView": "_device_code",
    "ModelPicker": "_model_picker",
    "ProviderForm": "_provider_form",
    "SecretInput": "_provider_form",
    "ProvidersPanel": "_providers_panel",
    "close_all": "_providers_panel",
    "open_panels": "_providers_panel",
    "panel": "_providers_panel",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, __all__)


def _reset() -> None:
    """Close every open panel (test isolation, ``%unload_ext``)."""
    loaded = sys.modules.get(f"{__name__}._providers_panel")
    if loaded is not None:
        loaded.close_all()
