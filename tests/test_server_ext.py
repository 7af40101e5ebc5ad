"""The Jupyter server extension, driven over HTTP in a real ``jupyter server`` on 127.0.0.1.

Each server runs in its own process with isolated Jupyter dirs, an admin config
dir (``JUPYTER_CONFIG_PATH``) holding a managed provider whose key is in an env
var, a user config with its own providers, keys seeded in the file-backed
secret store, and a loopback fake of models.dev. Nothing in this module imports
jupyter_server: it is only spoken to over HTTP.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.models_dev import ModelsDevServer, model_entry
from tests.fakes.providers import FakeProvider
from tests.leaks import places_with_secret
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TOKEN = "takopi-test-token-0123456789abcdef"

# Distinct, long secrets: the file-backed store, the org key in an env var, a plain env key.
SECRET_FILE = "sk-Zq8XwV3mN7pLr2Tb9Kc4Hd6Jf1Gs5Ya"
SECRET_CORP = "sk-Wm4Qe7Ru2Ti9Yo3Pa6Sd1Fg8Hj5Kl0Zx"
SECRET_PLAIN = "sk-Cv7Bn2Mq9We4Rt6Yu1Io3Pa8Sd5Fg0Hj"
SECRETS = (SECRET_FILE, SECRET_CORP, SECRET_PLAIN)

ADMIN_DOC = {
    "version": 1,
    "providers": [
        {
            "id": "corp",
            "type": "openai",
            "name": "Corp proxy",
            "base_url": "http://127.0.0.1:9/corp/v1",
            "models": ["gpt-5.2", "text-embedding-3-small"],
            "api_key_env": "CORP_OPENAI_KEY",
        }
    ],
    "default_model": "corp/gpt-5.2",
    "embedding_model": "corp/text-embedding-3-small",
}
USER_DOC = {
    "version": 1,
    "providers": [
        # An overlay on the managed provider: the model selection applies, the Base URL does not.
        {
            "id": "corp",
            "models": ["gpt-5.2", "gpt-4o", "text-embedding-3-small"],
            "base_url": "http://127.0.0.1:9/evil",
        },
        {"id": "mine", "type": "anthropic", "name": "My Claude", "models": ["claude-sonnet-4-5"]},
        {"id": "plain", "type": "openai", "models": ["gpt-5-mini"]},
        {"id": "nokey", "type": "deepseek", "models": []},
        {"id": "chatgpt", "type": "codex", "models": ["gpt-5.2-codex"]},
    ],
    "default_model": "",
    "embedding_model": "",
}


def _model(model_id: str, name: str, family: str = "gpt") -> dict[str, Any]:
    return model_entry(model_id, name, family=family, cost={"input": 1.0, "output": 2.0})


MODELS_DEV = {
    "openai": {
        "id": "openai",
        "env": ["OPENAI_API_KEY"],
        "npm": "@ai-sdk/openai",
        "name": "OpenAI",
        "doc": "https://platform.openai.com/docs/models",
        "models": {
            "gpt-5.2": _model("gpt-5.2", "GPT-5.2 (loopback)"),
            "gpt-4o": _model("gpt-4o", "GPT-4o (loopback)"),
            "text-embedding-3-small": _model(
                "text-embedding-3-small", "text-embedding-3-small", "text-embedding"
            ),
        },
    },
    "anthropic": {
        "id": "anthropic",
        "env": ["ANTHROPIC_API_KEY"],
        "npm": "@ai-sdk/anthropic",
        "name": "Anthropic",
        "doc": "https://docs.anthropic.com/en/docs/about-claude/models",
        "models": {
            "claude-sonnet-4-5": _model("claude-sonnet-4-5", "Claude Sonnet 4.5", "claude-sonnet")
        },
    },
}


# -- a real jupyter server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Home:
    """The isolated dirs of one server: config, admin config, data, runtime, cache."""

    root: Path
    config: Path = field(init=False)
    admin: Path = field(init=False)
    data: Path = field(init=False)
    cache: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config = self.root / "jupyter-config"
        self.admin = self.root / "admin-config"
        self.data = self.root / "jupyter-data"
        self.cache = self.root / "cache"
        for sub in ("jupyter-config", "admin-config", "jupyter-data", "runtime", "cache", "nb"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def write_configs(self) -> None:
        (self.admin / "takopi").mkdir(exist_ok=True)
        (self.admin / "takopi" / "providers.json").write_text(json.dumps(ADMIN_DOC))
        (self.config / "takopi").mkdir(exist_ok=True)
        (self.config / "takopi" / "providers.json").write_text(json.dumps(USER_DOC))
        from takopi_nb._secrets import SecretStore

        store = SecretStore("file", file_path=self.data / "takopi" / "secrets.json")
        store.set("mine", SECRET_FILE)

    def env(self, catalog_url: str, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAKOPI_NB_", "JUPYTER", "PYTEST_"))
            and not k.endswith("_API_KEY")
            and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        }
        env.update(
            HOME=str(self.root),
            XDG_DATA_HOME=str(self.root / "xdg-data"),
            XDG_CACHE_HOME=str(self.root / "xdg-cache"),
            XDG_CONFIG_HOME=str(self.root / "xdg-config"),
            IPYTHONDIR=str(self.root / "ipython"),
            JUPYTER_CONFIG_DIR=str(self.config),
            JUPYTER_CONFIG_PATH=str(self.admin),
            JUPYTER_DATA_DIR=str(self.data),
            JUPYTER_RUNTIME_DIR=str(self.root / "runtime"),
            TAKOPI_NB_CACHE_DIR=str(self.cache),
            TAKOPI_NB_CATALOG_URL=catalog_url,
            TAKOPI_NB_CODEX_ISSUER="http://127.0.0.1:9",
            CORP_OPENAI_KEY=SECRET_CORP,
            OPENAI_API_KEY=SECRET_PLAIN,
            # Any stray request to the outside fails at once; loopback goes direct.
            HTTP_PROXY="http://127.0.0.1:9",
            HTTPS_PROXY="http://127.0.0.1:9",
            NO_PROXY="127.0.0.1,localhost",
            # A usable keyring, so that only --TakopiConfig.secret_backend=file makes it "file".
            PYTHON_KEYRING_BACKEND="tests.fakes.keyring_backend.MemoryKeyring",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        env.update(extra)
        return env


class JupyterServer:
    """A ``python -m jupyter_server`` subprocess; every reply it gives is kept in ``seen``."""

    def __init__(
        self, home: Home, env: dict[str, str], args: list[str], base_url: str = "/"
    ) -> None:
        self.home = home
        self.log_path = home.root / f"server-{len(list(home.root.glob('server-*.log')))}.log"
        self.seen: list[str] = []
        """Status, headers and body of every reply."""
        self.bodies: list[str] = []
        for _attempt in range(3):
            self.port = _free_port()
            self.base = f"http://127.0.0.1:{self.port}{base_url.rstrip('/')}"
            with self.log_path.open("wb") as log:
                self.proc = subprocess.Popen(
                    [
                        sys.executable, "-m", "jupyter_server",
                        "--no-browser", "--allow-root",
                        f"--port={self.port}", "--ServerApp.ip=127.0.0.1",
                        "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
                        f"--ServerApp.root_dir={home.root / 'nb'}",
                        f"--ServerApp.base_url={base_url}",
                        "--LabApp.news_url=None",
                        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                        *args,
                    ],
                    env=env, cwd=home.root, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            if self._wait_up():
                return
            self.stop()
        raise AssertionError(f"jupyter server did not start:\n{self.log()}")

    def _wait_up(self, timeout: float = 45.0) -> bool:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    if client.get(f"{self.base}/api/status?token={TOKEN}").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(
        self, method: str, path: str, *, token: bool = True, client: httpx.Client | None = None,
        **kwargs: Any,
    ) -> httpx.Response:  # fmt: skip
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"token {TOKEN}"
        if client is None:
            with httpx.Client(base_url=self.base, timeout=30) as own:
                response = own.request(method, path, headers=headers, **kwargs)
        else:
            response = client.request(method, path, headers=headers, **kwargs)
        self.seen.append(f"{response.status_code} {response.headers} {response.text}")
        self.bodies.append(response.text)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def json(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.get(path, **kwargs)
        assert response.status_code == status, (path, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait; returns the exit code (killed -9 after ``timeout``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


@pytest.fixture(scope="module")
def models_dev() -> Iterator[ModelsDevServer]:
    with ModelsDevServer(json.dumps(MODELS_DEV).encode()) as fake:
        yield fake


@pytest.fixture
def own_models_dev() -> Iterator[ModelsDevServer]:
    """A fake models.dev for one test, so that the main server's requests do not count."""
    with ModelsDevServer(json.dumps(MODELS_DEV).encode()) as fake:
        yield fake


