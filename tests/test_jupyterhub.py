"""A shared deployment for real: JupyterHub on 127.0.0.1 with two Unix users.

The hub runs LocalProcessSpawner, so each user's server and kernels run setuid
as that user, with a home of their own (mode 0700). The site's setup is what
docs/jupyterhub.md tells an admin to do, with the same files in the same kind
of place (here ``<sys.prefix>/etc`` of the users' environment):

- ``jupyter/takopi/providers.json``: the admin layer, one managed provider
  ``corp`` whose Base URL is a loopback fake of the OpenAI API and whose key
  comes from ``CORP_OPENAI_KEY``, set for every user by
  ``c.Spawner.environment`` (as a Kubernetes Secret in z2jh's
  ``singleuser.extraEnv`` would);
- ``jupyter/jupyter_server_config.json``: ``TakopiConfig.secret_backend = "file"``
  for the server extension;
- ``ipython/ipython_kernel_config.json``: the kernel extension and the same
  secret backend for kernels.

Everything is then seen from each user's own kernel (over the kernel
websocket, through the proxy) and own REST API. Needs root (it adds users) and
``make hub-env``; skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.providers import FakeProvider
from tests.leaks import places_with_secret

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.name != "posix" or os.geteuid() != 0,
        reason="needs root: it adds two Unix users for a real multi-user JupyterHub",
    ),
]

ORG_KEY = "sk-org-Hq4Wz8Nc2Lp6Vr9Tb3Ks7Mf1Jd5Gx0Ya"
KEY_A = "sk-userA-Pe3Ru6Ti9Yo2Wq5Es8Ad1Sf4Gh7Jk"
KEY_B = "sk-userB-Lz0Xc3Vb6Nm9Aq2Sw5De8Fr1Gt4Hy"
SECRETS = (ORG_KEY, KEY_A, KEY_B)


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeProvider]]:
    """The org's endpoint and each user's own endpoint, each accepting only its key."""
    with (
        FakeProvider(key=ORG_KEY, models=("gpt-5.2", "gpt-4o")) as org,
        FakeProvider(key=KEY_A) as own_a,
        FakeProvider(key=KEY_B) as own_b,
    ):
        yield {"org": org, "a": own_a, "b": own_b}


@pytest.fixture
def hub(fakes: dict[str, FakeProvider], capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    from tests.jupyterhub_driver import Hub

    tag = secrets.token_hex(3)
    hub = Hub(
        [f"takopi-{tag}-a", f"takopi-{tag}-b"],
        {
            "CORP_OPENAI_KEY": ORG_KEY,
            "TAKOPI_NB_OFFLINE": "1",
            # A stray request to the outside fails at once; loopback goes direct.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        },
    )
    try:
        hub.prepare()
        hub.write_system_file(
            "jupyter/takopi/providers.json",
            {
                "version": 1,
                "providers": [
                    {
                        "id": "corp",
                        "type": "openai",
                        "name": "Org OpenAI",
                        "base_url": fakes["org"].base_url,
                        "models": ["gpt-5.2"],
                        "api_key_env": "CORP_OPENAI_KEY",
                    }
                ],
                "default_model": "corp/gpt-5.2",
            },
        )
        hub.write_system_file(
            "jupyter/jupyter_server_config.json",
            {
                "TakopiConfig": {"secret_backend": "file"},
                "TakopiServerExtension": {"catalog_refresh_interval": 0},
            },
        )
        hub.write_system_file(
            "ipython/ipython_kernel_config.json",
            {
                "InteractiveShellApp": {"extensions": ["takopi_nb"]},
                "TakopiConfig": {"secret_backend": "file"},
            },
        )
        hub.start()
        yield hub
    finally:
        leftovers = hub.close()
        with capsys.disabled():
            print(f"\n[hub] timings (s): {json.dumps(hub.timings)}; leftover pids: {leftovers}")
    assert leftovers == [], "processes outlived the hub's shutdown"


KERNEL_LOOK = """
import json, os, pwd
import takopi_nb as tk
cfg = tk.get_config()
corp = cfg.get("corp")
out = {
    "uid": os.getuid(), "user": pwd.getpwuid(os.getuid()).pw_name,
    "kernel_extension": "takopi_nb" in get_ipython().extension_manager.loaded,
    "secret_store": cfg.runtime.secrets.kind, "config_file": str(cfg.runtime.store.path),
    "managed": corp.managed, "base_url": corp.effective_base_url,
    "credential_source": corp.credential_source, "models": list(corp.models),
    "chat": str(tk.resolve("corp/gpt-5.2").chat("hello from " + pwd.getpwuid(os.getuid()).pw_name)),
}
refusals = {}
for name, change in {
    "remove": lambda: cfg.remove_provider("corp"),
    "base_url": lambda: setattr(corp, "base_url", "http://127.0.0.1:1/elsewhere"),
    "type": lambda: setattr(corp, "type", "anthropic"),
    "rename": lambda: cfg.rename_provider("corp", "mine"),
}.items():
    try:
        change()
        refusals[name] = None
    except Exception as exc:
        refusals[name] = str(exc)
