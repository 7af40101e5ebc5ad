"""Catalog.to_dataframe(): pandas is an optional extra; the test extra installs the real one."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_with_pandas_one_row_per_model_one_column_per_field(catalog: Catalog) -> None:
    import pandas

    frame = catalog.to_dataframe("openai")
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(ModelInfo._fields)
    assert list(frame.columns[:3]) == ["provider", "id", "name"] and "sdk" in frame.columns
    models = catalog.models("openai")
    assert len(frame) == len(models) == 51
    assert list(frame["id"]) == [m.id for m in models]
    # pandas keeps a missing number as NaN in a numeric column: read it back as None.
    rows = frame.astype(object).where(frame.notna(), None)
    assert [tuple(row) for row in rows.itertuples(index=False)] == [tuple(m) for m in models]
    assert len(catalog.to_dataframe()) == 5276
    codex = catalog.to_dataframe(provider_type="codex")
    assert codex["id"].iloc[0] == "gpt-5.2"
    embedding = catalog.to_dataframe(provider_type="openai", purpose="embedding")
    assert len(embedding) == 3
    assert (frame["provider"] == "openai").all()  # filterable like any frame
