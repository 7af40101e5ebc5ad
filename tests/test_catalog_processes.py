"""Several real processes sharing one catalog cache, and what a fresh process does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from takopi_nb.catalog import Catalog
from takopi_nb.catalog._index import CacheCorrupt, Index
from tests.fakes.models_dev import ModelsDevServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[ModelsDevServer]:
    with ModelsDevServer() as fake:
        yield fake


def env(**extra: str) -> dict[str, str]:
    """The test's environment (cache dir, URL...) for a child process, without proxies."""
    base = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    base["PYTHONPATH"] = str(REPO)
    base.update(extra)
    return base


def run(script: str, **extra: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script], env=env(**extra), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


REFRESHER = """
import json, sys, time
from pathlib import Path
from takopi_nb.catalog import Catalog
ready, go, asked = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])


def clock():
    # A refresh reads the clock first ("started"): once it has, the parent lets the fake answer.
    if go.exists():
        asked.touch()
    return time.time()


catalog = Catalog(auto_refresh=False, clock=clock)
ready.touch()
while not go.exists():
    time.sleep(0.002)
ok = catalog.refresh()
print(json.dumps({"ok": ok, "source": catalog.source, "error": catalog.last_error,
                  "fetched_at": catalog.fetched_at.timestamp(), "models": len(catalog)}))
"""


def test_two_processes_refreshing_at_once_fetch_once_and_agree(
    server: ModelsDevServer, tmp_path: Path
) -> None:
    # Both refreshes have started before the fake answers: the one that does not download
    # finds a newer download on disk. A delay instead fails when a child is late by more.
    server.hang()
    cache_dir = Path(os.environ["TAKOPI_NB_CACHE_DIR"])
    Catalog(offline=True, auto_refresh=False)  # pre-index the bundled snapshot for both
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{n}" for n in range(2)]
    asked = [tmp_path / f"asked{n}" for n in range(2)]
    children = []
    for n in range(2):
        children.append(
            subprocess.Popen(
                [sys.executable, "-c", REFRESHER, *(str(f) for f in (ready[n], go, asked[n]))],
                env=env(TAKOPI_NB_CATALOG_URL=server.api_url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 30
    while not all(path.exists() for path in ready):
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.01)
    go.touch()
    while not all(path.exists() for path in asked):
        assert time.monotonic() < deadline + 30, "children did not refresh"
        time.sleep(0.01)
    server.release()
    results = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["ok"] and r["error"] is None and r["models"] == 5276 for r in results), results
    assert sorted(r["source"] for r in results) == ["cache", "network"]
    assert results[0]["fetched_at"] == results[1]["fetched_at"]
    assert server.hits == 1
    stored = Index((cache_dir / "catalog" / "models-dev.v1.cache").read_bytes())
    assert stored.meta["fetched_at"] == pytest.approx(results[0]["fetched_at"], abs=1e-5)
    assert stored.model_count == 5276


WRITER = """
import sys
from pathlib import Path
from takopi_nb.catalog._cache import CacheFiles
files = CacheFiles(Path(sys.argv[1]))
payload = Path(sys.argv[2]).read_bytes()
for _ in range(40):
    with files.locked(30):
        files.write(files.download, payload)
print("{}")
"""


def test_concurrent_writers_never_show_a_torn_file(tmp_path: Path) -> None:
    from takopi_nb.catalog._bundled import snapshot_index
    from takopi_nb.catalog._index import restamp

    bundled = snapshot_index()

    payloads = []
    for n in range(2):
        path = tmp_path / f"payload{n}"
        path.write_bytes(restamp(bundled, origin="network", fetched_at=float(n)))
        payloads.append(path)
    shared = tmp_path / "shared"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(shared), str(p)],
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in payloads
    ]
    target = shared / "models-dev.v1.cache"
    reads = 0
    seen: set[float] = set()
    while any(child.poll() is None for child in children):
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            continue
        try:
            seen.add(Index(data).meta["fetched_at"])
        except CacheCorrupt as exc:  # pragma: no cover - this is the failure being tested for
            pytest.fail(f"read a torn cache file: {exc}")
        reads += 1
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    assert reads > 0 and seen <= {0.0, 1.0}
    assert not [p for p in shared.iterdir() if p.name.endswith(".tmp")]


FRESH_PROCESS = """
import json, sys, threading
from takopi_nb.catalog import get_catalog
catalog = get_catalog()
models = catalog.models("openai")
print(json.dumps({
    "source": catalog.source, "models": len(models),
    "decoded": sorted(catalog._loaded.view._models),
    "httpx": "httpx" in sys.modules, "threads": threading.active_count(),
}))
"""


def test_a_fresh_process_with_a_warm_cache_decodes_one_provider_and_no_network(
    server: ModelsDevServer,
) -> None:
    catalog = Catalog(url=server.api_url, auto_refresh=False)
    assert catalog.refresh() is True
    result = run(FRESH_PROCESS, TAKOPI_NB_CATALOG_URL=server.api_url)
    assert result == {
        "source": "cache", "models": 51, "decoded": ["openai"], "httpx": False, "threads": 1,
    }  # fmt: skip
    assert server.hits == 1


IMPORT_ONLY = """
import json, socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network at import")
socket.socket.connect = refuse
socket.create_connection = refuse
import takopi_nb.catalog
print(json.dumps({"httpx": "httpx" in sys.modules, "concurrent": "concurrent.futures" in sys.modules}))
"""


def test_import_does_no_work(tmp_path: Path) -> None:
    cache = tmp_path / "never-created"
    result = run(IMPORT_ONLY, TAKOPI_NB_CACHE_DIR=str(cache))
    assert result == {"httpx": False, "concurrent": False}
    assert not cache.exists()
