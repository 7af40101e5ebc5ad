"""takopi_nb: configure LLM providers and use their models from Jupyter notebooks.

``import takopi_nb`` does no work: names are loaded on first use, so importing
is instant and nothing touches the network, the disk or the keyring.

>>> import takopi_nb as tk
>>> cfg = tk.get_config()
>>> cfg.add_provider("openai", id="work-openai", api_key="sk-...", models=["gpt-5.2"])
>>> tk.resolve("work-openai/gpt-5.2").chat("Hello")
"""

from __future__ import annotations

import sys

from ._lazy import lazy_attributes
from .errors import (
    AuthError,
    CatalogError,
    ConfigError,
    ConfigWarning,
    EmbeddingsNotSupportedError,
    MissingCredentialsError,
    MissingDependencyError,
    ModelNotFoundError,
    ProviderNotUsableError,
    ProviderRequestError,
    ProviderTimeoutError,
    RateLimitError,
    RefError,
    TakopiError,
)

TYPE_CHECKING = False  # importing typing costs ~8 ms; this module must stay instant
if TYPE_CHECKING:
    from typing import Any

    from .catalog import Catalog, ModelInfo, get_catalog
    from .config import Provider, TakopiConfig, get_config
    from .provider_types import PROVIDER_TYPES, ProviderType
    from .refs import ModelRef, format_ref, parse_ref
    from .resolve import ResolvedModel, resolve
    from .widgets import ProvidersPanel, panel

__version__ = "0.1.0"

__all__ = [
    "PROVIDER_TYPES",
    "AuthError",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "ConfigWarning",
    "EmbeddingsNotSupportedError",
    "MissingCredentialsError",
    "MissingDependencyError",
    "ModelInfo",
    "ModelNotFoundError",
    "ModelRef",
    "Provider",
    "ProviderNotUsableError",
    "ProviderRequestError",
    "ProviderTimeoutError",
    "ProviderType",
    "ProvidersPanel",
    "RateLimitError",
    "RefError",
    "ResolvedModel",
    "TakopiConfig",
    "TakopiError",
    "format_ref",
    "get_catalog",
    "get_config",
    "load_ipython_extension",
    "panel",
    "parse_ref",
    "resolve",
    "unload_ipython_extension",
]

_LAZY = {
    "PROVIDER_TYPES": "provider_types",
    "ProviderType": "provider_types",
    "ModelRef": "refs",
    "format_ref": "refs",
    "parse_ref": "refs",
    "Catalog": "catalog",
    "ModelInfo": "catalog",
    "get_catalog": "catalog",
    "Provider": "config",
    "TakopiConfig": "config",
    "get_config": "config",
    "ResolvedModel": "resolve",
    "resolve": "resolve",
    "ProvidersPanel": "widgets",
    "panel": "widgets",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, __all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext takopi_nb``: registers the ``%takopi`` magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "takopi_nb.server"}]


def _reset_for_tests() -> None:
    """Forget every process-wide object (config, runtime, catalog); for test isolation."""
    for module in ("config", "runtime", "catalog", "codex", "wire", "widgets", "magics", "server"):
        loaded = sys.modules.get(f"{__name__}.{module}")
        reset = getattr(loaded, "_reset", None)
        if reset is not None:
            reset()
