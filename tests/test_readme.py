"""README.md's code works as written: the tour runs against the local demo servers.

Every ``python`` block of "A short tour" runs, statement by statement, in one
IPython shell, in the isolated environment every test gets (its own config and
keyring, no outside network). The only thing the test adds is what a proxy user
does: a provider left on its real Base URL is pointed at a demo server
(:mod:`takopi_nb.demo`) before anything is sent. Notebook blocks run one cell
per paragraph.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import takopi_nb as tk
from takopi_nb.demo import DemoChatGPT, DemoOpenAIServer

README = Path(__file__).resolve().parents[1] / "README.md"
MAKEFILE = README.parent / "Makefile"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang == language]


def test_every_python_block_of_the_readme_is_in_the_tour() -> None:
    everywhere = blocks(README.read_text(encoding="utf-8"), "python")
    tour = blocks(section("A short tour"), "python")
    assert len(tour) >= 3 and everywhere == tour


def test_the_readme_make_commands_exist() -> None:
    targets = set(re.findall(r"^([\w-]+):", MAKEFILE.read_text(encoding="utf-8"), re.MULTILINE))
    commands = re.findall(r"\bmake ([\w-]+)", README.read_text(encoding="utf-8"))
    assert {"lab", "test", "bench"} <= set(commands) and set(commands) <= targets


@pytest.fixture
def demo_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DemoOpenAIServer, DemoChatGPT]]:
    with DemoOpenAIServer() as openai_like, DemoChatGPT() as chatgpt:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", chatgpt.issuer)
        yield openai_like, chatgpt


def point_at_demo(openai_like: DemoOpenAIServer, chatgpt: DemoChatGPT) -> None:
    for provider in tk.get_config().providers:
        if not provider.base_url:
            provider.base_url = (
                chatgpt.codex_base if provider.type == "codex" else openai_like.base_url
            )
            # A key is bound to the host it was saved for: moving it to the demo is a confirmed
            # move, as a user would confirm a proxy (README, "A key goes only to the host…").
            provider.confirm_base_url()


def run_python(
    source: str, ipython: InteractiveShell, servers: tuple[DemoOpenAIServer, DemoChatGPT]
) -> int:
    statements = ast.parse(ipython.transform_cell(source)).body
    for statement in statements:
        code = compile(ast.Module(body=[statement], type_ignores=[]), "README.md", "exec")
        exec(code, ipython.user_ns)
        point_at_demo(*servers)
    return len(statements)


def run_cell(cell: str, ipython: InteractiveShell) -> None:
    result = ipython.run_cell(cell, store_history=False)
    assert result.success, (cell, result.error_before_exec or result.error_in_exec)


def test_the_tour_runs_as_written(
    shell: InteractiveShell,
    demo_servers: tuple[DemoOpenAIServer, DemoChatGPT],
    capsys: pytest.CaptureFixture[str],
) -> None:
    openai_like, chatgpt = demo_servers
    code, notebook, cell_magic = blocks(section("A short tour"), "python")

    assert run_python(code, shell, demo_servers) >= 15
    out = capsys.readouterr().out
    assert "Hello from the demo server" in out and "You asked: “Say hi in five words”" in out
    ns = shell.user_ns
    assert len(ns["vectors"]) == 2 and openai_like.embedding_calls == 1
    texts = ns["batch"].texts
    assert [t.rsplit("You asked: ", 1)[1] for t in texts] == ["“Name a fish”", "“Name a bird”"]
    assert ns["batch"].cost is not None and "work-openai/gpt-5.2" in out  # priced; in tk.usage()
    assert str(ns["client"].base_url).rstrip("/") == openai_like.base_url
    assert "step 1: → to_fahrenheit(celsius=21.0)" in out and "← 69.8" in out  # two rounds
    assert "the tool answered “69.8”" in out
    assert type(ns["chat"]).__name__ == "ChatOpenAI"
    chatgpt.approve()  # what the user does on the sign-in page
    assert ns["flow"].wait(60) == "signed_in"
    cfg = tk.get_config()
    assert [p.id for p in cfg.providers] == ["openai-main", "or", "chatgpt"]
    assert cfg.default_model == "openai-main/gpt-5.2"
    assert cfg.get("openai-main").credential_source == "keyring"

    cells = [c for c in notebook.split("\n\n") if c.strip()]
    for cell in cells:
        run_cell(cell, shell)
    out = capsys.readouterr().out
    assert "anthropic/claude-sonnet-4.5" in out and "or (openrouter)" in out
    assert cfg.get("or").models == ["openai/gpt-4o", "anthropic/claude-sonnet-4.5"]

    run_cell(cell_magic, shell)
    assert "You asked: “Explain sea otters in two sentences.”" in capsys.readouterr().out
    # chat, chat_many's two, the cache=True call (a first run: a miss), %%takopi
    assert openai_like.chat_calls == 7  # 2 of them the tool loop's rounds
