"""The Codex CLI's credential storage, as ``codex-rs/login/src/auth/storage.rs`` does it.

Written from the CLI's source, independently of takopi_nb's code:

- ``$CODEX_HOME/config.toml``: ``cli_auth_credentials_store = "file" | "keyring" | "auto"``;
- file: ``$CODEX_HOME/auth.json``, pretty JSON, 0600;
- keyring: service ``"Codex Auth"``, account ``"cli|"`` + the first 16 hex digits of
  SHA-256 of the canonical CODEX_HOME path; the value is the same document as
  compact JSON (``serde_json::to_string``); saving there deletes auth.json;
- auto: load from the keyring, else the file; save to the keyring, else the file.

``refresh`` is what the CLI does when it refreshes: load, refresh with the
refresh token found, save the answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import keyring

from tests.fakes.codex_server import FakeTokens, post_refresh

SERVICE = "Codex Auth"


def cli_document(tokens: FakeTokens, *, auth_mode: str = "chatgpt") -> dict[str, Any]:
    """An AuthDotJson with a ChatGPT sign-in, fields in the CLI's order."""
    return {
        "auth_mode": auth_mode,
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": tokens.id_token,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "account_id": tokens.account_id,
        },
        # chrono writes nanoseconds and a Z
        "last_refresh": "2026-11-30T08:00:00.123456789Z",
    }


def refreshed(issuer: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (a CLI auth document) after the CLI's refresh with the tokens it holds."""
    answer = post_refresh(issuer, doc["tokens"]["refresh_token"])
    assert answer.status_code == 200, answer.text
    doc["tokens"].update({k: v for k, v in answer.json().items() if k in doc["tokens"]})
    return doc


class FakeCodexCli:
    """One CODEX_HOME of the Codex CLI, with the storage mode of its config.toml."""

    def __init__(self, home: Path, mode: str | None = None, *, extra_config: str = "") -> None:
        self.home = home
        self.mode = mode or "file"
        home.mkdir(parents=True, exist_ok=True)
        lines = [f'cli_auth_credentials_store = "{mode}"'] if mode else []
        lines.append(extra_config)
        (home / "config.toml").write_text("\n".join(lines) + "\n")

    @property
    def account(self) -> str:
        canonical = os.path.realpath(self.home)
        return "cli|" + hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def auth_file(self) -> Path:
        return self.home / "auth.json"

    # -- the two stores -------------------------------------------------------------------

    def keyring_value(self) -> str | None:
        return keyring.get_password(SERVICE, self.account)

    def save_to_keyring(self, doc: dict[str, Any]) -> None:
        keyring.set_password(SERVICE, self.account, json.dumps(doc, separators=(",", ":")))
        self.auth_file.unlink(missing_ok=True)

    def save_to_file(self, doc: dict[str, Any]) -> None:
        self.auth_file.write_text(json.dumps(doc, indent=2))
        self.auth_file.chmod(0o600)

    # -- the CLI's storage backend ----------------------------------------------------------

    def load(self) -> dict[str, Any] | None:
        if self.mode in ("keyring", "auto"):
            value = self.keyring_value()
            if value is not None:
                doc: dict[str, Any] = json.loads(value)
                return doc
            if self.mode == "keyring":
                return None
        if not self.auth_file.exists():
            return None
        doc = json.loads(self.auth_file.read_text())
        return doc

    def save(self, doc: dict[str, Any]) -> None:
        if self.mode in ("keyring", "auto"):
            self.save_to_keyring(doc)
        else:
            self.save_to_file(doc)

    def sign_in(self, tokens: FakeTokens) -> None:
        self.save(cli_document(tokens))

    def tokens(self) -> dict[str, str]:
        doc = self.load()
        assert doc is not None, "the CLI has no sign-in"
        tokens: dict[str, str] = doc["tokens"]
        return tokens

    def refresh(self, issuer: str) -> None:
        """The CLI's refresh: reload, refresh with what it holds, save the answer."""
        doc = self.load()
        assert doc is not None
        self.save(refreshed(issuer, doc))
