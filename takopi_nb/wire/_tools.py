"""Tools for ``chat(..., tools=[...])``: schemas, wire forms, parsed calls. Pure; no I/O.

A tool is an OpenAI-style function tool (``{"type": "function", "function":
{...}}``), the flat form (``{"name", "description", "parameters"}``) or a
plain Python function, whose schema comes from its signature and docstring.
Every protocol's tool calls become :class:`ToolCall` objects; the canonical
conversation form is OpenAI chat completions' (an assistant message with
``tool_calls``, then one ``{"role": "tool", "tool_call_id", "content"}`` per
call), which the other wire modules translate.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ToolCall",
    "ToolCallAssembler",
    "ToolSpec",
    "parse_tool_call",
    "tool_specs",
    "tools_for_wire",
]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for: ``id``, ``name`` and parsed ``arguments``.

    ``error`` says in plain words what was wrong when the model's arguments
    were not a JSON object (``arguments`` is then ``{}``); ``raw_arguments``
    keeps the text it sent.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    raw_arguments: str = field(default="", repr=False)

    def result(self, value: Any) -> dict[str, Any]:
        """The message that answers this call: ``{"role": "tool", "tool_call_id", "content"}``."""
        return {"role": "tool", "tool_call_id": self.id, "content": tool_output_text(value)}

    def wire(self) -> dict[str, Any]:
        """This call as an entry of an assistant message's ``tool_calls`` (OpenAI form)."""
        arguments = self.raw_arguments or json.dumps(self.arguments)
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": arguments},
        }

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        return f"{self.name}({shown})"


