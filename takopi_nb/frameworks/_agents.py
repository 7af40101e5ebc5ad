"""pydantic-ai models and the OpenAI Agents SDK model, built from a ref."""

from __future__ import annotations

from typing import Any

from ._clients import anthropic_sdk, gemini_unsupported, openai_sdk, require

__all__ = ["agents_model", "pydantic_ai_model"]


def pydantic_ai_model(model: Any) -> Any:
    """``OpenAIChatModel``, ``OpenAIResponsesModel`` (Responses, codex) or ``AnthropicModel``,
    each over an SDK client whose HTTP client adds the credential per request."""
    from ..wire import wire_protocol

    method = "m.pydantic_ai()"
    protocol = wire_protocol(model)
    if protocol == "gemini":
        raise gemini_unsupported(model, method)
    if protocol == "anthropic_messages":
        models = require("pydantic_ai.models.anthropic", "pydantic-ai-slim[anthropic]", method)
        providers = require(
            "pydantic_ai.providers.anthropic", "pydantic-ai-slim[anthropic]", method
        )
        provider = providers.AnthropicProvider(anthropic_client=anthropic_sdk(model, method))
        return models.AnthropicModel(model.model_id, provider=provider)
    models = require("pydantic_ai.models.openai", "pydantic-ai-slim[openai]", method)
    providers = require("pydantic_ai.providers.openai", "pydantic-ai-slim[openai]", method)
    provider = providers.OpenAIProvider(openai_client=openai_sdk(model, method))
    if protocol in ("responses", "codex"):
        return models.OpenAIResponsesModel(model.model_id, provider=provider)
    return models.OpenAIChatModel(model.model_id, provider=provider)


def agents_model(model: Any) -> Any:
    """The Agents SDK's ``OpenAIChatCompletionsModel`` or ``OpenAIResponsesModel`` (Responses,
    codex). Anthropic models go through Anthropic's OpenAI-compatible chat completions.

    The SDK exports traces to OpenAI with ``OPENAI_API_KEY`` unless told not to
    (``agents.set_tracing_disabled(True)``); takopi_nb gives it no key for that.
    """
    from ..wire import wire_protocol

    method = "m.agents_model()"
    agents = require("agents", "openai-agents", method)
    protocol = wire_protocol(model)
    if protocol == "gemini":
        raise gemini_unsupported(model, method)
    if protocol in ("responses", "codex"):
        return agents.OpenAIResponsesModel(
            model=model.model_id, openai_client=openai_sdk(model, method)
        )
    client = openai_sdk(model, method, protocol="chat_completions")
    return agents.OpenAIChatCompletionsModel(model=model.model_id, openai_client=client)
