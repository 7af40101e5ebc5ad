"""Turn what a provider answered (or failed to) into a TakopiError that says what to do.

Pure: the inputs are a status, headers and body text. Provider text is quoted
in one line, shortened, and scrubbed of secrets.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import ProviderRequestError, ProviderTimeoutError, RateLimitError
from ._scrub import quote

__all__ = [
    "CallContext",
    "ProviderDetail",
    "error_for_response",
    "error_for_stream",
    "error_for_transport",
    "parse_retry_after",
    "provider_detail",
    "retry_is_pointless",
]

_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_TAGS = re.compile(r"(?s)<[^>]+>")


@dataclass(frozen=True)
class CallContext:
    """Who was called for what; everything an error message names."""

    who: str
    """``OpenAI (provider 'work-openai')``."""
    provider_id: str
    model_id: str = ""
    url: str = ""
    base_url: str = ""
    codex: bool = False
    env_vars: tuple[str, ...] = ()
    what: str = "request"
    """``chat request``, ``embeddings request``, ``model list``: for the message."""


@dataclass(frozen=True)
class ProviderDetail:
    """The provider's own words about an error, from whichever body shape it uses."""

    message: str = ""
    code: str = ""
    type: str = ""
    extra: Mapping[str, Any] | None = None


def provider_detail(body: str | bytes) -> ProviderDetail:
    """Read the error out of an OpenAI, Anthropic, FastAPI or OAuth-style body, or plain text."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return ProviderDetail()
    try:
        doc = json.loads(text)
    except ValueError:
        return ProviderDetail(message=_plain(text))
    if isinstance(doc, list) and doc and isinstance(doc[0], Mapping):
        doc = doc[0]  # Google-style bodies come as a one-element list
    if not isinstance(doc, Mapping):
        return ProviderDetail(message=_plain(text))
    error = doc.get("error")
    if isinstance(error, Mapping):
        message = _text(error.get("message")) or _text(error.get("detail"))
        code = _text(error.get("code")) or _text(error.get("status"))
        return ProviderDetail(message, code, _text(error.get("type")), error)
    if isinstance(error, str):
        message = _text(doc.get("error_description")) or _text(doc.get("message")) or error
        return ProviderDetail(message, error, "", doc)
    detail = doc.get("detail")
    if detail is not None:
        if isinstance(detail, list):
            msgs = [_text(d.get("msg")) for d in detail if isinstance(d, Mapping)]
            return ProviderDetail(
                "; ".join(m for m in msgs if m) or json.dumps(detail), "", "", doc
            )
        return ProviderDetail(_text(detail), "", "", doc)
    message = _text(doc.get("message"))
    if message:
        return ProviderDetail(message, _text(doc.get("code")), _text(doc.get("type")), doc)
    return ProviderDetail(message=_plain(text))


def _google_key_invalid(detail: ProviderDetail) -> bool:
    """Google answers a wrong API key with 400 INVALID_ARGUMENT, not 401: its reason says so."""
    details = detail.extra.get("details") if detail.extra else None
    return isinstance(details, list) and any(
        isinstance(d, Mapping) and d.get("reason") == "API_KEY_INVALID" for d in details
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | bool):
        return str(value)
    return json.dumps(value)


def _plain(text: str) -> str:
    """Plain text, or for an HTML error page its title (proxies and CDNs send those)."""
    if "<html" in text[:500].lower() or "<!doctype" in text[:500].lower():
        title = _TITLE.search(text)
        inner = title.group(1) if title else _TAGS.sub(" ", text)
        return "an HTML page: " + " ".join(inner.split())
    return text


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``retry-after`` (seconds or HTTP date)."""
    lower = {k.lower(): v for k, v in headers.items()}
    value = lower.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_NO_RETRY_429 = {"insufficient_quota", "usage_limit_reached", "usage_not_included"}


def retry_is_pointless(status: int, detail: ProviderDetail) -> bool:
    """A 429 about exhausted quota or plan limits will not pass by retrying in seconds."""
    return status == 429 and (detail.code in _NO_RETRY_429 or detail.type in _NO_RETRY_429)