# What the key in $OPENAI_API_KEY can list at api.openai.com (provider "plain", no Base URL).
OPENAI_HOST_IDS = ("gpt-5.2", "gpt-4o", "gpt-5-mini", "ft:gpt-4o:acme::x1")


@pytest.fixture(scope="module")
def openai_host() -> Iterator[FakeProvider]:
    """A fake of api.openai.com; the server sends the default host's calls to it."""
    with FakeProvider(key=SECRET_PLAIN, models=OPENAI_HOST_IDS, embedding_models=()) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    models_dev: ModelsDevServer,
    openai_host: FakeProvider,
) -> Iterator[JupyterServer]:
    """The main server: the extension comes from the installed config only."""
    home = Home(tmp_path_factory.mktemp("server"))
    home.write_configs()
    srv = JupyterServer(
        home,
        home.env(models_dev.api_url, TAKOPI_NB_ROUTES=f"https://api.openai.com={openai_host.url}"),
        [
            "--TakopiConfig.secret_backend=file",
            "--TakopiServerExtension.catalog_refresh_interval=1",
        ],
    )
    try:
        yield srv
    finally:
        srv.stop()


# -- the extension loads from the installed config ------------------------------------------


def test_extension_is_loaded_from_the_installed_server_config(server: JupyterServer) -> None:
    installed = Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/takopi_nb.json"
    assert json.loads(installed.read_text()) == {
        "ServerApp": {"jpserver_extensions": {"takopi_nb": True}}
    }
    # Nothing else could have enabled it: the user config dir has no server config, and the
    # command line does not name the extension.
    assert not list(server.home.config.glob("jupyter_server_config*"))
    assert "jpserver_extensions" not in " ".join(server.proc.args)  # type: ignore[arg-type]
    assert "takopi_nb | extension was successfully loaded" in server.log()
    status = server.json("/takopi/api/status")
    assert status["version"]
    assert status["config_file"] == str(server.home.config / "takopi" / "providers.json")


