"""Codex "Sign in with ChatGPT": device-code login, tokens, refresh, backend headers.

Modules: :mod:`._device_flow` (the pure state machine), :mod:`._driver` (runs it on
a thread as a :class:`DeviceCodeFlow`), :mod:`._tokens` (the token set and its
secret-store JSON), :mod:`._refresh` (refresh serialised across processes),
:mod:`._backend` (headers and the model list), :mod:`._jwt` (claims).

The functions here take a *runtime* (``.secrets``, ``.codex_issuer``) and a
provider *record* (``.id``, ``.effective_base_url``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._constants import CLIENT_ID, CLIENT_VERSION, ORIGINATOR
from ._tokens import CodexAccount, TokenSet, delete_tokens, load_tokens, store_tokens

if TYPE_CHECKING:
    from ._backend import (
        CodexModel,
        RecordLike,
        RuntimeLike,
        backend_models,
        codex_headers,
        recover_unauthorized,
    )
    from ._driver import DeviceCodeFlow

__all__ = [
    "CLIENT_ID",
    "CLIENT_VERSION",
    "ORIGINATOR",
    "CodexAccount",
    "CodexModel",
    "DeviceCodeFlow",
    "TokenSet",
    "account",
    "backend_models",
    "codex_headers",
    "has_tokens",
    "load_tokens",
    "logout",
    "recover_unauthorized",
    "start_login",
    "store_tokens",
]


# Loaded on first use: the driver pulls in traitlets (only sign-in needs it), and the
# backend brings the refresh and device-flow modules (~30 ms in a fresh kernel), which
# the panel's "signed in as ..." status (``account``) does not need.
__getattr__, __dir__ = lazy_attributes(
    __name__,
    globals(),
    {
        "DeviceCodeFlow": "_driver",
        "CodexModel": "_backend",
        "backend_models": "_backend",
        "codex_headers": "_backend",
        "recover_unauthorized": "_backend",
    },
    __all__,
)


def start_login(runtime: RuntimeLike, record: RecordLike) -> DeviceCodeFlow:
    """Start "Sign in with ChatGPT" for ``record`` and return the running flow at once."""
    from ._driver import DeviceCodeFlow

    flow = DeviceCodeFlow(
        provider_id=record.id, issuer=runtime.codex_issuer, secrets=runtime.secrets
    )
    return flow.start()


def logout(runtime: RuntimeLike, record: RecordLike) -> None:
    """Sign out: revoke the refresh token (best effort) and delete the stored tokens.

    A sign-in shared with the Codex CLI is not revoked: the CLI keeps it.
    """
    from ._backend import forget_models
    from ._refresh import forget, refresh_lock, revoke_refresh_token

    with refresh_lock(record.id):
        try:
            tokens = load_tokens(runtime.secrets, record.id)
        except Exception:  # an unreadable entry is still deleted below
            tokens = None
        # A sign-in shared with the Codex CLI is only let go of: revoking it would end the CLI's.
        if tokens is not None and not tokens.linked_file:
            revoke_refresh_token(runtime.codex_issuer, tokens.refresh_token)
        delete_tokens(runtime.secrets, record.id)
    forget(record.id)
    forget_models(record.id)


def account(runtime: RuntimeLike, record: RecordLike) -> CodexAccount | None:
    """Who is signed in (email, plan, account id), or None. Never a token."""
    tokens = load_tokens(runtime.secrets, record.id)
    return tokens.account if tokens is not None else None


def has_tokens(runtime: RuntimeLike, record: RecordLike) -> bool:
    return load_tokens(runtime.secrets, record.id) is not None


def _reset() -> None:
    """Forget process-wide state (test isolation): caches, remembered failures, running flows."""
    import sys

    for name in ("_backend", "_refresh", "_driver"):  # only those loaded hold any state
        loaded = sys.modules.get(f"{__name__}.{name}")
        if loaded is not None:
            loaded._reset()