def _said(detail: ProviderDetail, status: int, secrets: Iterable[str]) -> str:
    said = quote(detail.message, secrets) if detail.message else ""
    code = detail.code or detail.type
    if code and code not in said:
        said = f"{said} [{quote(code, secrets, 60)}]" if said else f"[{quote(code, secrets, 60)}]"
    return f"HTTP {status}: {said}" if said else f"HTTP {status}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def error_for_response(
    ctx: CallContext,
    status: int,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    secrets: Iterable[str] = (),
    attempts: int = 1,
    redirected_to: str | None = None,
    now: float | None = None,
) -> ProviderRequestError:
    """The error for an HTTP error answer (status >= 400)."""
    secrets = list(secrets)
    detail = provider_detail(body)
    said = _said(detail, status, secrets)
    pid = ctx.provider_id
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    model = f" model '{ctx.model_id}'" if ctx.model_id else ""
    if redirected_to is not None and status in (401, 403, 404):
        return ProviderRequestError(
            f"{ctx.who} redirected the {ctx.what} to another host, {redirected_to}, which answered "
            f"{said}. Your credential is only ever sent to {ctx.base_url}, so it was not sent "
            f"there. If the service has moved, set the provider's Base URL to the new address "
            f"in %takopi providers.",
            status=status,
            provider_id=pid,
        )
    if status in (401, 403) or (status == 400 and _google_key_invalid(detail)):
        if ctx.codex:
            if status == 403:
                return ProviderRequestError(
                    f"The Codex backend refused the ChatGPT sign-in of provider '{pid}' "
                    f"({said}). The account may have changed or may lack access to Codex: sign in "
                    f"again with %takopi login {pid}.",
                    status=status,
                    provider_id=pid,
                )
            return ProviderRequestError(
                f"The ChatGPT sign-in of provider '{pid}' was rejected by the Codex backend even "
                f"after refreshing it ({said}). Sign in again with %takopi login {pid}.",
                status=status,
                provider_id=pid,
            )
        env = f" (or set {' / '.join(ctx.env_vars)})" if ctx.env_vars else ""
        hint = ""
        if status == 403:
            hint = f" If the key is right, check that it may use{model or ' this API'}."
        return ProviderRequestError(
            f"Key rejected by {ctx.who} ({said}): update it in %takopi providers{env}.{hint}",
            status=status,
            provider_id=pid,
        )
    if status == 404:
        where = f" at {ctx.url}" if ctx.url else ""
        if ctx.model_id:
            text = (
                f"Model '{ctx.model_id}' not found by {ctx.who} ({said}). Check the model id "
                f"(%takopi models {pid}) and the Base URL {ctx.base_url}."
            )
        else:
            text = (
                f"{ctx.who} has no such endpoint{where} ({said}). Check the Base URL "
                f"{ctx.base_url} in %takopi providers."
            )
        return ProviderRequestError(text, status=status, provider_id=pid)
    if status == 429:
        retry_after = parse_retry_after(headers, now)
        code = detail.code or detail.type
        if code == "usage_limit_reached":
            resets = detail.extra.get("resets_at") if detail.extra else None
            when = ""
            if isinstance(resets, int | float):
                left = max(0.0, resets - (time.time() if now is None else now))
                clock = time.strftime("%H:%M", time.localtime(resets))
                when = f" It resets at {clock} (in {_duration(left)})."
                retry_after = left
            plan = detail.extra.get("plan_type") if detail.extra else None
            plan_txt = f" ({quote(str(plan), secrets, 40)} plan)" if plan else ""
            return RateLimitError(
                f"The ChatGPT{plan_txt} usage limit for Codex is reached for provider '{pid}'."
                f"{when} Wait, or use an API-key provider meanwhile.",
                provider_id=pid,
                retry_after=retry_after,
            )
        if code == "usage_not_included":
            return RateLimitError(
                f"The ChatGPT plan signed in for provider '{pid}' does not include Codex "
                f"({said}). Use a plan that includes Codex, or an API-key provider.",
                provider_id=pid,
                retry_after=None,
            )
        if code == "insufficient_quota":
            return RateLimitError(
                f"{ctx.who} says the account is out of quota ({said}). Check the plan and "
                "billing of the account that owns this key; retrying will not help.",
                provider_id=pid,
                retry_after=None,
            )
        wait = f" The provider asks to wait {_duration(retry_after)}." if retry_after else ""
        return RateLimitError(
            f"Rate limited by {ctx.who}{tries} ({said}).{wait} Try again later, or slow down "
            "the requests.",
            provider_id=pid,
            retry_after=retry_after,
        )
    if status >= 500:
        return ProviderRequestError(
            f"{ctx.who} had a server error{tries} ({said}). The service may be down or "
            "overloaded; try again later.",
            status=status,
            provider_id=pid,
        )
    if status == 400 and "not supported when using codex" in detail.message.lower():
        return ProviderRequestError(
            f"Model '{ctx.model_id}' cannot be used with the ChatGPT account of provider "
            f"'{pid}' ({said}). Pick another model in %takopi models {pid}.",
            status=status,
            provider_id=pid,
        )
    if status == 408:
        return ProviderTimeoutError(
            f"{ctx.who} timed out on its side{tries} ({said}). Try again later.",
            status=status,
            provider_id=pid,
        )
    return ProviderRequestError(
        f"{ctx.who} refused the {ctx.what}{' for' + model if model else ''} ({said}). "
        "Check the parameters passed to the call.",
        status=status,
        provider_id=pid,
    )


