"""No thread the package starts keeps the interpreter alive at exit.

A pytest run once hung at exit with two idle executor threads alive. The threads
takopi_nb starts: the async pool of ``achat``/``aembed`` (and of an async client's
credential look-ups), ``chat_many``'s workers, the catalog's background refresh,
a sign-in's driver, the panel's fetches and the server extension's jobs; all are
daemons. The script below uses the first five, leaves a pool call running and an
event loop stopped the way a kernel stops (its main task never finishes), and
must still exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import asyncio
    import threading

    import takopi_nb as tk
    from takopi_nb.demo import DemoOpenAIServer
    from takopi_nb.wire._aio import run_in_thread

    server = DemoOpenAIServer().start()
    cfg = tk.get_config()
    cfg.secret_backend = "file"
    cfg.add_provider(
        "openai",
        id="demo",
        base_url=server.base_url,
        api_key="sk-demo",
        models=["gpt-5.2", "text-embedding-3-small"],
    )
    chat = tk.resolve("demo/gpt-5.2")
    embed = tk.resolve("demo/text-embedding-3-small", purpose="embedding")

    async def calls():
        await asyncio.gather(*(chat.achat(f"hi {i}") for i in range(6)), embed.aembed(["a"]))

    asyncio.run(calls())
    assert chat.chat_many(["a", "b", "c"], concurrency=3).errors == [None, None, None]
    refreshing = tk.get_catalog().refresh(background=True)  # fails: nothing on 127.0.0.1:9

    loop = asyncio.new_event_loop()
    stopped = threading.Event()

    async def kernel():
        async with chat.async_client() as client:  # its auth reads the key off the loop
            assert (await client.get("models")).status_code == 200
        loop.create_task(run_in_thread(stopped.wait))  # still running at exit
        loop.call_soon(loop.stop)
        await asyncio.Event().wait()  # a kernel's main task: it never finishes

    loop.create_task(kernel())
    loop.run_forever()

    cfg.add_provider("codex", id="chatgpt")
    assert cfg.get("chatgpt").login().wait(60) == "error"  # nothing on 127.0.0.1:9 either
    refreshing.result(60)
    server.stop()
    alive = [t.name for t in threading.enumerate() if not t.daemon]
    print("non-daemon threads:", alive, flush=True)
    """
)


def test_the_interpreter_exits_with_the_package_threads_idle_or_busy(
    isolated_env: Path, tmp_path: Path
) -> None:
    script = tmp_path / "exit_probe.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,  # a hang, not slowness: the script itself needs a few seconds
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the interpreter did not exit; it printed: {hung.stdout!r} {hung.stderr!r}")
    assert done.returncode == 0, done.stderr
    assert "non-daemon threads: ['MainThread']" in done.stdout, done.stdout


def test_the_daemon_pool_runs_calls_on_daemon_threads_and_shuts_down() -> None:
    import threading

    from takopi_nb.wire._daemon_pool import DaemonThreadPool

    pool = DaemonThreadPool(1, "probe-a")
    assert pool.submit(pow, 2, 10).result(60) == 1024
    with pytest.raises(ZeroDivisionError):
        pool.submit(divmod, 1, 0).result(60)
    assert [pool.submit(str, n).result(60) for n in range(3)] == ["0", "1", "2"]
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(pow, 2, 2)

    pool = DaemonThreadPool(2, "probe-b")
    release = threading.Event()
    busy = [pool.submit(release.wait) for _ in range(2)]
    queued = pool.submit(str, "never run")
    names = {t.name: t.daemon for t in threading.enumerate() if t.name.startswith("probe-")}
    assert names == {"probe-b_0": True, "probe-b_1": True}  # at most max_workers, daemons
    assert repr(pool) == "<DaemonThreadPool probe-b: 2/2 threads>"
    pool.shutdown(wait=False, cancel_futures=True)
    assert queued.cancelled()
    release.set()
    assert [f.result(60) for f in busy] == [True, True]
    pool.shutdown(wait=True)
    assert not any(t.name.startswith("probe-") for t in threading.enumerate())
