"""Reusing a Codex CLI sign-in: the CLI's auth.json is shared, so both keep a valid token chain.

The "CLI" here does what ``codex-rs/login`` does when it refreshes: re-read
``auth.json`` first (a guarded reload), refresh with the refresh token found
there, write the answer back. Every refresh token is single use on the fake, and
a reuse would revoke the family, so ``refresh_token_reused`` staying at zero and
both holders' calls working proves the chain was never forked.
"""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import takopi_nb as tk
from tests.codex.provider import codex_provider, stored
from tests.fakes.codex_cli import cli_document, refreshed
from tests.fakes.codex_server import FakeChatGPT, FakeTokens
from tests.leaks import places_with_secret


def write_cli_file(path: Path, tokens: FakeTokens) -> Path:
    """auth.json exactly as the Codex CLI writes it (pretty JSON, 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = cli_document(tokens)
    path.write_text(json.dumps(doc, indent=2))
    path.chmod(0o600)
    return path


def cli_tokens(path: Path) -> dict[str, str]:
    tokens: dict[str, str] = json.loads(path.read_text())["tokens"]
    return tokens


def cli_refresh(fake: FakeChatGPT, path: Path) -> None:
    """The CLI's refresh: reload auth.json, refresh with what it holds, save the answer."""
    doc = refreshed(fake.issuer, json.loads(path.read_text()))
    path.write_text(json.dumps(doc, indent=2))


def test_import_call_refresh_and_the_cli_keeps_working(
    chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    path = write_cli_file(tmp_path / "codex" / "auth.json", chatgpt.issue_tokens(plan="pro"))
    p = codex_provider(chatgpt)

    account = p.login_from_codex_cli(path, dry_run=True)
    assert (account.email, account.plan_label) == ("ada@example.com", "Pro")
    assert tk.get_config().runtime.secrets.get("chatgpt") is None  # only looked

    assert p.login_from_codex_cli(path) == account
    assert p.account == account and p.credential_source == "oauth"
    model = tk.resolve("chatgpt/gpt-5.5")
    assert model.chat("hi") == "Hello from the fake Codex."
    assert chatgpt.counts["refresh"] == 0

    # Forced refresh (the backend rejects the access token): rotated tokens go back to the file.
    chatgpt.invalidate_access_token(stored()["access_token"])
    assert model.chat("again") == "Hello from the fake Codex."
    assert chatgpt.counts["refresh_ok"] == 1
    on_disk = cli_tokens(path)
    assert on_disk["refresh_token"] == stored()["refresh_token"]
    assert chatgpt.is_current_refresh_token(on_disk["refresh_token"])
    doc = json.loads(path.read_text())
    assert doc["auth_mode"] == "chatgpt" and "OPENAI_API_KEY" in doc
    assert doc["last_refresh"].endswith("Z") and stat.S_IMODE(path.stat().st_mode) == 0o600

    # The CLI refreshes on its own (from the file we wrote) ...
    cli_refresh(chatgpt, path)
    # ... and our next refresh takes its tokens from the file instead of reusing ours.
    chatgpt.invalidate_access_token(stored()["access_token"])
    assert model.chat("third") == "Hello from the fake Codex."
    assert stored()["refresh_token"] == cli_tokens(path)["refresh_token"]
    cli_refresh(chatgpt, path)  # and the CLI still can, after us
    assert chatgpt.is_current_refresh_token(cli_tokens(path)["refresh_token"])
    assert chatgpt.counts["refresh_token_reused"] == 0
    assert chatgpt.counts["refresh_token_invalidated"] == 0


def test_a_proactive_refresh_writes_back_too(chatgpt: FakeChatGPT, tmp_path: Path) -> None:
    path = write_cli_file(tmp_path / "auth.json", chatgpt.issue_tokens(access_lifetime=60))
    p = codex_provider(chatgpt)
    p.login_from_codex_cli(path)
    before = cli_tokens(path)["refresh_token"]
    assert tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert chatgpt.counts["refresh_ok"] == 1
    after = cli_tokens(path)["refresh_token"]
    assert after != before and chatgpt.is_current_refresh_token(after)
    cli_refresh(chatgpt, path)
    assert chatgpt.counts["refresh_token_reused"] == 0


def test_the_default_path_is_codex_home(
    chatgpt: FakeChatGPT, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "ch"))
    write_cli_file(tmp_path / "ch" / "auth.json", chatgpt.issue_tokens())
    assert codex_provider(chatgpt).login_from_codex_cli().email == "ada@example.com"


def test_after_codex_logout_our_copy_goes_on_alone(chatgpt: FakeChatGPT, tmp_path: Path) -> None:
    path = write_cli_file(tmp_path / "auth.json", chatgpt.issue_tokens())
    p = codex_provider(chatgpt)
    p.login_from_codex_cli(path)
    path.unlink()
    chatgpt.invalidate_access_token(stored()["access_token"])
    assert tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert "linked_file" not in stored() and not path.exists()


