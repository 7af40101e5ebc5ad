"""Catalog rows as a pandas DataFrame (pandas is an optional extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._errors import MissingDependencyError
from ._model_info import ModelInfo

__all__ = ["MissingDependencyError", "to_dataframe"]


def to_dataframe(models: Sequence[ModelInfo]) -> Any:
    """One row per model, one column per :class:`ModelInfo` field."""
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError(
            "Catalog.to_dataframe() needs pandas, which is not installed. "
            "Install it with: pip install takopi_nb[pandas]  (quote the argument in zsh)"
        ) from None
    return pandas.DataFrame.from_records(list(models), columns=list(ModelInfo._fields))
