"""A Codex CLI sign-in kept in the OS keyring (or found by "auto") is shared like auth.json.

The keyring is the in-memory backend holding the entry exactly as the CLI writes
it (tests/fakes/codex_cli.py); the ChatGPT fake makes every refresh token single
use, so ``refresh_token_reused`` staying at zero while both sides refresh proves
the chain was never forked.
"""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from IPython.core.interactiveshell import InteractiveShell
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked

import takopi_nb as tk
from tests.codex.provider import codex_provider, stored
from tests.fakes.codex_cli import SERVICE, FakeCodexCli, cli_document
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.keyring_backend import MemoryKeyring
from tests.leaks import places_with_secret


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(path))
    return path


def force_refresh(fake: FakeChatGPT, pid: str = "chatgpt") -> None:
    """A call after the backend rejected the access token: a refresh, then the answer."""
    fake.invalidate_access_token(stored(pid)["access_token"])
    assert tk.resolve(f"{pid}/gpt-5.5").chat("again") == "Hello from the fake Codex."


def cli_entries(backend: MemoryKeyring) -> list[str]:
    return [account for service, account in backend.passwords if service == SERVICE]


def test_keyring_sign_in_is_shared_and_both_keep_working(
    chatgpt: FakeChatGPT, home: Path, memory_keyring: MemoryKeyring
) -> None:
    cli = FakeCodexCli(home, "keyring")
    cli.sign_in(chatgpt.issue_tokens(plan="pro"))
    assert not cli.auth_file.exists() and cli_entries(memory_keyring) == [cli.account]
    p = codex_provider(chatgpt)

    account = p.login_from_codex_cli(dry_run=True)
    assert (account.email, account.plan_label) == ("ada@example.com", "Pro")
    assert tk.get_config().runtime.secrets.get("chatgpt") is None
    p.login_from_codex_cli()
    assert tk.resolve("chatgpt/gpt-5.5").chat("hi") == "Hello from the fake Codex."

    force_refresh(chatgpt)
    assert chatgpt.counts["refresh_ok"] == 1
    value = cli.keyring_value()
    assert value is not None and "\n" not in value  # compact JSON, as the CLI writes it
    doc = json.loads(value)
    assert doc["tokens"]["refresh_token"] == stored()["refresh_token"]
    assert chatgpt.is_current_refresh_token(doc["tokens"]["refresh_token"])
    assert doc["auth_mode"] == "chatgpt" and doc["OPENAI_API_KEY"] is None
    assert doc["last_refresh"].endswith("Z")
    assert cli_entries(memory_keyring) == [cli.account] and not cli.auth_file.exists()

    cli.refresh(chatgpt.issuer)  # the CLI refreshes from the entry we wrote ...
    force_refresh(chatgpt)  # ... and we take its tokens instead of reusing ours
    assert stored()["refresh_token"] == cli.tokens()["refresh_token"]
    cli.refresh(chatgpt.issuer)
    assert chatgpt.is_current_refresh_token(cli.tokens()["refresh_token"])
    assert chatgpt.counts["refresh_token_reused"] == 0
    assert chatgpt.counts["refresh_token_invalidated"] == 0


def test_auto_reads_the_file_until_the_cli_moves_to_the_keyring(
    chatgpt: FakeChatGPT, home: Path, memory_keyring: MemoryKeyring
) -> None:
    cli = FakeCodexCli(home, "auto")
    cli.save_to_file(cli_document(chatgpt.issue_tokens()))  # the keyring failed at its login
    p = codex_provider(chatgpt)
    p.login_from_codex_cli()
    force_refresh(chatgpt)
    assert (
        json.loads(cli.auth_file.read_text())["tokens"]["refresh_token"]
        == (stored()["refresh_token"])
    )
    assert cli_entries(memory_keyring) == []  # written back where it was, not moved

    cli.refresh(chatgpt.issuer)  # "auto" saves to the keyring now, and deletes auth.json
    assert not cli.auth_file.exists() and cli_entries(memory_keyring) == [cli.account]
    force_refresh(chatgpt)
    assert "linked_file" in stored()  # still shared: found in the keyring
    assert cli.tokens()["refresh_token"] == stored()["refresh_token"]
    cli.refresh(chatgpt.issuer)
    assert chatgpt.counts["refresh_token_reused"] == 0


