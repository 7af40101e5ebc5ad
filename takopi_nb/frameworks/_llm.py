"""A model object for Simon Willison's ``llm``, backed by takopi_nb's own chat.

``llm``'s OpenAI plugin takes a fixed key; this model instead sends each prompt
through ``m.chat()``, so every provider type works (codex included, its token
refreshed) and the calls show in ``tk.usage()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._clients import require

__all__ = ["llm_model"]


def llm_model(model: Any) -> Any:
    """An ``llm.Model`` for ``model``: ``m.llm().prompt("Hi").text()``; conversations too."""
    llm = require("llm", "llm", "m.llm()")

    class TakopiModel(llm.Model):  # type: ignore[misc,name-defined]
        can_stream = True

        def __init__(self) -> None:
            self.model_id = f"takopi/{model.ref}"
            self._model = model

        def __repr__(self) -> str:
            return f"<takopi_nb llm model {model.ref}>"

        def execute(
            self, prompt: Any, stream: bool, response: Any, conversation: Any
        ) -> Iterator[str]:
            messages: list[dict[str, Any]] = []
            for earlier in getattr(conversation, "responses", None) or ():
                messages.append({"role": "user", "content": earlier.prompt.prompt})
                messages.append({"role": "assistant", "content": earlier.text_or_raise()})
            messages.append({"role": "user", "content": prompt.prompt})
            answer = self._model.chat(messages, system=prompt.system or None, stream=stream)
            if stream:
                yield from answer
                response.set_usage(**_usage(answer.usage))
            else:
                yield answer.text
                response.set_usage(**_usage(answer.usage))

    return TakopiModel()


def _usage(usage: dict[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    return {"input": usage.get("input_tokens"), "output": usage.get("output_tokens")}
