"""Catalog.to_dataframe(): pandas is an optional extra, and is not installed here."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from takopi_nb._errors import TakopiError
from takopi_nb.catalog import Catalog, MissingDependencyError, ModelInfo


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    directory: Path = tmp_path_factory.mktemp("frame")
    return Catalog(cache_dir=directory, offline=True, auto_refresh=False)


def test_without_pandas_the_error_says_what_to_install(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # "import pandas" fails, installed or not
    with pytest.raises(MissingDependencyError) as info:
        catalog.to_dataframe("openai")
    assert "pip install takopi_nb[pandas]" in str(info.value)
    assert isinstance(info.value, TakopiError) and isinstance(info.value, ImportError)


class _FakeFrame:
    def __init__(self, records: list[Any], columns: list[str]) -> None:
        self.records = records
        self.columns = columns

    @classmethod
    def from_records(cls, records: list[Any], columns: list[str]) -> _FakeFrame:
        return cls(records, columns)


def test_with_pandas_one_row_per_model_one_column_per_field(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("pandas")
    fake.DataFrame = _FakeFrame  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pandas", fake)
    frame = catalog.to_dataframe("openai")
    assert frame.columns == list(ModelInfo._fields)
    assert frame.columns[:3] == ["provider", "id", "name"] and "sdk" in frame.columns
    assert frame.records == catalog.models("openai")
    assert len(catalog.to_dataframe().records) == 5276
    codex = catalog.to_dataframe(provider_type="codex")
    assert codex.records[0].id == "gpt-5.2"
    assert len(catalog.to_dataframe(provider_type="openai", purpose="embedding").records) == 3
