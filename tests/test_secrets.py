"""Where keys go and where they are read from: keyring, private file, environment."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

import takopi_nb as tk
from takopi_nb._secrets import SecretStore, mask_secret
from tests.fakes.keyring_backend import MemoryKeyring
from tests.leaks import places_with_secret

KEY = "sk-ant-SECRET-abcdefghijklmnop"


class LockedKeyring(MemoryKeyring):
    """Like a Secret Service whose collection is locked: every call fails."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("collection is locked")

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("collection is locked")


def secrets_file(home: Path) -> Path:
    return home / "jupyter-data" / "takopi" / "secrets.json"


def test_keys_go_to_the_keyring(memory_keyring: MemoryKeyring, isolated_env: Path) -> None:
    p = tk.get_config().add_provider("anthropic", id="claude", api_key=KEY)
    assert memory_keyring.passwords == {("takopi_nb", "claude"): KEY}
    assert p.credential_source == "keyring" and tk.get_config().secret_notice is None
    assert not secrets_file(isolated_env).exists()
    assert places_with_secret(KEY, dirs=[isolated_env]) == []


def test_headless_linux_default_falls_back_to_a_private_file(isolated_env: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    cfg = tk.get_config()
    p = cfg.add_provider("anthropic", id="claude", api_key=KEY, models=["claude-sonnet-4-5"])
    assert p.credential_source == "file"
    path = secrets_file(isolated_env)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["secrets"] == {"claude": KEY}
    assert str(path) in cfg.secret_notice and "keyring" in cfg.secret_notice
    assert any(str(path) in n for n in cfg.notices)
    assert tk.resolve("claude/claude-sonnet-4-5").headers()["x-api-key"] == KEY
    p.clear_api_key()
    assert json.loads(path.read_text())["secrets"] == {}


def test_a_failing_keyring_falls_back_to_the_file_and_says_so(isolated_env: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    cfg = tk.get_config()
    p = cfg.add_provider("openai", id="o", api_key=KEY)
    assert p.credential_source == "file"
    assert "failed" in cfg.secret_notice


def test_forcing_the_keyring_reports_a_locked_one_clearly() -> None:
    keyring.set_keyring(LockedKeyring())
    store = SecretStore("keyring")
    with pytest.raises(tk.ConfigError, match="Unlock it") as info:
        store.set("x", KEY)
    assert KEY not in str(info.value)


def test_environment_variables_are_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-000000000000")
    cfg = tk.get_config()
    p = cfg.add_provider("openai", models=["gpt-5.2"])
    assert p.credential_source == "env:OPENAI_API_KEY"
    assert (
        tk.resolve("openai/gpt-5.2").headers()["Authorization"] == "Bearer sk-from-env-000000000000"
    )
    p.set_api_key(KEY)
    assert p.credential_source == "keyring"
    monkeypatch.setenv("ZHIPU_API_KEY", "zk-000000000000")
    assert cfg.add_provider("zai").credential_source == "env:ZHIPU_API_KEY"


def test_missing_key_is_reported_at_use_time_with_where_to_put_it() -> None:
    tk.get_config().add_provider("openrouter", id="or", models=["openai/gpt-4o"])
    m = tk.resolve("or/openai/gpt-4o")
    assert m.model_id == "openai/gpt-4o" and m.credential_source is None
    with pytest.raises(tk.MissingCredentialsError) as info:
        m.headers()
    message = str(info.value)
    assert "%takopi providers" in message and "OPENROUTER_API_KEY" in message
    assert "set_api_key" in message


def test_rename_moves_the_file_secret_too(isolated_env: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    cfg = tk.get_config()
    cfg.add_provider("openai", id="a", api_key=KEY)
    cfg.rename_provider("a", "b")
    assert json.loads(secrets_file(isolated_env).read_text())["secrets"] == {"b": KEY}


def test_a_damaged_secrets_file_is_not_fatal_and_not_overwritten_silently(
    isolated_env: Path,
) -> None:
    path = secrets_file(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    store = SecretStore("file", path)
    assert store.get("x") is None


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("", ""), ("short", "••••"), ("sk-proj-0123456789ABCD", "••••ABCD")],
)
def test_mask_shows_at_most_the_last_four(secret: str, shown: str) -> None:
    assert mask_secret(secret) == shown


def test_store_repr_has_no_secret(tmp_path: Path) -> None:
    store = SecretStore("file", tmp_path / "s.json")
    store.set("p", KEY)
    assert KEY not in repr(store) and store.get("p") == (KEY, "file")
    store.move("p", "q")
    assert store.get("p") is None and store.get("q") == (KEY, "file")