def test_a_cli_signed_in_to_another_account_is_let_go(chatgpt: FakeChatGPT, tmp_path: Path) -> None:
    path = write_cli_file(tmp_path / "auth.json", chatgpt.issue_tokens(account_id="acct_a"))
    p = codex_provider(chatgpt)
    p.login_from_codex_cli(path)
    other = chatgpt.issue_tokens(account_id="acct_b", email="bob@example.com")
    write_cli_file(path, other)
    chatgpt.invalidate_access_token(stored()["access_token"])
    assert tk.resolve("chatgpt/gpt-5.5").chat("hi")
    assert "linked_file" not in stored() and p.account is not None
    assert p.account.account_id == "acct_a"
    assert cli_tokens(path)["refresh_token"] == other.refresh_token  # untouched


def test_importing_over_our_own_sign_in_ends_that_one(chatgpt: FakeChatGPT, tmp_path: Path) -> None:
    p = codex_provider(chatgpt)
    own = chatgpt.issue_tokens()
    tk.get_config().runtime.secrets.set("chatgpt", own.storage_json())
    cli = chatgpt.issue_tokens()
    p.login_from_codex_cli(write_cli_file(tmp_path / "auth.json", cli))
    assert not chatgpt.is_current_refresh_token(own.refresh_token)
    assert chatgpt.is_current_refresh_token(cli.refresh_token)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "not JSON"),
        ('{"auth_mode": "apikey", "OPENAI_API_KEY": "sk-cli-secret-123456"}', "%takopi import"),
        ('{"auth_mode": "chatgpt", "tokens": {"access_token": "x"}}', "no id_token"),
    ],
)
def test_unusable_files_say_what_is_wrong(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "auth.json"
    if content is not None:
        path.write_text(content)
    p = tk.get_config().add_provider("codex", id="chatgpt")
    with pytest.raises(tk.AuthError) as caught:
        p.login_from_codex_cli(path)
    assert expected in str(caught.value) and "codex login" in str(caught.value)
    assert "sk-cli-secret" not in str(caught.value)


def test_an_api_key_provider_cannot_import_a_sign_in(tmp_path: Path) -> None:
    p = tk.get_config().add_provider("openai", id="o")
    with pytest.raises(tk.ConfigError, match="only for codex providers"):
        p.login_from_codex_cli(tmp_path / "auth.json")


def test_the_magic_shows_the_account_asks_then_imports(
    chatgpt: FakeChatGPT,
    tmp_path: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = chatgpt.issue_tokens()
    path = write_cli_file(tmp_path / "auth.json", tokens)
    codex_provider(chatgpt)
    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    shell.run_line_magic("takopi", f"login chatgpt --from-codex-cli {path}")
    declined = capsys.readouterr().out
    assert "ada@example.com (Plus)" in declined and "Nothing was imported" in declined
    assert tk.get_config().runtime.secrets.get("chatgpt") is None

    shell.run_line_magic("takopi", f"login chatgpt --from-codex-cli {path}")
    accepted = capsys.readouterr().out
    assert "now uses the ChatGPT sign-in of ada@example.com (Plus)" in accepted
    assert "shared with the Codex CLI" in accepted
    assert tk.get_config().get("chatgpt").account is not None

    def no_stdin(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_stdin)
    with pytest.raises(UsageError, match="--yes"):
        shell.run_line_magic("takopi", f"login chatgpt --from-codex-cli {path}")
    shell.run_line_magic("takopi", f"login chatgpt --from-codex-cli {path} --yes")
    out = accepted + declined + capsys.readouterr().out
    home = Path(tk.get_config().runtime.store.path).parent
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token):
        assert places_with_secret(secret, dirs=[home], texts=[out]) == []


def test_signing_out_or_in_again_never_revokes_the_cli_sign_in(
    chatgpt: FakeChatGPT, tmp_path: Path
) -> None:
    cli = chatgpt.issue_tokens()
    path = write_cli_file(tmp_path / "auth.json", cli)
    p = codex_provider(chatgpt)
    tk.get_config().codex_issuer = chatgpt.issuer
    p.login_from_codex_cli(path)
    p.logout()
    assert p.account is None and chatgpt.counts["revoke"] == 0
    assert chatgpt.is_current_refresh_token(cli.refresh_token)

    p.login_from_codex_cli(path)
    flow = p.login()  # a sign-in of our own replaces the shared one
    shown = threading.Event()
    flow.observe(lambda change: shown.set() if change["new"] == "waiting" else None, "state")
    assert flow.state == "waiting" or shown.wait(60)
    chatgpt.approve(flow.user_code)
    assert flow.wait(60) == "signed_in"
    assert "linked_file" not in stored() and chatgpt.counts["revoke"] == 0
    assert chatgpt.is_current_refresh_token(cli.refresh_token)
    cli_refresh(chatgpt, path)  # the CLI goes on
