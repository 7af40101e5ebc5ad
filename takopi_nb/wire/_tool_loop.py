"""``m.run_tools(prompt, tools=[...])``: a small tool loop whose every step is visible.

Each round sends the conversation with the tools, runs the Python functions the
model asked for and sends their results back, until the model answers in text
or ``max_steps`` rounds have run. A tool that raises, a call to an unknown
tool and malformed arguments are answered to the model in plain words (it can
correct itself) and shown in the step.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._messages import normalise_messages
from ._results import ChatResult
from ._tools import ToolCall, ToolSpec, tool_output_text, tool_specs

__all__ = ["ToolRun", "ToolStep", "run_tools"]


@dataclass
class ToolStep:
    """One round: the model's answer, the calls it asked for and what each returned."""

    index: int
    answer: ChatResult
    calls: list[ToolCall] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    failed: list[bool] = field(default_factory=list)
    """Per call: True when the output is an error message (bad arguments, unknown tool, raised)."""

    def lines(self) -> list[str]:
        out = []
        for call, output, failed in zip(self.calls, self.outputs, self.failed, strict=True):
            mark = "✗" if failed else "←"
            shown = output if len(output) <= 200 else output[:197] + "..."
            out.append(f"step {self.index}: → {call}\n        {mark} {shown}")
        if not self.calls:
            out.append(f"step {self.index}: answer ({len(self.answer.text)} chars)")
        return out


class ToolRun(ChatResult):
    """The final answer (a ``str``) with ``steps``, the whole ``messages`` list, and
    ``usage`` / ``cost`` summed over every round; ``complete`` is False when the loop
    stopped at ``max_steps`` with calls still unanswered by text."""

    steps: list[ToolStep]
    messages: list[dict[str, Any]]
    complete: bool

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text if self.complete else f"(stopped after {len(self.steps)} steps)")


def _sum_usage(answers: Sequence[ChatResult]) -> dict[str, Any] | None:
    totals: dict[str, Any] = {}
    for answer in answers:
        for key, value in (answer.usage or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals or None


def _sum_cost(answers: Sequence[ChatResult]) -> float | None:
    costs = [a.cost for a in answers]
    return None if any(c is None for c in costs) else float(sum(c or 0.0 for c in costs))


def _run_one(call: ToolCall, specs: dict[str, ToolSpec]) -> tuple[str, bool]:
    """(output sent back to the model, failed)."""
    if call.error:
        return call.error, True
    spec = specs.get(call.name)
    if spec is None or spec.function is None:
        known = ", ".join(specs) or "none"
        return f"There is no tool named {call.name!r}; the tools are: {known}.", True
    try:
        value = spec.function(**call.arguments)
    except TypeError as exc:
        return f"Tool {call.name!r} was called with the wrong arguments: {exc}.", True
    except Exception as exc:
        return f"Tool {call.name!r} failed: {type(exc).__name__}: {exc}", True
    return tool_output_text(value), False


def _default_show(step: ToolStep) -> None:
    for line in step.lines():
        print(line, file=sys.stdout)


def run_tools(
    chat: Callable[..., Any],
    prompt_or_messages: Any,
    tools: Sequence[Any],
    *,
    max_steps: int = 5,
    system: str | None = None,
    show: bool | Callable[[ToolStep], None] = True,
    params: dict[str, Any] | None = None,
) -> ToolRun:
    """Run the loop; ``chat(messages, **params)`` is one round (the model's bound chat)."""
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1.")
    specs = tool_specs(tools)
    if not specs:
        raise ValueError(
            "run_tools() needs at least one tool: pass Python functions in tools=[...]."
        )
    schema_only = [s.name for s in specs if s.function is None]
    if schema_only:
        raise ValueError(
            f"run_tools() calls Python functions, and tool {schema_only[0]!r} is a schema only. "
            "Pass the function itself, or loop with m.chat(messages, tools=[...]) and answer "
            "each call with call.result(value)."
        )
    by_name = {s.name: s for s in specs}
    reporter = _default_show if show is True else (show or None)
    messages = normalise_messages(prompt_or_messages, system)
    steps: list[ToolStep] = []
    answer: ChatResult | None = None
    for index in range(1, max_steps + 1):
        answer = chat(messages, tools=specs, **(params or {}))
        messages.append(answer.message)
        step = ToolStep(index, answer, list(answer.tool_calls))
        for call in step.calls:
            output, failed = _run_one(call, by_name)
            step.outputs.append(output)
            step.failed.append(failed)
            messages.append(call.result(output))
        steps.append(step)
        if callable(reporter):
            reporter(step)
        if not step.calls:
            break
    assert answer is not None
    complete = not steps[-1].calls
    if not complete and callable(reporter):
        print(
            f"stopped after max_steps={max_steps}: the model still asked for tools. "
            "Raise max_steps, or read .messages to see where it went.",
            file=sys.stdout,
        )
    answers = [s.answer for s in steps]
    run = ToolRun(
        answer.text if complete else "",
        usage=_sum_usage(answers),
        model=answer.model,
        finish_reason=answer.finish_reason,
        cost=_sum_cost(answers),
        tool_calls=answer.tool_calls,
    )
    run.steps = steps
    run.messages = messages
    run.complete = complete
    return run
