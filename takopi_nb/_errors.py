"""The error tree of takopi_nb.

Every error derives from :class:`TakopiError` and from the builtin that matches
its meaning, so ``except ValueError`` keeps working for callers that do not
know this package. Messages say what went wrong, name the ref or provider, and
say how to fix it. They never contain a secret.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "CatalogError",
    "ConfigError",
    "ConfigTypeError",
    "ConfigWarning",
    "EmbeddingsNotSupportedError",
    "MissingCredentialsError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ProviderNotUsableError",
    "ProviderRequestError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RefError",
    "RefTypeError",
    "TakopiError",
]


class TakopiError(Exception):
    """Base class of every error raised by takopi_nb."""


class RefError(TakopiError, ValueError):
    """A model ref is not of the form ``providerId/modelId``."""


class RefTypeError(RefError, TypeError):
    """A model ref (or a part of one) that is not a string at all, e.g. ``tk.resolve(3)``."""


class ModelNotFoundError(TakopiError, LookupError):
    """A ref names an unknown provider, or a model that is not selected."""


class ProviderNotUsableError(TakopiError, LookupError):
    """A provider has no models selected yet."""


class MissingCredentialsError(TakopiError, PermissionError):
    """No API key (or no sign-in) is available for a provider at use time."""


class EmbeddingsNotSupportedError(TakopiError, ValueError):
    """Embeddings were asked of a provider type that has none (codex)."""


class ConfigError(TakopiError, ValueError):
    """A bad id, duplicate id, bad base URL, or an unreadable config file."""


class ConfigTypeError(ConfigError, TypeError):
    """A public call got an argument (or a trait a value) of the wrong type; nothing was saved."""


class CatalogError(TakopiError, RuntimeError):
    """No models.dev catalog could be had at all."""


class AuthError(TakopiError, PermissionError):
    """Device-code sign-in or token refresh failed."""


class MissingDependencyError(TakopiError, ImportError):
    """An optional dependency is not installed; the message says what to install."""


class ProviderRequestError(TakopiError, RuntimeError):
    """A provider answered a request with an error, or could not be reached.

    ``status`` is the HTTP status (``None`` when no answer came back) and
    ``provider_id`` the provider the request went to.
    """

    def __init__(self, message: str, *, status: int | None = None, provider_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.provider_id = provider_id


class RateLimitError(ProviderRequestError):
    """The provider said 429 and retries ran out. ``retry_after`` in seconds, if given."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        provider_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, provider_id=provider_id)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderRequestError, TimeoutError):
    """The provider did not answer in time."""


class ConfigWarning(UserWarning):
    """Something in the configuration was repaired or set aside; nothing was lost."""
