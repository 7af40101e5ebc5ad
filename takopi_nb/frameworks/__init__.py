"""Hand-offs to agent frameworks: each framework's own object, built from a ref.

``ResolvedModel`` methods delegate here (DESIGN §7). Every framework is
imported only when its hand-off is called; a missing one raises
:class:`~takopi_nb.MissingDependencyError` naming the package to install.
Where a framework takes an HTTP client or an SDK client (LangChain, pydantic-ai, the
Agents SDK), it gets takopi_nb's, which adds the credential per request: the framework
object holds no key, ChatGPT (codex) tokens refresh, and the calls are booked in
``tk.usage()`` (see :mod:`._usage`).
Where it takes only a fixed key (litellm, DSPy), the key is handed over, kept out of
reprs, and a codex ref is refused in plain words.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "agents_model",
    "dspy_lm",
    "langchain_chat",
    "langchain_embeddings",
    "litellm_kwargs",
    "llm_model",
    "pydantic_ai_model",
]


def langchain_chat(model: Any, **kwargs: Any) -> Any:
    """LangChain ``ChatOpenAI`` / ``ChatAnthropic``; kwargs go to the constructor."""
    from ._langchain import langchain_chat as build

    return build(model, **kwargs)


def langchain_embeddings(model: Any, **kwargs: Any) -> Any:
    """LangChain ``OpenAIEmbeddings``; kwargs go to the constructor."""
    from ._langchain import langchain_embeddings as build

    return build(model, **kwargs)


def pydantic_ai_model(model: Any) -> Any:
    """A pydantic-ai model for ``Agent(model)``."""
    from ._agents import pydantic_ai_model as build

    return build(model)


def agents_model(model: Any) -> Any:
    """An OpenAI Agents SDK model for ``Agent(model=...)``."""
    from ._agents import agents_model as build

    return build(model)


def litellm_kwargs(model: Any) -> Any:
    """``litellm.completion(**kwargs, messages=[...])`` arguments (the key masked in reprs)."""
    from ._litellm import litellm_kwargs as build

    return build(model)


def dspy_lm(model: Any, **kwargs: Any) -> Any:
    """A ``dspy.LM``; kwargs go to the constructor."""
    from ._litellm import dspy_lm as build

    return build(model, **kwargs)


def llm_model(model: Any) -> Any:
    """An ``llm.Model`` sending prompts through takopi_nb's chat."""
    from ._llm import llm_model as build

    return build(model)
