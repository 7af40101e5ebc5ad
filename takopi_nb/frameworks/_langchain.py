"""LangChain chat models and embeddings built from a ref (``langchain-openai`` /
``langchain-anthropic``)."""

from __future__ import annotations

from typing import Any

from ._clients import PLACEHOLDER_KEY, gemini_unsupported, http_client, require

__all__ = ["langchain_chat", "langchain_embeddings"]


def langchain_chat(model: Any, **kwargs: Any) -> Any:
    """``ChatOpenAI`` (OpenAI-compatible, Responses, codex) or ``ChatAnthropic``.

    OpenAI-style models get takopi_nb's HTTP clients, which add the credential
    per request (codex tokens refresh); ChatAnthropic takes no HTTP client, so it
    gets the key itself, which it keeps as a ``SecretStr`` (masked in its repr).
    """
    from ..wire import api_base_url, wire_protocol

    protocol = wire_protocol(model)
    method = "m.langchain()"
    if protocol == "anthropic_messages":
        module = require("langchain_anthropic", "langchain-anthropic", method)
        from ..wire._sdk import anthropic_base

        options: dict[str, Any] = {
            "model": model.model_id,
            "base_url": anthropic_base(api_base_url(model)),
            "api_key": model.api_key(),
        }
        options.update(kwargs)
        return module.ChatAnthropic(**options)
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
