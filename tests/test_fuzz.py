"""Hypothesis over the public config API and the magic's arguments (issue 11).

Whatever goes in, only the project's own errors come out (TakopiError from
Python, UsageError from the magic), and the file that is left loads cleanly in
another kernel, without a warning or a notice.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import takopi_nb as tk
from takopi_nb._config import TakopiConfig

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


@pytest.fixture
def shell() -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    saved = (sys.displayhook, sys.excepthook)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    made = InteractiveShell.instance(config=config)
    made.run_line_magic("load_ext", "takopi_nb")
    yield made
    made.run_line_magic("unload_ext", "takopi_nb")
    InteractiveShell.clear_instance()
    sys.displayhook, sys.excepthook = saved


# Subcommands that stay in this process and on loopback (no device-code sign-in, no --live).
COMMANDS = ["list", "models", "select", "resolve", "logout", "confirm", "help", "catalog", ""]
words = st.one_of(
    st.sampled_from(
        ["work", "openai", "work/gpt-5.2", "gpt-5.2", "--remove", "--embedding", "-h", "'", '"']
    ),
    st.sampled_from(["--limit", "0", "-1", "x" * 100, "--", "\\", "{x}", "$x"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
)


@given(st.data())
@SETTINGS
def test_the_magic_raises_only_usage_errors_and_leaves_a_clean_file(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, shell: Any, data: st.DataObject
) -> None:
    from IPython.core.error import UsageError

    cfg = fresh_config(isolated_env, monkeypatch)
    if "work" not in cfg:
        cfg.add_provider("openai", id="work", models=["gpt-5.2"])
    command = data.draw(st.sampled_from(COMMANDS))
    tail = " ".join(data.draw(st.lists(words, max_size=4)))
    line = f"{command} {tail}".strip()
    if line.split(" ", 1)[0] in ("login", "providers", "--live") or "--live" in line:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ConfigWarning)
        try:
            shell.run_line_magic("takopi", line)
        except UsageError as exc:
            assert "\n" not in str(exc)
    loads_cleanly()
