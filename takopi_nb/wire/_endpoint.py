"""Where a call goes, which wire protocol it speaks and which credentials it carries.

Pure: no httpx here. An :class:`Endpoint` is built from a ``ResolvedModel`` (or
from a provider record for the connection test) and is what every protocol
module works from.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from .._errors import MissingCredentialsError, TakopiError
from .._provider_types import PROVIDER_TYPES

__all__ = [
    "ANTHROPIC_VERSION",
    "VERCEL_DEFAULT_BASE",
    "VERCEL_OPENAI_BASE",
    "ApiKeyCredentials",
    "CodexCredentials",
    "Credentials",
    "Endpoint",
    "Origin",
    "WireProtocol",
    "endpoint_for_model",
    "endpoint_for_record",
    "select_protocol",
]

ANTHROPIC_VERSION = "2023-06-01"
VERCEL_DEFAULT_BASE = "https://ai-gateway.vercel.sh/v3/ai"
"""The AI SDK gateway route: the type's default Base URL."""
VERCEL_OPENAI_BASE = "https://ai-gateway.vercel.sh/v1"
"""The gateway's OpenAI-compatible route, used for HTTP calls when the Base URL is the default."""

WireProtocol = Literal["chat_completions", "anthropic_messages", "responses", "codex", "gemini"]

_SDK_PROTOCOLS: dict[str, WireProtocol] = {
    "@ai-sdk/anthropic": "anthropic_messages",
    "@ai-sdk/openai": "responses",
    "@ai-sdk/google": "gemini",
    "@ai-sdk/openai-compatible": "chat_completions",
}
# For opencode models the catalog does not know (yet): the families Zen serves natively.
_OPENCODE_GUESSES: tuple[tuple[re.Pattern[str], WireProtocol], ...] = (
    (re.compile(r"claude-"), "anthropic_messages"),
    (re.compile(r"gpt-\d"), "responses"),
    (re.compile(r"gemini-"), "gemini"),
)


def model_sdk(info: object) -> str | None:
    """The catalog's per-model AI-SDK package override (e.g. ``@ai-sdk/anthropic``), if any."""
    for name in ("sdk", "npm"):
        value = getattr(info, name, None)
        if isinstance(value, str) and value:
            return value
    provider = getattr(info, "provider_override", None)
    value = getattr(provider, "npm", None) if provider is not None else None
    return value if isinstance(value, str) and value else None


def select_protocol(
    provider_type: str, model_id: str = "", sdk: str | None = None, *, in_catalog: bool = True
) -> WireProtocol:
    """The wire protocol a chat call to ``model_id`` on a ``provider_type`` provider speaks.

    By type, except opencode (OpenCode Zen), whose catalog entries name another
    AI-SDK package per model: ``@ai-sdk/anthropic`` → Anthropic Messages,
    ``@ai-sdk/openai`` → OpenAI Responses, ``@ai-sdk/google`` → Gemini, all under
    the same base URL. A model the catalog does not list is placed by its
    family name (``claude-*``, ``gpt-N*``, ``gemini-*``), else chat completions.
    """
    wire = PROVIDER_TYPES[provider_type].wire
    if wire == "codex":
        return "codex"
    if wire == "anthropic":
        return "anthropic_messages"
    if provider_type == "opencode":
        if sdk:
            return _SDK_PROTOCOLS.get(sdk, "chat_completions")
        if not in_catalog:
            for pattern, protocol in _OPENCODE_GUESSES:
                if pattern.match(model_id):
                    return protocol
    return "chat_completions"