out["refusals"] = refusals
after = cfg.get("corp")
out["after"] = [after.id, after.type, after.effective_base_url, after.managed]
print(json.dumps(out))
"""

KERNEL_ADD_OWN = """
import json, takopi_nb as tk
cfg = tk.get_config()
own = cfg.add_provider("openai", id="own", base_url={url!r}, models=["gpt-5.2"], api_key={key!r})
cfg.get("corp").models = ["gpt-5.2", "gpt-4o"]
print(json.dumps({{"source": own.credential_source, "chat": str(tk.resolve("own/gpt-5.2").chat("hi"))}}))
"""

KERNEL_USE_OWN = """
import json, takopi_nb as tk
cfg = tk.get_config()
print(json.dumps({
    "source": cfg.get("own").credential_source,
    "chat": str(tk.resolve("own/gpt-5.2").chat("hi")),
    "corp_models": list(cfg.get("corp").models),
}))
"""

KERNEL_REST = """
import json, os, urllib.error, urllib.request
from urllib.parse import urlsplit
# What docs/jupyterhub.md shows for R and Julia: the server's URL and token from the environment.
server = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
base = f"{server.scheme}://{server.netloc}{os.environ['JUPYTERHUB_SERVICE_PREFIX']}takopi/api/"
def call(method, path, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"],
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:300]
got = call("GET", "resolve?ref=corp/gpt-5.2")
renamed = call("PATCH", "providers/own", {"name": "Mine"})
print(json.dumps({"get": got[0], "source": got[1]["credential_source"] if got[0] == 200 else got[1],
                  "patch": renamed[0], "name": renamed[1]["provider"]["name"] if renamed[0] == 200 else renamed[1]}))
"""

KERNEL_PEEK = """
import json, os
seen = {{}}
for name, path in {paths!r}.items():
    try:
        os.listdir(path) if name == "home" else open(path).read()
        seen[name] = "readable"
    except Exception as exc:
        seen[name] = type(exc).__name__