def test_routes_exist_only_with_the_extension_enabled(
    tmp_path: Path, own_models_dev: ModelsDevServer
) -> None:
    home = Home(tmp_path)
    srv = JupyterServer(
        home, home.env(own_models_dev.api_url), ["--ServerApp.jpserver_extensions=takopi_nb=False"]
    )
    try:
        response = srv.get("/takopi/api/status")
        assert response.status_code == 404
        assert "takopi_nb | extension was successfully loaded" not in srv.log()
    finally:
        assert srv.stop() == 0


# -- authentication -----------------------------------------------------------------------------

GET_ROUTES = [
    "/takopi/api/status",
    "/takopi/api/providers",
    "/takopi/api/providers/corp",
    "/takopi/api/resolve?ref=corp/gpt-5.2",
    "/takopi/api/catalog",
    "/takopi/api/catalog/models?type=openai",
    "/takopi/api/providers/plain/endpoint-models",
]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_each_get_route_needs_the_token(server: JupyterServer, path: str) -> None:
    refused = server.get(path, token=False)
    assert refused.status_code in (401, 403), refused.text
    assert "corp" not in refused.text
    wrong = server.get(path, token=False, headers={"Authorization": "token not-the-token"})
    assert wrong.status_code in (401, 403)
    ok = server.get(path)
    assert ok.status_code == 200, ok.text
    assert ok.headers["Content-Type"].startswith("application/json")
    assert ok.headers["Cache-Control"] == "no-store"


def test_refresh_needs_the_token(server: JupyterServer) -> None:
    refused = server.request("POST", "/takopi/api/catalog/refresh", token=False)
    assert refused.status_code in (401, 403)
    # A token in the header is exempt from XSRF (jupyter_server's rule).
    ok = server.request("POST", "/takopi/api/catalog/refresh", json={})
    assert ok.status_code == 200, ok.text
    assert ok.json()["source"] == "network"


def test_cookie_login_needs_xsrf_on_post(server: JupyterServer) -> None:
    with httpx.Client(base_url=server.base, timeout=30) as browser:
        browser.get("/login")
        xsrf = browser.cookies["_xsrf"]
        login = browser.post("/login", data={"password": TOKEN, "_xsrf": xsrf})
        assert login.status_code in (200, 302), login.text
        # Logged in by cookie: GET works without a token ...
        listing = server.get("/takopi/api/providers", token=False, client=browser)
        assert listing.status_code == 200, listing.text
        # ... but a POST without the XSRF header is refused, and accepted with it.
        forged = server.request(
            "POST", "/takopi/api/catalog/refresh", token=False, client=browser, json={}
        )
        assert forged.status_code == 403, forged.text
        genuine = server.request(
            "POST",
            "/takopi/api/catalog/refresh",
            token=False,
            client=browser,
            json={"background": True},
            headers={"X-XSRFToken": xsrf},
        )
        assert genuine.status_code == 202, genuine.text
        assert genuine.json()["started"] is True


# -- providers, layering, resolve ---------------------------------------------------------------


def _by_id(server: JupyterServer) -> dict[str, dict[str, Any]]:
    data = server.json("/takopi/api/providers")
    return {p["id"]: p for p in data["providers"]}


