"""A Codex CLI sign-in in a real Secret Service (gnome-keyring), written as keyring-rs writes it.

The CLI (keyring-rs) finds its item by ``target``, ``service`` and ``username``;
Python's keyring would add a second item with other attributes, which the CLI
never reads. So the rotated tokens must land in the CLI's own item, and there
must still be exactly one.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.fakes.codex_cli import FakeCodexCli, cli_document
from tests.fakes.codex_server import FakeChatGPT
from tests.leaks import places_with_secret
from tests.secret_service import run_with_secret_service

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import hashlib, json, os
    import secretstorage
    import takopi_nb as tk
    from tests.fakes.codex_server import post_refresh

    home = os.environ["CODEX_HOME"]
    account = "cli|" + hashlib.sha256(os.path.realpath(home).encode()).hexdigest()[:16]
    cli_search = {"target": "default", "service": "Codex Auth", "username": account}
    collection = secretstorage.get_default_collection(secretstorage.dbus_init())
    collection.create_item(
        f"keyring-rs v3.6.3 for target 'default', service 'Codex Auth', user '{account}'",
        {**cli_search, "application": "rust-keyring"},
        os.environ["CLI_VALUE"].encode(),
        replace=True,
    )

    cfg = tk.get_config()
    p = cfg.add_provider(
        "codex", id="chatgpt", base_url=os.environ["CODEX_BASE"], models=["gpt-5.5"]
    )
    p.login_from_codex_cli()
    answer = tk.resolve("chatgpt/gpt-5.5").chat("hi")  # expires soon: refreshed first
    ours = json.loads(cfg.runtime.secrets.get("chatgpt")[0])["refresh_token"]

    (item,) = collection.search_items(cli_search)  # what the CLI reads: exactly one
    value = item.get_secret().decode()
    doc = json.loads(value)
    everything = list(collection.search_items({"service": "Codex Auth"}))
    # The CLI refreshes with what it reads there.
    issuer = os.environ["TAKOPI_NB_CODEX_ISSUER"]
    status = post_refresh(issuer, doc["tokens"]["refresh_token"]).status_code
    print(json.dumps({
        "answer": answer,
        "same_as_ours": doc["tokens"]["refresh_token"] == ours,
        "entries": len(everything),
        "attributes": item.get_attributes(),
        "compact": "\\n" not in value,
        "auth_mode": doc.get("auth_mode"),
        "cli_refresh_status": status,
        "written_back": ours,
    }))
    """
)


def test_rotated_tokens_land_in_the_clis_own_secret_service_item(tmp_path: Path) -> None:
    codex_home = tmp_path / "codex-home"
    cli = FakeCodexCli(codex_home, "keyring")
    with FakeChatGPT() as fake:
        tokens = fake.issue_tokens(access_lifetime=60)
        value = json.dumps(cli_document(tokens), separators=(",", ":"))
        out, home = run_with_secret_service(
            SCRIPT,
            tmp_path,
            {
                "CODEX_HOME": str(codex_home),
                "CLI_VALUE": value,
                "CODEX_BASE": fake.codex_base,
                "TAKOPI_NB_CODEX_ISSUER": fake.issuer,
                "TAKOPI_NB_CATALOG_URL": "http://127.0.0.1:9/api.json",
                "TAKOPI_NB_CACHE_DIR": str(tmp_path / "cache"),
            },
        )
        assert out["answer"] == "Hello from the fake Codex."
        assert out["same_as_ours"] and out["compact"] and out["auth_mode"] == "chatgpt"
        assert out["entries"] == 1
        assert out["attributes"]["target"] == "default"
        assert out["attributes"]["application"] == "rust-keyring"  # the CLI's item, updated
        assert out["cli_refresh_status"] == 200
        assert fake.counts["refresh_ok"] == 2 and fake.counts["refresh_token_reused"] == 0
        assert not fake.is_current_refresh_token(out["written_back"])  # the CLI moved on
    assert not cli.auth_file.exists()
    for secret in (tokens.access_token, tokens.refresh_token, out["written_back"]):
        assert places_with_secret(secret, dirs=[home, codex_home]) == []
