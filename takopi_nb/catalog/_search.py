"""Search-as-you-type over model lists. Pure functions.

A query matches a model when every word of it occurs, case-insensitively, in
the model's id, name or family. Matches are ranked: exact id/name first, then
prefixes, then matches at the start of a word, then the rest; deprecated
models last within a rank; otherwise the list's own order is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._model_info import ModelInfo

__all__ = ["haystack", "search_models"]


def haystack(model: ModelInfo) -> str:
    """The lowercased text a query is matched against: id, name and family, one per line."""
    return f"{model.id}\n{model.name}\n{model.family or ''}".lower()


def search_models(
    models: Sequence[ModelInfo],
    haystacks: Sequence[str],
    query: str = "",
    *,
    tool_call: bool | None = None,
    reasoning: bool | None = None,
    image_input: bool | None = None,
    embeddings: bool | None = None,
    hide_deprecated: bool = False,
    limit: int | None = None,
) -> list[ModelInfo]:
    """Models of ``models`` (``haystacks`` being :func:`haystack` of each) that match.

    Filters are three-way: ``True`` keeps only models with the feature,
    ``False`` only those without, ``None`` does not filter.
    """
    pairs = list(zip(models, haystacks, strict=True))
    if tool_call is not None:
        pairs = [p for p in pairs if p[0].tool_call is tool_call]
    if reasoning is not None:
        pairs = [p for p in pairs if p[0].reasoning is reasoning]
    if embeddings is not None:
        pairs = [p for p in pairs if p[0].is_embedding is embeddings]
    if image_input is not None:
        pairs = [p for p in pairs if ("image" in p[0].input_modalities) is image_input]
    if hide_deprecated:
        pairs = [p for p in pairs if p[0].status != "deprecated"]
    words = query.lower().split()
    if not words:
        return [m for m, _ in pairs[:limit]]
    for word in words:
        pairs = [p for p in pairs if word in p[1]]
    phrase = " ".join(words)
    # Rank from the haystack "id\nname\nfamily" with plain substring tests (this runs per
    # keystroke over thousands of models): 0 exact id, last id segment or name; 2 prefix of the
    # id, an id segment, the name or the family; 4 match at the start of a word; 6 anywhere.
    # Deprecated models get +1, so they follow the others of their rank; the sort is
    # stable, so the list's own order breaks ties.
    exact_id, exact_part, exact_segment = phrase + "\n", "\n" + phrase + "\n", "/" + phrase + "\n"
    part, segment = "\n" + phrase, "/" + phrase
    at_word_start = re.compile(r"(?:^|[^a-z0-9])" + re.escape(words[0])).search
    keyed = [
        (
            (
                0 if text.startswith(exact_id) or exact_part in text or exact_segment in text
                else 2 if text.startswith(phrase) or part in text or segment in text
                else 4 if at_word_start(text)
                else 6
            ) + (model.status == "deprecated"),
            model,
        )
        for model, text in pairs
    ]  # fmt: skip
    keyed.sort(key=_first)
    return [entry[1] for entry in keyed[:limit]]


def _first(entry: tuple[int, ModelInfo]) -> int:
    return entry[0]
