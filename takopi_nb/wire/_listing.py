"""What a provider's endpoint serves: ``GET {base}/models`` in each wire format.

- OpenAI-compatible (openai, openrouter, deepseek, opencode, zai, vercel, and any
  proxy or self-hosted server behind a Base URL): ``{"data": [{"id", ...}]}``
  with ``Authorization: Bearer``; servers that add ``context_length`` (OpenRouter,
  vLLM's ``max_model_len``) or ``name`` keep those.
- Anthropic: ``x-api-key`` and ``anthropic-version``, paginated with ``limit``,
  ``after_id`` and ``has_more``/``last_id``. Behind a Base URL (a proxy) the key
  also goes as a bearer token, as proxies expect either.
- Codex: the ChatGPT backend's own list (:func:`takopi_nb.codex.backend_models`).

Every failure is a :class:`~takopi_nb.TakopiError` that says what failed in plain
words: the key (401/403), the address (404), an answer that is not JSON (an
HTML page usually means the Base URL points at a website, not its API).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import MissingCredentialsError, ProviderRequestError
from ._calls import call_context
from ._endpoint import Endpoint, endpoint_for_record
from ._errors import CallContext
from ._http import build_client, default_retry, send

__all__ = ["ListedModel", "fetch_listing", "parse_listing"]

ANTHROPIC_PAGE = 1000
MAX_PAGES = 50
"""A misbehaving server that always says ``has_more`` cannot keep us looping."""
LISTING_TIMEOUT = 15.0


@dataclass(frozen=True)
class ListedModel:
    """One entry of an endpoint's model list, with what the endpoint itself says about it."""

    id: str
    name: str = ""
    context_window: int | None = None
    owned_by: str = ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    return None


def _entry(item: Any) -> ListedModel | None:
    if isinstance(item, str):
        return ListedModel(item) if item else None
    if not isinstance(item, Mapping):
        return None
    raw = item.get("id") or item.get("slug") or item.get("model") or item.get("name")
    if not isinstance(raw, str) or not raw.strip():
        return None
    name = item.get("display_name") or item.get("name")
    context = (
        _int(item.get("context_length"))
        or _int(item.get("context_window"))
        or _int(item.get("max_model_len"))
        or _int(item.get("max_input_tokens"))  # LiteLLM's proxy
    )
    owner = item.get("owned_by")
    return ListedModel(
        id=raw.strip().removeprefix("models/"),
        name=name.strip() if isinstance(name, str) and name.strip() != raw.strip() else "",
        context_window=context,
        owned_by=owner if isinstance(owner, str) else "",
    )


def parse_listing(doc: Any) -> tuple[list[ListedModel], bool, str | None]:
    """Entries, ``has_more`` and ``last_id`` of one page; ValueError when it is no model list.

    Accepts ``{"data": [...]}`` (OpenAI, Anthropic, most proxies), ``{"models": [...]}``
    (Ollama's native list, Codex) and a bare list. Malformed entries are skipped.
    """
    items: Any = doc
    has_more = False
    last_id: str | None = None
    if isinstance(doc, Mapping):
        items = doc.get("data", doc.get("models"))
        has_more = doc.get("has_more") is True
        last = doc.get("last_id")
        last_id = last if isinstance(last, str) and last else None
    if not isinstance(items, list):
        raise ValueError("no list of models in the answer")
    entries = [e for e in (_entry(item) for item in items) if e is not None]
    return entries, has_more, last_id


def _not_json(ctx: CallContext, content_type: str, body: bytes) -> ProviderRequestError:
    looks_html = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
    what = "a web page (HTML)" if looks_html else "something that is not JSON"
    return ProviderRequestError(
        f"{ctx.who} answered the model list request at {ctx.url} with {what}, not a JSON model "
        f"list. The Base URL {ctx.base_url} probably points at a website or the wrong path: "
        "use the API's address (it often ends in /v1) in %takopi providers.",
        status=200,
        provider_id=ctx.provider_id,
    )


def _get_page(
    client: Any, ctx: CallContext, params: dict[str, str] | None, endpoint: Endpoint
) -> tuple[list[ListedModel], bool, str | None]:
    response = send(
        client,
        "GET",
        "models",
        ctx=ctx,
        params=params,
        policy=dataclasses.replace(default_retry(), max_retries=1),
        origin=endpoint.origin,
    )
    try:
        body = response.read()
    finally:
        response.close()
    try:
        doc = json.loads(body)
        return parse_listing(doc)
    except ValueError:
        raise _not_json(ctx, response.headers.get("content-type", ""), body) from None


def fetch_listing(
    runtime: Any, record: Any, *, timeout: float = LISTING_TIMEOUT
) -> tuple[list[ListedModel], str]:
    """The models the provider's endpoint lists, and the URL asked. Raises TakopiError."""
    endpoint = endpoint_for_record(runtime, record)
    ctx = call_context(endpoint, "model list request", "models")
    if endpoint.is_codex:
        return _codex_listing(runtime, record, ctx), ctx.url
    if runtime.api_key(record) is None:
        env = " or ".join(endpoint.env_vars)
        raise MissingCredentialsError(
            f"No API key for {endpoint.who}, so its model list cannot be asked for: add one in "
            f"the panel (%takopi providers)" + (f" or set {env}." if env else ".")
        )
    if record.type == "anthropic":
        credentials = endpoint.key_credentials(
            "bearer+anthropic" if endpoint.overridden else "anthropic"
        )
    else:
        credentials = endpoint.key_credentials("bearer")
    models: list[ListedModel] = []
    with build_client(endpoint, credentials, timeout=timeout) as client:
        if record.type != "anthropic":
            models, _, _ = _get_page(client, ctx, None, endpoint)
            return models, ctx.url
        params: dict[str, str] = {"limit": str(ANTHROPIC_PAGE)}
        for _ in range(MAX_PAGES):
            page, has_more, last_id = _get_page(client, ctx, params, endpoint)
            models.extend(page)
            if not has_more or not page:
                break
            params = {"limit": str(ANTHROPIC_PAGE), "after_id": last_id or page[-1].id}
    return models, ctx.url


def _codex_listing(runtime: Any, record: Any, ctx: CallContext) -> list[ListedModel]:
    from ..codex import backend_models, has_tokens
    from ..codex._refresh import not_signed_in

    if not has_tokens(runtime, record):
        raise not_signed_in(record.id)
    found = backend_models(runtime, record)
    if found is None:
        raise ProviderRequestError(
            f"The Codex backend of provider '{record.id}' did not give its model list "
            f"({ctx.url}); the log of takopi_nb.codex says why. Try again in a moment, or sign "
            f"in again with %takopi login {record.id}.",
            provider_id=record.id,
        )
    return [
        ListedModel(m.slug, m.display_name if m.display_name != m.slug else "", m.context_window)
        for m in found
    ]
