"""Talking to the Codex backend: request headers and the account's model list."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import TakopiError
from ._constants import CLIENT_VERSION, ORIGINATOR
from ._refresh import ensure_fresh

if TYPE_CHECKING:
    from .._secrets import SecretStore

__all__ = [
    "CodexModel",
    "backend_models",
    "codex_headers",
    "recover_unauthorized",
    "user_agent",
]

log = logging.getLogger("takopi_nb.codex")

MODELS_TIMEOUT = 5.0
MODELS_MAX_AGE = 300.0
"""Like the Codex CLI: the list is fetched at most every 5 minutes, then revalidated by ETag."""


class RuntimeLike(Protocol):
    secrets: SecretStore
    codex_issuer: str


class RecordLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def effective_base_url(self) -> str: ...


@functools.lru_cache(maxsize=1)
def user_agent() -> str:
    """``takopi_nb/<version> (<os> <release>; <arch>) python/<version>``, like the CLI's shape."""
    import platform

    from .. import __version__

    return (
        f"{ORIGINATOR}/{__version__} ({platform.system()} {platform.release()}; "
        f"{platform.machine()}) python/{platform.python_version()}"
    )


def codex_headers(
    runtime: RuntimeLike, record: RecordLike, *, session_id: str | None = None
) -> dict[str, str]:
    """Headers for a Codex backend call, refreshing the tokens first when they are due.

    Raises MissingCredentialsError when the provider is not signed in, and
    AuthError (saying "sign in again") when the sign-in can no longer be refreshed.
    """
    from .._runtime import held_back, key_moved_error

    bound = held_back(record, "oauth")
    if bound is not None:  # the Base URL moved: the tokens stay home until confirmed
        raise key_moved_error(record, "oauth", bound)
    tokens = ensure_fresh(runtime.secrets, runtime.codex_issuer, record.id)
    headers = {
        "Authorization": f"Bearer {tokens.access_token}",
        "originator": ORIGINATOR,
        "User-Agent": user_agent(),
        # The backend reads this as the Codex client version, as it does client_version.
        "version": CLIENT_VERSION,
        "session_id": session_id or str(uuid.uuid4()),
    }
    account_id = tokens.account.account_id
    if account_id:
        headers["ChatGPT-Account-ID"] = account_id
    return headers


def recover_unauthorized(
    runtime: RuntimeLike, record: RecordLike, rejected_access_token: str
) -> None:
    """After a backend 401: make the store hold an access token other than the rejected one.

    Takes tokens another process stored meanwhile, else refreshes once (serialised).
    The caller then retries exactly once. Raises AuthError when the sign-in has
    ended, MissingCredentialsError when the provider was signed out.
    """
    ensure_fresh(
        runtime.secrets,
        runtime.codex_issuer,
        record.id,
        rejected_access_token=rejected_access_token,
    )


# -- the model list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodexModel:
    """One entry of ``GET {base}/models`` that the account may pick."""

    slug: str
    display_name: str
    description: str = ""
    priority: int | None = None
    context_window: int | None = None
    default_reasoning_level: str | None = None
    reasoning_levels: tuple[str, ...] = ()
    input_modalities: tuple[str, ...] = ()
    minimal_client_version: str | None = None

    @property
    def id(self) -> str:
        """The model id to put in a ref (``provider/slug``)."""
        return self.slug


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_models(payload: Any) -> list[CodexModel]:
    """The ``visibility == "list"`` entries of a ``/models`` answer, sorted by priority.

    Malformed entries are skipped. Codex does not filter on ``supported_in_api``
    in ChatGPT mode, so neither does this.
    """
    entries = payload.get("models") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the answer has no models list")
    models = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("visibility") != "list":
            continue
        slug = _str(entry.get("slug"))
        if slug is None:
            continue
        levels = entry.get("supported_reasoning_levels")
        efforts = tuple(
            level["effort"]
            for level in (levels if isinstance(levels, list) else [])
            if isinstance(level, dict) and isinstance(level.get("effort"), str)
        )
        modalities = entry.get("input_modalities")
        models.append(
            CodexModel(
                slug=slug,
                display_name=_str(entry.get("display_name")) or slug,
                description=_str(entry.get("description")) or "",
                priority=_int(entry.get("priority")),
                context_window=_int(entry.get("context_window")),
                default_reasoning_level=_str(entry.get("default_reasoning_level")),
                reasoning_levels=efforts,
                input_modalities=tuple(
                    m
                    for m in (modalities if isinstance(modalities, list) else [])
                    if isinstance(m, str)
                ),
                minimal_client_version=_str(entry.get("minimal_client_version")),
            )
        )
    models.sort(key=lambda m: (m.priority is None, m.priority or 0, m.slug))
    return models


@dataclass
class _Cached:
    etag: str | None
    models: list[CodexModel]
    checked_at: float


_models_lock = threading.Lock()
_models_cache: dict[tuple[str, str, str], _Cached] = {}


def backend_models(
    runtime: RuntimeLike, record: RecordLike, *, max_age: float = MODELS_MAX_AGE
) -> list[CodexModel] | None:
    """The models this ChatGPT account can use with Codex, or **None** when unavailable.

    ``GET {base}/models?client_version=<CLIENT_VERSION>`` with the account's
    headers; the answer is kept for ``max_age`` seconds and then revalidated
    with ``If-None-Match`` (a 304 keeps it). Returns None, never raises, when the
    provider is not signed in or the call fails in any way (network, status,
    body, refresh): the caller then shows the catalog's Codex filter instead.
    """
    import httpx

    from ._tokens import load_tokens

    try:
        tokens = load_tokens(runtime.secrets, record.id)
    except TakopiError:
        return None
    if tokens is None:
        return None
    base = record.effective_base_url.rstrip("/")
    key = (record.id, base, tokens.account.account_id or "")
    with _models_lock:
        cached = _models_cache.get(key)
    if cached is not None and time.time() - cached.checked_at < max_age:
        return list(cached.models)
    try:
        headers = codex_headers(runtime, record)
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        with httpx.Client(timeout=MODELS_TIMEOUT, follow_redirects=False) as client:
            url = f"{base}/models"
            params = {"client_version": CLIENT_VERSION}
            response = client.get(url, params=params, headers=headers)
            if response.status_code == 401:
                rejected = headers["Authorization"].removeprefix("Bearer ")
                recover_unauthorized(runtime, record, rejected)
                headers.update(codex_headers(runtime, record, session_id=headers["session_id"]))
                response = client.get(url, params=params, headers=headers)
        if response.status_code == 304 and cached is not None:
            models = cached.models
            etag = response.headers.get("ETag") or cached.etag
        elif response.is_success:
            models = parse_models(response.json())
            etag = response.headers.get("ETag")
        else:
            log.info(
                "Provider %r: the Codex model list answered status %d; using the catalog",
                record.id,
                response.status_code,
            )
            return None
    except (TakopiError, httpx.HTTPError, ValueError) as exc:
        log.info(
            "Provider %r: no Codex model list (%s); using the catalog",
            record.id,
            type(exc).__name__,
        )
        return None
    with _models_lock:
        _models_cache[key] = _Cached(etag, models, time.time())
    return list(models)


def forget_models(provider_id: str | None = None) -> None:
    with _models_lock:
        for key in [k for k in _models_cache if provider_id is None or k[0] == provider_id]:
            del _models_cache[key]


def _reset() -> None:
    forget_models()