def test_providers_show_admin_and_user_layers(server: JupyterServer) -> None:
    data = server.json("/takopi/api/providers")
    assert [p["id"] for p in data["providers"]] == ["corp", "mine", "plain", "nokey", "chatgpt"]
    assert data["default_model"] == "corp/gpt-5.2"  # from the admin file
    assert data["embedding_model"] == "corp/text-embedding-3-small"
    corp, mine, plain, nokey, chatgpt = data["providers"]

    assert corp["managed"] is True
    assert corp["base_url"] == "http://127.0.0.1:9/corp/v1"  # the user's override is ignored
    # The user's selection applies (gpt-4o added), the admin's Base URL stays.
    assert corp["models"] == ["gpt-5.2", "gpt-4o", "text-embedding-3-small"]
    assert corp["credential_source"] == "env:CORP_OPENAI_KEY"
    assert corp["api_key_env"] == "CORP_OPENAI_KEY"
    assert corp["env_vars"] == ["CORP_OPENAI_KEY", "OPENAI_API_KEY"]
    assert corp["key_hint"] == "••••" + SECRET_CORP[-4:]
    assert corp["status"] == "usable" and corp["usable"] is True

    assert mine["managed"] is False
    assert mine["credential_source"] == "file"
    assert mine["base_url"] == "https://api.anthropic.com/v1" and mine["base_url_override"] == ""
    assert mine["label"] == "Anthropic" and mine["display_name"] == "My Claude"

    assert plain["credential_source"] == "env:OPENAI_API_KEY"
    assert nokey["usable"] is False and nokey["status"] == "no models selected"
    assert nokey["credential_source"] is None and nokey["key_hint"] is None
    assert chatgpt["auth"] == "oauth" and chatgpt["embeddings"] is False
    assert chatgpt["status"] == "not signed in" and chatgpt["account"] is None

    status = server.json("/takopi/api/status")
    assert status["secret_store"] == "file"  # from --TakopiConfig.secret_backend=file
    assert status["providers"] == 5 and status["managed_providers"] == 1
    admin = {e["path"]: e["exists"] for e in status["admin_config_files"]}
    assert admin[str(server.home.admin / "takopi" / "providers.json")] is True


def test_one_provider_and_unknown_ids(server: JupyterServer) -> None:
    one = server.json("/takopi/api/providers/mine")
    assert one["id"] == "mine" and one["type"] == "anthropic"
    missing = server.json("/takopi/api/providers/mnie", status=404)
    assert missing["type"] == "ModelNotFoundError"
    assert "Did you mean 'mine'?" in missing["error"]


def test_a_config_change_by_a_kernel_is_seen_without_restart(server: JupyterServer) -> None:
    path = server.home.config / "takopi" / "providers.json"
    original = path.read_text()
    doc = json.loads(original)
    doc["providers"][1]["models"].append("claude-opus-4")
    try:
        path.write_text(json.dumps(doc))
        assert _by_id(server)["mine"]["models"] == ["claude-sonnet-4-5", "claude-opus-4"]
    finally:
        path.write_text(original)
    assert _by_id(server)["mine"]["models"] == ["claude-sonnet-4-5"]


def test_resolve_is_redacted(server: JupyterServer) -> None:
    got = server.json("/takopi/api/resolve", params={"ref": "corp/gpt-4o"})
    assert got["provider_id"] == "corp" and got["model_id"] == "gpt-4o"
    assert got["provider_type"] == "openai" and got["base_url"] == "http://127.0.0.1:9/corp/v1"
    assert got["credential_source"] == "env:CORP_OPENAI_KEY" and got["ready"] is True
    assert got["managed"] is True and got["purpose"] == "chat"
    assert not {"headers", "api_key", "key", "authorization"} & {k.lower() for k in got}

    emb = server.json(
        "/takopi/api/resolve", params={"ref": "corp/text-embedding-3-small", "purpose": "embedding"}
    )
    assert emb["purpose"] == "embedding"

    nokey = server.json("/takopi/api/resolve", params={"ref": "mine/claude-sonnet-4-5"})
    assert nokey["credential_source"] == "file"


@pytest.mark.parametrize(
    ("params", "status", "kind", "words"),
    [
        ({"ref": "no-slash"}, 400, "RefError", "providerId/modelId"),
        ({}, 400, "RefError", "providerId/modelId"),
        ({"ref": "crop/gpt-5.2"}, 404, "ModelNotFoundError", "Did you mean 'corp'?"),
        ({"ref": "corp/gpt-9"}, 404, "ModelNotFoundError", "not selected"),
        ({"ref": "nokey/deepseek-chat"}, 409, "ProviderNotUsableError", "no models are selected"),
        ({"ref": "corp/gpt-5.2", "purpose": "vision"}, 400, "BadRequest", "purpose"),
        (
            {"ref": "chatgpt/gpt-5.2-codex", "purpose": "embedding"},
            400,
            "EmbeddingsNotSupportedError",
            "no embeddings",
        ),
    ],
)
def test_resolve_errors_are_json_with_fitting_status(
    server: JupyterServer, params: dict[str, str], status: int, kind: str, words: str
) -> None:
    got = server.json("/takopi/api/resolve", status=status, params=params)
    assert got["type"] == kind
    assert words in got["error"]


def test_admin_and_user_layering_resolves_the_same_in_process(
    server: JupyterServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import takopi_nb as tk
    from takopi_nb import _reset_for_tests

    home = server.home
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home.config))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(home.admin))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home.data))
    monkeypatch.setenv("CORP_OPENAI_KEY", SECRET_CORP)
    _reset_for_tests()

    local = tk.resolve("corp/gpt-4o")
    remote = server.json("/takopi/api/resolve", params={"ref": "corp/gpt-4o"})
    assert (local.provider_id, local.model_id, local.provider_type, local.base_url) == (
        remote["provider_id"],
        remote["model_id"],
        remote["provider_type"],
        remote["base_url"],
    )
    assert local.credential_source == remote["credential_source"] == "env:CORP_OPENAI_KEY"
    assert local.headers() == {"Authorization": f"Bearer {SECRET_CORP}"}

    cfg = tk.get_config()
    assert cfg.get("corp").managed and not cfg.get("mine").managed
    assert tk.resolve("mine/claude-sonnet-4-5").credential_source == "file"
    # The user layer may not remove a managed provider.
    with pytest.raises(tk.ConfigError, match="managed"):
        cfg.remove_provider("corp")
    _reset_for_tests()


