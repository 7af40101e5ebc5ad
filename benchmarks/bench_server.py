"""The REST API's writes, each next to a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_server.py [--requests N]

A real ``jupyter server`` on 127.0.0.1 with throw-away config, key and cache
folders (offline, secrets file). Figures, medians over N requests on one
keep-alive connection:

- ``PATCH /takopi/api/providers/<id>`` selecting models; baselines: the same
  change through the Python API in this process (``provider.models = …``, same
  file and lock), and ``GET /api/status``, jupyter_server's own smallest
  authenticated route (what any route costs over HTTP);
- ``PUT /takopi/api/providers/<id>/key``; baseline: ``provider.set_api_key``
  in this process;
- ``GET /takopi/api/providers`` with 8 providers; baseline: ``GET /api/status``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness import REPO, table

TOKEN = "bench-token-0123456789"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _median_ms(fn: Callable[[], object], n: int) -> float:
    first = fn()
    status = getattr(first, "status_code", 200)
    assert status < 300, (status, getattr(first, "text", ""))
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main(argv: Sequence[str] = ()) -> None:
    import httpx

    parser = argparse.ArgumentParser(description="REST API benchmarks")
    parser.add_argument("--requests", type=int, default=60)
    requests = parser.parse_args(list(argv)).requests

    with tempfile.TemporaryDirectory(prefix="takopi-bench-server-") as folder:
        root = Path(folder)
        dirs = {name: root / name for name in ("config", "data", "runtime", "cache", "nb")}
        for path in dirs.values():
            path.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "TAKOPI_NB_"))},
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "TAKOPI_NB_CACHE_DIR": str(dirs["cache"]),
            "TAKOPI_NB_OFFLINE": "1",
            "PYTHONPATH": REPO,
        }
        port = _port()
        base = f"http://127.0.0.1:{port}"
        with (root / "server.log").open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                 f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
                 f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={dirs['nb']}",
                 "--TakopiConfig.secret_backend=file"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            client = httpx.Client(
                base_url=base, headers={"Authorization": f"token {TOKEN}"}, timeout=60
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/takopi/api/status").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit((root / "server.log").read_text())
                time.sleep(0.1)
            for i in range(8):
                client.post("/takopi/api/providers", json={"type": "openai", "id": f"p{i}"})
            flip = [0]

            def models_body() -> dict[str, list[str]]:
                flip[0] ^= 1
                return {"models": ["gpt-5.2", "gpt-4o"][: 1 + flip[0]]}

            rest_patch = _median_ms(
                lambda: client.patch("/takopi/api/providers/p0", json=models_body()), requests
            )
            rest_key = _median_ms(
                lambda: client.put("/takopi/api/providers/p1/key", json={"api_key": "sk-bench-1"}),
                requests,
            )
            rest_list = _median_ms(lambda: client.get("/takopi/api/providers"), requests)
            status = _median_ms(lambda: client.get("/api/status"), requests)

            os.environ.update({k: env[k] for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR")})
            sys.path.insert(0, REPO)
            import takopi_nb as tk

            cfg = tk.TakopiConfig(secret_backend="file")
            provider = cfg.get("p0")
            python_patch = _median_ms(
                lambda: setattr(provider, "models", models_body()["models"]), requests
            )
            python_key = _median_ms(lambda: cfg.get("p1").set_api_key("sk-bench-2"), requests)
            client.close()
        finally:
            server.terminate()
            server.wait(30)

    rows = [
        ("PATCH providers/<id> (select models)", f"{rest_patch:.1f} ms",
         f"Python API {python_patch:.1f} ms; GET /api/status {status:.1f} ms",
         f"{rest_patch / python_patch:.1f}× Python"),
        ("PUT providers/<id>/key", f"{rest_key:.1f} ms",
         f"Python API set_api_key {python_key:.1f} ms", f"{rest_key / python_key:.1f}× Python"),
        ("GET providers (8 providers)", f"{rest_list:.1f} ms",
         f"GET /api/status {status:.1f} ms", f"{rest_list / status:.1f}× status"),
    ]  # fmt: skip
    print(table(f"REST API (real jupyter server on 127.0.0.1; medians of {requests})", rows))
    print(
        "baselines: the same change in this process through the Python API (same file, same "
        "lock); jupyter_server's own GET /api/status over the same connection"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
