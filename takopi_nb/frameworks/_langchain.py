"""LangChain chat models and embeddings built from a ref (``langchain-openai`` /
``langchain-anthropic``)."""

from __future__ import annotations

from typing import Any

from ._clients import PLACEHOLDER_KEY, anthropic_sdk, gemini_unsupported, http_client, require

__all__ = ["langchain_chat", "langchain_embeddings"]


def langchain_chat(model: Any, **kwargs: Any) -> Any:
    """``ChatOpenAI`` (OpenAI-compatible, Responses, codex) or ``ChatAnthropic``.

    Both get takopi_nb's HTTP clients, which add the credential per request (codex
    tokens refresh) and book the calls in ``tk.usage()``.
    """
    from ..wire import api_base_url, wire_protocol

    protocol = wire_protocol(model)
    method = "m.langchain()"
    if protocol == "anthropic_messages":
        module = require("langchain_anthropic", "langchain-anthropic", method)
        return _chat_anthropic(module, model, method, kwargs)
    if protocol == "gemini":
        raise gemini_unsupported(model, method)
    module = require("langchain_openai", "langchain-openai", method)
    options = {
        "model": model.model_id,
        "base_url": api_base_url(model),
        "api_key": PLACEHOLDER_KEY,
        "http_client": http_client(model, is_async=False),
        "http_async_client": http_client(model, is_async=True),
    }
    if protocol in ("responses", "codex"):
        options["use_responses_api"] = True
    options.update(kwargs)
    return module.ChatOpenAI(**options)


def _chat_anthropic(module: Any, model: Any, method: str, kwargs: dict[str, Any]) -> Any:
    from ..wire import api_base_url
    from ..wire._sdk import anthropic_base

    options = {
        "model": model.model_id,
        "base_url": anthropic_base(api_base_url(model)),
        "api_key": PLACEHOLDER_KEY,
        **kwargs,
    }
    chat = module.ChatAnthropic(**options)
    # ChatAnthropic takes no HTTP client: it builds its SDK clients in two cached
    # properties on first use. Filled beforehand with SDK clients on ours (same
    # timeout, retries and headers), they are never built with a key.
    params = chat._client_params
    state = vars(chat)
    state["_client"] = anthropic_sdk(model, method, is_async=False, **params)
    state["_async_client"] = anthropic_sdk(model, method, **params)
    return chat


def langchain_embeddings(model: Any, **kwargs: Any) -> Any:
    """``OpenAIEmbeddings`` for an embedding model (token counting off: it would fetch
    tiktoken's tables from the network, and non-OpenAI servers want plain text)."""
    from ..wire._calls import _embedding_credentials
    from ..wire._endpoint import endpoint_for_model

    _embedding_credentials(endpoint_for_model(model))  # says which types have embeddings
    method = "m.langchain_embeddings()"
    module = require("langchain_openai", "langchain-openai", method)
    from ..wire import api_base_url

    options: dict[str, Any] = {
        "model": model.model_id,
        "base_url": api_base_url(model),
        "api_key": PLACEHOLDER_KEY,
        "http_client": http_client(model, is_async=False),
        "http_async_client": http_client(model, is_async=True),
        "check_embedding_ctx_length": False,
        "tiktoken_enabled": False,
    }
    options.update(kwargs)
    return module.OpenAIEmbeddings(**options)
