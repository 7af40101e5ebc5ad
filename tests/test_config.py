"""The config object through the public API: add, select, rename, remove, files and errors."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

import takopi_nb as tk
from takopi_nb._config import TakopiConfig
from tests.leaks import places_with_secret

KEY = "sk-test-SECRET-0123456789abcdef"


def config_path(home: Path) -> Path:
    return home / "jupyter-config" / "takopi" / "providers.json"


def read_file(home: Path) -> dict:
    return json.loads(config_path(home).read_text())


def test_add_select_resolve_and_the_file_format(isolated_env: Path) -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="work-openai", api_key=KEY)
    assert not p.usable and p.status == "no models selected"
    p.models = ["gpt-5.2", "text-embedding-3-small", "gpt-5.2", "  "]
    assert p.models == ["gpt-5.2", "text-embedding-3-small"]
    assert p.usable and p.status == "usable"
    cfg.default_model = "work-openai/gpt-5.2"
    cfg.embedding_model = "work-openai/text-embedding-3-small"

    assert read_file(isolated_env) == {
        "version": 1,
        "providers": [
            {
                "id": "work-openai",
                "type": "openai",
                "name": "",
                "base_url": "",
                "models": ["gpt-5.2", "text-embedding-3-small"],
            }
        ],
        "default_model": "work-openai/gpt-5.2",
        "embedding_model": "work-openai/text-embedding-3-small",
    }
    m = tk.resolve("work-openai/gpt-5.2")
    assert (m.provider_id, m.model_id, m.provider_type) == ("work-openai", "gpt-5.2", "openai")
    assert m.base_url == "https://api.openai.com/v1"
    assert m.credential_source == "keyring"
    assert m.headers() == {"Authorization": f"Bearer {KEY}"}
    with pytest.raises(AttributeError):
        m.model_id = "x"  # type: ignore[misc]
    assert KEY not in repr(m) and KEY not in repr(p) and KEY not in repr(cfg)
    assert cfg.get("work-openai") is p and "work-openai" in cfg and list(cfg) == [p]


def test_ids_default_to_the_type_then_numbered() -> None:
    cfg = tk.get_config()
    ids = [cfg.add_provider("openrouter").id for _ in range(3)]
    assert ids == ["openrouter", "openrouter-2", "openrouter-3"]


@pytest.mark.parametrize("bad", ["", "Work", "-x", "a b", "x" * 65, "ü", "a/b"])
def test_bad_ids_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(tk.ConfigError, match="lowercase letters"):
        tk.get_config().add_provider("openai", id=bad)


def test_duplicate_id_is_refused_and_suggests_another() -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="main")
    with pytest.raises(tk.ConfigError, match=r"already exists.*'main-2'"):
        cfg.add_provider("anthropic", id="main")
    assert [p.type for p in cfg.providers] == ["openai"]


@pytest.mark.parametrize("url", ["ftp://x/v1", "not a url", "https://", "https://u:p@x/v1"])
def test_bad_base_urls_are_refused(url: str) -> None:
    cfg = tk.get_config()
    with pytest.raises(tk.ConfigError):
        cfg.add_provider("openai", base_url=url)
    p = cfg.add_provider("openai", id="ok")
    with pytest.raises(tk.ConfigError):
        p.base_url = url
    assert p.base_url == ""


def test_plain_http_warns_except_to_loopback() -> None:
    cfg = tk.get_config()
    with pytest.warns(tk.ConfigWarning, match="unencrypted"):
        cfg.add_provider("openai", id="lan", base_url="http://10.1.2.3:8000/v1/")
    assert cfg.get("lan").base_url == "http://10.1.2.3:8000/v1"
    p = cfg.add_provider("openai", id="local", base_url="http://127.0.0.1:8080/v1")
    p.base_url = "http://localhost:9/v1"
    with pytest.warns(tk.ConfigWarning):
        p.base_url = "http://proxy.corp/v1"


def test_id_cannot_be_set_directly_and_type_is_fixed() -> None:
    p = tk.get_config().add_provider("openai", id="a")
    with pytest.raises(tk.ConfigError, match="rename_provider"):
        p.id = "b"
    with pytest.raises(tk.ConfigError, match="cannot be changed"):
        p.type = "anthropic"


def test_rename_rewrites_own_refs_moves_the_secret_and_explains_old_refs(
    isolated_env: Path,
) -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="work-openai", api_key=KEY, models=["gpt-5.2", "emb"])
    cfg.default_model = "work-openai/gpt-5.2"
    cfg.embedding_model = "work-openai/emb"
    assert cfg.rename_provider("work-openai", "openai-main") == []
    assert p.id == "openai-main" and cfg.get("openai-main") is p
    assert (cfg.default_model, cfg.embedding_model) == ("openai-main/gpt-5.2", "openai-main/emb")
    assert tk.resolve("openai-main/gpt-5.2").headers()["Authorization"].endswith(KEY)
    with pytest.raises(tk.ModelNotFoundError, match="renamed to 'openai-main'"):
        tk.resolve("work-openai/gpt-5.2")
    with pytest.raises(tk.ModelNotFoundError, match="renamed to 'openai-main'"):
        cfg.get("work-openai")
    assert read_file(isolated_env)["default_model"] == "openai-main/gpt-5.2"
    cfg.add_provider("anthropic", id="taken")
    with pytest.raises(tk.ConfigError, match="already used"):
        cfg.rename_provider("openai-main", "taken")
    assert p.id == "openai-main"


def test_remove_deletes_the_secret(memory_keyring) -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="gone", api_key=KEY)
    assert memory_keyring.passwords
    cfg.remove_provider("gone")
    assert not memory_keyring.passwords and "gone" not in cfg
    with pytest.raises(tk.ModelNotFoundError):
        cfg.remove_provider("gone")


def test_embedding_model_rejects_codex() -> None:
    cfg = tk.get_config()
    cfg.add_provider("codex", id="chatgpt", models=["gpt-5.2"])
    with pytest.raises(tk.EmbeddingsNotSupportedError, match="openai"):
        cfg.embedding_model = "chatgpt/gpt-5.2"
    assert cfg.embedding_model == ""
    with pytest.raises(tk.RefError):
        cfg.default_model = "no-slash"


def test_codex_takes_no_api_key() -> None:
    cfg = tk.get_config()
    with pytest.raises(tk.ConfigError, match="sign in"):
        cfg.add_provider("codex", api_key="sk-x")
    cx = cfg.add_provider("codex", id="chatgpt")
    with pytest.raises(tk.ConfigError):
        cx.set_api_key("sk-x")
    assert cx.credential_source is None and cx.status == "not signed in"


def test_model_not_in_catalog_may_be_selected() -> None:
    p = tk.get_config().add_provider("openai", models=["my-finetune:ft-123", "gpt-99-preview"])
    assert tk.resolve("openai/gpt-99-preview").model_id == "gpt-99-preview"
    assert p.models == ["my-finetune:ft-123", "gpt-99-preview"]


def test_settings_from_ipython_config_style(tmp_path: Path) -> None:
    from traitlets.config import Config

    c = Config()
    c.TakopiConfig.config_file = str(tmp_path / "elsewhere.json")
    c.TakopiConfig.secret_backend = "file"
    cfg = TakopiConfig(config=c)
    cfg.add_provider("openai", id="x", api_key=KEY)
    assert (tmp_path / "elsewhere.json").exists()
    assert cfg.get("x").credential_source == "file"


def test_takopi_nb_config_env_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TAKOPI_NB_CONFIG", str(tmp_path / "named.json"))
    tk.get_config().add_provider("deepseek")
    assert json.loads((tmp_path / "named.json").read_text())["providers"][0]["id"] == "deepseek"


def test_trait_changes_notify_observers() -> None:
    cfg = tk.get_config()
    p = cfg.add_provider("openai")
    seen: list[tuple[str, object]] = []
    p.observe(lambda c: seen.append((c["name"], c["new"])), names=["models"])
    cfg.observe(lambda c: seen.append((c["name"], len(c["new"]))), names=["providers"])
    p.models = ["a"]
    cfg.add_provider("anthropic")
    assert seen == [("models", ["a"]), ("providers", 2)]


# -- files: corrupt, newer, admin layers ------------------------------------------------


def test_corrupt_file_is_kept_aside_with_a_clear_notice(isolated_env: Path) -> None:
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "providers": [')
    with pytest.warns(tk.ConfigWarning, match="not valid JSON.*moved to"):
        cfg = tk.get_config()
    aside = list(path.parent.glob("providers.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"version": 1, "providers": ['
    assert any(str(aside[0]) in n for n in cfg.notices)
    cfg.add_provider("openai")
    assert read_file(isolated_env)["providers"][0]["id"] == "openai"
    assert aside[0].read_text() == '{"version": 1, "providers": ['


def test_bad_entries_are_skipped_but_never_dropped_from_the_file(isolated_env: Path) -> None:
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    weird = {"id": "Bad Id", "type": "openai", "future_field": [1, 2]}
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "providers": [weird, {"id": "ok", "type": "openai", "models": ["m"]}],
                "something_new": {"keep": True},
            }
        )
    )
    with pytest.warns(tk.ConfigWarning, match="Bad Id"):
        cfg = tk.get_config()
    assert [p.id for p in cfg.providers] == ["ok"]
    cfg.get("ok").models = ["m", "n"]
    doc = read_file(isolated_env)
    assert doc["providers"][0] == weird and doc["something_new"] == {"keep": True}


def test_file_from_a_newer_version_is_read_but_not_overwritten(isolated_env: Path) -> None:
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    original = json.dumps({"version": 7, "providers": [{"id": "a", "type": "openai"}]})
    path.write_text(original)
    cfg = tk.get_config()
    assert [p.id for p in cfg.providers] == ["a"]
    with pytest.raises(tk.ConfigError, match="newer takopi_nb"):
        cfg.add_provider("anthropic")
    assert path.read_text() == original and [p.id for p in cfg.providers] == ["a"]


def write_admin(admin_dir: Path, doc: dict) -> Path:
    path = admin_dir / "takopi" / "providers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_admin_layer_providers_are_managed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    admin = tmp_path / "etc-jupyter"
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(admin))
    write_admin(
        admin,
        {
            "version": 1,
            "providers": [
                {
                    "id": "corp",
                    "type": "openai",
                    "name": "Corp proxy",
                    "base_url": "https://llm.corp.example/v1",
                    "models": ["gpt-5.2"],
                    "api_key_env": "CORP_KEY",
                }
            ],
            "default_model": "corp/gpt-5.2",
        },
    )
    monkeypatch.setenv("CORP_KEY", KEY)
    cfg = tk.get_config()
    corp = cfg.get("corp")
    assert corp.managed and corp.credential_source == "env:CORP_KEY"
    assert cfg.default_model == "corp/gpt-5.2"
    m = tk.resolve("corp/gpt-5.2")
    assert m.base_url == "https://llm.corp.example/v1" and m.headers()["Authorization"].endswith(
        KEY
    )

    with pytest.raises(tk.ConfigError, match="managed"):
        cfg.remove_provider("corp")
    with pytest.raises(tk.ConfigError, match="managed"):
        corp.base_url = "https://elsewhere/v1"
    with pytest.raises(tk.ConfigError, match="managed"):
        cfg.rename_provider("corp", "mine")
    corp.models = ["gpt-5.2", "gpt-5.4"]  # users may select models
    corp.set_api_key("sk-user-own-key-000000000")  # and add their own key
    assert corp.credential_source == "keyring"
    user_entries = read_file(isolated_env)["providers"]
    assert user_entries == [{"id": "corp", "models": ["gpt-5.2", "gpt-5.4"]}]
    cfg.add_provider("anthropic", id="mine")
    assert [p.id for p in cfg.providers] == ["corp", "mine"]
    with pytest.raises(tk.ConfigError, match="already exists"):
        cfg.add_provider("openai", id="corp")


def test_a_broken_admin_file_is_reported_not_fatal(tmp_path: Path, monkeypatch) -> None:
    admin = tmp_path / "etc-jupyter"
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(admin))
    path = write_admin(admin, {})
    path.write_text("{oops")
    with pytest.warns(tk.ConfigWarning, match="administrator"):
        cfg = tk.get_config()
    cfg.add_provider("openai")
    assert path.read_text() == "{oops"


def test_config_file_is_not_world_writable_and_has_no_secret(isolated_env: Path) -> None:
    tk.get_config().add_provider("openai", api_key=KEY)
    mode = stat.S_IMODE(os.stat(config_path(isolated_env)).st_mode)
    assert not mode & stat.S_IWOTH


# -- secret leak search over everything that can be seen ----------------------------------


def test_the_key_appears_nowhere(
    isolated_env: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[object] = []
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="w", api_key=KEY, models=["gpt-5.2"])
    texts += [p, cfg, tk.resolve("w/gpt-5.2"), p.credential_source, p.status]
    p.models = ["gpt-5.2", "x"]
    cfg.rename_provider("w", "v")
    texts += [cfg.get("v"), tk.resolve("v/x")]
    for bad in (lambda: tk.resolve("w/x"), lambda: tk.resolve("v/nope"), lambda: cfg.get("zz")):
        with pytest.raises(tk.TakopiError) as info:
            bad()
        texts.append(info.value)
    p.clear_api_key()
    with pytest.raises(tk.MissingCredentialsError) as missing:
        tk.resolve("v/x").headers()
    texts.append(missing.value)
    cfg.remove_provider("v")
    out = capsys.readouterr()
    texts += [out.out, out.err, *[r.getMessage() for r in caplog.records]]
    assert places_with_secret(KEY, dirs=[isolated_env], texts=texts) == []
