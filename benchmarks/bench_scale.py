"""Calling at scale (issue 13), each figure beside its baseline measured in the same run:

- per-call time of ``m.chat()`` against a reused official ``openai.OpenAI`` client, and
  the TCP connections N sequential calls open, on a keep-alive loopback server;
- ``chat_many`` of 500 prompts at concurrency 16 against a server answering in 100 ms,
  beside the ideal (500 / 16 × 0.1 s) and ``asyncio.gather`` over ``AsyncOpenAI`` with a
  semaphore;
- memory growth over 10,000 cached calls.

python benchmarks/bench_scale.py
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import table, verdict

KEY = "sk-bench-not-a-real-key-0123456789"
SEQUENTIAL = 300
BATCH = 500
CONCURRENCY = 16
DELAY = 0.1
CACHED_CALLS = 10_000
MEMORY_ROUNDS = 3


def _chat_completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


def _anthropic_message(model: str) -> dict[str, Any]:
    return {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }


class CountingServer:
    """A keep-alive chat endpoint (OpenAI-compatible and Anthropic Messages) that counts TCP
    connections."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.connections = 0
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every answer on loopback.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def do_GET(self) -> None:  # /stats: the counts, for a server in another process
                reply = json.dumps(
                    {"connections": server.connections, "requests": server.requests}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests += 1
                if server.delay:
                    time.sleep(server.delay)
                if self.path.endswith("/messages"):  # Anthropic Messages (bench_frameworks)
                    reply = json.dumps(_anthropic_message(body["model"])).encode()
                else:
                    reply = json.dumps(_chat_completion(body["model"])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def reset(self) -> None:
        with self._lock:
            self.connections = 0
            self.requests = 0

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class ServerProcess:
    """A :class:`CountingServer` in a child process, so that its threads do not compete with
    the client for this process's GIL (a real provider runs elsewhere too)."""

    def __init__(self, delay: float = 0.0) -> None:
        import subprocess

        self._process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", str(delay)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()
        self._offset = {"connections": 0, "requests": 0}

    def _stats(self) -> dict[str, int]:
        import httpx

        stats: dict[str, int] = httpx.get(self.base_url.removesuffix("/v1") + "/stats").json()
        return stats

    def reset(self) -> None:
        self._offset = self._stats()  # counts the connection of that /stats call itself

    @property
    def connections(self) -> int:
        return self._stats()["connections"] - self._offset["connections"] - 1  # this call's

    @property
    def requests(self) -> int:
        return self._stats()["requests"] - self._offset["requests"]

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)


def per_call_ms(fn: Any, number: int, repeat: int = 5) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number // repeat):
            fn()
        samples.append((time.perf_counter() - t0) / (number // repeat) * 1000)
    return statistics.median(samples)


def _model(cfg: Any, pid: str, base_url: str) -> Any:
    import takopi_nb as tk

    cfg.add_provider("openai", id=pid, base_url=base_url, api_key=KEY, models=["gpt-4o-mini"])
    return tk.resolve(f"{pid}/gpt-4o-mini")


def sequential_rows(cfg: Any) -> list[list[str]]:
    import httpx
    import openai

    server = ServerProcess()
    m = _model(cfg, "seq", server.base_url)
    messages = [{"role": "user", "content": "hi"}]

    sdk = openai.OpenAI(**m.openai_kwargs())
    server.reset()
    sdk_ms = per_call_ms(
        lambda: sdk.chat.completions.create(model="gpt-4o-mini", messages=messages),  # type: ignore[arg-type]
        SEQUENTIAL,
    )
    sdk_conns = server.connections

    server.reset()
    ours_ms = per_call_ms(lambda: m.chat("hi"), SEQUENTIAL)
    ours_conns = server.connections

    def new_client_per_call() -> None:  # what chat() did before pooling
        with httpx.Client(base_url=server.base_url + "/") as client:
            client.post(
                "chat/completions",
                json={"model": "gpt-4o-mini", "messages": messages},
                headers={"Authorization": f"Bearer {KEY}"},
            ).raise_for_status()

    server.reset()
    fresh_ms = per_call_ms(new_client_per_call, 100)
    fresh_conns = server.connections
    sdk.close()
    server.stop()
    per_call = "m.chat() per call (loopback, keep-alive)"
    conns = f"TCP connections for {SEQUENTIAL + 1} sequential m.chat()"
    return [
        [per_call, f"{ours_ms:.2f} ms", f"reused openai.OpenAI {sdk_ms:.2f} ms",
         f"{ours_ms / sdk_ms:.2f}× " + verdict(per_call, "target ≤ 1.2×", ours_ms <= 1.2 * sdk_ms)],
        [conns, str(ours_conns), f"reused openai.OpenAI: {sdk_conns}",
         verdict(conns, "target 1", ours_conns == 1)],
        ["new httpx.Client per call (the old chat())", f"{fresh_ms:.2f} ms",
         f"{fresh_conns} connections for 101 calls", "for contrast"],
    ]  # fmt: skip


async def _gather_async_openai(m: Any, prompts: list[str]) -> None:
    import openai

    client = openai.AsyncOpenAI(**m.openai_kwargs())
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(prompt: str) -> Any:
        async with gate:
            return await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
            )

    await asyncio.gather(*(one(p) for p in prompts))
    await client.close()


def _raw_threads(base_url: str, prompts: list[str]) -> None:
    """No library at all: what this machine and server allow at 16 concurrent requests."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with httpx.Client(base_url=base_url + "/", headers={"Authorization": f"Bearer {KEY}"}) as c:

        def one(prompt: str) -> None:
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
            c.post("chat/completions", json=body).raise_for_status()

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(one, prompts))


def batch_rows(cfg: Any) -> list[list[str]]:
    server = ServerProcess(delay=DELAY)
    m = _model(cfg, "batch", server.base_url)
    prompts = [f"prompt {i}" for i in range(BATCH)]
    ideal = BATCH / CONCURRENCY * DELAY

    server.reset()
    t0 = time.perf_counter()
    batch = m.chat_many(prompts, concurrency=CONCURRENCY, progress=False)
    ours = time.perf_counter() - t0
    assert len(batch.results) == BATCH, batch
    conns = server.connections

    t0 = time.perf_counter()
    asyncio.run(_gather_async_openai(m, prompts))
    gathered = time.perf_counter() - t0

    t0 = time.perf_counter()
    _raw_threads(server.base_url, prompts)
    raw = time.perf_counter() - t0
    server.stop()
    figure = f"chat_many {BATCH} prompts, concurrency {CONCURRENCY}, 100 ms server"
    return [
        [figure, f"{ours:.2f} s ({conns} connections)", f"ideal {ideal:.2f} s",
         f"{ours / ideal:.2f}× " + verdict(figure, "target ≤ 1.15×", ours <= 1.15 * ideal)],
        ["same with asyncio.gather over AsyncOpenAI + semaphore", f"{ours:.2f} s",
         f"{gathered:.2f} s", f"{ours / gathered:.2f}×"],
        ["same with 16 threads over one raw httpx.Client", f"{ours:.2f} s",
         f"{raw:.2f} s (this machine's floor)", f"{ours / raw:.2f}×"],
    ]  # fmt: skip


def _dict_growth(prompts: list[str]) -> int:
    """What keeping every answer in memory would cost: the baseline a disk cache avoids."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = {i: {"text": "ok", "prompt": prompts[i % len(prompts)]} for i in range(CACHED_CALLS)}
    growth = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return growth


def memory_rows(cfg: Any) -> list[list[str]]:
    server = CountingServer()
    m = _model(cfg, "cache", server.base_url)
    distinct = [f"cached prompt {i}" for i in range(100)]
    for prompt in distinct:
        m.chat(prompt, cache=True)
    sent = server.requests
    # A leak grows in every round; a one-off event does not. One such event is the
    # interpreter's interned-string table being reallocated: its old block predates tracing,
    # so only the new one is counted (~1.8 MiB, in one round). Hence the median of three.
    growths: list[int] = []
    elapsed = 0.0
    tracemalloc.start()
    for _ in range(MEMORY_ROUNDS):
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        for i in range(CACHED_CALLS):
            m.chat(distinct[i % len(distinct)], cache=True)
        elapsed += time.perf_counter() - t0
        gc.collect()
        growths.append(tracemalloc.get_traced_memory()[0] - before)
    tracemalloc.stop()
    growth = statistics.median(growths)
    per_hit_us = elapsed / (CACHED_CALLS * MEMORY_ROUNDS) * 1e6
    baseline = _dict_growth(distinct)
    assert server.requests == sent, "a cached call reached the server"
    server.stop()
    figure = f"memory growth over {CACHED_CALLS:,} cached calls (median of {MEMORY_ROUNDS} rounds)"
    return [
        [figure, f"{growth / 1024:.1f} KiB",
         f"{CACHED_CALLS:,} answers kept in a dict: {baseline / 1024:.0f} KiB",
         verdict(figure, "target ≤ 64 KiB (flat; none sent)", growth <= 64 * 1024)],
        ["cached m.chat() per call", f"{per_hit_us:.0f} µs", "one disk read + JSON parse",
         ""],
    ]  # fmt: skip


def main(argv: object = ()) -> list[list[str]]:
    from takopi_nb import demo

    cfg = demo.sandbox()
    # Memory first: later figures leave server and client threads behind that allocate.
    memory = memory_rows(cfg)
    rows = sequential_rows(cfg) + batch_rows(cfg) + memory
    print(table("Calling at scale: pooled clients, chat_many, cache", rows))
    print(
        f"loopback servers (stdlib ThreadingHTTPServer) in a child process; medians of 5 runs of "
        f"{SEQUENTIAL // 5} calls for per-call figures"
    )
    return rows


def serve(delay: float) -> None:
    server = CountingServer(delay)
    print(server.base_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(float(sys.argv[2]))
    else:
        main()
