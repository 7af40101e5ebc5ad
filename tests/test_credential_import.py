"""``%takopi import`` / tk.find_credentials(): keys from env vars, llm's keys.json and
opencode's auth.json (documented formats), listed without values and imported on request."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import takopi_nb as tk
from tests.fakes.codex_server import FakeChatGPT
from tests.leaks import places_with_secret

ENV_KEY = "sk-env-openai-SECRET-0001"
LLM_ANTHROPIC = "sk-ant-llm-SECRET-0002"
LLM_OPENROUTER = "sk-or-llm-SECRET-0003"
LLM_MISTRAL = "mistral-llm-SECRET-0004"
OC_DEEPSEEK = "sk-deepseek-oc-SECRET-0005"
SECRETS = (ENV_KEY, LLM_ANTHROPIC, LLM_OPENROUTER, LLM_MISTRAL, OC_DEEPSEEK)


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """llm and opencode files where those tools keep them, and one environment variable."""
    config_home, data_home = tmp_path / "xdg-config", tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    for name in ("LLM_KEYS_PATH", "LLM_USER_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    llm = config_home / "io.datasette.llm" / "keys.json"
    llm.parent.mkdir(parents=True)
    llm.write_text(
        json.dumps(
            {
                "// Note": "This file stores secret API credentials. Do not share!",
                "anthropic": LLM_ANTHROPIC,
                "openrouter": LLM_OPENROUTER,
                "mistral": LLM_MISTRAL,
            },
            indent=2,
        )
    )
    opencode = data_home / "opencode" / "auth.json"
    opencode.parent.mkdir(parents=True)
    opencode.write_text(json.dumps({"deepseek": {"type": "api", "key": OC_DEEPSEEK}}))
    opencode.chmod(0o600)
    return {"llm": llm, "opencode": opencode}


def test_everything_is_found_by_source_and_type_without_a_value(
    sources: dict[str, Path],
) -> None:
    found = tk.find_credentials()
    assert [(f.source, f.name, f.provider_type, f.kind) for f in found] == [
        ("env", "OPENAI_API_KEY", "openai", "api_key"),
        ("llm", "anthropic", "anthropic", "api_key"),
        ("llm", "mistral", None, "api_key"),
        ("llm", "openrouter", "openrouter", "api_key"),
        ("opencode", "deepseek", "deepseek", "api_key"),
    ]
    assert found[1].path == str(sources["llm"]) and not found[2].importable
    assert places_with_secret(SECRET_MARK, texts=[*found, *(repr(f) for f in found)]) == []


SECRET_MARK = "SECRET-000"


def test_llm_keys_path_follows_its_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from takopi_nb._credential_import import llm_keys_path

    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "u"))
    assert llm_keys_path() == tmp_path / "u" / "keys.json"
    monkeypatch.setenv("LLM_KEYS_PATH", str(tmp_path / "k.json"))
    assert llm_keys_path() == tmp_path / "k.json"


def test_importing_makes_new_providers_or_keys_of_existing_ones(
    sources: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tk.get_config()
    existing = cfg.add_provider("anthropic", id="work-claude")
    found = {f.name: f for f in tk.find_credentials()}
    provider, said = tk.import_credential(found["anthropic"], into="work-claude")
    assert provider is existing and provider.credential_source == "keyring"
    assert "as the API key of 'work-claude'" in said
    assert cfg.runtime.api_key(existing.record) == (LLM_ANTHROPIC, "keyring")

    made, _ = tk.import_credential(found["OPENAI_API_KEY"])
    assert made.id == "openai" and made.type == "openai"
    monkeypatch.delenv("OPENAI_API_KEY")  # the key stays without the variable
    assert made.credential_source == "keyring"
    second, _ = tk.import_credential(found["deepseek"])
    assert second.id == "deepseek" and cfg.runtime.api_key(second.record)[0] == OC_DEEPSEEK

    with pytest.raises(tk.ConfigError, match="no provider type"):
        tk.import_credential(found["mistral"])
    with pytest.raises(tk.ConfigError, match="of type 'anthropic'"):
        tk.import_credential(found["openrouter"], into="work-claude")
    with pytest.raises(tk.ConfigError, match="no longer there"):
        tk.import_credential(found["OPENAI_API_KEY"])
    config_dir = Path(cfg.runtime.store.path).parent
    for secret in SECRETS:
        assert places_with_secret(secret, dirs=[config_dir], texts=[said, repr(cfg)]) == []


def test_the_magic_lists_then_imports(
    sources: dict[str, Path], shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tk.get_config()
    cfg.add_provider("openai", id="env-user")  # uses OPENAI_API_KEY today
    table = shell.run_line_magic("takopi", "import")
    listing = str(table) + table._repr_html_()
    assert table.rows[0][1] == "env:OPENAI_API_KEY"
    assert "already used by env-user" in table.rows[0][4]
    assert "cannot import" in table.rows[2][4]
    shell.run_line_magic("takopi", "import 2 4")
    shell.run_line_magic("takopi", "import 1 --into env-user")
    out = capsys.readouterr().out
    assert {p.id for p in cfg.providers} == {"env-user", "anthropic", "openrouter"}
    assert cfg.get("env-user").credential_source == "keyring"
    for line, expected in (
        ("import 9", "No credential number 9"),
        ("import 1 2 --into env-user", "exactly one number"),
        ("import 3", "cannot be imported"),
    ):
        with pytest.raises(UsageError, match=expected):
            shell.run_line_magic("takopi", line)
    for secret in SECRETS:
        assert places_with_secret(secret, texts=[listing, out]) == []


def test_an_opencode_chatgpt_sign_in_is_taken_over_and_the_user_told(
    sources: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeChatGPT() as fake:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", fake.issuer)
        tokens = fake.issue_tokens(access_lifetime=60)  # due for a refresh at first use
        doc = json.loads(sources["opencode"].read_text())
        doc["openai"] = {
            "type": "oauth",
            "refresh": tokens.refresh_token,
            "access": tokens.access_token,
            "expires": int(tokens.expires_at * 1000),
            "accountId": tokens.account_id,
        }
        doc["anthropic"] = {"type": "oauth", "refresh": "r", "access": "a", "expires": 0}
        sources["opencode"].write_text(json.dumps(doc))
        found = {(f.source, f.name): f for f in tk.find_credentials()}
        assert not found["opencode", "anthropic"].importable
        sign_in = found["opencode", "openai"]
        assert sign_in.provider_type == "codex" and sign_in.what.startswith("ChatGPT")
        provider, said = tk.import_credential(sign_in)
        assert provider.type == "codex" and provider.account is not None
        assert "ada@example.com" in said and "opencode will need to sign in again" in said
        left = json.loads(sources["opencode"].read_text())
        assert "openai" not in left and left["deepseek"]["key"] == OC_DEEPSEEK
        assert stat.S_IMODE(sources["opencode"].stat().st_mode) == 0o600
        provider.models = ["gpt-5.5"]
        provider.base_url = fake.codex_base  # the sign-in was made for chatgpt.com:
        provider.confirm_base_url()  # confirm once that it may go to the stand-in
        assert tk.resolve(f"{provider.id}/gpt-5.5").chat("hi")
        assert fake.counts["refresh_ok"] == 1 and fake.counts["refresh_token_reused"] == 0
    assert places_with_secret(tokens.refresh_token, texts=[said, repr(provider)]) == []
