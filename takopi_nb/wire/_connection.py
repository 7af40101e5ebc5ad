"""``Provider.test_connection()``: list the models, or send a tiny request where listing is
not offered, and say in plain words what happened. Never raises for a provider problem."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import httpx

from .._errors import TakopiError
from ._calls import call_context, chat
from ._endpoint import Endpoint, endpoint_for_record
from ._errors import error_for_transport
from ._http import RetryPolicy, build_client, default_retry, send
from ._results import ConnectionResult

__all__ = ["list_model_ids", "test_connection"]

_LISTING_UNSUPPORTED = {404, 405, 501}


def list_model_ids(doc: Any) -> tuple[str, ...]:
    """Model ids from an OpenAI/Anthropic ``{"data": [...]}`` or Codex ``{"models": [...]}``."""
    items: Any = doc
    if isinstance(doc, Mapping):
        items = doc.get("data", doc.get("models"))
    if not isinstance(items, list):
        return ()
    ids: list[str] = []
    for item in items:
        if isinstance(item, str):
            ids.append(item)
        elif isinstance(item, Mapping):
            value = item.get("id") or item.get("slug") or item.get("name")
            if isinstance(value, str) and value:
                ids.append(value.removeprefix("models/"))
    return tuple(ids)


def _codex_signed_in(runtime: Any, record: Any) -> bool:
    from ..codex import has_tokens

    try:
        return bool(has_tokens(runtime, record))
    except TakopiError:
        return True  # an unreadable sign-in: let the request say what is wrong


def _no_credential(endpoint: Endpoint) -> ConnectionResult:
    pid = endpoint.provider_id
    if endpoint.is_codex:
        text = (
            f"Not signed in: provider '{pid}' needs a ChatGPT sign-in. Use Sign in with ChatGPT "
            f"in the panel, or %takopi login {pid}."
        )
    else:
        env = " or ".join(endpoint.env_vars)
        text = f"No API key for {endpoint.who}: add one in the panel (%takopi providers)" + (
            f" or set {env}." if env else "."
        )
    return ConnectionResult(False, text, provider_id=pid)


def _listed(
    endpoint: Endpoint, ids: tuple[str, ...], selected: tuple[str, ...], latency: float
) -> str:
    what = "the ChatGPT sign-in works" if endpoint.is_codex else "the key was accepted"
    count = f"{len(ids)} model{'s' if len(ids) != 1 else ''} available"
    text = f"Connected to {endpoint.who} in {latency:.1f} s: {what}; {count}."
    missing = [m for m in selected if m not in set(ids)]
    if ids and missing:
        names = ", ".join(f"'{m}'" for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        text += (
            f" Not in the provider's list: {names} (check the ids, or the plan/permissions of "
            "this account)."
        )
    return text


def test_connection(
    runtime: Any, record: Any, *, timeout: float = 20.0, policy: RetryPolicy | None = None
) -> ConnectionResult:
    """Check that the provider answers and accepts the credential."""
    endpoint = endpoint_for_record(runtime, record)
    try:
        has_credential = (
            _codex_signed_in(runtime, record)
            if endpoint.is_codex
            else runtime.api_key(record) is not None
        )
    except TakopiError as exc:  # a key held back for another host, an unreadable store
        return ConnectionResult(False, str(exc), provider_id=record.id)
    if not has_credential:
        return _no_credential(endpoint)
    policy = policy or dataclasses.replace(default_retry(), max_retries=0)
    protocol = "anthropic_messages" if record.type == "anthropic" else endpoint.protocol()
    query = None
    if endpoint.is_codex:
        from ..codex import CLIENT_VERSION

        query = {"client_version": CLIENT_VERSION}  # required; the list is filtered by it
    ctx = call_context(endpoint, "model list request", "models")
    started = time.perf_counter()
    try:
        with build_client(endpoint, endpoint.credentials(protocol), timeout=timeout) as client:
            response = send(
                client,
                "GET",
                "models",
                ctx=ctx,
                params=query,
                policy=policy,
                origin=endpoint.origin,
            )
            try:
                doc = response.json() if response.read() else None
            except ValueError:
                doc = None
            except httpx.TimeoutException:
                raise error_for_transport(ctx, "timeout", "", timeout=timeout) from None
            except httpx.TransportError as exc:  # the reply was cut short
                raise error_for_transport(ctx, "broken", type(exc).__name__) from None
            finally:
                response.close()
    except TakopiError as exc:
        status = getattr(exc, "status", None)
        if status in _LISTING_UNSUPPORTED and record.models:
            return _tiny_request(runtime, record, timeout=timeout, policy=policy)
        return ConnectionResult(
            False, str(exc), provider_id=record.id, status=status, method="list-models"
        )
    latency = time.perf_counter() - started
    ids = list_model_ids(doc)
    return ConnectionResult(
        True,
        _listed(endpoint, ids, tuple(record.models), latency),
        provider_id=record.id,
        models=ids,
        latency_s=latency,
        status=response.status_code,
        method="list-models",
    )


def _tiny_request(
    runtime: Any, record: Any, *, timeout: float, policy: RetryPolicy
) -> ConnectionResult:
    """Where listing is not offered: one short chat request to the first selected model."""
    model = record.models[0]
    endpoint = endpoint_for_record(runtime, record, model_id=model)
    started = time.perf_counter()
    try:
        chat(
            endpoint,
            "Reply with the word OK.",
            params={"timeout": timeout, "max_retries": policy.max_retries},
        )
    except TakopiError as exc:
        status = getattr(exc, "status", None)
        if status is not None and status not in (401, 403) and status < 500 and status != 429:
            # The provider took the credential and then refused the request itself.
            return ConnectionResult(
                True,
                f"Reached {endpoint.who} and the credential was accepted, but the test request "
                f"to model '{model}' was refused: {exc}",
                provider_id=record.id,
                status=status,
                method="tiny-request",
            )
        return ConnectionResult(
            False, str(exc), provider_id=record.id, status=status, method="tiny-request"
        )
    latency = time.perf_counter() - started
    return ConnectionResult(
        True,
        f"Connected to {endpoint.who} in {latency:.1f} s: the key was accepted and model "
        f"'{model}' answered (this provider does not list its models).",
        provider_id=record.id,
        latency_s=latency,
        status=200,
        method="tiny-request",
    )