print(json.dumps(seen))
"""


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.timeout(1500)
def test_two_users_share_a_managed_provider_and_keep_their_own_keys(
    hub: Any, fakes: dict[str, FakeProvider]
) -> None:
    a, b = hub.users
    replies: list[str] = []
    kernel_output: list[str] = []

    def rest(user: str, token: str, method: str, path: str, body: Any = None) -> Any:
        response = hub.request(
            user, token, method, f"/takopi/api{path}",
            content=None if body is None else json.dumps(body),
        )  # fmt: skip
        replies.append(f"{response.status_code} {response.headers} {response.text}")
        return response

    def run(user: str, token: str, kernel: str, code: str) -> Any:
        output = hub.execute(user, token, kernel, code)
        kernel_output.append(output)
        return last_json(output)

    tokens = {user: hub.start_server(user) for user in hub.users}
    kernels = {user: hub.start_kernel(user, tokens[user]) for user in hub.users}
    assert all(address.startswith("127.0.0.1:") for address in hub.listening())

    # -- both see the managed provider and can call it; neither can change it -----------------
    admin_file = hub.system_config_dir / "takopi" / "providers.json"
    for user in hub.users:
        look = run(user, tokens[user], kernels[user], KERNEL_LOOK)
        assert look["user"] == user and look["uid"] == hub.uid(user) != 0
        assert look["kernel_extension"] is True  # from ipython_kernel_config.json
        assert look["secret_store"] == "file"  # TakopiConfig from the same file
        assert look["config_file"] == str(hub.home(user) / ".jupyter/takopi/providers.json")
        assert look["managed"] is True and look["base_url"] == fakes["org"].base_url
        assert look["credential_source"] == "env:CORP_OPENAI_KEY"
        assert look["chat"] == "Hello from the fake."
        refusals = look["refusals"]
        assert None not in refusals.values(), refusals
        assert "managed by your administrator" in refusals["remove"]
        assert "managed by your administrator" in refusals["base_url"]
        assert "managed by your administrator" in refusals["rename"]
        assert look["after"] == ["corp", "openai", fakes["org"].base_url, True]

        status = rest(user, tokens[user], "GET", "/status").json()
        assert status["secret_store"] == "file"  # from jupyter_server_config.json
        # TAKOPI_NB_OFFLINE from the spawner's environment, and the interval from the file.
        assert status["offline"] and status["catalog_refresher"]["enabled"] is False
        assert {"path": str(admin_file), "exists": True} in status["admin_config_files"]
        corp = rest(user, tokens[user], "GET", "/providers/corp").json()
        assert corp["managed"] is True and corp["base_url"] == fakes["org"].base_url
        assert corp["credential_source"] == "env:CORP_OPENAI_KEY" and corp["usable"] is True
        resolved = rest(user, tokens[user], "GET", "/resolve?ref=corp/gpt-5.2").json()
        assert resolved["ready"] is True
        # Over REST: the same refusals, in the kernel's own words.
        removed = rest(user, tokens[user], "DELETE", "/providers/corp")
        assert removed.status_code == 400 and removed.json()["error"] == refusals["remove"]
        moved = rest(user, tokens[user], "PATCH", "/providers/corp",
                     {"base_url": "http://127.0.0.1:1/elsewhere"})  # fmt: skip
        assert moved.status_code == 400 and moved.json()["error"] == refusals["base_url"]
        renamed = rest(user, tokens[user], "POST", "/providers/corp/rename", {"id": "mine"})
        assert renamed.status_code == 400 and renamed.json()["error"] == refusals["rename"]
        retyped = rest(user, tokens[user], "PATCH", "/providers/corp", {"type": "anthropic"})
        assert retyped.status_code == 400 and "Unknown field(s) 'type'" in retyped.json()["error"]
    calls = fakes["org"].requests_to("chat/completions")
    assert len(calls) == 2
    assert {json.loads(c.body)["messages"][0]["content"] for c in calls} == {
        f"hello from {a}",
        f"hello from {b}",
    }

    # -- each adds a provider with an own key: A from the kernel, B over REST ------------------
    added_a = run(a, tokens[a], kernels[a],
                  KERNEL_ADD_OWN.format(url=fakes["a"].base_url, key=KEY_A))  # fmt: skip
    assert added_a == {"source": "file", "chat": "Hello from the fake."}
    added_b = rest(b, tokens[b], "POST", "/providers",
                   {"type": "openai", "id": "own", "base_url": fakes["b"].base_url,
                    "models": ["gpt-5.2"], "api_key": KEY_B})  # fmt: skip
    assert added_b.status_code == 201, added_b.text
    assert added_b.json()["provider"]["credential_source"] == "file"
    selected_b = rest(b, tokens[b], "PATCH", "/providers/corp", {"models": ["gpt-4o"]})
    assert selected_b.status_code == 200, selected_b.text
    # B's kernel sees what B's REST API wrote, and calls with B's key.
    used_b = run(b, tokens[b], kernels[b], KERNEL_USE_OWN)
    assert used_b == {"source": "file", "chat": "Hello from the fake.", "corp_models": ["gpt-4o"]}
    assert len(fakes["a"].requests_to("chat/completions")) == 1
    assert len(fakes["b"].requests_to("chat/completions")) == 1

    # A kernel of another language would use the REST API with the server's own token.
    from_kernel = run(a, tokens[a], kernels[a], KERNEL_REST)
    assert from_kernel == {
        "get": 200,
        "source": "env:CORP_OPENAI_KEY",
        "patch": 200,
        "name": "Mine",
    }

    # -- a user's model selection on the managed provider stays theirs ------------------------
    corp_a = rest(a, tokens[a], "GET", "/providers/corp").json()
    corp_b = rest(b, tokens[b], "GET", "/providers/corp").json()
    assert corp_a["models"] == ["gpt-5.2", "gpt-4o"] and corp_b["models"] == ["gpt-4o"]
    assert json.loads(admin_file.read_text())["providers"][0]["models"] == ["gpt-5.2"]

    # -- A's key is A's: file modes and owners, B cannot read it, no REST route returns it -----
    secrets_a = hub.home(a) / ".local/share/jupyter/takopi/secrets.json"
    secrets_b = hub.home(b) / ".local/share/jupyter/takopi/secrets.json"
    for user, path in ((a, secrets_a), (b, secrets_b)):
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == hub.uid(user)
        assert stat.S_IMODE(hub.home(user).stat().st_mode) == 0o700
    assert KEY_A.encode() in secrets_a.read_bytes() and KEY_A.encode() not in secrets_b.read_bytes()
    peek = run(b, tokens[b], kernels[b], KERNEL_PEEK.format(paths={
        "home": str(hub.home(a)), "secrets": str(secrets_a),
        "config": str(hub.home(a) / ".jupyter/takopi/providers.json"),
    }))  # fmt: skip
    assert peek == {"home": "PermissionError", "secrets": "PermissionError",
                    "config": "PermissionError"}  # fmt: skip
    crossed = hub.request(a, tokens[b], "GET", "/takopi/api/providers/own")
    assert crossed.status_code == 403, crossed.status_code

    for user in hub.users:
        for path in ("/providers", "/providers/own", "/providers/corp", "/status", "/settings",
                     "/resolve?ref=own/gpt-5.2", "/catalog"):  # fmt: skip
            assert rest(user, tokens[user], "GET", path).status_code == 200, path
    log = hub.log()
    assert "takopi_nb | extension was successfully loaded" in log
    assert "takopi_nb: REST API at /user/" in log
    for secret in SECRETS:
        assert places_with_secret(secret, texts=[*replies, *kernel_output, log]) == [], secret
        for user in hub.users:
            assert places_with_secret(secret, dirs=[hub.home(user) / ".jupyter"]) == []
        for start in range(len(secret) - 4):
            piece = secret[start : start + 5]
            assert not [r for r in replies if piece in r], piece
    # The users' config files hold their own choices, never a key.
    own_a = json.loads((hub.home(a) / ".jupyter/takopi/providers.json").read_text())
    assert {p["id"] for p in own_a["providers"]} == {"corp", "own"}
    hub.timings["scenario_s"] = round(time.monotonic() - hub.started_at, 2)
