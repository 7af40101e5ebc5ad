from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import takopi_nb as tk
from takopi_nb import RefError, RefTypeError, format_ref, parse_ref


def test_split_at_first_slash_only() -> None:
    assert parse_ref("or/openai/gpt-4o") == ("or", "openai/gpt-4o")
    assert parse_ref("work-openai/gpt-5.2").model_id == "gpt-5.2"
    assert str(parse_ref("a/b/c/d")) == "a/b/c/d"


@pytest.mark.parametrize("bad", ["", "x", "/m", "p/", "/", None, 3])
def test_malformed_refs_say_the_expected_form(bad: object) -> None:
    with pytest.raises(RefError, match="providerId/modelId") as info:
        parse_ref(bad)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TypeError) is not isinstance(bad, str)


@pytest.mark.parametrize(
    ("bad", "given"),
    [(None, "not None"), (3, "type int"), (b"work/m", "type bytes"), (["p/m"], "type list")],
)
def test_a_ref_that_is_not_a_string_is_a_type_error_too(bad: object, given: str) -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="p", models=["m"])
    for call in (parse_ref, tk.resolve, cfg.resolve):
        with pytest.raises(RefTypeError) as info:
            call(bad)
        error = info.value
        assert isinstance(error, TypeError) and isinstance(error, ValueError)
        assert isinstance(error, tk.TakopiError)
        message = str(error)
        assert given in message and "must be a string" in message
        assert "providerId/modelId" in message


def test_a_secret_given_as_a_ref_is_not_repeated() -> None:
    secret = b"sk-proj-not-a-ref-0123456789"
    with pytest.raises(RefTypeError) as info:
        parse_ref(secret)
    assert "sk-proj" not in str(info.value)


@pytest.mark.parametrize("parts", [(3, "m"), ("p", None)])
def test_format_rejects_parts_that_are_not_strings(parts: tuple[object, object]) -> None:
    with pytest.raises(RefTypeError, match="must be a string"):
        format_ref(*parts)  # type: ignore[arg-type]


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