# -- the catalog and its background refresher ---------------------------------------------------


def test_background_refresher_fills_the_cache(
    server: JupyterServer, models_dev: ModelsDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refreshed() -> dict[str, Any] | None:
        data = server.json("/takopi/api/catalog")
        runs = data["refresher"]["runs"]
        return data if runs >= 2 and data["source"] == "network" else None

    data = wait_for(refreshed, what="two background refreshes")
    assert models_dev.hits >= 2
    # A kernel starting now finds a fresh cache: no network needed (offline here).
    from takopi_nb.catalog import Catalog

    monkeypatch.setenv("TAKOPI_NB_CACHE_DIR", str(server.home.cache))
    monkeypatch.setenv("TAKOPI_NB_CATALOG_URL", models_dev.api_url)
    kernel_side = Catalog(offline=True)
    try:
        assert kernel_side.source == "cache"
        entry = kernel_side.get("openai", "gpt-5.2")
        assert entry is not None and entry.name == "GPT-5.2 (loopback)"
    finally:
        kernel_side.close()
    assert data["refresher"]["enabled"] is True and data["refresher"]["running"] is True
    assert data["refresher"]["interval_seconds"] == 1
    assert data["last_error"] is None
    assert data["models"] == 4 and data["providers"] == 2

    models = server.json("/takopi/api/catalog/models", params={"provider": "openai"})
    assert {m["id"] for m in models["models"]} == {"gpt-5.2", "gpt-4o", "text-embedding-3-small"}
    assert {m["name"] for m in models["models"]} >= {"GPT-5.2 (loopback)"}
    info = server.json("/takopi/api/resolve", params={"ref": "corp/gpt-5.2"})
    assert info["in_catalog"] is True and info["info"]["context_window"] == 128000


def test_catalog_models_parameters(server: JupyterServer) -> None:
    neither = server.json("/takopi/api/catalog/models", status=400)
    assert "exactly one" in neither["error"] and neither["type"] == "BadRequest"
    both = server.json(
        "/takopi/api/catalog/models", status=400, params={"type": "openai", "provider": "openai"}
    )
    assert "exactly one" in both["error"]
    bad = server.json("/takopi/api/catalog/models", status=400, params={"type": "custom"})
    assert "Unknown provider type 'custom'" in bad["error"]
    purpose = server.json(
        "/takopi/api/catalog/models", status=400, params={"type": "openai", "purpose": "x"}
    )
    assert "purpose" in purpose["error"]
    embeddings = server.json(
        "/takopi/api/catalog/models", params={"type": "openai", "purpose": "embedding"}
    )
    assert [m["id"] for m in embeddings["models"]] == ["text-embedding-3-small"]
    chat = server.json("/takopi/api/catalog/models", params={"type": "openai"})
    assert "text-embedding-3-small" not in {m["id"] for m in chat["models"]}
    found = server.json("/takopi/api/catalog/models", params={"provider": "openai", "q": "4O"})
    assert [m["id"] for m in found["models"]] == ["gpt-4o"]


# -- what a provider's endpoint lists -----------------------------------------------------------


def test_endpoint_models_at_a_default_endpoint(
    server: JupyterServer, openai_host: FakeProvider
) -> None:
    path = "/takopi/api/providers/plain/endpoint-models"
    asked = len(openai_host.requests_to("models"))
    got = server.json(path, params={"refresh": "1"})  # another test may have asked before
    assert got["provider_id"] == "plain" and got["overridden"] is False
    assert got["url"] == "https://api.openai.com/v1/models"
    assert [m["id"] for m in got["models"]] == list(OPENAI_HOST_IDS)
    assert got["count"] == 4 and got["in_catalog"] == 2 and got["fetched_at"]
    by_id = {m["id"]: m for m in got["models"]}
    gpt = by_id["gpt-4o"]
    assert gpt["in_catalog"] is True and gpt["matched_as"] == "openai/gpt-4o"
    assert gpt["note"] == "available to this key" and gpt["selected"] is False
    assert gpt["info"]["name"] == "GPT-4o (loopback)" and gpt["info"]["cost_input"] == 1.0
    assert gpt["context_window"] == 128000
    assert by_id["gpt-5-mini"]["selected"] is True  # the user's selection
    tuned = by_id["ft:gpt-4o:acme::x1"]
    assert tuned["note"] == "available to this key; not in catalog" and tuned["info"] is None
    # Kept for two minutes; ?refresh=1 asks again.
    server.json(path)
    assert len(openai_host.requests_to("models")) == asked + 1
    openai_host.fail_next(401)
    refused = server.json(path, status=502, params={"refresh": "1"})
    assert refused["type"] == "ProviderRequestError" and refused["upstream_status"] == 401
    assert refused["error"].startswith("Key rejected by OpenAI (provider 'plain')")
    assert len(openai_host.requests_to("models")) == asked + 2
    assert server.json(path, params={"refresh": "1"})["count"] == 4


@pytest.mark.parametrize(
    ("pid", "status", "kind", "words"),
    [
        ("corp", 502, "ProviderRequestError", "127.0.0.1:9"),  # its proxy is not there
        ("nokey", 409, "MissingCredentialsError", "DEEPSEEK_API_KEY"),
        ("chatgpt", 409, "MissingCredentialsError", "not signed in"),
        ("crop", 404, "ModelNotFoundError", "Did you mean 'corp'?"),
    ],
)
def test_endpoint_models_errors_are_json_with_fitting_status(
    server: JupyterServer, pid: str, status: int, kind: str, words: str
) -> None:
    got = server.json(f"/takopi/api/providers/{pid}/endpoint-models", status=status)
    assert got["type"] == kind and words in got["error"], got
    if status == 502:
        assert got["upstream_status"] is None  # no answer came back


def test_no_response_contains_a_secret(server: JupyterServer) -> None:
    paths = [
        *GET_ROUTES,
        *(
            f"/takopi/api/providers/{pid}{what}"
            for pid in ("corp", "mine", "plain", "nokey", "chatgpt", "x")
            for what in ("", "/endpoint-models")
        ),
        *(
            f"/takopi/api/resolve?ref={ref}"
            for ref in ("corp/gpt-5.2", "mine/claude-sonnet-4-5", "plain/gpt-5-mini", "x", "a/b")
        ),
    ]
    for path in paths:
        server.get(path)
        server.get(path, token=False)
    server.request("POST", "/takopi/api/catalog/refresh", json={"background": False})
    assert len(server.bodies) > 2 * len(paths)
    everything = [*server.seen, server.log()]
    for secret in SECRETS:
        assert places_with_secret(secret, texts=everything) == []
        # No reply holds even a part of it longer than the masked tail of 4 characters.
        for start in range(len(secret) - 4):
            piece = secret[start : start + 5]
            assert not [body for body in server.bodies if piece in body], piece


# -- offline, and stopping ----------------------------------------------------------------------


def test_offline_turns_the_refresher_off(tmp_path: Path, own_models_dev: ModelsDevServer) -> None:
    """Also under a JupyterHub-style base URL: the routes live below it."""
    home = Home(tmp_path)
    before = own_models_dev.hits
    srv = JupyterServer(
        home,
        home.env(own_models_dev.api_url, TAKOPI_NB_OFFLINE="1"),
        ["--TakopiServerExtension.catalog_refresh_interval=0.2"],
        base_url="/user/alice/",
    )
    try:
        assert srv.base.endswith("/user/alice")
        with httpx.Client(timeout=10) as client:
            root = f"http://127.0.0.1:{srv.port}/takopi/api/status"
            assert client.get(root, headers={"Authorization": f"token {TOKEN}"}).status_code == 404
        # No sleep-and-see: the refresher is decided at start-up, and one that was going to
        # fetch would be enabled and running here.
        status = srv.json("/takopi/api/status")
        refresher = status["catalog_refresher"]
        assert refresher["enabled"] is False and refresher["running"] is False
        assert refresher["runs"] == 0
        assert "TAKOPI_NB_OFFLINE" in refresher["disabled_reason"]
        assert status["offline"]
        refused = srv.request("POST", "/takopi/api/catalog/refresh")
        assert refused.status_code == 409 and "offline" in refused.json()["error"]
        catalog = srv.json("/takopi/api/catalog")
        assert catalog["source"] == "bundled" and catalog["models"] > 0
        assert own_models_dev.hits == before
    finally:
        assert srv.stop() == 0


def test_refresher_stops_with_the_server(tmp_path: Path, own_models_dev: ModelsDevServer) -> None:
    home = Home(tmp_path)
    srv = JupyterServer(
        home,
        home.env(own_models_dev.api_url),
        ["--TakopiServerExtension.catalog_refresh_interval=0.3"],
    )
    try:
        wait_for(
            lambda: srv.json("/takopi/api/catalog")["refresher"]["runs"] >= 2,
            what="the refresher to run",
        )
    finally:
        code = srv.stop()  # SIGTERM; a refresher that kept the process alive ends in SIGKILL
    assert code == 0, srv.log()
    assert "takopi_nb: catalog refresher stopped" in srv.log()
    # No sleep-and-see here: the server process has exited, so nothing of it is left to fetch.


def test_a_failed_refresh_is_reported(tmp_path: Path, own_models_dev: ModelsDevServer) -> None:
    """Settings here come from a system config dir's file, as docs/jupyterhub.md shows."""
    home = Home(tmp_path)
    settings = home.admin / "jupyter_server_config.json"
    settings.write_text(
        json.dumps(
            {
                "TakopiServerExtension": {"catalog_refresh_interval": 0},
                "TakopiConfig": {"secret_backend": "file"},
            }
        )
    )
    own_models_dev.mode, own_models_dev.status = "error", 503
    srv = JupyterServer(home, home.env(own_models_dev.api_url), [])
    try:
        status = srv.json("/takopi/api/status")
        assert status["catalog_refresher"]["disabled_reason"] == "catalog_refresh_interval is 0"
        assert status["secret_store"] == "file"  # a usable keyring is there: the file said so
        failed = srv.request("POST", "/takopi/api/catalog/refresh")
        assert failed.status_code == 502, failed.text
        body = failed.json()
        assert body["type"] == "CatalogRefreshFailed"
        assert "could not be refreshed" in body["error"] and "127.0.0.1" in body["error"]
        assert body["last_error"] and body["source"] == "bundled"  # still usable
        own_models_dev.mode = "ok"
        assert srv.request("POST", "/takopi/api/catalog/refresh").json()["last_error"] is None
        assert srv.json("/takopi/api/catalog")["source"] == "network"
    finally:
        assert srv.stop() == 0


def test_a_hung_fetch_does_not_hold_up_the_exit(
    tmp_path: Path, own_models_dev: ModelsDevServer
) -> None:
    home = Home(tmp_path)
    srv = JupyterServer(
        home,
        home.env(own_models_dev.api_url),
        ["--TakopiServerExtension.catalog_refresh_interval=0.3"],
    )
    own_models_dev.hang(600)
    try:
        wait_for(
            lambda: srv.json("/takopi/api/status")["catalog_refresher"]["busy"],
            what="a fetch in flight",
        )
    finally:
        # The fake holds the fetch for 600 s: an exit that waited for it would be SIGKILLed.
        code = srv.stop()
        own_models_dev.release()
    assert code == 0, srv.log()
    assert "still running at shutdown" in srv.log()


# -- the refresher in-process -------------------------------------------------------------------


def test_refresher_runs_periodically_and_leaves_no_thread() -> None:
    import asyncio

    from takopi_nb.server._refresher import THREAD_NAME, CatalogRefresher

    calls: list[float] = []
    failing = threading.Event()

    def job() -> str | None:
        calls.append(time.monotonic())
        return "boom" if failing.is_set() else None

    async def scenario() -> CatalogRefresher:
        refresher = CatalogRefresher(job, 0.05, jitter=0.0, retry_after_error=0.05)
        assert refresher.start() is True
        while len(calls) < 3:
            await asyncio.sleep(0.01)
        failing.set()
        while refresher.failures < 1:
            await asyncio.sleep(0.01)
        await refresher.stop()
        return refresher

    refresher = asyncio.run(scenario())
    assert refresher.runs >= 4 and refresher.last_error == "boom"
    assert not refresher.running and not refresher.busy
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME]
    count = len(calls)

    # A stopped refresher runs no more: while a twin with the same interval runs three times
    # (so at least two intervals pass), the stopped one's job is not called.
    twin_runs = threading.Event()
    twin_calls: list[float] = []

    def twin_job() -> None:
        twin_calls.append(time.monotonic())
        if len(twin_calls) >= 3:
            twin_runs.set()

    async def twin() -> None:
        other = CatalogRefresher(twin_job, 0.05, jitter=0.0)
        assert other.start() is True
        while not twin_runs.is_set():
            await asyncio.sleep(0.01)
        await other.stop()

    asyncio.run(twin())
    assert len(calls) == count