def test_auto_falls_back_to_the_file_without_a_keyring(chatgpt: FakeChatGPT, home: Path) -> None:
    cli = FakeCodexCli(home, "auto")
    cli.save_to_file(cli_document(chatgpt.issue_tokens()))
    p = tk.get_config().add_provider("codex", id="chatgpt")
    keyring.set_keyring(fail.Keyring())  # restored by the memory_keyring fixture
    assert p.login_from_codex_cli(dry_run=True).email == "ada@example.com"


def test_an_explicit_path_still_means_that_file(
    chatgpt: FakeChatGPT, home: Path, tmp_path: Path
) -> None:
    FakeCodexCli(home, "keyring")  # no keyring entry: the file given is used
    other = FakeCodexCli(tmp_path / "elsewhere")
    other.sign_in(chatgpt.issue_tokens(email="bob@example.com"))
    p = codex_provider(chatgpt)
    assert p.login_from_codex_cli(other.auth_file).email == "bob@example.com"


def test_codex_logout_from_the_keyring_lets_ours_go_on_alone(
    chatgpt: FakeChatGPT, home: Path, memory_keyring: MemoryKeyring
) -> None:
    cli = FakeCodexCli(home, "keyring")
    cli.sign_in(chatgpt.issue_tokens())
    p = codex_provider(chatgpt)
    p.login_from_codex_cli()
    memory_keyring.delete_password(SERVICE, cli.account)  # codex logout
    force_refresh(chatgpt)
    assert "linked_file" not in stored() and cli_entries(memory_keyring) == []


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("locked")


API_KEY = "sk-cli-apikey-SECRET-42"


@pytest.mark.parametrize(
    ("mode", "extra", "entry", "expected"),
    [
        ("keyring", "", None, "No Codex CLI sign-in in the OS keyring"),
        ("keyring", "", "{not json", "is not JSON"),
        ("keyring", "", "[1, 2]", "not a JSON object"),
        (
            "keyring",
            "",
            json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": API_KEY}),
            "%takopi import",
        ),
        ("keyring", "", "locked", "Unlock it"),
        ("keyring", "", "none", "no OS keyring is usable"),
        ("ephemeral", "", None, "in the memory of each CLI process only"),
        ("keyring", "[features]\nsecret_auth_storage = true", None, "secret_auth_storage"),
        ("sometimes", "", None, "is not a value the Codex CLI knows"),
        ("keyring\nbroken = = 1", "", None, "is not valid TOML"),
    ],
)
def test_unusable_cli_storage_says_what_is_wrong_and_how_to_fix_it(
    home: Path,
    memory_keyring: MemoryKeyring,
    mode: str,
    extra: str,
    entry: str | None,
    expected: str,
) -> None:
    cli = FakeCodexCli(home, mode, extra_config=extra)
    if entry == "locked":
        keyring.set_keyring(LockedKeyring())
    elif entry == "none":
        keyring.set_keyring(fail.Keyring())
    elif entry is not None:
        memory_keyring.passwords[(SERVICE, cli.account)] = entry
    p = tk.get_config().add_provider("codex", id="chatgpt")
    with pytest.raises(tk.AuthError) as caught:
        p.login_from_codex_cli()
    message = str(caught.value)
    assert expected in message, message
    assert any(fix in message for fix in ("codex login", "config.toml", "Unlock")), message
    assert API_KEY not in message


