"""Refreshing ChatGPT tokens safely when several kernels share one credential.

Refresh tokens are single use and rotate: if two processes both refresh with the
same token, the second gets ``refresh_token_reused`` and the server revokes the
whole family, signing *everyone* out. So a refresh here is

1. serialised: a thread lock per provider inside the process and a file lock in
   ``data_dir()`` across processes;
2. guarded: under the lock the secret store is read again, and when another
   process has already stored fresher tokens (or, after a 401, tokens other than
   the rejected ones) those are taken and no request is made;
3. classified: ``refresh_token_expired`` / ``_reused`` / ``_invalidated``,
   ``invalid_grant`` and bare 401s are permanent (an :class:`AuthError` saying
   "sign in again", remembered so later calls fail without a request); 5xx, 429
   and network errors are retried a bounded number of times.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .._errors import AuthError, MissingCredentialsError
from ._constants import CLIENT_ID
from ._device_flow import HttpReply, error_code
from ._tokens import TokenSet, load_tokens, store_tokens

if TYPE_CHECKING:
    import httpx

    from .._secrets import SecretStore

__all__ = [
    "PERMANENT_CODES",
    "RETRY_DELAYS",
    "ensure_fresh",
    "forget",
    "not_signed_in",
    "refresh_lock",
    "revoke_refresh_token",
    "save_new_login",
    "sign_in_again",
]

log = logging.getLogger("takopi_nb.codex")

PERMANENT_CODES = {
    "refresh_token_expired": "its refresh token has expired",
    "refresh_token_reused": (
        "its refresh token was already used (another program or another copy of these "
        "credentials refreshed it first)"
    ),
    "refresh_token_invalidated": (
        "its refresh token was revoked (signed out elsewhere, or replaced by a newer sign-in)"
    ),
    "invalid_grant": "the server no longer accepts its refresh token",
}
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.5)
"""Pauses between the attempts of a refresh that failed transiently (3 attempts in all)."""
REFRESH_TIMEOUT = 15.0
LOCK_TIMEOUT = 90.0
"""Longer than a refresh with all its retries can take, so a waiting kernel never gives up early."""

_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}
_permanent: dict[tuple[str, str], str] = {}
"""(provider id, fingerprint of a refresh token) → the message of its permanent failure."""


def sign_in_again(provider_id: str) -> str:
    return (
        "Sign in again: use Sign in with ChatGPT in %takopi providers, or "
        f"%takopi login {provider_id}, or tk.get_config().get({provider_id!r}).login()."
    )


def not_signed_in(provider_id: str) -> MissingCredentialsError:
    return MissingCredentialsError(
        f"Provider {provider_id!r} (Codex) is not signed in: use Sign in with ChatGPT in "
        f"%takopi providers, or %takopi login {provider_id}, or "
        f"tk.get_config().get({provider_id!r}).login()."
    )


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def forget(provider_id: str | None = None) -> None:
    """Drop remembered permanent failures (of one provider, or all): after a new sign-in."""
    with _guard:
        for key in [k for k in _permanent if provider_id is None or k[0] == provider_id]:
            del _permanent[key]


def _lock_path_name(provider_id: str) -> str:
    if re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", provider_id):
        return provider_id
    return "h-" + hashlib.sha256(provider_id.encode()).hexdigest()[:24]


@contextlib.contextmanager
def refresh_lock(provider_id: str) -> Iterator[None]:
    """Hold the refresh lock of ``provider_id`` in this process and across processes."""
    from .._fileio import file_lock
    from .._paths import data_dir

    with _guard:
        lock = _thread_locks.setdefault(provider_id, threading.Lock())
    # The thread lock first: threads of one kernel queue here instead of polling the file lock.
    with lock:
        path = data_dir() / "codex-locks" / f"{_lock_path_name(provider_id)}.refresh.lock"
        with file_lock(path, timeout=LOCK_TIMEOUT):
            yield


def ensure_fresh(
    secrets: SecretStore,
    issuer: str,
    provider_id: str,
    *,
    rejected_access_token: str | None = None,
    clock: Callable[[], float] = time.time,
) -> TokenSet:
    """Tokens good to use now, refreshing them (serialised) when needed.

    Proactive (``rejected_access_token`` None): refresh when the access token
    expires within 5 minutes. Reactive (after a 401): refresh unless the store
    already holds an access token other than the rejected one.
    """

    def usable(tokens: TokenSet) -> bool:
        if rejected_access_token is not None:
            return tokens.access_token != rejected_access_token
        return not tokens.needs_refresh(clock())

    tokens = load_tokens(secrets, provider_id)
    if tokens is None:
        raise not_signed_in(provider_id)
    if usable(tokens):
        return tokens
    with refresh_lock(provider_id):
        # Read again under the lock: another kernel may have rotated the tokens meanwhile,
        # and refreshing with the old refresh token would then revoke everybody's sign-in.
        tokens = load_tokens(secrets, provider_id)
        if tokens is None:
            raise not_signed_in(provider_id)
        if tokens.linked_file:
            from ._cli_auth import sync_from_cli

            tokens = sync_from_cli(secrets, provider_id, tokens)
        if usable(tokens):
            log.debug("Provider %r: took tokens another process refreshed", provider_id)
            return tokens
        with _guard:
            known = _permanent.get((provider_id, _fingerprint(tokens.refresh_token)))
        if known is not None:
            raise AuthError(known)
        fresh = _refresh(issuer, provider_id, tokens, clock)
        store_tokens(secrets, provider_id, fresh)
        log.info("Provider %r: ChatGPT access token refreshed", provider_id)
        if fresh.linked_file:
            _write_back(fresh, provider_id)
        return fresh


def _write_back(tokens: TokenSet, provider_id: str) -> None:
    """Give the Codex CLI the rotated tokens (its file or keyring entry), or say it could not."""
    from ._cli_auth import write_back_to_cli

    try:
        write_back_to_cli(tokens)
    except OSError as exc:
        log.warning(
            "Provider %r: could not write the refreshed tokens back where the Codex CLI keeps "
            "them (%s); the CLI will need to sign in again (codex login)",
            provider_id,
            exc.strerror or type(exc).__name__,
        )


def _post_to_issuer(
    issuer: str, endpoint: str, body: dict[str, str], timeout: float
) -> httpx.Response:
    """``POST {issuer}/oauth/{endpoint}`` with a JSON body, read in full.

    Raises ``httpx.HTTPError`` when the issuer cannot be reached.
    """
    import httpx

    from ._backend import user_agent

    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return client.post(
            f"{issuer.rstrip('/')}/oauth/{endpoint}",
            json=body,
            headers={"User-Agent": user_agent()},
        )


def _post_refresh(issuer: str, refresh_token: str) -> HttpReply:
    import httpx

    body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": refresh_token}
    try:
        response = _post_to_issuer(issuer, "token", body, REFRESH_TIMEOUT)
    except httpx.HTTPError as exc:
        return HttpReply(0, b"", type(exc).__name__)
    return HttpReply(response.status_code, response.content)


def _refresh(
    issuer: str, provider_id: str, tokens: TokenSet, clock: Callable[[], float]
) -> TokenSet:
    last = ""
    for attempt in range(len(RETRY_DELAYS) + 1):
        if attempt:
            time.sleep(RETRY_DELAYS[attempt - 1])
        reply = _post_refresh(issuer, tokens.refresh_token)
        if reply.status == 0 and reply.error is not None and "Timeout" in reply.error:
            # An endpoint that does not answer in REFRESH_TIMEOUT will not answer the next
            # attempt either: retrying would only multiply the wait of the cell.
            last = f"{issuer} did not answer within {REFRESH_TIMEOUT:g} s"
            break
        if reply.ok:
            try:
                return TokenSet.from_token_response(reply.json(), clock(), previous=tokens)
            except ValueError as exc:
                # Not retried: the server may have rotated the token already.
                raise AuthError(
                    f"Refreshing the ChatGPT sign-in of provider {provider_id!r} gave an "
                    f"unusable answer ({exc}). {sign_in_again(provider_id)}"
                ) from None
        code, _ = error_code(reply.json())
        if code in PERMANENT_CODES or reply.status == 401:
            why = PERMANENT_CODES.get(code, f"the server refused to refresh it ({reply.status})")
            message = (
                f"The ChatGPT sign-in of provider {provider_id!r} has ended: {why}. "
                f"{sign_in_again(provider_id)}"
            )
            with _guard:
                _permanent[(provider_id, _fingerprint(tokens.refresh_token))] = message
            raise AuthError(message)
        if reply.status == 0:
            last = f"could not reach {issuer} ({reply.error})"
        elif reply.status == 429 or reply.status >= 500:
            last = f"{issuer} answered status {reply.status}"
        else:
            raise AuthError(
                f"Could not refresh the ChatGPT sign-in of provider {provider_id!r}: "
                f"{issuer} answered status {reply.status}"
                + (f" ({code})" if code else "")
                + f". If this keeps happening, sign in again. {sign_in_again(provider_id)}"
            )
        log.info("Provider %r: token refresh attempt %d failed: %s", provider_id, attempt + 1, last)
    tries = f", {attempt + 1} times" if attempt else ""
    raise AuthError(
        f"Could not refresh the ChatGPT sign-in of provider {provider_id!r}: {last}{tries}. "
        "The sign-in is kept; try again in a moment."
    )


def revoke_refresh_token(issuer: str, refresh_token: str) -> bool:
    """Best effort ``POST {issuer}/oauth/revoke``; True when the server said 2xx."""
    import httpx

    body = {"token": refresh_token, "token_type_hint": "refresh_token", "client_id": CLIENT_ID}
    try:
        response = _post_to_issuer(issuer, "revoke", body, 5.0)
    except httpx.HTTPError as exc:
        log.info("Revoking a ChatGPT refresh token failed (%s); continuing", type(exc).__name__)
        return False
    return response.is_success


def save_new_login(secrets: SecretStore, provider_id: str, tokens: TokenSet) -> str | None:
    """Store the tokens of a fresh sign-in; returns the refresh token they replace, if any.

    Under the refresh lock, so that a kernel refreshing the old tokens at the same
    moment cannot write them back over the new ones. The caller should revoke the
    returned token (best effort, as the Codex CLI does: other copies of the old
    credentials stop working) once it has shown the new sign-in.
    """
    old: TokenSet | None = None
    with refresh_lock(provider_id):
        try:
            old = load_tokens(secrets, provider_id)
        except Exception:  # an unreadable old entry must not block a new sign-in
            old = None
        store_tokens(secrets, provider_id, tokens)
    forget(provider_id)
    # A sign-in shared with the Codex CLI is the CLI's too: revoking it would sign the CLI out.
    if old is not None and old.refresh_token != tokens.refresh_token and not old.linked_file:
        return old.refresh_token
    return None


def _reset() -> None:
    forget()
