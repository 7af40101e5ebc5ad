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

from ._errors import (
    AuthError,
    CatalogError,
    ConfigError,
    ConfigTypeError,
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
    RefTypeError,
    TakopiError,
)
from ._lazy import lazy_attributes

TYPE_CHECKING = False  # importing typing costs ~8 ms; this module must stay instant
if TYPE_CHECKING:
    from typing import Any

    from ._config import Provider, TakopiConfig, get_config
    from ._credential_import import FoundCredential, find_credentials, import_credential
    from ._endpoint_models import EndpointModel, EndpointModels
    from ._provider_types import PROVIDER_TYPES, ProviderType
    from ._refs import ModelRef, format_ref, parse_ref
    from ._resolve import ResolvedModel, resolve
    from .catalog import Catalog, ModelInfo, get_catalog
    from .widgets import ProvidersPanel, panel
    from .wire import ChatBatch, clear_cache, usage

__version__ = "0.1.0"

__all__ = [
    "PROVIDER_TYPES",
    "AuthError",
    "Catalog",
    "CatalogError",
    "ChatBatch",
    "ConfigError",
    "ConfigTypeError",
    "ConfigWarning",
    "EmbeddingsNotSupportedError",
    "EndpointModel",
    "EndpointModels",
    "FoundCredential",
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
    "RefTypeError",
    "ResolvedModel",
    "TakopiConfig",
    "TakopiError",
    "clear_cache",
    "find_credentials",
    "format_ref",
    "get_catalog",
    "get_config",
    "import_credential",
    "load_ipython_extension",
    "panel",
    "parse_ref",
    "resolve",
    "unload_ipython_extension",
    "usage",
]

_LAZY = {
    "PROVIDER_TYPES": "_provider_types",
    "ProviderType": "_provider_types",
    "ModelRef": "_refs",
    "format_ref": "_refs",
    "parse_ref": "_refs",
    "Catalog": "catalog",
    "ModelInfo": "catalog",
    "get_catalog": "catalog",
    "EndpointModel": "_endpoint_models",
    "EndpointModels": "_endpoint_models",
    "FoundCredential": "_credential_import",
    "find_credentials": "_credential_import",
    "import_credential": "_credential_import",
    "Provider": "_config",
    "TakopiConfig": "_config",
    "get_config": "_config",
    "ResolvedModel": "_resolve",
    "resolve": "_resolve",
    "ProvidersPanel": "widgets",
    "panel": "widgets",
    "ChatBatch": "wire",
    "clear_cache": "wire",
    "usage": "wire",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, __all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext takopi_nb``: registers the ``%takopi`` magics."""
    from ._magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from ._magics import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "takopi_nb.server"}]


def _reset_for_tests() -> None:
    """Forget every process-wide object (config, runtime, catalog); for test isolation."""
    for module in (
        "_config",
        "_runtime",
        "_endpoint_models",
        "catalog",
        "codex",
        "wire",
        "widgets",
        "_magics",
        "server",
    ):
        loaded = sys.modules.get(f"{__name__}.{module}")
        reset = getattr(loaded, "_reset", None)
        if reset is not None:
            reset()
