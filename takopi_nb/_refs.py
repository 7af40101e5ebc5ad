"""Model refs: ``providerId/modelId``, split at the first ``/`` only."""

from __future__ import annotations

from typing import NamedTuple

from ._errors import RefError, RefTypeError

__all__ = ["ModelRef", "format_ref", "parse_ref"]

_EXPECTED = (
    "expected the form providerId/modelId, e.g. 'work-openai/gpt-5.2' "
    "(the provider id, a slash, then the model id as the provider names it)"
)


class ModelRef(NamedTuple):
    provider_id: str
    model_id: str

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.model_id}"


def parse_ref(ref: object) -> ModelRef:
    """Split ``ref`` at its first ``/``; model ids may contain further slashes.

    Raises :class:`RefTypeError` (a :class:`RefError` and a ``TypeError``) for
    anything that is not a string, and :class:`RefError` for a string without a
    non-empty provider part and a non-empty model part.
    """
    if not isinstance(ref, str):
        raise RefTypeError(f"A model ref must be a string (str), not {_kind(ref)}: {_EXPECTED}.")
    provider_id, slash, model_id = ref.partition("/")
    if not slash or not provider_id or not model_id:
        shown = ref if len(ref) <= 80 else ref[:77] + "..."
        raise RefError(f"Malformed model ref {shown!r}: {_EXPECTED}.")
    return ModelRef(provider_id, model_id)


def format_ref(provider_id: str, model_id: str) -> str:
    """Join a provider id and a model id into a ref; the inverse of :func:`parse_ref`."""
    for what, part in (("provider id", provider_id), ("model id", model_id)):
        if not isinstance(part, str):
            raise RefTypeError(
                f"Cannot build a ref: the {what} must be a string (str), not {_kind(part)}; "
                f"{_EXPECTED}."
            )
    if not provider_id or "/" in provider_id or not model_id:
        raise RefError(
            f"Cannot build a ref from provider {provider_id!r} and model {model_id!r}: {_EXPECTED}; "
            "the provider id may not contain '/'."
        )
    return f"{provider_id}/{model_id}"


def _kind(value: object) -> str:
    """What was given instead of a string, by type only: a value could be a secret."""
    return "None" if value is None else f"a value of type {type(value).__name__}"
