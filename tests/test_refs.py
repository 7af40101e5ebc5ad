from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takopi_nb import RefError, format_ref, parse_ref


def test_split_at_first_slash_only() -> None:
    assert parse_ref("or/openai/gpt-4o") == ("or", "openai/gpt-4o")
    assert parse_ref("work-openai/gpt-5.2").model_id == "gpt-5.2"
    assert str(parse_ref("a/b/c/d")) == "a/b/c/d"


@pytest.mark.parametrize("bad", ["", "x", "/m", "p/", "/", None, 3])
def test_malformed_refs_say_the_expected_form(bad: object) -> None:
    with pytest.raises(RefError, match="providerId/modelId") as info:
        parse_ref(bad)
    assert isinstance(info.value, ValueError)


@given(st.text())
def test_parse_never_raises_anything_but_ref_error(text: str) -> None:
    try:
        ref = parse_ref(text)
    except RefError:
        return
    assert format_ref(*ref) == text


@given(
    st.text(min_size=1).filter(lambda s: "/" not in s),
    st.text(min_size=1),
)
def test_format_then_parse_round_trips(provider_id: str, model_id: str) -> None:
    assert parse_ref(format_ref(provider_id, model_id)) == (provider_id, model_id)


def test_format_rejects_a_slash_in_the_provider_id() -> None:
    with pytest.raises(RefError):
        format_ref("a/b", "m")
