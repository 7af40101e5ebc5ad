"""A real multi-user JupyterHub on 127.0.0.1, for tests/test_jupyterhub.py (run as root).

What it sets up, all in one scratch folder (mode 0755, under /tmp) that it removes:

- ``venv/``: a copy (hard links) of the Debian-Python venv that ``make hub-env``
  builds in ``.venv/hub/python`` with this checkout installed into it, as a
  site would install takopi_nb: the users' servers and kernels run from it, and
  its ``etc/jupyter`` is the system config dir that holds the admin layer;
- two Unix users with their own homes (mode 0700) below ``home/``;
- the hub (from the test's own venv, as root) with configurable-http-proxy from
  npm (``.venv/hub/node``), LocalProcessSpawner (each server setuid to its
  user), a shared-password authenticator, and an admin service token for the
  hub's REST API.

The hub's log (which holds the proxy's and the single-user servers' output too)
is ``state/hub.log``. Everything binds to 127.0.0.1 on free ports.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
HUB_ENV = REPO / ".venv" / "hub"
TIMEOUT = 180.0  # spawns and kernels on 2 loaded cores: generous

HUB_CONFIG = """
import os
HUB = {hub!r}
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = HUB + "/state/proxy.pid"
c.ConfigurableHTTPProxy.auth_token = os.environ["HUB_TEST_PROXY_TOKEN"]
c.JupyterHub.db_url = "sqlite:///" + HUB + "/state/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = HUB + "/state/cookie_secret"
c.JupyterHub.pid_file = HUB + "/state/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["HUB_TEST_PASSWORD"]
c.Authenticator.allowed_users = set({users!r})
c.JupyterHub.services = [{{"name": "driver", "api_token": os.environ["HUB_TEST_ADMIN_TOKEN"]}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["driver"]}}]
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.ip = "127.0.0.1"
c.Spawner.cmd = [HUB + "/venv/bin/python", "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 150
# What a site sets for every user (z2jh: singleuser.extraEnv): the org key, as a Kubernetes
# Secret would put it there, and no catalog fetches (this machine has no outside network).
c.Spawner.environment = {environment!r}
c.LocalProcessSpawner.interrupt_timeout = 5
c.LocalProcessSpawner.term_timeout = 5
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(*parts: object) -> None:
    print(f"[hub {time.strftime('%H:%M:%S')}]", *parts, flush=True)


class Hub:
    """Set up with :meth:`prepare`, run with :meth:`start`; :meth:`close` undoes everything."""

    def __init__(self, users: list[str], environment: dict[str, str]) -> None:
        self.users = users
        self.root = Path(tempfile.mkdtemp(prefix="takopi-hub-", dir="/tmp"))
        self.root.chmod(0o755)  # the users' processes run from venv/ below it
        self.venv = self.root / "venv"
        self.state = self.root / "state"
        self.log_path = self.state / "hub.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_hex(32)
        self.proxy_token = secrets.token_hex(32)
        self.password = secrets.token_hex(16)
        self.environment = {
            "PATH": f"{self.venv}/bin:/usr/local/bin:/usr/bin:/bin",
            # Config dirs in one order whoever owns sys.prefix: ~/.jupyter first, then the venv's.
            "JUPYTER_PREFER_ENV_PATH": "0",
            **environment,
        }
        self.timings: dict[str, float] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = time.monotonic()
        self.pids: set[int] = set()
        self.created_users: list[str] = []
        self.client = httpx.Client(timeout=60, trust_env=False)

    # -- setup ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Copy the venv, install this checkout into it, add the Unix users."""
        source = HUB_ENV / "python"
        if not (source / "bin" / "python").exists() or not self.proxy_command.exists():
            raise RuntimeError(
                f"{HUB_ENV} is missing or incomplete: run `make hub-env` (as root) first."
            )
        started = time.monotonic()

        def link_or_copy(src: str, dst: str) -> None:
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

        shutil.copytree(source, self.venv, symlinks=True, copy_function=link_or_copy)
        # As a site installs it: a wheel, with the server extension's enabling file.
        # umask 022: the users must be able to read what is installed.
        subprocess.run(
            ["sh", "-c", 'umask 022 && exec "$@"', "sh", str(self.venv / "bin" / "python"),
             "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
             "--no-build-isolation", "--force-reinstall", str(REPO)],
            check=True, capture_output=True, env=self._clean_env(),
        )  # fmt: skip
        self.timings["venv_copy_and_install_s"] = round(time.monotonic() - started, 2)
        self.state.mkdir(mode=0o700)
        (self.root / "home").mkdir(mode=0o755)
        for user in self.users:
            subprocess.run(
                ["useradd", "-m", "-d", str(self.root / "home" / user), "-K", "HOME_MODE=0700",
                 "-s", "/bin/bash", user],
                check=True, capture_output=True,
            )  # fmt: skip
            self.created_users.append(user)
            # Debian's login.defs has no HOME_MODE, so useradd may leave 0755.
            Path(pwd.getpwnam(user).pw_dir).chmod(0o700)

    @property
    def proxy_command(self) -> Path:
        return HUB_ENV / "node" / "node_modules" / ".bin" / "configurable-http-proxy"

    @property
    def system_config_dir(self) -> Path:
        """``<sys.prefix>/etc/jupyter`` of the users' servers and kernels: the admin layer."""
        return self.venv / "etc" / "jupyter"

    def write_system_file(self, relative: str, data: Any) -> Path:
        path = self.venv / "etc" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(self.venv).parents:
            (self.venv / parent).chmod(0o755)
        path.write_text(json.dumps(data, indent=1))
        path.chmod(0o644)
        return path

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    def uid(self, user: str) -> int:
        return pwd.getpwnam(user).pw_uid

    @staticmethod
    def _clean_env() -> dict[str, str]:
        drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_", "JUPYTER", "TAKOPI_NB_")
        return {k: v for k, v in os.environ.items() if not k.startswith(drop)}

    # -- the hub --------------------------------------------------------------------------

    def start(self) -> None:
        config = self.root / "jupyterhub_config.py"
        config.write_text(
            HUB_CONFIG.format(
                hub=str(self.root),
                port=self.port,
                hub_port=free_port(),
                proxy_api_port=free_port(),
                proxy=str(self.proxy_command),
                users=self.users,
                environment=self.environment,
            )
        )
        config.chmod(0o600)  # it holds the org key, as a Helm values file would
        env = self._clean_env()
        env.update(
            HUB_TEST_ADMIN_TOKEN=self.admin_token,
            HUB_TEST_PROXY_TOKEN=self.proxy_token,
            HUB_TEST_PASSWORD=self.password,
            PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        )
        started = self.started_at = time.monotonic()
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.state, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.pids.add(self.proc.pid)

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.proc.returncode}):\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                return self.client.get(f"{self.base}/hub/api/").status_code == 200
            return False

        self.wait(up, "the hub to answer through the proxy")
        self.timings["hub_up_s"] = round(time.monotonic() - started, 2)
        log(f"hub up in {self.timings['hub_up_s']} s on {self.base}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait(self, check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
        try:
            return wait_for(check, timeout=timeout, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; hub log:\n{self.log()[-4000:]}") from None

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(
            method,
            f"{self.base}/hub/api{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            **kwargs,
        )

    def start_server(self, user: str) -> str:
        """Start ``user``'s server; returns a token of that user for it."""
        created = self.api("POST", "/users", json={"usernames": [user]})
        assert created.status_code in (201, 409), created.text  # 409: allowed_users pre-creates
        started = time.monotonic()
        spawn = self.api("POST", f"/users/{user}/server")
        assert spawn.status_code in (201, 202), spawn.text

        def ready() -> bool:
            info = self.api("GET", f"/users/{user}").json()
            server = info.get("servers", {}).get("")
            if not info.get("pending") and server is None:
                raise RuntimeError(f"the server of {user} did not start:\n{self.log()[-4000:]}")
            return bool(server and server.get("ready"))

        self.wait(ready, f"the server of {user}")
        self.timings[f"server_up_{user}_s"] = round(time.monotonic() - started, 2)
        log(f"server of {user} up in {self.timings[f'server_up_{user}_s']} s")
        token = self.api(
            "POST", f"/users/{user}/tokens", json={"note": "takopi test", "expires_in": 3600}
        )
        assert token.status_code == 201, token.text
        self._record_pids()
        return str(token.json()["token"])

    def _record_pids(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(psutil.Error):
            self.pids.update(p.pid for p in psutil.Process(self.proc.pid).children(recursive=True))

    def listening(self) -> list[str]:
        """Addresses every process of the hub's tree listens on."""
        self._record_pids()
        return sorted(
            f"{c.laddr.ip}:{c.laddr.port}"
            for c in psutil.net_connections("inet")
            if c.status == psutil.CONN_LISTEN and c.pid in self.pids
        )

    # -- a user's server --------------------------------------------------------------------

    def request(
        self, user: str, token: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"token {token}", **kwargs.pop("headers", {})}
        return self.client.request(
            method, f"{self.base}/user/{user}{path}", headers=headers, **kwargs
        )

    def start_kernel(self, user: str, token: str) -> str:
        started = time.monotonic()
        kernel = self.request(user, token, "POST", "/api/kernels", json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        kernel_id = str(kernel.json()["id"])
        self.execute(user, token, kernel_id, "1")
        self.timings[f"kernel_up_{user}_s"] = round(time.monotonic() - started, 2)
        self._record_pids()
        return kernel_id

    def execute(self, user: str, token: str, kernel_id: str, code: str) -> str:
        """Run ``code`` over the kernel's websocket; its printed output, or AssertionError."""
        import websocket  # websocket-client, a dependency of jupyter_server

        session = uuid.uuid4().hex
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{self.port}/user/{user}/api/kernels/{kernel_id}/channels"
            f"?session_id={session}",
            header=[f"Authorization: token {token}"],
            timeout=TIMEOUT,
        )
        msg_id = uuid.uuid4().hex
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": session, "version": "5.3", "date": now},
            "parent_header": {}, "metadata": {}, "buffers": [], "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))  # fmt: skip
        out: list[str] = []
        error: str | None = None
        idle = replied = False
        deadline = time.monotonic() + TIMEOUT
        try:
            while not (idle and replied):
                if time.monotonic() > deadline:
                    raise AssertionError(f"no reply from the kernel of {user}")
                message = json.loads(ws.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["header"]["msg_type"], message["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    error = "\n".join(content["traceback"])
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
        finally:
            ws.close()
        if error is not None:
            raise AssertionError(f"the kernel of {user} failed:\n{error}")
        return "".join(out)

    # -- teardown ---------------------------------------------------------------------------

    def close(self) -> list[int]:
        """Stop servers, the hub and proxy; remove users and files. Returns leftover pids."""
        self._record_pids()
        leftovers: list[int] = []
        if self.proc is not None and self.proc.poll() is None:
            started = time.monotonic()
            for user in self.users:
                with contextlib.suppress(httpx.HTTPError):
                    self.api("DELETE", f"/users/{user}/server")
            with contextlib.suppress(httpx.HTTPError, AssertionError):
                self.wait(
                    lambda: (
                        not any(
                            self.api("GET", f"/users/{u}").json().get("servers") for u in self.users
                        )
                    ),
                    "the servers to stop",
                    timeout=60,
                )
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.timings["shutdown_s"] = round(time.monotonic() - started, 2)
        for user in self.created_users:  # processes of the test users: ours, by pid
            with contextlib.suppress(KeyError):
                uid = self.uid(user)
                self.pids.update(
                    p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"].real == uid
                )
        for pid in sorted(self.pids):
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    leftovers.append(pid)
                    process.kill()
        for user in self.created_users:
            subprocess.run(["userdel", "-r", user], capture_output=True, check=False)
        self.client.close()
        shutil.rmtree(self.root, ignore_errors=True)
        return leftovers
