"""The models.dev catalog: which models each provider offers, with limits, prices and
features, cached for 2 hours and usable offline (DESIGN §5).

>>> cat = get_catalog()                      # never waits for the network if data is at hand
>>> cat.describe()                           # "models.dev, 12 min ago"
>>> cat.models_for_type("codex")             # what a provider type's picker offers
>>> cat.search("sonnet", provider="openrouter", tool_call=True)

Nothing here reads the disk or the network at import time; httpx is imported on first fetch.
"""

from __future__ import annotations

from ._catalog import Catalog, Provenance, get_catalog
from ._catalog import _reset as _reset
from ._display import format_price, format_tokens
from ._frame import MissingDependencyError
from ._model_info import ModelInfo, ProviderInfo

__all__ = [
    "Catalog",
    "MissingDependencyError",
    "ModelInfo",
    "Provenance",
    "ProviderInfo",
    "format_price",
    "format_tokens",
    "get_catalog",
]