def test_refresher_is_off_offline_or_with_interval_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    from takopi_nb.server._refresher import CatalogRefresher, offline_reason

    monkeypatch.setenv("TAKOPI_NB_OFFLINE", "0")
    assert offline_reason() is None
    monkeypatch.setenv("TAKOPI_NB_OFFLINE", "1")
    assert offline_reason() == "TAKOPI_NB_OFFLINE=1 is set"
    off = CatalogRefresher(lambda: None, 60, disabled_reason=offline_reason())
    assert off.start() is False and off.status()["enabled"] is False
    zero = CatalogRefresher(lambda: None, 0)
    assert zero.start() is False and "interval is 0" in str(zero.disabled_reason)


def test_the_server_side_stays_light(tmp_path: Path) -> None:
    """Importing, listing providers, resolving and the catalog: no widgets, no IPython."""
    code = """
import sys
import takopi_nb.server
from takopi_nb.server import _refresher as refresher, _views as views
assert not [m for m in ("jupyter_server", "tornado") if m in sys.modules], "import not lazy"
import takopi_nb as tk
cfg = tk.get_config()
cfg.add_provider("openai", id="o", models=["gpt-5.2"])
cfg.add_provider("codex", id="c", models=["gpt-5.2-codex"])
assert views.providers_view(cfg)["providers"][1]["status"] == "not signed in"
assert views.resolve_view(cfg, "o/gpt-5.2", "chat")["base_url"]
assert views.catalog_view(tk.get_catalog())["source"] == "bundled"
print(sorted(m for m in ("ipywidgets", "IPython", "takopi_nb.widgets") if m in sys.modules))
"""
    env = Home(tmp_path).env("http://127.0.0.1:9/api.json", TAKOPI_NB_OFFLINE="1")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_one_unreadable_credential_does_not_break_the_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import takopi_nb as tk
    from takopi_nb.server import _views as views

    cfg = tk.get_config()
    cfg.add_provider("openai", id="fine", models=["gpt-5.2"], api_key=SECRET_FILE)
    cfg.add_provider("anthropic", id="locked", models=["claude-sonnet-4-5"])
    real_get = cfg.runtime.secrets.get

    def get(provider_id: str) -> Any:
        if provider_id == "locked":
            raise tk.ConfigError("The OS keyring failed (LockedError). Unlock it.")
        return real_get(provider_id)

    monkeypatch.setattr(cfg.runtime.secrets, "get", get)
    fine, locked = views.providers_view(cfg)["providers"]
    assert fine["credential_source"] == "keyring" and fine["status"] == "usable"
    assert fine["key_hint"] == "••••" + SECRET_FILE[-4:]
    assert locked["credential_source"] is None and locked["key_hint"] is None
    assert locked["status"] == "status unavailable: The OS keyring failed (LockedError). Unlock it."


