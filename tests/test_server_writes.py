"""The REST API's write routes, over HTTP, in a real ``jupyter server`` on 127.0.0.1.

The server is the one of ``test_server_ext`` (admin layer with a managed provider,
user config, file-backed secret store, loopback models.dev), plus a loopback
fake of "Sign in with ChatGPT". What the routes change is checked against the
Python API in this process, reading the same files: a change made over REST is
what every kernel sees, and a refusal carries the Python API's own message.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.models_dev import ModelsDevServer
from tests.leaks import places_with_secret
from tests.test_server_ext import (
    MODELS_DEV,
    SECRET_CORP,
    SECRET_FILE,
    SECRET_PLAIN,
    TOKEN,
    Home,
    JupyterServer,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

# Keys sent over REST: each must be accepted and never come back.
KEY_ADD = "sk-Rr5Tt8Yy1Uu4Ii7Oo0Pp3Aa6Ss9Dd2Ff"
KEY_SET = "sk-Gg3Hh6Jj9Kk2Ll5Zz8Xx1Cc4Vv7Bb0Nn"
KEY_BAD = "sk-Mm1Qq4Ww7Ee0Rr3Tt6Yy9Uu2Ii5Oo8Pp"
ALL_SECRETS = (SECRET_FILE, SECRET_CORP, SECRET_PLAIN, KEY_ADD, KEY_SET, KEY_BAD)


@pytest.fixture(scope="module")
def chatgpt() -> Iterator[FakeChatGPT]:
    with FakeChatGPT(interval="0") as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, chatgpt: FakeChatGPT
) -> Iterator[JupyterServer]:
    with ModelsDevServer(json.dumps(MODELS_DEV).encode()) as models_dev:
        home = Home(tmp_path_factory.mktemp("writes"))
        home.write_configs()
        env = home.env(models_dev.api_url, TAKOPI_NB_CODEX_ISSUER=chatgpt.issuer)
        srv = JupyterServer(
            home,
            env,
            [
                "--TakopiConfig.secret_backend=file",
                "--TakopiServerExtension.catalog_refresh_interval=0",
            ],
        )
        srv.env = env  # type: ignore[attr-defined]  # for the "kernel" subprocesses
        try:
            yield srv
        finally:
            srv.stop()
        # After every test of the module, in whatever order they ran: all their replies.
        assert_no_secret(srv)


@pytest.fixture
def kernel(server: JupyterServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Python API in this process, on the server's files: what a kernel of the user sees."""
    import takopi_nb as tk
    from takopi_nb import _reset_for_tests

    home = server.home
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home.config))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(home.admin))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home.data))
    monkeypatch.setenv("CORP_OPENAI_KEY", SECRET_CORP)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_PLAIN)
    _reset_for_tests()
    cfg = tk.TakopiConfig(secret_backend="file")
    yield cfg
    _reset_for_tests()