def tool_output_text(value: Any) -> str:
    """A tool's return value as the text sent back to the model."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def parse_tool_call(call_id: str, name: str, raw: object) -> ToolCall:
    """A :class:`ToolCall` from the id, name and arguments the model sent (a JSON text or a dict).

    Malformed arguments do not raise: the call carries an ``error`` that a tool
    loop can send back to the model, and a person can read.
    """
    if isinstance(raw, Mapping):
        return ToolCall(call_id, name, dict(raw), raw_arguments=json.dumps(raw))
    text = raw if isinstance(raw, str) else ""
    if not text.strip():
        return ToolCall(call_id, name, {}, raw_arguments=text)
    try:
        value = json.loads(text)
    except ValueError as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        reason = str(exc).split(":")[0]
        return ToolCall(
            call_id,
            name,
            {},
            f"The model's arguments for tool '{name}' are not valid JSON ({reason}): {shown!r}. "
            "Ask again, or check that the tool's parameters are simple enough for this model.",
            text,
        )
    if not isinstance(value, dict):
        return ToolCall(
            call_id,
            name,
            {},
            f"The model's arguments for tool '{name}' are a JSON {type(value).__name__}, "
            "not an object of named parameters. Ask again.",
            text,
        )
    return ToolCall(call_id, name, value, raw_arguments=text)


class ToolCallAssembler:
    """Builds tool calls from streamed pieces (name first, then argument fragments), by key."""

    def __init__(self) -> None:
        self._calls: dict[Any, dict[str, Any]] = {}

    def start(self, key: Any, call_id: str | None = None, name: str | None = None) -> None:
        slot = self._calls.setdefault(key, {"id": "", "name": "", "args": []})
        if call_id:
            slot["id"] = call_id
        if name:
            slot["name"] = name

    def add(self, key: Any, fragment: object) -> None:
        self.start(key)
        if isinstance(fragment, str) and fragment:
            self._calls[key]["args"].append(fragment)

    def replace(self, key: Any, arguments: object) -> None:
        """The complete arguments, when the stream says them whole at the end."""
        self.start(key)
        self._calls[key]["args"] = [arguments]

    def __bool__(self) -> bool:
        return bool(self._calls)

    def calls(self) -> list[ToolCall]:
        out = []
        for slot in self._calls.values():
            args = slot["args"]
            raw: object = args[0] if len(args) == 1 else "".join(str(a) for a in args)
            out.append(parse_tool_call(slot["id"], slot["name"], raw))
        return out


# -- tool schemas -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it, and the Python function that runs it (if any)."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)


_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def tool_specs(tools: Sequence[Any] | None) -> list[ToolSpec]:
    """Check and normalise ``tools``; names must be unique."""
    if tools is None:
        return []
    if isinstance(tools, Mapping) or callable(tools):
        tools = [tools]
    specs = [_spec(tool, index) for index, tool in enumerate(tools)]
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ValueError(f"Two tools are named {spec.name!r}: give each tool its own name.")
        seen.add(spec.name)
    return specs


def _spec(tool: Any, index: int) -> ToolSpec:
    if isinstance(tool, ToolSpec):
        return tool
    if isinstance(tool, Mapping):
        inner = tool.get("function") if tool.get("type") == "function" else None
        inner = inner if isinstance(inner, Mapping) else tool
        name = inner.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"Tool {index} has no valid name ({name!r}): use letters, digits, _ or -, "
                'as in {"type": "function", "function": {"name": "get_weather", ...}}.'
            )
        parameters = inner.get("parameters") or inner.get("input_schema")
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        if not isinstance(parameters, Mapping):
            raise ValueError(f"Tool {name!r}: 'parameters' must be a JSON schema object.")
        return ToolSpec(name, str(inner.get("description") or ""), dict(parameters))
    if callable(tool):
        return function_spec(tool)
    raise TypeError(
        f"Tool {index} is a {type(tool).__name__}: pass a Python function or an OpenAI-style "
        'tool dict {"type": "function", "function": {"name", "description", "parameters"}}.'
    )


def function_spec(function: Callable[..., Any]) -> ToolSpec:
    """The schema of a Python function: parameters from its signature and type hints,
    descriptions from its docstring (Google ``Args:`` or Sphinx ``:param x:`` style)."""
    name = getattr(function, "__name__", "")
    if not _NAME.match(name):
        raise ValueError(f"A tool function needs a plain name, not {name!r}.")
    summary, described = _docstring(inspect.getdoc(function) or "")
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: describe what we can
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for pname, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        schema = _schema(hints.get(pname, parameter.annotation))
        if pname in described:
            schema["description"] = described[pname]
        if parameter.default is parameter.empty:
            required.append(pname)
        elif _jsonable(parameter.default):
            schema["default"] = parameter.default
        properties[pname] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return ToolSpec(name, summary, parameters, function)


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _schema(annotation: Any) -> dict[str, Any]:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}
    if annotation is type(None):
        return {"type": "null"}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation]}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _schema(options[0])
        return {"anyOf": [_schema(a) for a in options]}
    if origin in (list, tuple, set, frozenset, Sequence) or annotation in (list, tuple, set):
        schema: dict[str, Any] = {"type": "array"}
        if args and args[0] is not Ellipsis:
            schema["items"] = _schema(args[0])
        return schema
    if origin in (dict, Mapping) or annotation is dict:
        return {"type": "object"}
    return {}


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns?|Raises|Yields|Examples?|Notes?):?\s*$")
_GOOGLE_ARG = re.compile(r"^\s+(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_ARG = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (text before the first section) and each parameter's description."""
    summary: list[str] = []
    described: dict[str, str] = {}
    section = ""
    current = ""
    for line in doc.splitlines():
        header = _SECTION.match(line.strip()) if not line.startswith(" ") else None
        sphinx = _SPHINX_ARG.match(line.strip())
        if sphinx:
            section, current = "sphinx", sphinx.group(1)
            described[current] = sphinx.group(2).strip()
        elif header:
            section = header.group(1).lower()
            current = ""
        elif section in ("args", "arguments", "parameters"):
            arg = _GOOGLE_ARG.match(line)
            indent = len(line) - len(line.lstrip())
            if arg and (not current or indent <= 4):
                current = arg.group(1).lstrip("*")
                described[current] = arg.group(2).strip()
            elif current and line.strip():
                described[current] = (described[current] + " " + line.strip()).strip()
        elif section == "sphinx" and current and line.startswith(" ") and line.strip():
            described[current] += " " + line.strip()
        elif not section and not line.startswith(":"):
            summary.append(line)
    return " ".join(" ".join(summary).split()), described


def tools_for_wire(protocol: str, specs: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """``tools`` as the protocol's request body spells them."""
    if protocol == "anthropic_messages":
        return [
            {"name": s.name, "description": s.description, "input_schema": s.parameters}
            for s in specs
        ]
    if protocol in ("responses", "codex"):
        return [
            {
                "type": "function",
                "name": s.name,
                "description": s.description,
                "parameters": s.parameters,
                "strict": False,
            }
            for s in specs
        ]
    if protocol == "gemini":
        return [
            {
                "functionDeclarations": [
                    {"name": s.name, "description": s.description, "parameters": s.parameters}
                    for s in specs
                ]
            }
        ]
    return [
        {
            "type": "function",
            "function": {"name": s.name, "description": s.description, "parameters": s.parameters},
        }
        for s in specs
    ]
