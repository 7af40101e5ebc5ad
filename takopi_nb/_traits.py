"""Trait types of the config objects whose errors are the project's own.

traitlets raises a bare ``TraitError`` for a value of the wrong type and for a
write to a read-only trait; these raise :class:`ConfigTypeError` /
:class:`ConfigError` naming the trait, its owner and the fix, like every other
public call.
"""

from __future__ import annotations

from typing import Any, NoReturn

from traitlets import Bool, Enum, List, Unicode

from ._errors import ConfigError, ConfigTypeError

__all__ = ["Choice", "Flag", "IdList", "Items", "Text"]


def _owner(obj: object) -> str:
    provider_id = getattr(obj, "id", None) if type(obj).__name__ == "Provider" else None
    return f"provider {provider_id!r}" if isinstance(provider_id, str) else type(obj).__name__


class _Fixed:
    """A read-only trait refuses users with a ConfigError; ``set_trait`` (syncs) goes around."""

    def __set__(self, obj: Any, value: Any) -> None:
        name = getattr(self, "name", "")
        if getattr(self, "read_only", False):
            fix = ": add a new provider of the other type instead" if name == "type" else ""
            raise ConfigError(f"{name} of {_owner(obj)} cannot be changed{fix}.")
        super().__set__(obj, value)  # type: ignore[misc]


class Text(_Fixed, Unicode):  # type: ignore[type-arg]
    """Text only (no bytes decoding); ``example`` shows a good value in the error."""

    def __init__(self, *args: Any, example: str = "", **kwargs: Any) -> None:
        self.example = example
        super().__init__(*args, **kwargs)

    def validate(self, obj: Any, value: Any) -> Any:
        if not isinstance(value, str):
            self.error(obj, value)
        return super().validate(obj, value)

    def error(self, obj: Any, value: Any, error: Any = None, info: Any = None) -> NoReturn:
        raise ConfigTypeError(
            f"{self.name} of {_owner(obj)} must be text (str), not {type(value).__name__}; "
            f"assign a string such as '' or {self.example!r}."
        )


class IdList(_Fixed, List):  # type: ignore[type-arg]
    """A list of model ids."""

    def error(self, obj: Any, value: Any, error: Any = None, info: Any = None) -> NoReturn:
        raise ConfigTypeError(
            f"{self.name} of {_owner(obj)} must be a list of model ids (str), not "
            f"{type(value).__name__}; e.g. ['gpt-5.2']."
        )


class Flag(_Fixed, Bool):  # type: ignore[type-arg]
    """A yes/no trait."""

    def error(self, obj: Any, value: Any, error: Any = None, info: Any = None) -> NoReturn:
        raise ConfigTypeError(
            f"{self.name} of {_owner(obj)} must be True or False, not {type(value).__name__}."
        )


class Items(_Fixed, List):  # type: ignore[type-arg]
    """A list (of paths, providers, notices)."""

    def error(self, obj: Any, value: Any, error: Any = None, info: Any = None) -> NoReturn:
        item = self._trait.info() if self._trait is not None else "any value"
        raise ConfigTypeError(
            f"{self.name} of {_owner(obj)} must be a list, each item {item}; got "
            f"{type(value).__name__}."
        )


class Choice(_Fixed, Enum):  # type: ignore[type-arg]
    """One of a few strings."""

    def error(self, obj: Any, value: Any, error: Any = None, info: Any = None) -> NoReturn:
        allowed = ", ".join(repr(v) for v in self.values or ())
        kind = ConfigError if isinstance(value, str) else ConfigTypeError
        raise kind(f"{self.name} of {_owner(obj)} must be one of {allowed}, not {value!r}.")
