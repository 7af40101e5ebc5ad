"""Hypothesis over the public config API and the magic's arguments (issue 11).

Whatever goes in, only the project's own errors come out (TakopiError from
Python, UsageError from the magic), and the file that is left loads cleanly in
another kernel, without a warning or a notice. The magic's lines that reach out
(``login``, ``models --live``, ``catalog --refresh``) reach loopback fakes only,
and show no key or token.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import takopi_nb as tk
from takopi_nb._config import TakopiConfig
from tests.codex.test_cli_import import write_cli_file
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.keyring_backend import MemoryKeyring
from tests.fakes.providers import FakeProvider

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure here is never a fluke
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ids = st.one_of(
    st.sampled_from(["work", "or", "a.b", "x" * 64, "x" * 65, "Work", "", "-x", "w/k"]),
    st.from_regex(r"[a-z0-9][a-z0-9._-]{0,8}", fullmatch=True),
)
urls = st.one_of(
    st.sampled_from(
        [
            "",
            "https://proxy.example.com/v1",
            "http://127.0.0.1:8080/v1",
            "http://[::1",
            "http://x:99999",
            "http://x:abc",
            "http://a\x00b",
            "ftp://x",
            "https://u:p@x.com",
            "https://x.com/?q=1",
            "sk-proj-0123456789abcdefABCDEF",
        ]
    ),
    st.text(max_size=30),
)
texts = st.one_of(st.text(max_size=20), st.sampled_from(["gpt-5.2", "work/gpt-5.2", "a/b/c"]))
anything = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.binary(max_size=8),
    texts,
    ids,
    urls,
    st.lists(texts, max_size=3),
    st.tuples(texts),
    st.dictionaries(texts, texts, max_size=2),
)
types = st.one_of(st.sampled_from(sorted(tk.PROVIDER_TYPES)), anything)


def _add(cfg: TakopiConfig, d: st.DataObject) -> None:
    kwargs = {
        name: d.draw(strategy)
        for name, strategy in (
            ("id", st.one_of(ids, anything)),
            ("name", st.one_of(texts, anything)),
            ("base_url", st.one_of(urls, anything)),
            ("api_key", st.one_of(st.none(), st.text(max_size=30), anything)),
            ("models", st.one_of(st.lists(texts, max_size=3), anything)),
        )
        if d.draw(st.booleans())
    }
    cfg.add_provider(d.draw(types), **kwargs)


def _some_provider(cfg: TakopiConfig, d: st.DataObject) -> Any:
    known = [p.id for p in cfg.providers] or ["none"]
    pick = d.draw(st.integers(0, 7))  # drawn the same way whatever the config holds
    return known[pick % len(known)] if d.draw(st.booleans()) else d.draw(anything)


def _set_trait(cfg: TakopiConfig, d: st.DataObject) -> None:
    provider = cfg.get(_some_provider(cfg, d))
    name = d.draw(st.sampled_from(["name", "base_url", "models", "id", "type", "managed"]))
    value = d.draw(st.one_of(urls if name == "base_url" else texts, anything))
    setattr(provider, name, value)


OPERATIONS: list[Callable[[TakopiConfig, st.DataObject], object]] = [
    _add,
    lambda cfg, d: cfg.get(_some_provider(cfg, d)),
    lambda cfg, d: _some_provider(cfg, d) in cfg,
    lambda cfg, d: cfg.remove_provider(_some_provider(cfg, d)),
    lambda cfg, d: cfg.rename_provider(_some_provider(cfg, d), d.draw(st.one_of(ids, anything))),
    _set_trait,
    lambda cfg, d: setattr(cfg, "default_model", d.draw(st.one_of(texts, anything))),
    lambda cfg, d: setattr(cfg, "embedding_model", d.draw(st.one_of(texts, anything))),
    lambda cfg, d: cfg.get(_some_provider(cfg, d)).set_api_key(d.draw(anything)),
    lambda cfg, d: cfg.get(_some_provider(cfg, d)).confirm_base_url(),
    lambda cfg, d: tk.resolve(d.draw(anything), purpose=d.draw(anything)),
    lambda cfg, d: cfg.resolve(d.draw(texts), d.draw(st.sampled_from(["chat", "embedding"]))),
]


def loads_cleanly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other = TakopiConfig()
        other.reload_if_changed()
    assert list(other.notices) == []


def fresh_config(home: Path, monkeypatch: pytest.MonkeyPatch) -> TakopiConfig:
    """Every example starts from its own empty file, so examples replay exactly."""
    from takopi_nb import _reset_for_tests

    _reset_for_tests()
    folder = Path(__import__("tempfile").mkdtemp(dir=home))
    monkeypatch.setenv("TAKOPI_NB_CONFIG", str(folder / "providers.json"))
    return tk.get_config()


@given(st.data())
@SETTINGS
def test_the_config_api_raises_only_project_errors_and_leaves_a_clean_file(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    cfg = fresh_config(isolated_env, monkeypatch)
    for _ in range(data.draw(st.integers(1, 6))):
        operation = data.draw(st.sampled_from(OPERATIONS))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.ConfigWarning)  # plain-http warnings and such
            with contextlib.suppress(tk.TakopiError):
                operation(cfg, data)
    loads_cleanly()


class Loopback(NamedTuple):
    proxy: FakeProvider
    chatgpt: FakeChatGPT
    secrets: tuple[str, ...]  # the key and the CLI's tokens: never to be shown


@pytest.fixture
def loopback(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Loopback]:
    """What the magic may reach: an OpenAI-compatible endpoint and the ChatGPT fake.

    The fake's device codes expire as soon as they are handed out, so a ``login`` that
    waits for the user (in a terminal) ends at once, "expired"; ``--from-codex-cli`` finds
    a CLI sign-in made on the fake in ``$CODEX_HOME``. The catalog stays offline.
    """
    with FakeProvider() as proxy, FakeChatGPT(device_code_lifetime=0.0) as chatgpt:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", chatgpt.issuer)
        monkeypatch.setenv("TAKOPI_NB_OFFLINE", "1")
        monkeypatch.setenv("CODEX_HOME", str(isolated_env / "codex"))
        tokens = chatgpt.issue_tokens()
        write_cli_file(isolated_env / "codex" / "auth.json", tokens)
        yield Loopback(
            proxy, chatgpt, (proxy.key, tokens.access_token, tokens.refresh_token, tokens.id_token)
        )


# Every subcommand but import (it reads other tools' files under the real home) and usage,
# each with its own options (so that most lines get past the parser) and then anything.
OPTIONS = {
    "providers": [],
    "list": [],
    "models": ["--live", "--embedding", "--all", "--limit 1", "--tools", "gpt"],
    "select": ["gpt-5.2", "gpt-5.4", "--remove", "--replace"],
    "resolve": ["--embedding"],
    "login": ["--no-wait", "--from-codex-cli", "--yes"],
    "logout": [],
    "confirm": [],
    "help": [],
    "catalog": ["--refresh"],
    "": [],
}
TARGETS = ["work", "chatgpt", "openai", "codex", "work/gpt-5.2", "chatgpt/gpt-5.4", "nobody"]
words = st.one_of(
    st.sampled_from(TARGETS),
    st.sampled_from(["--live", "--no-wait", "--from-codex-cli", "--yes", "--embedding", "-h"]),
    st.sampled_from(["--limit", "0", "-1", "x" * 100, "--", "\\", "{x}", "$x", "'", '"']),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
)


def magic_line(d: st.DataObject) -> str:
    command = d.draw(st.sampled_from(sorted(OPTIONS)))
    parts = [command]
    if d.draw(st.booleans()):
        parts.append(d.draw(st.sampled_from(TARGETS)))
    if OPTIONS[command]:
        parts += d.draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=3, unique=True))
    if d.draw(st.booleans()):
        parts += d.draw(st.lists(words, min_size=1, max_size=3))
    return " ".join(parts).strip()


class MagicRunner:
    """Runs ``%takopi`` lines in ``shell`` against the loopback fakes, one example at a time."""

    def __init__(
        self,
        home: Path,
        monkeypatch: pytest.MonkeyPatch,
        keyring_backend: MemoryKeyring,
        loopback: Loopback,
        shell: Any,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.home, self.monkeypatch, self.keyring = home, monkeypatch, keyring_backend
        self.loopback, self.shell, self.capsys = loopback, shell, capsys

    def start(self) -> None:
        """An empty config with a provider on each loopback fake, no key or sign-in left over."""
        self.keyring.passwords.clear()
        cfg = fresh_config(self.home, self.monkeypatch)  # also cancels the last one's sign-ins
        cfg.add_provider(
            "openai",
            id="work",
            base_url=self.loopback.proxy.base_url,
            api_key=self.loopback.proxy.key,
            models=["gpt-5.2"],
        )
        cfg.add_provider(
            "codex", id="chatgpt", base_url=self.loopback.chatgpt.codex_base, models=["gpt-5.4"]
        )

    def run(self, line: str, *, rich: bool) -> str:
        """Run ``%takopi line``: only a one-line UsageError may come out, no secret ever, and
        the file left behind loads cleanly. Returns what was shown (repr, error, output)."""
        from IPython.core.error import UsageError

        from takopi_nb._magics import _loaded

        _loaded[self.shell].rich_display = rich  # a notebook (widgets) or a terminal (tables)
        said: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.ConfigWarning)
            try:
                said.append(repr(self.shell.run_line_magic("takopi", line)))
            except UsageError as exc:
                assert "\n" not in str(exc)
                said.append(f"UsageError: {exc}")
        out = self.capsys.readouterr()
        said += [out.out, out.err]
        secrets = self.loopback.secrets
        assert [text for text in said if any(secret in text for secret in secrets)] == []
        loads_cleanly()
        return "\n".join(said)


@pytest.fixture
def magic(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
    loopback: Loopback,
    shell: Any,
    capsys: pytest.CaptureFixture[str],
) -> MagicRunner:
    return MagicRunner(isolated_env, monkeypatch, memory_keyring, loopback, shell, capsys)


@given(st.data())
@SETTINGS
def test_the_magic_raises_only_usage_errors_and_leaves_a_clean_file(
    magic: MagicRunner, data: st.DataObject
) -> None:
    magic.start()
    magic.run(magic_line(data), rich=data.draw(st.booleans()))


# The lines that reach past this process, each for sure (the fuzz above may not draw them):
# all of them end on the loopback fakes, and a sign-in never waits for a user.
REACHING_OUT = [
    ("login chatgpt", False, "expired before it was approved"),
    ("login chatgpt --no-wait", False, "enter the code"),
    ("login chatgpt", True, "DeviceCodeView"),
    ("login chatgpt --from-codex-cli", False, "run again with --yes"),
    ("login chatgpt --from-codex-cli --yes", False, "shared with the Codex CLI"),
    ("login work", False, "only for codex providers"),
    ("models work --live", False, "served by http://127.0.0.1"),
    ("models chatgpt --live", False, "not signed in"),
    ("models openai --live", False, "give a provider id"),
    ("providers", True, "ProvidersPanel"),
    ("providers", False, "needs a notebook"),
    ("catalog --refresh", False, "offline mode is on"),
]


@pytest.mark.parametrize(("line", "rich", "expected"), REACHING_OUT)
def test_the_magic_lines_that_reach_out_stay_on_loopback(
    magic: MagicRunner, line: str, rich: bool, expected: str
) -> None:
    if "--no-wait" in line:
        # A code that lasts, so that the magic sees it waiting (and prints it) before it ends;
        # the next start, or the end of the test, cancels that sign-in.
        magic.loopback.chatgpt.device_code_lifetime = 900.0
    magic.start()
    assert expected in magic.run(line, rich=rich)
