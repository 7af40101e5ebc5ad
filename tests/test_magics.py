"""``%takopi`` / ``%%takopi`` on a fresh InteractiveShell per test."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import takopi_nb as tk
from takopi_nb._magics import TakopiMagics, _loaded
from takopi_nb._tables import CommandHelp, Table
from takopi_nb.demo import DemoOpenAIServer
from tests.fakes.codex_server import FakeChatGPT


def magic(shell: InteractiveShell, line: str) -> Any:
    return shell.run_line_magic("takopi", line)


def magics_of(shell: InteractiveShell) -> TakopiMagics:
    return _loaded[shell]


@pytest.fixture
def demo_server() -> Iterator[DemoOpenAIServer]:
    with DemoOpenAIServer() as server:
        yield server


def test_help_and_unknown_subcommands(shell: InteractiveShell) -> None:
    text = str(magic(shell, "help"))
    for name in ("providers", "list", "models", "select", "resolve", "login", "logout", "catalog"):
        assert f"%takopi {name}" in text
    assert "%%takopi" in text
    assert isinstance(magic(shell, ""), CommandHelp)
    with pytest.raises(UsageError) as caught:
        magic(shell, "frobnicate x")
    assert "Unknown subcommand 'frobnicate'" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("models openai --limit 0", "--limit must be at least 1"),
        ("models openai --limit x", "invalid int value"),
        ("select openai", "required: models"),
        ("resolve", "required: ref"),
        ("resolve 'unbalanced", "No closing quotation"),
        ("resolve nope", "Malformed model ref 'nope'"),
        ("resolve ghost/gpt-5", "no provider 'ghost'"),
        ("models ghost", "No provider or provider type 'ghost'"),
        ("login openai", "uses an API key"),
        ("list --bogus", "unrecognized arguments"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(
    shell: InteractiveShell, line: str, expected: str
) -> None:
    tk.get_config().add_provider("openai")
    with pytest.raises(UsageError) as caught:
        magic(shell, line)
    message = str(caught.value)
    assert expected in message and "\n" not in message


def test_usage_error_shows_without_traceback(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("%takopi resolve nope")
    err = capsys.readouterr().err
    assert err.startswith("UsageError: Malformed model ref") and "Traceback" not in err


def test_list_renders_html_and_text(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-SECRET-0123456789")
    config = tk.get_config()
    config.add_provider("openai", models=["gpt-5.2"])
    config.add_provider("anthropic", id="claude", name="<b>Claude</b>", api_key="sk-ant-SECRET-xyz")
    config.default_model = "openai/gpt-5.2"
    table = magic(shell, "list")
    assert isinstance(table, Table)
    assert table.column("id") == ["openai", "claude"]
    assert table.column("status") == ["usable", "no models selected"]
    assert table.column("credential") == ["env:OPENAI_API_KEY", "keyring"]
    text, html = str(table), table._repr_html_()
    assert "Default model: openai/gpt-5.2" in text
    assert "<table" in html and "<td" in html and "openai/gpt-5.2" in html
    for shown in (text, html, repr(table)):
        assert "SECRET" not in shown


def test_models_table(shell: InteractiveShell) -> None:
    tk.get_config().add_provider("openai", models=["gpt-5.2", "<img src=x>"])
    table = magic(shell, "models openai gpt-5 --limit 5")
    assert len(table) == 5
    assert all("gpt-5" in model_id for model_id in table.column("id"))
    assert "more — refine the query" in str(table)
    exact = magic(shell, "models openai gpt-5.2")
    assert exact.column("id")[0] == "gpt-5.2" and exact.column("sel")[0] == "✓"
    assert exact.column("sel")[1:] == [""] * (len(exact) - 1)
    everything = magic(shell, "models openai gpt-5 --all")
    assert len(everything) > 5
    hand = magic(shell, "models openai img")
    assert hand.column("id") == ["<img src=x>"] and hand.column("name") == ["(not in catalog)"]
    assert "<img" not in hand._repr_html_() and "&lt;img src=x&gt;" in hand._repr_html_()
    embedding = magic(shell, "models openai --embedding")
    assert set(embedding.column("id")) == {  # a hand-added id may be either kind: it is shown
        "<img src=x>",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
    }
    tools = magic(shell, "models openai --tools --all")
    catalog_rows = [
        f
        for i, f in zip(tools.column("id"), tools.column("features"), strict=True)
        if i != "<img src=x>"
    ]
    assert catalog_rows and all("tools" in f for f in catalog_rows)


def test_select_with_var_expansion(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = tk.get_config().add_provider("openrouter", id="or")
    shell.user_ns.update(pid="or", model="anthropic/claude-sonnet-4.5")
    shell.run_cell("%takopi select {pid} {model} my/own-model")
    assert provider.models == ["anthropic/claude-sonnet-4.5", "my/own-model"]
    out = capsys.readouterr().out
    assert "Selected for or" in out and "not in the catalog, kept as given: my/own-model" in out
    magic(shell, "select or my/own-model --remove")
    assert provider.models == ["anthropic/claude-sonnet-4.5"]
    magic(shell, "select or openai/gpt-4o --replace")
    assert provider.models == ["openai/gpt-4o"]


def test_resolve(shell: InteractiveShell) -> None:
    tk.get_config().add_provider("openrouter", id="or", models=["openai/gpt-4o", "x/unknown"])
    table = magic(shell, "resolve or/openai/gpt-4o")
    fields = dict(zip(table.column("field"), table.column("value"), strict=True))
    assert fields["provider"] == "or (openrouter)" and fields["model"] == "openai/gpt-4o"
    assert fields["base URL"] == "https://openrouter.ai/api/v1"
    assert fields["credential"].startswith("none yet")
    assert "$" in fields["price (USD per 1M in / out)"]
    unknown = magic(shell, "resolve or/x/unknown")
    assert (
        dict(zip(unknown.column("field"), unknown.column("value"), strict=True))["catalog"]
        == "not in catalog"
    )
    with pytest.raises(UsageError, match="not selected"):
        magic(shell, "resolve or/openai/gpt-5")


def test_catalog(shell: InteractiveShell) -> None:
    table = magic(shell, "catalog")
    assert "bundled snapshot" in table.title
    counts = dict(zip(table.column("type"), table.column("chat models"), strict=True))
    assert int(counts["openrouter"]) > 100 and int(counts["codex"]) > 0
    refreshed = magic(shell, "catalog --refresh")  # models.dev is unreachable in tests
    assert any(note.startswith("Refresh failed") for note in refreshed.notes)


def test_providers_shows_the_panel_in_a_notebook(shell: InteractiveShell) -> None:
    magics_of(shell).rich_display = True
    tk.get_config().add_provider("openai")
    shown = magic(shell, "providers")
    from takopi_nb.widgets import ProvidersPanel

    assert isinstance(shown, ProvidersPanel) and shown.form is not None
    magics_of(shell).rich_display = False
    text = magic(shell, "providers")
    assert isinstance(text, Table) and "needs a notebook" in str(text)


def test_unload_unlinks_everything(shell: InteractiveShell) -> None:
    magics_of(shell).rich_display = True
    provider = tk.get_config().add_provider("openai", models=["gpt-5.2"])
    shown = magic(shell, "providers")
    form = shown.form
    shell.run_line_magic("unload_ext", "takopi_nb")
    assert shown.comm is None and list(shown.links) == []
    provider.models = ["gpt-4o"]
    assert form.picker.list.value == ["gpt-5.2"]
    with pytest.raises(UsageError, match="not found"):
        magic(shell, "list")
    shell.run_line_magic("load_ext", "takopi_nb")  # loads again cleanly
    assert isinstance(magic(shell, "list"), Table)


def wait_then(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def test_login_and_logout_in_a_terminal(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeChatGPT() as fake:
        config = tk.get_config()
        config.codex_issuer = fake.issuer
        provider = config.add_provider("codex", id="chatgpt", base_url=fake.codex_base)

        def approve() -> None:
            import time

            while not fake.user_codes():
                time.sleep(0.02)
            fake.approve(fake.user_codes()[-1])

        helper = wait_then(approve)
        magic(shell, "login chatgpt")
        helper.join(10)
        out = capsys.readouterr().out
        assert f"Open {fake.issuer}/codex/device and enter the code:" in out
        assert "Signed in as ada@example.com" in out
        assert provider.account is not None
        magic(shell, "logout chatgpt")
        assert provider.account is None
        assert "Disconnected chatgpt" in capsys.readouterr().out


def test_login_in_a_notebook_shows_the_device_code_widget(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeChatGPT() as fake:
        config = tk.get_config()
        config.codex_issuer = fake.issuer
        config.add_provider("codex", id="chatgpt", base_url=fake.codex_base)
        magics = magics_of(shell)
        magics.rich_display = True
        shown: list[Any] = []
        monkeypatch.setattr(magics, "_display", lambda obj, **kw: shown.append(obj))
        assert magic(shell, "login chatgpt") is None
        from takopi_nb.widgets import DeviceCodeView

        assert len(shown) == 1 and isinstance(shown[0], DeviceCodeView)
        flow = shown[0].flow
        shell.run_line_magic("unload_ext", "takopi_nb")  # cancels the sign-in it started
        assert flow.wait(60) == "cancelled"
        shell.run_line_magic("load_ext", "takopi_nb")


def test_cell_magic_streams_to_a_terminal(
    shell: InteractiveShell, demo_server: DemoOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tk.get_config()
    config.add_provider(
        "openai", base_url=demo_server.base_url, api_key="sk-demo", models=["gpt-5.2"]
    )
    shell.user_ns["topic"] = "otters"
    shell.run_cell_magic("takopi", "openai/gpt-5.2", "Tell me about {topic}.\n")
    out = capsys.readouterr().out
    assert "Hello from the demo server" in out and "You asked: “Tell me about otters.”" in out
    assert demo_server.chat_calls == 1


def test_cell_magic_updates_a_markdown_display(
    shell: InteractiveShell, demo_server: DemoOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tk.get_config()
    config.add_provider(
        "openai", base_url=demo_server.base_url, api_key="sk-demo", models=["gpt-5.2"]
    )
    config.default_model = "openai/gpt-5.2"
    magics_of(shell).rich_display = True
    monkeypatch.setattr("takopi_nb._magics.STREAM_UPDATE_SECONDS", 0.0)
    publisher = CapturingDisplayPublisher()
    monkeypatch.setattr(shell, "display_pub", publisher)
    shell.user_ns["n"] = 2
    shell.run_cell_magic("takopi", "", "Hi {n}")  # no ref: the default model
    outputs = publisher.outputs
    assert len(outputs) > 3
    first, last = outputs[0], outputs[-1]
    display_id = first["transient"]["display_id"]
    assert not first["update"] and "text/markdown" in first["data"]
    assert all(o["update"] and o["transient"]["display_id"] == display_id for o in outputs[1:])
    assert last["data"]["text/markdown"].endswith("You asked: “Hi 2”")
    partial = outputs[1]["data"]["text/markdown"]
    assert partial.endswith("▌") and len(partial) < len(last["data"]["text/markdown"])


def test_cell_magic_errors(shell: InteractiveShell, demo_server: DemoOpenAIServer) -> None:
    config = tk.get_config()
    with pytest.raises(UsageError, match="no default model set"):
        shell.run_cell_magic("takopi", "", "hello")
    config.add_provider("openai", base_url=demo_server.base_url, models=["gpt-5.2"])
    with pytest.raises(UsageError, match="cell is empty"):
        shell.run_cell_magic("takopi", "openai/gpt-5.2", "  \n")
    with pytest.raises(UsageError) as caught:  # no key: one line saying where one goes
        shell.run_cell_magic("takopi", "openai/gpt-5.2", "hello")
    assert "No API key for provider 'openai'" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert demo_server.chat_calls == 0


def test_loading_imports_nothing_heavy() -> None:
    code = (
        "import sys, time\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'takopi_nb')\n"
        "heavy = [m for m in ('ipywidgets', 'httpx', 'takopi_nb.catalog', 'takopi_nb._config',"
        " 'takopi_nb.widgets', 'keyring') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# -- issue 15: the first hour --------------------------------------------------------------------


def test_models_takes_a_type_or_an_id_and_an_id_wins(shell: InteractiveShell) -> None:
    config = tk.get_config()
    by_type = magic(shell, "models openrouter sonnet --all")  # no openrouter provider yet
    assert by_type.title.startswith("type openrouter:") and len(by_type) > 0
    assert all(
        "sonnet" in row_id.lower() or "sonnet" in name.lower()
        for row_id, name in zip(by_type.column("id"), by_type.column("name"), strict=True)
    )
    assert set(by_type.column("sel")) == {""}
    assert "add_provider('openrouter')" in str(by_type)
    config.add_provider("openrouter", id="or", models=["anthropic/claude-sonnet-4.5"])
    by_id = magic(shell, "models or sonnet --all")
    assert by_id.title.startswith("or (OpenRouter):")
    assert by_id.column("id") == by_type.column("id")
    marked = [i for i, sel in zip(by_id.column("id"), by_id.column("sel"), strict=True) if sel]
    assert marked == ["anthropic/claude-sonnet-4.5"]
    # A provider whose id is also a type: the id wins, and the table says so.
    config.add_provider("openrouter", id="anthropic", models=["openai/gpt-4o"])
    clash = magic(shell, "models anthropic gpt-4o")
    assert clash.title.startswith("anthropic (OpenRouter):")
    assert "openai/gpt-4o" in clash.column("id")
    assert "'anthropic' is also a provider type" in str(clash)
    with pytest.raises(UsageError, match="The type 'codex', which has no embeddings"):
        magic(shell, "models codex --embedding")


def test_models_without_arguments_lists_the_types_with_counts(shell: InteractiveShell) -> None:
    tk.get_config().add_provider("openrouter", id="or")
    table = magic(shell, "models")
    assert table.column("type") == list(tk.PROVIDER_TYPES)
    counts = dict(zip(table.column("type"), table.column("chat models"), strict=True))
    assert int(counts["openrouter"]) > 100 and int(counts["openai"]) > 10
    mine = dict(zip(table.column("type"), table.column("your providers"), strict=True))
    assert mine["openrouter"] == "or" and mine["openai"] == ""
    assert "%takopi models TYPE-or-ID" in str(table)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("opnrouter", "Did you mean 'openrouter' (a type)?"),
        ("work-opnai", "Did you mean 'work-openai' (the provider of type openai)?"),
    ],
)
def test_models_unknown_name_mentions_ids_and_types(
    shell: InteractiveShell, name: str, hint: str
) -> None:
    config = tk.get_config()
    config.add_provider("openrouter", id="or")
    config.add_provider("openai", id="work-openai")
    with pytest.raises(UsageError) as caught:
        magic(shell, f"models {name}")
    message = str(caught.value)
    assert f"No provider or provider type {name!r}" in message and "\n" not in message
    assert "Provider ids: or (openrouter), work-openai (openai)" in message
    assert "types: openai, anthropic, codex, openrouter" in message
    assert message.endswith(hint)


def test_cell_magic_undefined_name_is_a_one_line_error(
    shell: InteractiveShell, demo_server: DemoOpenAIServer
) -> None:
    tk.get_config().add_provider(
        "openai", base_url=demo_server.base_url, api_key="sk-demo", models=["gpt-5.2"]
    )
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("takopi", "openai/gpt-5.2", "Explain {topic} in two sentences.")
    message = str(caught.value)
    assert "{topic} in the cell: 'topic' is not defined" in message
    assert "write {{topic}}" in message and "\n" not in message
    shell.user_ns["p"] = tk.get_config().get("openai")
    with pytest.raises(UsageError, match=r"\{p\.nme\} in the cell: p has no attribute 'nme'"):
        shell.run_cell_magic("takopi", "openai/gpt-5.2", "Which models has {p.nme}?")
    assert demo_server.chat_calls == 0  # nothing was sent


def test_cell_magic_expands_names_and_never_evaluates(
    shell: InteractiveShell, demo_server: DemoOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tk.get_config().add_provider(
        "openai", base_url=demo_server.base_url, api_key="sk-demo", models=["gpt-5.2"]
    )
    shell.user_ns.update(p=p, price=1.5, calls=[])
    shell.user_ns["record"] = lambda: shell.user_ns["calls"].append(1)
    cell = (
        '{p.id} costs {price:.2f}, {price!r}; {{literal}} and {"a": 1} stay; '
        "{record()} {__import__('os').getpid()} {1,2} are not run\n"
    )
    shell.run_cell_magic("takopi", "openai/gpt-5.2", cell)
    out = capsys.readouterr().out
    assert (
        'You asked: “openai costs 1.50, 1.5; {literal} and {"a": 1} stay; '
        "{record()} {__import__('os').getpid()} {1,2} are not run”"
    ) in out
    assert shell.user_ns["calls"] == []


def test_help_is_laid_out_for_reading(shell: InteractiveShell) -> None:
    shown = magic(shell, "help")
    names = shown.names()
    assert names[: len(COMMANDS_IN_HELP)] == list(COMMANDS_IN_HELP) and names[-1] == "%%takopi"
    lines = str(shown).splitlines()
    column = lines[2].index("Show the providers panel")  # the descriptions line up
    for name in names:
        (row,) = [line for line in lines if line.startswith(f"  {name} ")]
        assert row.index(row.split(None, 1)[1]) == column
        usage_line = lines[lines.index(row) + 1]
        assert usage_line[:column].strip() == "" and usage_line.strip().startswith(
            "%takopi" if name != "%%takopi" else "%%takopi"
        )
    html = shown._repr_html_()
    assert html.count("<tr>") == len(names) and "<code" in html and "white-space:nowrap" in html
    assert "[--limit LIMIT]</span>" in html  # an option never breaks inside itself
    assert "{x + 1} is sent as written" in str(shown) and "{{ and }} are literal" in str(shown)


COMMANDS_IN_HELP = ("providers", "list", "models", "select", "resolve")


def test_list_never_wraps_an_id(shell: InteractiveShell) -> None:
    tk.get_config().add_provider("openai", id="openai-main")
    table = magic(shell, "list")
    html = table._repr_html_()
    id_cell = html[html.rindex("<td", 0, html.index(">openai-main<")) : html.index(">openai-main<")]
    assert "white-space:nowrap" in id_cell
    status_cell = html[html.rindex("<td", 0, html.index(">no models selected<")) :]
    assert "white-space:nowrap" not in status_cell.split(">", 1)[0]
    text = str(table).splitlines()
    assert any(line.startswith("openai-main  openai") for line in text)


def test_cell_magic_cache_flag_and_usage_subcommand(
    shell: InteractiveShell, demo_server: DemoOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tk.get_config().add_provider(
        "openai", base_url=demo_server.base_url, api_key="sk-demo", models=["gpt-5.2"]
    )
    magics_of(shell).rich_display = False
    for _ in range(2):
        shell.run_cell_magic("takopi", "openai/gpt-5.2 --cache", "Cache this cell")
    assert demo_server.chat_calls == 1  # the second run came from the disk cache
    shell.run_cell_magic("takopi", "openai/gpt-5.2", "Cache this cell")
    assert demo_server.chat_calls == 2  # without --cache: sent again
    assert capsys.readouterr().out.count("You asked: “Cache this cell”") == 3

    table = magic(shell, "usage")
    (row,) = table.rows
    assert row[:3] == ["openai/gpt-5.2", "3", "1"]
    assert row[5].startswith("$")  # priced from the bundled models.dev snapshot
    assert "%takopi usage" in str(magic(shell, "help"))
