"""``litellm.completion(**m.litellm_kwargs(), messages=...)`` and a DSPy ``LM`` built from a ref.

Both take a fixed ``api_key`` and no HTTP client of ours: fine for API keys, not
for a ChatGPT sign-in, whose token expires within hours. For codex they refuse
and name the hand-offs that refresh (m.chat, m.langchain, m.pydantic_ai,
m.agents_model, m.llm).
"""

from __future__ import annotations

import os
from typing import Any

from ._clients import gemini_unsupported, require, unsupported

__all__ = ["CredentialKwargs", "dspy_lm", "litellm_kwargs"]

_CREDENTIALS = ("api_key",)


class CredentialKwargs(dict[str, Any]):
    """A kwargs dict whose repr masks the credential (printing it leaks nothing)."""

    def __repr__(self) -> str:
        shown = {k: ("••••" if k in _CREDENTIALS else v) for k, v in self.items()}
        return f"{type(self).__name__}({shown!r})"

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _no_codex(model: Any, method: str) -> None:
    if model.provider_type == "codex":
        raise unsupported(
            model,
            method,
            "it takes a fixed API key and no HTTP client, and a ChatGPT sign-in token "
            "expires within hours (handing it over would fail later). Use m.chat(), "
            "m.langchain(), m.pydantic_ai(), m.agents_model() or m.llm(), which refresh it.",
        )


def litellm_kwargs(model: Any) -> CredentialKwargs:
    """``model`` (with litellm's provider prefix), ``api_base`` and ``api_key``."""
    from ..wire import api_base_url, wire_protocol

    method = "m.litellm_kwargs()"
    _no_codex(model, method)
    protocol = wire_protocol(model)
    base = api_base_url(model)
    if protocol == "gemini":
        raise gemini_unsupported(model, method)
    if protocol == "anthropic_messages":
        from ..wire._sdk import anthropic_base

        name, base = f"anthropic/{model.model_id}", anthropic_base(base)
    elif protocol == "responses":
        name = f"openai/responses/{model.model_id}"
    else:
        name = f"openai/{model.model_id}"
    return CredentialKwargs(model=name, api_base=base, api_key=model.api_key())


def dspy_lm(model: Any, **kwargs: Any) -> Any:
    """A ``dspy.LM`` with the same model, base and key as :func:`litellm_kwargs`."""
    method = "m.dspy()"
    _no_codex(model, method)
    options = litellm_kwargs(model)
    # litellm otherwise fetches its price list from GitHub at import (slow, and fails offline).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    dspy = require("dspy", "dspy", method)
    name = str(options.pop("model")).replace("openai/responses/", "openai/")
    if "/responses/" in str(litellm_kwargs(model)["model"]):
        kwargs.setdefault("model_type", "responses")
    return dspy.LM(name, **{**options, **kwargs})