def call(server: JupyterServer, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    content = None if body is None else json.dumps(body)
    return server.request(method, f"/takopi/api{path}", content=content, **kw)


def ok(server: JupyterServer, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = call(server, method, path, body)
    assert response.status_code == status, (method, path, response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def config_file(server: JupyterServer) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (server.home.config / "takopi" / "providers.json").read_text()
    )
    return data


# One request per write route; each would change something if it were let through.
WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/providers", {"type": "openai", "id": "sneaky", "api_key": KEY_BAD}),
    ("PATCH", "/providers/mine", {"name": "renamed by a forged request"}),
    ("DELETE", "/providers/plain", None),
    ("POST", "/providers/mine/rename", {"id": "stolen"}),
    ("PUT", "/providers/mine/key", {"api_key": KEY_BAD}),
    ("DELETE", "/providers/mine/key", None),
    ("POST", "/providers/chatgpt/login", None),
    ("DELETE", "/providers/chatgpt/login", None),
    ("POST", "/providers/chatgpt/logout", None),
    ("POST", "/providers/moved/confirm", None),
    ("PATCH", "/settings", {"default_model": "mine/claude-sonnet-4-5"}),
]


def _secrets_file(server: JupyterServer) -> bytes:
    return (server.home.data / "takopi" / "secrets.json").read_bytes()


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_each_write_needs_the_token(
    server: JupyterServer, method: str, path: str, body: Any
) -> None:
    before, keys = config_file(server), _secrets_file(server)
    refused = call(server, method, path, body, token=False)
    assert refused.status_code == 403, refused.text
    wrong = call(server, method, path, body, token=False, headers={"Authorization": "token not-it"})
    assert wrong.status_code == 403, wrong.text
    assert config_file(server) == before and _secrets_file(server) == keys


def test_a_cookie_session_needs_xsrf_on_every_write(server: JupyterServer) -> None:
    before, keys = config_file(server), _secrets_file(server)
    with httpx.Client(base_url=server.base, timeout=30) as browser:
        browser.get("/login")
        xsrf = browser.cookies["_xsrf"]
        login = browser.post("/login", data={"password": TOKEN, "_xsrf": xsrf})
        assert login.status_code in (200, 302), login.text
        assert call(server, "GET", "/providers", token=False, client=browser).status_code == 200
        for method, path, body in WRITES:
            forged = call(server, method, path, body, token=False, client=browser)
            assert forged.status_code == 403, (method, path, forged.text)
        assert config_file(server) == before and _secrets_file(server) == keys
        # The same session with the XSRF header may write.
        genuine = call(
            server,
            "PATCH",
            "/providers/nokey",
            {"name": "From the browser"},
            token=False,
            client=browser,
            headers={"X-XSRFToken": xsrf},
        )
        assert genuine.status_code == 200, genuine.text
    assert ok(server, "PATCH", "/providers/nokey", {"name": ""})["provider"]["name"] == ""


def _refusals(cfg: Any) -> list[tuple[str, str, Any, int, Callable[[], Any]]]:
    """(method, path, body, status, the same change through the Python API)."""
    return [
        ("POST", "/providers", {"type": "openai", "id": "Bad Id"}, 400,
         lambda: cfg.add_provider("openai", id="Bad Id")),
        ("POST", "/providers", {"type": "custom"}, 400, lambda: cfg.add_provider("custom")),
        ("POST", "/providers", {"type": "openai", "id": "mine"}, 400,
         lambda: cfg.add_provider("openai", id="mine")),
        ("POST", "/providers", {"type": "openai", "id": "x1", "base_url": "ftp://h/v1"}, 400,
         lambda: cfg.add_provider("openai", id="x1", base_url="ftp://h/v1")),
        ("POST", "/providers", {"type": "codex", "id": "x2", "api_key": KEY_BAD}, 400,
         lambda: cfg.add_provider("codex", id="x2", api_key=KEY_BAD)),
        ("PATCH", "/providers/mine", {"base_url": "https://u:p@h/v1"}, 400,
         lambda: setattr(cfg.get("mine"), "base_url", "https://u:p@h/v1")),
        ("PATCH", "/providers/corp", {"base_url": "http://127.0.0.1:9/elsewhere"}, 400,
         lambda: setattr(cfg.get("corp"), "base_url", "http://127.0.0.1:9/elsewhere")),
        ("DELETE", "/providers/corp", None, 400, lambda: cfg.remove_provider("corp")),
        ("POST", "/providers/corp/rename", {"id": "mine-corp"}, 400,
         lambda: cfg.rename_provider("corp", "mine-corp")),
        ("POST", "/providers/mine/rename", {"id": "plain"}, 400,
         lambda: cfg.rename_provider("mine", "plain")),
        ("POST", "/providers/mine/rename", {"id": "Not OK"}, 400,
         lambda: cfg.rename_provider("mine", "Not OK")),
        ("PUT", "/providers/chatgpt/key", {"api_key": KEY_BAD}, 400,
         lambda: cfg.get("chatgpt").set_api_key(KEY_BAD)),
        ("PUT", "/providers/mine/key", {"api_key": "   "}, 400,
         lambda: cfg.get("mine").set_api_key("   ")),
        ("POST", "/providers/mine/login", None, 400, lambda: cfg.get("mine").login()),
        ("PATCH", "/settings", {"default_model": "no-slash"}, 400,
         lambda: setattr(cfg, "default_model", "no-slash")),
        ("PATCH", "/settings", {"embedding_model": "chatgpt/gpt-5.2-codex"}, 400,
         lambda: setattr(cfg, "embedding_model", "chatgpt/gpt-5.2-codex")),
        ("PATCH", "/providers/mnie", {"name": "x"}, 404, lambda: cfg.get("mnie")),
        ("PUT", "/providers/mnie/key", {"api_key": KEY_BAD}, 404, lambda: cfg.get("mnie")),
    ]  # fmt: skip


def test_bad_input_is_400_with_the_python_apis_message(server: JupyterServer, kernel: Any) -> None:
    before, keys = config_file(server), _secrets_file(server)
    for method, path, body, status, same in _refusals(kernel):
        with pytest.raises(Exception) as raised:  # any error: its text is what is compared
            same()
        got = call(server, method, path, body)
        assert got.status_code == status, (method, path, body, got.text)
        reply = got.json()
        assert reply["error"] == str(raised.value), (method, path)
        expected_type = type(raised.value).__name__
        assert reply["type"] == ("ConfigError" if expected_type == "TraitError" else expected_type)
    assert config_file(server) == before and _secrets_file(server) == keys


@pytest.mark.parametrize(
    ("method", "path", "content", "words"),
    [
        ("POST", "/providers", "{not json " + KEY_BAD, "not valid JSON"),
        ("POST", "/providers", "[]", "must be a JSON object"),
        ("POST", "/providers", '{"id": "x"}', "Missing field(s) type"),
        ("POST", "/providers", '{"type": "openai", "key": "' + KEY_BAD + '"}', "Unknown field"),
        ("POST", "/providers", '{"type": "openai", "models": "gpt-5.2"}', "list of model ids"),
        ("PATCH", "/providers/mine", '{"name": 5}', '"name" must be text'),
        ("PATCH", "/providers/mine", "{}", "Nothing to change"),
        ("PUT", "/providers/mine/key", '{"key": "' + KEY_BAD + '"}', '{"api_key": "<the key>"}'),
        ("PATCH", "/settings", '{"default_model": null}', "must be text"),
    ],
)
def test_malformed_bodies_are_400(
    server: JupyterServer, method: str, path: str, content: str, words: str
) -> None:
    got = server.request(method, f"/takopi/api{path}", content=content)
    assert got.status_code == 400, got.text
    assert got.json()["type"] == "BadRequest" and words in got.json()["error"]
    assert KEY_BAD not in got.text


def test_what_the_panel_does_over_rest_is_what_kernels_see(
    server: JupyterServer, kernel: Any
) -> None:
    added = ok(server, "POST", "/providers",
               {"type": "openai", "id": "team", "name": "Team proxy",
                "base_url": "https://proxy.example.com/v1/", "models": ["gpt-5.2", " gpt-5.2 "],
                "api_key": KEY_ADD}, status=201)  # fmt: skip
    team = added["provider"]
    assert team["base_url"] == "https://proxy.example.com/v1"  # normalised as in Python
    assert team["models"] == ["gpt-5.2"] and team["credential_source"] == "file"
    assert team["key_hint"] == "••••" + KEY_ADD[-4:] and added["warnings"] == []
    seen = kernel.get("team")
    assert (seen.name, seen.base_url, list(seen.models)) == (
        "Team proxy", "https://proxy.example.com/v1", ["gpt-5.2"],
    )  # fmt: skip
    assert seen.credential_source == "file"
    assert kernel.resolve("team/gpt-5.2").headers() == {"Authorization": f"Bearer {KEY_ADD}"}

    warned = ok(server, "PATCH", "/providers/team", {"base_url": "http://10.0.0.8/v1"})
    assert "plain http" in warned["warnings"][0]
    edited = ok(server, "PATCH", "/providers/team",
                {"name": "Team", "base_url": "", "models": ["gpt-5.2", "gpt-4o"]})  # fmt: skip
    assert edited["provider"]["base_url"] == "https://api.openai.com/v1"
    assert edited["warnings"] == []
    assert list(kernel.get("team").models) == ["gpt-5.2", "gpt-4o"]

    settings = ok(server, "PATCH", "/settings",
                  {"default_model": "team/gpt-4o", "embedding_model": "corp/text-embedding-3-small"})  # fmt: skip
    assert settings["default_model"] == "team/gpt-4o"
    assert ok(server, "GET", "/settings")["default_model"] == "team/gpt-4o"
    kernel.reload_if_changed()
    assert kernel.default_model == "team/gpt-4o"

    renamed = ok(server, "POST", "/providers/team/rename", {"id": "team-2"})
    assert renamed["provider"]["id"] == "team-2" and renamed["default_model"] == "team-2/gpt-4o"
    assert renamed["provider"]["credential_source"] == "file"  # the key moved with it
    kernel.reload_if_changed()
    assert "team" not in kernel and kernel.default_model == "team-2/gpt-4o"

    stored = ok(server, "PUT", "/providers/team-2/key", {"api_key": KEY_SET})
    assert stored["stored_in"] == "file" and stored["provider"]["key_hint"].endswith(KEY_SET[-4:])
    assert kernel.resolve("team-2/gpt-4o").headers() == {"Authorization": f"Bearer {KEY_SET}"}
    cleared = ok(server, "DELETE", "/providers/team-2/key")["provider"]
    # The standard variable of the type applies again, as in Python.
    assert cleared["credential_source"] == kernel.get("team-2").credential_source
    assert cleared["credential_source"] == "env:OPENAI_API_KEY"

    # "" clears the user's choice: the admin file's default applies again, as in Python.
    assert (
        ok(server, "PATCH", "/settings", {"default_model": ""})["default_model"] == "corp/gpt-5.2"
    )
    kernel.reload_if_changed()
    assert kernel.default_model == "corp/gpt-5.2"
    assert ok(server, "DELETE", "/providers/team-2") == {"removed": "team-2"}
    assert "team-2" not in kernel
    cleared = ok(server, "PATCH", "/settings", {"embedding_model": ""})
    assert cleared["embedding_model"] == "corp/text-embedding-3-small"
    # Managed providers: the user's model selection is theirs to change.
    corp = ok(server, "PATCH", "/providers/corp", {"models": ["gpt-5.2"]})["provider"]
    assert corp["managed"] is True and corp["models"] == ["gpt-5.2"]
    assert corp["base_url"] == "http://127.0.0.1:9/corp/v1"


def test_a_key_held_back_after_a_move_is_confirmed_over_rest(
    server: JupyterServer, kernel: Any
) -> None:
    """The panel's "Send key to new host" (issue 11's key-origin rule) over REST."""
    from takopi_nb import MissingCredentialsError

    ok(server, "POST", "/providers",
       {"type": "openai", "id": "moved", "models": ["gpt-5.2"], "api_key": KEY_ADD},
       status=201)  # fmt: skip
    ok(server, "PATCH", "/providers/moved", {"base_url": "https://proxy.example.com/v1"})
    kernel.reload_if_changed()
    with pytest.raises(MissingCredentialsError, match="confirm"):
        kernel.resolve("moved/gpt-5.2").headers()
    origin = config_file(server)["providers"]
    assert [p.get("key_origin") for p in origin if p["id"] == "moved"] == ["https://api.openai.com"]
    confirmed = ok(server, "POST", "/providers/moved/confirm")["provider"]
    assert confirmed["id"] == "moved" and KEY_ADD not in json.dumps(confirmed)
    kernel.reload_if_changed()
    assert kernel.resolve("moved/gpt-5.2").headers() == {"Authorization": f"Bearer {KEY_ADD}"}
    assert [
        p.get("key_origin") for p in config_file(server)["providers"] if p["id"] == "moved"
    ] == ["https://proxy.example.com"]
    assert ok(server, "DELETE", "/providers/moved") == {"removed": "moved"}
    assert call(server, "POST", "/providers/nope/confirm").status_code == 404


def test_chatgpt_sign_in_over_rest(server: JupyterServer, chatgpt: FakeChatGPT) -> None:
    none_yet = ok(server, "GET", "/providers/chatgpt/login")
    assert none_yet["state"] == "none" and none_yet["account"] is None
    started = ok(server, "POST", "/providers/chatgpt/login", status=202)
    assert started["state"] in ("requesting", "waiting")

    def waiting() -> dict[str, Any] | None:
        view = ok(server, "GET", "/providers/chatgpt/login")
        return view if view["state"] == "waiting" and view["user_code"] else None

    view = wait_for(waiting, what="the device code")
    assert view["verification_url"].startswith(chatgpt.issuer)
    assert view["user_code"] in chatgpt.user_codes()
    chatgpt.approve(view["user_code"])
    done = wait_for(
        lambda: (v := ok(server, "GET", "/providers/chatgpt/login"))["done"] and v,
        what="the sign-in to end",
    )
    assert done["state"] == "signed_in", done
    provider = ok(server, "GET", "/providers/chatgpt")
    assert provider["account"]["email"] and provider["status"].startswith("signed in as")
    tokens = json.loads(json.loads(_secrets_file(server))["secrets"]["chatgpt"])
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert not [s for s in server.seen if token in s]
    # Cancel a second attempt, then sign out.
    ok(server, "POST", "/providers/chatgpt/login", status=202)
    assert ok(server, "DELETE", "/providers/chatgpt/login")["state"] == "cancelled"
    out = ok(server, "POST", "/providers/chatgpt/logout")["provider"]
    assert out["account"] is None and out["status"] == "not signed in"
    assert "chatgpt" not in json.loads(_secrets_file(server))["secrets"]


KERNEL_WRITES = """
import sys, takopi_nb as tk
cfg = tk.TakopiConfig(secret_backend="file")
cfg.reload_if_changed()
print("ready", flush=True)
sys.stdin.readline()  # start together with the REST writers
for i in range(int(sys.argv[1])):
    cfg.add_provider("deepseek", id=f"kernel-{i}", models=["deepseek-chat"])
    cfg.get("plain").models = list(cfg.get("plain").models)  # a write of another field too
print("done")
"""


def test_concurrent_rest_and_kernel_writes_lose_nothing(server: JupyterServer) -> None:
    count = 8
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL_WRITES, str(count)],
        env=server.env,  # type: ignore[attr-defined]
        cwd=server.home.root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors: list[str] = []

    def rest_writer(n: int) -> None:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            for i in range(n):
                for method, path, body in (
                    ("POST", "/providers", {"type": "openai", "id": f"rest-{i}"}),
                    ("PATCH", f"/providers/rest-{i}", {"models": ["gpt-5.2"]}),
                ):
                    r = call(server, method, path, body, client=client)
                    if r.status_code >= 300:
                        errors.append(f"{method} {path}: {r.status_code} {r.text}")

    assert kernel.stdout is not None and kernel.stdin is not None
    assert kernel.stdout.readline().strip() == "ready"
    writer = threading.Thread(target=rest_writer, args=(count,))
    writer.start()
    out, err = kernel.communicate("go\n", timeout=240)
    writer.join(240)
    assert kernel.returncode == 0 and out.strip() == "done", err
    assert errors == []
    ids = {p["id"]: p for p in ok(server, "GET", "/providers")["providers"]}
    for i in range(count):
        assert ids[f"kernel-{i}"]["models"] == ["deepseek-chat"]
        assert ids[f"rest-{i}"]["models"] == ["gpt-5.2"]
    on_disk = {p["id"] for p in config_file(server)["providers"]}
    assert {f"kernel-{i}" for i in range(count)} | {f"rest-{i}" for i in range(count)} <= on_disk
    for i in range(count):
        ok(server, "DELETE", f"/providers/rest-{i}")
        ok(server, "DELETE", f"/providers/kernel-{i}")


def assert_no_secret(server: JupyterServer) -> None:
    texts = [*server.seen, server.log()]
    for secret in ALL_SECRETS:
        assert places_with_secret(secret, texts=texts, dirs=[server.home.config]) == []
        for start in range(len(secret) - 4):
            piece = secret[start : start + 5]
            assert not [body for body in server.bodies if piece in body], piece


def test_no_reply_or_log_holds_a_secret(server: JupyterServer) -> None:
    """The replies that show a key's place; the server fixture searches every reply of every
    test of the module again once they all ran (in whichever order)."""
    before = len(server.bodies)
    for pid in ("corp", "mine", "plain", "nokey", "chatgpt"):
        ok(server, "GET", f"/providers/{pid}")
    ok(server, "POST", "/providers", {"type": "anthropic", "id": "leak", "api_key": KEY_ADD},
       status=201)  # fmt: skip
    ok(server, "PUT", "/providers/leak/key", {"api_key": KEY_SET})
    ok(server, "GET", "/providers")
    ok(server, "DELETE", "/providers/leak")
    assert len(server.bodies) == before + 9
    assert_no_secret(server)
