"""Tool calls in the built-in chat, over each wire protocol's own tool-call format.

Loopback fakes answer with a scripted model (tests/fakes/tool_calls.py) that
speaks OpenAI ``tool_calls``, Anthropic ``tool_use``/``tool_result`` blocks and
Responses ``function_call`` items (OpenAI's API and the Codex backend), streamed
and not, and rejects what the real services reject.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import Enum
from typing import Literal

import pytest

import takopi_nb as tk
from takopi_nb._errors import ProviderRequestError
from takopi_nb.wire import ChatStream, ToolCall, ToolRun, ToolStep
from takopi_nb.wire._tools import function_spec, tool_specs
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.providers import FakeProvider
from tests.fakes.tool_calls import ToolScript

PROTOCOLS = ("chat_completions", "anthropic_messages", "responses", "codex")


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """Current weather in a city.

    Args:
        city: The city's name, e.g. "Paris".
        unit: Celsius or Fahrenheit.
    """
    return f"18°{unit} and sunny in {city}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Target:
    """A configured provider whose server answers tool requests with ``script``."""

    def __init__(self, ref: str, script: ToolScript, server: object) -> None:
        self.ref = ref
        self.script = script
        self.server = server

    def model(self) -> tk.ResolvedModel:
        return tk.resolve(self.ref)


@pytest.fixture
def target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    protocol: str = request.param
    script = ToolScript([[("get_weather", '{"city": "Paris"}')]])
    cfg = tk.get_config()
    if protocol == "codex":
        with FakeChatGPT() as chatgpt:
            monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", chatgpt.issuer)
            cfg.add_provider("codex", id="p", base_url=chatgpt.codex_base, models=["gpt-5.5"])
            cfg.runtime.secrets.set("p", chatgpt.issue_tokens(account_id="a1").storage_json())
            chatgpt.respond_with = lambda body: script.codex(body)
            yield Target("p/gpt-5.5", script, chatgpt)
        return
    flavor: Literal["openai", "anthropic"] = (
        "anthropic" if protocol == "anthropic_messages" else "openai"
    )
    with FakeProvider(flavor=flavor, models=("m", "claude-x", "gpt-5.2")) as fake:
        fake.intercept = script.intercept(fake)
        ptype, model = {
            "chat_completions": ("openai", "m"),
            "anthropic_messages": ("anthropic", "claude-x"),
            "responses": ("opencode", "gpt-5.2"),  # catalog: @ai-sdk/openai → Responses
        }[protocol]
        cfg.add_provider(ptype, id="p", base_url=fake.base_url, api_key=fake.key, models=[model])
        yield Target(f"p/{model}", script, fake)


def both(protocols: tuple[str, ...] = PROTOCOLS) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("target", protocols, indirect=True)


def ask(m: tk.ResolvedModel, prompt: object, stream: bool, **kw: object) -> tuple[str, list]:
    answer = m.chat(prompt, stream=stream, **kw)  # type: ignore[arg-type]
    if stream:
        assert isinstance(answer, ChatStream)
        text = "".join(answer)
        return text, answer.tool_calls
    return str(answer), answer.tool_calls  # type: ignore[union-attr]


# -- the normalised calls -------------------------------------------------------------------


@both()
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_calls_come_back_normalised(target: Target, stream: bool) -> None:
    text, calls = ask(target.model(), "Weather in Paris?", stream, tools=[get_weather])

    assert text == ""
    (call,) = calls
    assert isinstance(call, ToolCall) and call.id
    assert (call.name, call.arguments, call.error) == ("get_weather", {"city": "Paris"}, None)
    assert str(call) == "get_weather(city='Paris')"
    # The tool went out in the protocol's own spelling (the fake answers 400 otherwise).
    (body,) = target.script.bodies
    (tool,) = body["tools"]
    schema = tool.get("input_schema") or tool.get("parameters") or tool["function"]["parameters"]
    assert schema["required"] == ["city"]
    assert schema["properties"]["unit"] == {
        "enum": ["C", "F"],
        "description": "Celsius or Fahrenheit.",
        "default": "C",
    }


@both()
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_results_go_back_in_the_messages(target: Target, stream: bool) -> None:
    m = target.model()
    messages: list[dict] = [{"role": "user", "content": "Weather in Paris?"}]
    first = m.chat(messages, stream=stream, tools=[get_weather])
    answer = first.result() if isinstance(first, ChatStream) else first
    messages.append(answer.message)
    messages += [call.result(get_weather(**call.arguments)) for call in answer.tool_calls]

    text, calls = ask(m, messages, stream, tools=[get_weather])

    assert text == "Tool results: 18°C and sunny in Paris" and calls == []


@both(("chat_completions", "responses", "codex"))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_malformed_arguments_are_reported_in_plain_words(target: Target, stream: bool) -> None:
    target.script.rounds = [[("get_weather", '{"city": "Par')]]
    _, (call,) = ask(target.model(), "Weather?", stream, tools=[get_weather])

    assert call.arguments == {} and call.raw_arguments == '{"city": "Par'
    assert call.error is not None
    assert call.error.startswith("The model's arguments for tool 'get_weather' are not valid JSON")
    assert "Ask again" in call.error


@both(("anthropic_messages",))
def test_malformed_streamed_anthropic_input_is_reported(target: Target) -> None:
    target.script.rounds = [[("get_weather", '["Paris"]')]]
    _, (call,) = ask(target.model(), "Weather?", True, tools=[get_weather])
    assert call.error is not None and "not an object of named parameters" in call.error


# -- the loop -------------------------------------------------------------------------------


@both()
def test_a_two_step_tool_loop(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    target.script.rounds = [
        [("add", '{"a": 2, "b": 3}')],
        [("multiply", '{"a": 5, "b": 4}'), ("add", '{"a": 1, "b": 1}')],
    ]
    run = target.model().run_tools("(2+3)*4, and 1+1?", tools=[add, multiply], max_steps=5)

    assert isinstance(run, ToolRun) and run.complete
    assert run == "Tool results: 5 | 20 | 2"
    assert [[str(c) for c in s.calls] for s in run.steps] == [
        ["add(a=2, b=3)"],
        ["multiply(a=5, b=4)", "add(a=1, b=1)"],
        [],
    ]
    assert [s.outputs for s in run.steps] == [["5"], ["20", "2"], []]
    assert len(target.script.bodies) == 3
    shown = capsys.readouterr().out
    assert "step 1: → add(a=2, b=3)" in shown and "← 20" in shown
    # usage and cost are the sum over the rounds; the ledger counts each round as a call
    per_round = [s.answer.usage["output_tokens"] for s in run.steps]  # type: ignore[index]
    assert run.usage is not None and run.usage["output_tokens"] == sum(per_round) == 15
    frame = tk.usage().set_index("ref")
    assert frame.loc[target.ref, ["calls", "tool rounds", "tool calls"]].tolist() == [3, 2, 3]
    assert run.messages[-1] == {"role": "assistant", "content": "Tool results: 5 | 20 | 2"}


@both(("chat_completions", "anthropic_messages"))
def test_the_loop_answers_errors_to_the_model_and_stops_at_max_steps(target: Target) -> None:
    def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError("sensor offline")

    target.script.rounds = [
        [("broken", '{"city": "Oslo"}'), ("nope", "{}"), ("broken", '{"town": "Oslo"}')],
        [("broken", '{"city": "Oslo"}')],
    ]
    seen: list[ToolStep] = []
    run = target.model().run_tools("Weather?", tools=[broken], max_steps=1, show=seen.append)

    assert not run.complete and run == "" and len(seen) == 1
    (step,) = seen
    assert step.failed == [True, True, True]
    assert step.outputs[0] == "Tool 'broken' failed: RuntimeError: sensor offline"
    assert step.outputs[1] == "There is no tool named 'nope'; the tools are: broken."
    assert step.outputs[2].startswith("Tool 'broken' was called with the wrong arguments")
    assert run.messages[-1]["role"] == "tool"


def test_schema_only_tools_cannot_run_and_names_must_be_unique() -> None:
    schema = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    with pytest.raises(ValueError, match="is a schema only"):
        from takopi_nb.wire._tool_loop import run_tools

        run_tools(lambda *a, **k: None, "hi", [schema])
    with pytest.raises(ValueError, match="Two tools are named 'add'"):
        tool_specs([add, {"name": "add"}])
    with pytest.raises(TypeError, match="pass a Python function or an OpenAI-style"):
        tool_specs([42])


# -- schemas from Python functions -----------------------------------------------------------


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


def paint(wall: str, colour: Colour, coats: int | None = None, *, tags: list[str]) -> None:
    """Paint a wall.

    More text that is not the summary's first paragraph.

    :param wall: which wall
    :param colour: the paint
    """


def test_a_function_schema_comes_from_its_signature_and_docstring() -> None:
    spec = function_spec(paint)
    assert spec.name == "paint"
    assert spec.description.startswith("Paint a wall.")
    assert spec.parameters == {
        "type": "object",
        "properties": {
            "wall": {"type": "string", "description": "which wall"},
            "colour": {"enum": ["red", "blue"], "description": "the paint"},
            "coats": {"type": "integer", "default": None},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["wall", "colour", "tags"],
    }
    assert function_spec(get_weather).parameters["properties"]["city"] == {
        "type": "string",
        "description": 'The city\'s name, e.g. "Paris".',
    }


def test_tool_results_without_their_call_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="without 'tool_call_id'"):
        from takopi_nb.wire._messages import normalise_messages

        normalise_messages([{"role": "user", "content": "x"}, {"role": "tool", "content": "1"}])


@both(("chat_completions",))
def test_cached_answers_keep_their_tool_calls(target: Target) -> None:
    m = target.model()
    first = m.chat("Weather?", tools=[get_weather], cache=True)
    again = m.chat("Weather?", tools=[get_weather], cache=True)
    assert again.cached and again.tool_calls == first.tool_calls  # type: ignore[union-attr]
    assert json.loads(again.message["tool_calls"][0]["function"]["arguments"]) == {  # type: ignore[union-attr]
        "city": "Paris"
    }


def test_gemini_format_models_say_tools_are_not_sent_yet() -> None:
    with FakeProvider(models=("gemini-3-pro",)) as fake:
        tk.get_config().add_provider(
            "opencode", id="z", base_url=fake.base_url, api_key=fake.key, models=["gemini-3-pro"]
        )
        with pytest.raises(ProviderRequestError, match="does not send tools to Gemini-format"):
            tk.resolve("z/gemini-3-pro").chat("hi", tools=[add])
        assert fake.requests == []