def test_import_lists_the_keyring_sign_in_and_shares_it(
    chatgpt: FakeChatGPT,
    home: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    isolated_env: Path,
) -> None:
    cli = FakeCodexCli(home, "keyring")
    tokens = chatgpt.issue_tokens()
    cli.sign_in(tokens)
    found = tk.find_credentials()
    assert [(f.source, f.name, f.provider_type, f.kind) for f in found] == [
        ("codex-cli", "keyring", "codex", "oauth")
    ]
    assert "OS keyring" in found[0].where and found[0].importable

    listing = shell.run_line_magic("takopi", "import")
    shown = str(listing) + repr(listing) + getattr(listing, "_repr_html_", lambda: "")()
    assert "codex-cli OS keyring" in shown and "shared" in shown
    shell.run_line_magic("takopi", "import 1")
    out = capsys.readouterr().out
    assert "from the Codex CLI into 'codex'" in out and "shared" in out

    p = tk.get_config().get("codex")
    p.base_url = chatgpt.codex_base  # the sign-in was made for chatgpt.com: confirm the move
    p.confirm_base_url()
    p.models = ["gpt-5.5"]
    force_refresh(chatgpt, "codex")
    assert cli.tokens()["refresh_token"] == stored("codex")["refresh_token"]
    cli.refresh(chatgpt.issuer)
    assert chatgpt.counts["refresh_token_reused"] == 0

    new = cli.tokens()
    texts = [out, shown, *found, *(repr(f) for f in found), repr(p), repr(tk.get_config())]
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token, *new.values()):
        if len(secret) > 20:  # the account id is not a secret
            assert places_with_secret(secret, dirs=[isolated_env], texts=texts) == []


def test_an_api_key_sign_in_of_the_cli_is_listed_and_imported_as_a_key(
    home: Path, memory_keyring: MemoryKeyring
) -> None:
    cli = FakeCodexCli(home, "keyring")
    cli.save_to_keyring({"auth_mode": "apikey", "OPENAI_API_KEY": API_KEY})
    (found,) = tk.find_credentials()
    assert (found.source, found.provider_type, found.kind) == ("codex-cli", "openai", "api_key")
    provider, said = tk.import_credential(found)
    assert provider.type == "openai" and API_KEY not in said + repr(found)
    assert tk.get_config().runtime.secrets.get(provider.id) == (API_KEY, "keyring")


def test_an_unreadable_cli_sign_in_is_listed_with_the_reason(home: Path) -> None:
    FakeCodexCli(home, "keyring")
    keyring.set_keyring(LockedKeyring())
    (found,) = tk.find_credentials()
    assert not found.importable and "Unlock it" in found.note
    assert found.where == f"codex-cli (CODEX_HOME {home})"
    with pytest.raises(tk.ConfigError, match="cannot be imported"):
        tk.import_credential(found)
    assert tk.get_config().providers == []


def test_no_cli_sign_in_lists_nothing(home: Path) -> None:
    FakeCodexCli(home, "auto")
    assert tk.find_credentials() == []


def test_the_magic_says_the_sign_in_is_in_the_keyring(
    chatgpt: FakeChatGPT,
    home: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = FakeCodexCli(home, "keyring")
    tokens = chatgpt.issue_tokens()
    cli.sign_in(tokens)
    codex_provider(chatgpt)
    shell.run_line_magic("takopi", "login chatgpt --from-codex-cli --yes")
    out = capsys.readouterr().out
    assert (
        f'Codex CLI sign-in in the OS keyring (service "Codex Auth", account "{cli.account}"' in out
    )
    assert "written back to the OS keyring" in out
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token):
        assert places_with_secret(secret, texts=[out]) == []


def test_a_file_sign_in_of_the_cli_is_listed_with_its_path_and_shared(
    chatgpt: FakeChatGPT, home: Path
) -> None:
    cli = FakeCodexCli(home)  # no setting: the CLI's default, auth.json
    cli.sign_in(chatgpt.issue_tokens())
    (found,) = tk.find_credentials()
    assert (found.name, found.where) == ("auth.json", f"codex-cli {home / 'auth.json'}")
    provider, said = tk.import_credential(found, into=codex_provider(chatgpt).id)
    assert provider.id == "chatgpt" and "shared" in said
    force_refresh(chatgpt)
    assert cli.tokens()["refresh_token"] == stored()["refresh_token"]
    cli.refresh(chatgpt.issuer)
    assert chatgpt.counts["refresh_token_reused"] == 0