# -- offline is a state, not an error (issue 15) ------------------------------------------------

OFFLINE_LINE = "offline: using the cached/bundled catalog"


def test_no_network_is_logged_once_at_info_and_is_no_failure(tmp_path: Path) -> None:
    """What `make lab` does on a machine without network: no warning at each start."""
    home = Home(tmp_path)
    srv = JupyterServer(
        home,
        home.env("http://127.0.0.1:9/api.json"),  # nothing listens there: connection refused
        ["--TakopiServerExtension.catalog_refresh_interval=0.2"],
    )
    try:
        refresher = wait_for(
            lambda: (r := srv.json("/takopi/api/status")["catalog_refresher"])["runs"] >= 3 and r,
            what="three refresh attempts",
        )
        assert refresher["failures"] == 0 and refresher["last_error"] is None
        assert "Could not connect to 127.0.0.1:9" in refresher["offline"]
        assert srv.json("/takopi/api/catalog")["source"] == "bundled"
    finally:
        assert srv.stop() == 0
    log = srv.log()
    (line,) = [line for line in log.splitlines() if OFFLINE_LINE in line]
    assert "(bundled snapshot of " in line and line.startswith("[I ")  # info, not a warning
    assert "refresh failed" not in log


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_refresh_job_tells_offline_from_a_real_failure(
    monkeypatch: pytest.MonkeyPatch, own_models_dev: ModelsDevServer
) -> None:
    import asyncio

    import takopi_nb as tk
    from takopi_nb import catalog
    from takopi_nb.server._extension import TakopiServerExtension, TakopiServerState
    from takopi_nb.server._refresher import CatalogRefresher, Offline

    state = TakopiServerState(tk.get_config(), TakopiServerExtension())
    offline = state.refresh_job()  # the test env points the catalog at a closed loopback port
    assert isinstance(offline, Offline) and "Could not connect" in offline.reason
    assert offline.using.startswith("bundled snapshot of ")

    own_models_dev.mode, own_models_dev.status = "error", 503
    monkeypatch.setenv("TAKOPI_NB_CATALOG_URL", own_models_dev.api_url)
    catalog._reset()
    failed = state.refresh_job()
    assert isinstance(failed, str) and "HTTP 503" in failed
    assert state.catalog().unreachable is False  # it answered: a fault, not offline

    results: list[str | Offline | None] = [offline, offline, None, offline, failed]
    handler = Records()
    logger = logging.getLogger("takopi_nb.server")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)

    async def scenario() -> CatalogRefresher:
        refresher = CatalogRefresher(lambda: results.pop(0), 0.01, jitter=0.0)
        refresher.start()
        while results or refresher.busy:
            await asyncio.sleep(0.01)
        await refresher.stop()
        return refresher

    try:
        refresher = asyncio.run(scenario())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    said = [(r.levelno, r.getMessage()) for r in handler.records if r.levelno >= logging.INFO]
    said = [(level, text) for level, text in said if "offline" in text or "refresh" in text]
    offline_lines = [text for level, text in said if OFFLINE_LINE in text]
    assert len(offline_lines) == 2  # once, and once more after it was back online
    assert all(level == logging.INFO for level, text in said if OFFLINE_LINE in text)
    assert (logging.INFO, "takopi_nb: back online: catalog refreshed") in said
    warnings = [text for level, text in said if level >= logging.WARNING]
    assert len(warnings) == 1 and "HTTP 503" in warnings[0]
    assert refresher.failures == 1 and refresher.offline is None
