"""Defects found by an adversarial pass (issue 11), each kept out by a test of its own."""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import takopi_nb as tk
from takopi_nb._config import TakopiConfig
from tests.leaks import places_with_secret
from tests.shells import takopi_shell

KEY = "sk-test-SECRET-0123456789abcdef"


def config_path(home: Path) -> Path:
    return home / "jupyter-config" / "takopi" / "providers.json"


def write_config(home: Path, doc: object) -> Path:
    path = config_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def loads_cleanly(home: Path) -> TakopiConfig:
    """A fresh config (another kernel) reading the file: no warning, no notice."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = TakopiConfig()
        cfg.reload_if_changed()
    assert list(cfg.notices) == []
    return cfg


def shell_output(line: str) -> str:
    """What ``%takopi LINE`` shows, in a fresh IPython shell."""
    with takopi_shell() as shell:
        return str(shell.run_line_magic("takopi", line))


# -- 2 and 16: a file broken by hand ---------------------------------------------------------


def test_a_save_after_the_file_broke_fails_at_once_and_says_where_the_copy_is(
    isolated_env: Path,
) -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="work", models=["gpt-5.2"])
    config_path(isolated_env).write_text('{"version": 1, "providers": [')  # a hand edit
    # Before the fix the store took its own lock twice: a 30 s stall blaming "another process".
    with pytest.warns(tk.ConfigWarning, match="damaged"), pytest.raises(tk.ConfigError) as err:
        p.models = ["gpt-5.2", "gpt-5.2-mini"]
    kept = list(config_path(isolated_env).parent.glob("providers.json.corrupt-*"))
    assert len(kept) == 1 and str(kept[0]) in str(err.value)
    assert "another process" not in str(err.value)
    assert kept[0].read_text() == '{"version": 1, "providers": ['


def test_after_a_corrupt_file_is_moved_aside_every_error_names_the_kept_copy(
    isolated_env: Path,
) -> None:
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.warns(tk.ConfigWarning, match="damaged"):
        cfg = tk.get_config()
    kept = str(next(path.parent.glob("providers.json.corrupt-*")))
    with pytest.raises(tk.ModelNotFoundError) as err:
        tk.resolve("work/gpt-5.2")
    assert kept in str(err.value) and "no providers are configured yet" not in str(err.value)
    with pytest.raises(tk.ModelNotFoundError, match="damaged"):
        cfg.get("work")
    assert any(kept in n for n in cfg.notices)  # what the panel and %takopi list show
    # Another kernel (a fresh store) says the same, until the user acts.
    with pytest.warns(tk.ConfigWarning, match="damaged"):
        other = TakopiConfig()
        other.reload_if_changed()
    assert any(kept in n for n in other.notices)
    listed = shell_output("list")
    assert kept in listed
    cfg.add_provider("openai", id="work", models=["gpt-5.2"])  # the user acts
    assert tk.resolve("work/gpt-5.2").model_id == "gpt-5.2"
    assert list(cfg.notices) == []
    loads_cleanly(isolated_env)


def test_deeply_nested_json_is_moved_aside_not_a_recursion_error(isolated_env: Path) -> None:
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.warns(tk.ConfigWarning, match="nested too deeply"):
        cfg = tk.get_config()
    assert cfg.providers == [] and not path.exists()


# -- 3: one bad Base URL in the file ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["http://[::1", "http://x:99999", "http://x:abc", "http://a\x00b"])
def test_one_bad_base_url_in_the_file_skips_only_that_provider(
    isolated_env: Path, bad: str
) -> None:
    write_config(
        isolated_env,
        {
            "version": 1,
            "providers": [
                {"id": "bad", "type": "openai", "base_url": bad, "models": ["m"]},
                {"id": "good", "type": "openai", "models": ["m"]},
            ],
        },
    )
    with pytest.warns(tk.ConfigWarning, match="Invalid Base URL"):
        cfg = tk.get_config()
    assert [p.id for p in cfg.providers] == ["good"]
    assert any("'bad'" in n or "bad" in n for n in cfg.notices)
    # Later calls see the same, not an empty list without a notice.
    assert [p.id for p in tk.get_config().providers] == ["good"]
    assert tk.resolve("good/m").provider_id == "good"


def test_the_rest_views_keep_answering_with_one_bad_base_url_in_the_file(
    isolated_env: Path,
) -> None:
    from takopi_nb.server import _views as views

    write_config(
        isolated_env,
        {
            "version": 1,
            "providers": [
                {"id": "bad", "type": "openai", "base_url": "http://[::1", "models": ["m"]},
                {"id": "good", "type": "openai", "models": ["m"]},
            ],
        },
    )
    with pytest.warns(tk.ConfigWarning):
        cfg = tk.get_config()
    for _ in range(2):  # the first answer and the next: no 500, no stale empty list
        status = views.status_view(cfg, {})
        listing = views.providers_view(cfg)
        assert status["providers"] == 1 and any("Invalid Base URL" in n for n in status["notices"])
        assert [p["id"] for p in listing["providers"]] == ["good"]


@pytest.mark.parametrize(
    "bad", ["http://[::1", "http://x:99999", "http://x:abc", "http://a\x00b", "ftp://x", "http://"]
)
def test_a_bad_base_url_through_the_api_is_a_config_error_and_writes_nothing(
    isolated_env: Path, bad: str
) -> None:
    cfg = tk.get_config()
    with pytest.raises(tk.ConfigError, match="Base URL"):
        cfg.add_provider("openai", id="x", base_url=bad)
    p = cfg.add_provider("openai", id="y")
    before = config_path(isolated_env).read_bytes()
    with pytest.raises(tk.ConfigError, match="Base URL"):
        p.base_url = bad
    assert config_path(isolated_env).read_bytes() == before and p.base_url == ""


# -- 4: a key is bound to the origin it was saved for ----------------------------------------


def test_a_moved_base_url_holds_the_key_back_until_confirmed(isolated_env: Path) -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="work", api_key=KEY, models=["gpt-5.2"])
    m = tk.resolve("work/gpt-5.2")
    assert m.headers()["Authorization"] == f"Bearer {KEY}"
    p.base_url = "https://api.openai.com.evil.example/v1"  # a typo'd domain
    m = tk.resolve("work/gpt-5.2")
    with pytest.raises(tk.MissingCredentialsError) as err:
        m.headers()
    message = str(err.value)
    assert "https://api.openai.com" in message and "api.openai.com.evil.example" in message
    assert "%takopi confirm work" in message and ".confirm_base_url()" in message
    assert KEY not in message and "held back" in p.status
    assert p.credential_source == "keyring"  # where it is, even while held back
    # Another path on the same origin is fine; moving back is fine.
    p.base_url = "https://api.openai.com/v2"
    assert tk.resolve("work/gpt-5.2").headers()["Authorization"] == f"Bearer {KEY}"
    p.base_url = "https://proxy.example.com/v1"
    with pytest.raises(tk.MissingCredentialsError):
        tk.resolve("work/gpt-5.2").headers()
    p.confirm_base_url()
    assert tk.resolve("work/gpt-5.2").headers()["Authorization"] == f"Bearer {KEY}"
    assert p.status == "usable"
    assert places_with_secret(KEY, dirs=[isolated_env / "jupyter-config"]) == []


def test_a_new_key_entered_after_the_move_is_bound_to_the_new_host(isolated_env: Path) -> None:
    p = tk.get_config().add_provider("openai", id="work", api_key=KEY, models=["m"])
    p.base_url = "https://proxy.example.com/v1"
    p.set_api_key("sk-proxy-key-0123456789")
    assert tk.resolve("work/m").api_key() == "sk-proxy-key-0123456789"
    p.base_url = ""
    with pytest.raises(tk.MissingCredentialsError, match=r"proxy\.example\.com"):
        tk.resolve("work/m").api_key()


def test_an_environment_key_goes_only_to_the_types_host_unless_confirmed(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    p = tk.get_config().add_provider("openai", id="work", models=["m"])
    assert tk.resolve("work/m").api_key() == KEY
    p.base_url = "https://proxy.example.com/v1"
    with pytest.raises(tk.MissingCredentialsError, match=r"\$OPENAI_API_KEY") as err:
        tk.resolve("work/m").api_key()
    assert KEY not in str(err.value)
    p.confirm_base_url()
    assert tk.resolve("work/m").api_key() == KEY


def test_a_held_back_key_is_a_failed_connection_test_not_a_request(isolated_env: Path) -> None:
    p = tk.get_config().add_provider("openai", id="work", api_key=KEY, models=["m"])
    p.base_url = "http://127.0.0.1:9/v1"
    result = p.test_connection()
    assert not result.ok and "confirm" in result.message and KEY not in result.message


# -- 7 and 8: wrong types and values ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": 5},
        {"name": ["x"]},
        {"id": 5},
        {"id": ["x"]},
        {"models": None},
        {"models": 5},
        {"models": "abc"},
        {"models": [1, 2]},
        {"base_url": 5},
        {"api_key": 5},
    ],
)
def test_add_provider_with_a_wrong_type_raises_a_type_error_and_writes_nothing(
    isolated_env: Path, kwargs: dict[str, object]
) -> None:
    cfg = tk.get_config()
    with pytest.raises(tk.ConfigTypeError) as err:
        cfg.add_provider("openai", **kwargs)  # type: ignore[arg-type]
    assert isinstance(err.value, TypeError) and isinstance(err.value, tk.TakopiError)
    name = next(iter(kwargs))
    shown = {"id": "provider id", "base_url": "Base URL"}.get(name, name)
    assert shown in str(err.value)
    assert not config_path(isolated_env).exists()
    assert cfg.providers == []


@pytest.mark.parametrize("bad", [None, 5, ["x"], b"x"])
def test_lookups_with_a_wrong_type_raise_project_errors(bad: object) -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="x")
    assert (bad in cfg) is False
    for call in (cfg.get, cfg.remove_provider, lambda v: cfg.rename_provider(v, "y")):
        with pytest.raises(tk.ConfigTypeError, match="provider"):
            call(bad)
    with pytest.raises(tk.ConfigTypeError, match="provider id"):
        cfg.rename_provider("x", bad)  # type: ignore[arg-type]
    assert [p.id for p in cfg.providers] == ["x"]


@pytest.mark.parametrize("purpose", [5, None, "chatt"])
def test_resolve_with_a_bad_purpose_is_a_config_error(purpose: object) -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="x", models=["m"])
    for call in (tk.resolve, cfg.resolve):
        with pytest.raises(tk.ConfigError, match="purpose"):
            call("x/m", purpose=purpose)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("trait", "value"),
    [("models", None), ("models", 5), ("models", [1]), ("name", 5), ("base_url", None)],
)
def test_wrong_types_on_traits_are_type_errors_naming_the_trait(
    isolated_env: Path, trait: str, value: object
) -> None:
    p = tk.get_config().add_provider("openai", id="x", models=["m"])
    before = config_path(isolated_env).read_bytes()
    with pytest.raises(tk.ConfigTypeError, match=trait):
        setattr(p, trait, value)
    assert config_path(isolated_env).read_bytes() == before
    loads_cleanly(isolated_env)


@pytest.mark.parametrize(
    ("trait", "value"), [("type", "anthropic"), ("managed", True), ("api_key_env", "X"), ("id", 5)]
)
def test_fixed_traits_refuse_with_project_errors(trait: str, value: object) -> None:
    p = tk.get_config().add_provider("openai", id="x")
    with pytest.raises(tk.ConfigError, match=trait):
        setattr(p, trait, value)
    assert (p.id, p.type, p.managed, p.api_key_env) == ("x", "openai", False, "")


@pytest.mark.parametrize(
    ("trait", "value", "error"),
    [
        ("config_file", 5, tk.ConfigTypeError),
        ("codex_issuer", None, tk.ConfigTypeError),
        ("secret_backend", "vault", tk.ConfigError),
        ("secret_backend", 5, tk.ConfigTypeError),
        ("admin_config_files", [5], tk.ConfigTypeError),
        ("default_model", b"x", tk.ConfigTypeError),
        ("providers", [], tk.ConfigError),
        ("notices", [], tk.ConfigError),
    ],
)
def test_the_config_objects_settings_raise_project_errors(
    trait: str, value: object, error: type[Exception]
) -> None:
    cfg = tk.get_config()
    before = getattr(cfg, trait)
    with pytest.raises(error, match=trait):
        setattr(cfg, trait, value)
    assert getattr(cfg, trait) == before


def test_a_change_that_would_not_load_again_is_refused(isolated_env: Path) -> None:
    """The last line of defence under every public write: the store checks the new file."""
    cfg = tk.get_config()
    cfg.add_provider("openai", id="x")
    before = config_path(isolated_env).read_bytes()

    def breaks(doc: dict, snap: object) -> dict:
        return {**doc, "providers": [*doc["providers"], {"id": "y", "type": "openai", "name": 5}]}

    with pytest.raises(tk.ConfigError, match="would not load"):
        cfg.runtime.store.transact(breaks)
    assert config_path(isolated_env).read_bytes() == before


# -- 10, 12, 15: the file on disk ------------------------------------------------------------


def test_a_symlinked_config_file_stays_a_link_and_its_target_changes(
    isolated_env: Path,
) -> None:
    real = isolated_env / "dotfiles" / "providers.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"version": 1, "providers": []}))
    link = config_path(isolated_env)
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    tk.get_config().add_provider("openai", id="x")
    assert link.is_symlink()
    assert json.loads(real.read_text())["providers"][0]["id"] == "x"


def test_the_next_save_removes_temp_files_left_by_killed_writers(isolated_env: Path) -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="x")
    folder = config_path(isolated_env).parent
    for n in range(3):  # what a writer killed between mkstemp and os.replace leaves
        (folder / f".providers.json.dead{n}.tmp").write_bytes(b"x" * 1000)
    cfg.get("x").models = ["m"]
    assert sorted(p.name for p in folder.iterdir()) == ["providers.json", "providers.json.lock"]


@pytest.mark.timeout(120)
def test_a_fifo_in_place_of_the_file_is_reported_not_waited_on(isolated_env: Path) -> None:
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with pytest.warns(tk.ConfigWarning, match="not a regular file"):
        cfg = tk.get_config()
    assert cfg.providers == []
    with pytest.raises(tk.ConfigError, match="Not saved"):
        cfg.add_provider("openai")
    assert path.is_fifo()


def test_a_folder_in_place_of_the_file_or_its_lock_is_a_config_error(isolated_env: Path) -> None:
    path = config_path(isolated_env)
    path.mkdir(parents=True)
    with pytest.warns(tk.ConfigWarning, match="folder"):
        cfg = tk.get_config()
    with pytest.raises(tk.ConfigError):
        cfg.add_provider("openai")
    path.rmdir()
    lock = path.with_name("providers.json.lock")
    lock.unlink(missing_ok=True)
    lock.mkdir()
    cfg.reload_if_changed()
    with pytest.raises(tk.ConfigError, match=r"providers\.json\.lock"):
        cfg.add_provider("openai")


def test_a_regular_file_as_the_parent_folder_is_a_config_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = isolated_env / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("TAKOPI_NB_CONFIG", str(blocker / "providers.json"))
    cfg = tk.get_config()
    assert cfg.providers == []
    with pytest.raises(tk.ConfigError, match="not-a-folder"):
        cfg.add_provider("openai")


def test_concurrent_saves_in_one_process_do_not_deadlock_on_the_reentrant_lock(
    isolated_env: Path,
) -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="x")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                cfg.get("x").name = f"t{n}-{i}"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and p.name.startswith("t")
    loads_cleanly(isolated_env)


# -- 5 and 9: what a provider's reply can do -------------------------------------------------

GATEWAY_KEY = "gw0Secret9Token4Value7Abc"  # no sk-/Bearer shape: only the sent value can mask it


def test_a_key_echoed_in_a_non_json_reply_never_reaches_the_message() -> None:
    from tests.fakes.http import LoopbackServer, Response

    def echo(request: object) -> Response:
        key = request.header("x-api-key")  # type: ignore[attr-defined]
        return Response(200, f"<html>Welcome {key} to the gateway</html>".encode(), {}, "text/html")

    with LoopbackServer({("POST", "*"): echo}) as server:
        tk.get_config().add_provider(
            "anthropic", id="gw", api_key=GATEWAY_KEY, base_url=server.url, models=["claude-x"]
        )
        with pytest.raises(tk.ProviderRequestError) as err:
            tk.resolve("gw/claude-x").chat("hi")
        assert server.requests[0].header("x-api-key") == GATEWAY_KEY
    assert "not JSON" in str(err.value)
    assert places_with_secret(GATEWAY_KEY, texts=[err.value, repr(err.value)]) == []


def test_a_reply_cut_short_is_a_failed_connection_test() -> None:
    from tests.fakes.http import LoopbackServer, Response

    def cut(request: object) -> Response:
        def body() -> object:
            yield b'{"data": [{"id": "m"'
            raise ConnectionAbortedError("the fake drops the connection mid-body")

        return Response(200, body())  # type: ignore[arg-type]

    with LoopbackServer({("GET", "*"): cut}) as server:
        p = tk.get_config().add_provider(
            "openai", id="x", api_key=KEY, base_url=server.url + "/v1", models=["m"]
        )
        result = p.test_connection()
    assert not result.ok and "broke off" in result.message


# -- 4 and 11 in the panel and the magic -----------------------------------------------------


def widget_state() -> str:
    from ipywidgets.widgets.widget import _instances

    return json.dumps([w.get_state() for w in list(_instances.values())], default=str)


def test_a_key_pasted_into_the_wrong_panel_field_is_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from takopi_nb.widgets import ProvidersPanel

    caplog.set_level(logging.DEBUG)
    cfg = tk.get_config()
    cfg.add_provider("openai", id="work")
    panel = ProvidersPanel(cfg)
    try:
        form = panel.form
        assert form is not None
        form.base_url.set_state({"value": KEY})
        form.id_field.set_state({"value": KEY})
        panel.add_id.value = KEY
        panel.add_button.click()
        errors = list(panel.errors)
        assert len(errors) == 3 and all("not shown" in e for e in errors)
        assert cfg.get("work").base_url == "" and [p.id for p in cfg.providers] == ["work"]
        leaks = places_with_secret(KEY, texts=[widget_state(), caplog.text, *errors, *cfg.notices])
        assert leaks == []
    finally:
        panel.close()


@pytest.mark.parametrize(
    "pasted", [KEY, "sk-0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"]
)
def test_a_key_shaped_id_or_base_url_is_refused_without_echoing_it(
    isolated_env: Path, pasted: str
) -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="work")
    failures = []
    for call in (
        lambda: cfg.add_provider("openai", id=pasted),
        lambda: cfg.add_provider("openai", base_url=pasted),
        lambda: cfg.rename_provider("work", pasted),
        lambda: setattr(p, "base_url", pasted),
    ):
        with pytest.raises(tk.ConfigError) as err:
            call()
        failures.append(err.value)
    assert places_with_secret(pasted, dirs=[isolated_env], texts=failures) == []
    assert [q.id for q in cfg.providers] == ["work"]


def test_the_panel_offers_to_send_a_held_back_key_to_the_new_host() -> None:
    from takopi_nb.widgets import ProvidersPanel

    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="work", api_key=KEY, models=["m"])
    panel = ProvidersPanel(cfg)
    try:
        form = panel.form
        assert form is not None and form.confirm_key is not None
        assert form.confirm_key.layout.display == "none"
        form.base_url.set_state({"value": "https://proxy.example.com/v1"})
        assert form.confirm_key.layout.display != "none"
        assert "held back" in form.auth_status.value
        form.test_button.click()  # the credential is not sent; said in one line, not repeated
        assert form.test_done.wait(60)
        assert "held back until you confirm" in form.test_result.value
        assert "%takopi confirm" not in form.test_result.value
        form.confirm_key.click()
        assert form.confirm_key.layout.display == "none"
        assert tk.resolve("work/m").api_key() == KEY and p.status == "usable"
        assert KEY not in widget_state()
    finally:
        panel.close()


def test_the_magic_confirms_a_moved_base_url(shell: InteractiveShell) -> None:
    p = tk.get_config().add_provider("openai", id="work", api_key=KEY, models=["m"])
    p.base_url = "https://proxy.example.com/v1"
    shown = str(shell.run_line_magic("takopi", "resolve work/m"))
    assert "held back" in shown and "%takopi confirm work" in shown and KEY not in shown
    with pytest.raises(tk.MissingCredentialsError):
        tk.resolve("work/m").api_key()
    shell.run_line_magic("takopi", "confirm work")
    assert tk.resolve("work/m").api_key() == KEY
    with pytest.raises(UsageError):
        shell.run_line_magic("takopi", "confirm nope")
