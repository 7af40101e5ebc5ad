"""Framework hand-offs: one ref handed to LangChain and pydantic-ai costs no speed.

    .venv/bin/python benchmarks/bench_frameworks.py

Each figure is a framework object made by takopi_nb (``m.langchain()``, ``m.pydantic_ai()``;
the credential added per request by takopi_nb's HTTP client, every call booked in
``tk.usage()``), beside the same framework class given the key and Base URL directly,
against the same loopback server (a child process), in the same run. Medians of per-call
times over 5 runs. Needs ``pip install 'takopi_nb[frameworks]'``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_scale import KEY, ServerProcess, per_call_ms  # noqa: E402
from harness import table, verdict  # noqa: E402

CALLS = 300
TARGET = 1.2  # takopi_nb's hand-off ≤ 1.2× the framework's own client


def _row(
    figure: str, ours: Callable[[], Any], theirs: Callable[[], Any], baseline: str
) -> list[str]:
    ours_ms = per_call_ms(ours, CALLS)
    theirs_ms = per_call_ms(theirs, CALLS)
    ratio = ours_ms / theirs_ms
    return [
        figure,
        f"{ours_ms:.2f} ms",
        f"{baseline} {theirs_ms:.2f} ms",
        f"{ratio:.2f}× " + verdict(figure, f"target ≤ {TARGET}×", ratio <= TARGET),
    ]


def langchain_rows(cfg: Any, base_url: str) -> list[list[str]]:
    from langchain_anthropic import ChatAnthropic
    from langchain_openai import ChatOpenAI

    import takopi_nb as tk

    cfg.add_provider("openai", id="lc-o", base_url=base_url, api_key=KEY, models=["gpt-4o-mini"])
    cfg.add_provider(
        "anthropic", id="lc-a", base_url=base_url, api_key=KEY, models=["claude-sonnet-4-5"]
    )
    openai_ours = tk.resolve("lc-o/gpt-4o-mini").langchain()
    openai_theirs = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=base_url)  # type: ignore[arg-type]
    anthropic_ours = tk.resolve("lc-a/claude-sonnet-4-5").langchain()
    anthropic_theirs = ChatAnthropic(  # type: ignore[call-arg]
        model="claude-sonnet-4-5", api_key=KEY, base_url=base_url.removesuffix("/v1")
    )
    return [
        _row(
            "LangChain ChatOpenAI.invoke, m.langchain()",
            lambda: openai_ours.invoke("hi"),
            lambda: openai_theirs.invoke("hi"),
            "ChatOpenAI(api_key=…)",
        ),
        _row(
            "LangChain ChatAnthropic.invoke, m.langchain()",
            lambda: anthropic_ours.invoke("hi"),
            lambda: anthropic_theirs.invoke("hi"),
            "ChatAnthropic(api_key=…)",
        ),
    ]


def pydantic_ai_rows(base_url: str) -> list[list[str]]:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    import takopi_nb as tk

    ours = Agent(tk.resolve("lc-o/gpt-4o-mini").pydantic_ai())
    theirs = Agent(
        OpenAIChatModel("gpt-4o-mini", provider=OpenAIProvider(base_url=base_url, api_key=KEY))
    )
    return [
        _row(
            "pydantic-ai Agent.run_sync, m.pydantic_ai()",
            lambda: ours.run_sync("hi"),
            lambda: theirs.run_sync("hi"),
            "OpenAIProvider(api_key=…)",
        )
    ]


def main(argv: object = ()) -> list[list[str]]:
    missing = [
        name
        for name in ("langchain_openai", "langchain_anthropic", "pydantic_ai")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        print(f"Framework hand-offs: skipped ({', '.join(missing)} not installed; "
              "pip install 'takopi_nb[frameworks]')")  # fmt: skip
        return []
    from takopi_nb import demo

    cfg = demo.sandbox()
    server = ServerProcess()
    try:
        rows = langchain_rows(cfg, server.base_url) + pydantic_ai_rows(server.base_url)
        server.reset()
        import takopi_nb as tk

        tk.resolve("lc-o/gpt-4o-mini").langchain().invoke("hi")
        booked = server.requests == 1
    finally:
        server.stop()
    print(table("Framework hand-offs: takopi_nb's client vs the framework's own", rows))
    print(
        f"loopback server (stdlib ThreadingHTTPServer) in a child process; medians of 5 runs of "
        f"{CALLS // 5} calls; the hand-offs also book every call in tk.usage()"
        + ("" if booked else " (WARNING: the check call did not reach the server)")
    )
    return rows


if __name__ == "__main__":
    main()