@dataclass(frozen=True, slots=True)
class Origin:
    """scheme://host:port of a URL; credentials go only to the origin of the base URL."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return cls(scheme, (parts.hostname or "").lower().rstrip("."), port)

    def allows(self, url: str) -> bool:
        """Same origin, or the plain-http → https upgrade of the same host (default ports)."""
        other = Origin.of(url)
        if other == self:
            return True
        return (
            self.scheme == "http"
            and self.port == 80
            and other.scheme == "https"
            and other.port == 443
            and other.host == self.host
        )

    def __str__(self) -> str:
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


class Credentials(Protocol):
    """The request headers that authenticate a call, and how to recover from a 401."""

    def headers(self) -> dict[str, str]: ...

    def recover(self, rejected_headers: dict[str, str]) -> bool:
        """Try to fix what made the provider answer 401; True when one retry makes sense."""
        ...


KeyStyle = Literal["bearer", "anthropic", "bearer+anthropic", "google"]
"""How an API key is sent: ``Authorization: Bearer``, ``x-api-key``, both, ``x-goog-api-key``."""


@dataclass(frozen=True)
class ApiKeyCredentials:
    """An API key as ``Authorization: Bearer``, or ``x-api-key`` (Anthropic), ``x-goog-api-key``."""

    get_key: Callable[[], str] = field(repr=False)
    style: KeyStyle = "bearer"
    forget: Callable[[], None] | None = field(default=None, repr=False)
    """Drops a key kept in memory for the next calls, so the next ``get_key`` reads it anew."""

    def headers(self) -> dict[str, str]:
        key = self.get_key()
        headers: dict[str, str] = {}
        if "bearer" in self.style:
            headers["Authorization"] = f"Bearer {key}"
        if "anthropic" in self.style:
            headers["x-api-key"] = key
            headers["anthropic-version"] = ANTHROPIC_VERSION
        if self.style == "google":
            headers["x-goog-api-key"] = key
        return headers

    def recover(self, rejected_headers: dict[str, str]) -> bool:
        """After a 401: retry once if the key was changed (in another process) since it
        was read for this call."""
        if self.forget is None:
            return False
        self.forget()
        try:
            return self.headers() != rejected_headers
        except TakopiError:  # removed meanwhile: the 401 stands
            return False


@dataclass(frozen=True)
class CodexCredentials:
    """ChatGPT OAuth tokens: refreshed near expiry by the codex module, and once after a 401."""

    runtime: Any = field(repr=False)
    record: Any = field(repr=False)
    session_id: str | None = None
    """None: a new one per call; "": none (the request carries its conversation's own)."""

    def headers(self) -> dict[str, str]:
        from ..codex import codex_headers

        headers = dict(codex_headers(self.runtime, self.record, session_id=self.session_id))
        if self.session_id == "":
            del headers["session_id"]
        return headers

    def recover(self, rejected_headers: dict[str, str]) -> bool:
        from ..codex import recover_unauthorized

        auth = next((v for k, v in rejected_headers.items() if k.lower() == "authorization"), "")
        token = auth[7:] if auth[:7].lower() == "bearer " else auth
        recover_unauthorized(self.runtime, self.record, token)
        return True


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One provider's address and identity, as the wire modules need it. Holds no secret."""

    provider_id: str
    provider_type: str
    base_url: str
    """The effective base URL (override, or the type's run-time default)."""
    overridden: bool
    runtime: Any = field(repr=False)
    record: Any = field(repr=False)
    model_id: str = ""
    info_source: Callable[[], Any] | None = field(default=None, repr=False)
    """Looks the model up in the catalog; called at most once, and only when needed."""
    key_getter: Callable[[], str] | None = field(default=None, repr=False)

    @functools.cached_property
    def catalog_info(self) -> Any:
        """The model's catalog entry; None when unlisted, or when no catalog can be had."""
        if self.info_source is None:
            return None
        try:
            return self.info_source()
        except TakopiError:  # a missing catalog must not stop a call
            return None

    @property
    def sdk(self) -> str | None:
        return model_sdk(self.catalog_info)

    @property
    def max_output(self) -> int | None:
        """The catalog's output-token limit of the model, when known."""
        value = getattr(self.catalog_info, "max_output", None)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def ref(self) -> str:
        return f"{self.provider_id}/{self.model_id}"

    @property
    def label(self) -> str:
        return PROVIDER_TYPES[self.provider_type].label

    @property
    def who(self) -> str:
        """How messages name the provider: ``OpenAI (provider 'work-openai')``."""
        return f"{self.label} (provider '{self.provider_id}')"

    @property
    def is_codex(self) -> bool:
        return PROVIDER_TYPES[self.provider_type].wire == "codex"

    @property
    def api_base(self) -> str:
        """Where HTTP calls go: the base URL, except Vercel's default, which is the AI SDK
        route; its OpenAI-compatible twin ``https://ai-gateway.vercel.sh/v1`` is used then."""
        base = self.base_url.rstrip("/")
        if self.provider_type == "vercel" and base == VERCEL_DEFAULT_BASE:
            return VERCEL_OPENAI_BASE
        return base

    @property
    def origin(self) -> Origin:
        return Origin.of(self.api_base)

    @property
    def env_vars(self) -> tuple[str, ...]:
        names = PROVIDER_TYPES[self.provider_type].env_vars
        extra = getattr(self.record, "api_key_env", "") or ""
        return (extra, *names) if extra else names

    def protocol(self) -> WireProtocol:
        if self.provider_type != "opencode":  # only opencode's wire depends on the model
            return select_protocol(self.provider_type, self.model_id)
        info = self.catalog_info
        return select_protocol(
            self.provider_type, self.model_id, model_sdk(info), in_catalog=info is not None
        )

    def credentials(
        self, protocol: WireProtocol | None = None, *, session_id: str | None = None
    ) -> Credentials:
        protocol = protocol or self.protocol()
        if self.is_codex:
            return CodexCredentials(self.runtime, self.record, session_id)
        if protocol == "anthropic_messages":
            return self.key_credentials("anthropic")
        if protocol == "gemini":
            return self.key_credentials("google")
        return self.key_credentials("bearer")

    def key_credentials(self, style: KeyStyle) -> ApiKeyCredentials:
        """The API key sent in ``style``, read again after a 401 (see ``ApiKeyCredentials``)."""
        return ApiKeyCredentials(self.key_source(), style, self._forget_key)

    def _forget_key(self) -> None:
        """Drop the key the runtime keeps for the next calls (see ``SecretStore.get_recent``)."""
        if self.runtime is not None:
            self.runtime.secrets.forget(self.provider_id)

    def key_source(self) -> Callable[[], str]:
        """A callable returning the API key (or raising MissingCredentialsError)."""
        return self.key_getter or self._key_from_runtime

    def _key_from_runtime(self) -> str:
        found = self.runtime.api_key(self.record) if self.runtime is not None else None
        if found:
            return str(found[0])
        env = " or ".join(self.env_vars) or "its environment variable"
        raise MissingCredentialsError(
            f"No API key for {self.who}. Add one in the panel (%takopi providers), with "
            f"tk.get_config().get({self.provider_id!r}).set_api_key(...), or set {env}."
        )


def endpoint_for_model(model: Any) -> Endpoint:
    """The endpoint of a ``ResolvedModel``."""
    record = model.record
    api_key = getattr(model, "api_key", None)
    codex = PROVIDER_TYPES[model.provider_type].wire == "codex"
    return Endpoint(
        provider_id=model.provider_id,
        provider_type=model.provider_type,
        base_url=str(model.base_url).rstrip("/"),
        overridden=bool(getattr(record, "base_url", "")),
        runtime=model.runtime,
        record=record,
        model_id=model.model_id,
        # Read only when needed: opencode's wire format, anthropic's max_tokens, a call's cost.
        info_source=lambda: model.info,
        key_getter=None if codex or not callable(api_key) else api_key,
    )


def endpoint_for_record(runtime: Any, record: Any, model_id: str = "") -> Endpoint:
    """The endpoint of a provider record (no model resolved), for the connection test."""
    return Endpoint(
        provider_id=record.id,
        provider_type=record.type,
        base_url=str(record.effective_base_url).rstrip("/"),
        overridden=bool(record.base_url),
        runtime=runtime,
        record=record,
        model_id=model_id,
    )