def error_for_stream(
    ctx: CallContext, data: object, secrets: Iterable[str] = ()
) -> ProviderRequestError:
    """An error reported inside a stream (an ``error`` event or a failed response)."""
    detail = provider_detail(json.dumps(data) if not isinstance(data, str) else data)
    said = quote(detail.message or (detail.code or "no details"), secrets)
    code = detail.code or detail.type
    if code and code not in said:
        said += f" [{quote(code, secrets, 60)}]"
    if code in ("rate_limit_exceeded", "rate_limit_error", "usage_limit_reached"):
        return RateLimitError(
            f"Rate limited by {ctx.who} mid-answer ({said}). Try again later.",
            provider_id=ctx.provider_id,
        )
    if code in ("overloaded_error", "server_error", "server_is_overloaded", "api_error"):
        return ProviderRequestError(
            f"{ctx.who} failed mid-answer ({said}). The service may be overloaded; "
            "try again later.",
            provider_id=ctx.provider_id,
        )
    return ProviderRequestError(
        f"{ctx.who} reported an error mid-answer ({said}).",
        provider_id=ctx.provider_id,
    )


def error_for_transport(
    ctx: CallContext,
    kind: str,
    detail: str,
    *,
    timeout: float | None = None,
    attempts: int = 1,
    secrets: Iterable[str] = (),
) -> ProviderRequestError:
    """The error when no (complete) answer came: ``kind`` is timeout/connect/broken/other."""
    tries = f" (tried {attempts} times)" if attempts > 1 else ""
    detail = quote(detail, secrets, 200) if detail else ""
    why = f": {detail}" if detail else ""
    if kind == "timeout":
        limit = f" within {timeout:g} s" if timeout else " in time"
        return ProviderTimeoutError(
            f"{ctx.who} did not answer{limit}{tries}. Try again, pass a longer timeout "
            "(e.g. chat(..., timeout=300)), or check the network and proxy settings.",
            provider_id=ctx.provider_id,
        )
    if kind == "connect":
        return ProviderRequestError(
            f"Could not reach {ctx.who} at {ctx.base_url}{tries}{why}. Check the Base URL, "
            "the network, and any proxy (HTTPS_PROXY) this kernel needs.",
            provider_id=ctx.provider_id,
        )
    if kind == "broken":
        return ProviderRequestError(
            f"The connection to {ctx.who} broke off before the answer was complete{why}. "
            "Try again.",
            provider_id=ctx.provider_id,
        )
    return ProviderRequestError(
        f"The {ctx.what} to {ctx.who} failed{tries}{why}.", provider_id=ctx.provider_id
    )
