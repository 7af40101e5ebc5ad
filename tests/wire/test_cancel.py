"""Cancelling a call stops its HTTP request: ``achat`` cancelled or interrupted, a streamed
``achat`` cancelled mid-answer, a ``chat_many`` interrupted. A loopback fake holds the
answer and reports whether the client hung up while it waited; the pooled client is then
checked for a left-over connection, and still works."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb.wire import AsyncChatStream
from takopi_nb.wire._pool import pool
from tests.fakes.http import Request, Response, sse
from tests.fakes.providers import FakeProvider
from tests.wire.interrupts import interrupt_on_arrival

WAIT = 30.0
"""Generous bound for events on a loaded machine; never a measured duration."""


class Holder:
    """Holds every chat request whose prompt starts with 'hold' until the client hangs up
    (or the test ends), and records whether it hung up."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.finished = threading.Event()
        self.hung_up: list[bool] = []
        self.release = threading.Event()
        self._ended = threading.Condition()

    def hold(self, request: Request) -> bool:
        self.arrived.set()
        hung = False
        while not self.release.is_set() and not hung:
            hung = request.wait_for_hangup(0.05)
        with self._ended:
            self.hung_up.append(hung)
            self._ended.notify_all()
        self.finished.set()
        return hung

    def wait_ended(self, count: int) -> None:
        """Wait until ``count`` held requests have ended (the assertions after say how)."""
        with self._ended:
            self._ended.wait_for(lambda: len(self.hung_up) >= count, timeout=WAIT)

    def intercept(self, request: Request) -> Response | None:
        if str(request.json()["messages"][-1]["content"]).startswith("hold"):
            self.hold(request)
        return None  # the normal answer (lost on a closed connection)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("gpt-4o-mini",)) as server:
        tk.get_config().add_provider(
            "openai", id="p", base_url=server.base_url, api_key=server.key, models=["gpt-4o-mini"]
        )
        yield server


@pytest.fixture
def holder(fake: FakeProvider) -> Iterator[Holder]:
    held = Holder()
    fake.intercept = held.intercept
    yield held
    held.release.set()  # a failing test must not leave the fake's thread waiting


def pool_connections() -> list[Any]:
    """The httpcore connections of the one pooled client, its routes' and proxies' included
    (the private _pool and _inner are ours)."""
    (slot,) = pool._slots.values()
    client: Any = slot.client
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    found: list[Any] = []
    for transport in transports:
        transport = getattr(transport, "_inner", transport)  # a route's own transport
        found.extend(transport._pool.connections)
    return found


def pool_settles(fake: FakeProvider, ref: str = "p/gpt-4o-mini") -> None:
    """The cut connection left the pool (so its thread is done), and the pool still works."""
    for _ in range(int(WAIT / 0.05)):
        if all(c.is_idle() for c in pool_connections()):
            break
        threading.Event().wait(0.05)
    assert all(c.is_idle() for c in pool_connections())
    m = tk.resolve(ref)
    before = fake.connections
    for i in range(3):
        assert m.chat(f"after {i}") == "Hello from the fake."
    # One new connection carried all three, so the cut one is gone. Counted per request,
    # not as fake.connections: when the fake is an HTTP proxy, the catalog's background
    # refresh may reach it too, on a connection of its own.
    carriers = {r.connection for r in fake.requests_to("chat/completions")[-3:]}
    assert len(carriers) == 1 and carriers.pop() > before
    assert len(pool_connections()) == 1


def cancel_held_achat(m: tk.ResolvedModel, holder: Holder) -> None:
    async def main() -> None:
        task = asyncio.create_task(m.achat("hold me"))
        assert await asyncio.to_thread(holder.arrived.wait, WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert holder.finished.wait(WAIT)
    assert holder.hung_up == [True]  # the server saw the connection closed, still holding


def test_cancelling_achat_closes_its_request(fake: FakeProvider, holder: Holder) -> None:
    cancel_held_achat(tk.resolve("p/gpt-4o-mini"), holder)
    pool_settles(fake)


def test_cancelling_a_routed_achat_closes_its_request() -> None:
    """A provider on its type's default endpoint, routed (TAKOPI_NB_ROUTES) to the fake."""
    holder = Holder()
    with FakeProvider(models=("gpt-4o-mini",)) as host:
        host.intercept = holder.intercept
        cfg = tk.get_config()
        cfg.runtime.routes = f"https://api.openai.com={host.url}"
        cfg.add_provider("openai", id="r", api_key=host.key, models=["gpt-4o-mini"])
        try:
            cancel_held_achat(tk.resolve("r/gpt-4o-mini"), holder)
            assert host.requests_to("chat/completions")[0].header("host") == "api.openai.com"
        finally:
            holder.release.set()
        host.intercept = None
        pool_settles(host, "r/gpt-4o-mini")


def test_cancelling_an_achat_through_a_proxy_closes_its_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fake is the HTTP_PROXY of the environment; the Base URL itself is unreachable."""
    holder = Holder()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeProvider(models=("gpt-4o-mini",)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        proxy.intercept = holder.intercept
        tk.get_config().add_provider(
            "openai",
            id="x",
            base_url="http://127.0.0.1:9/v1",
            api_key=proxy.key,
            models=["gpt-4o-mini"],
        )
        try:
            cancel_held_achat(tk.resolve("x/gpt-4o-mini"), holder)
        finally:
            holder.release.set()
        proxy.intercept = None
        assert proxy.requests_to("chat/completions")[0].header("host") == "127.0.0.1:9"
        pool_settles(proxy, "x/gpt-4o-mini")


def test_ctrl_c_under_asyncio_run_closes_the_request(fake: FakeProvider, holder: Holder) -> None:
    """Ctrl-C (SIGINT) under asyncio.run cancels the main task, which awaits achat."""
    m = tk.resolve("p/gpt-4o-mini")

    def interrupt(request: Request) -> Response | None:
        if not str(request.json()["messages"][-1]["content"]).startswith("hold"):
            return None
        holder.arrived.set()
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends
        holder.hold(request)
        return None

    fake.intercept = interrupt
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(m.achat("hold me"))
    assert holder.finished.wait(WAIT)
    assert holder.hung_up == [True]
    pool_settles(fake)


def test_cancelling_a_streamed_achat_mid_answer_closes_it(fake: FakeProvider) -> None:
    holder = Holder()

    def first_chunk_then_hold(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield from sse([(None, {"choices": [{"index": 0, "delta": {"content": "Hel"}}]})])
            holder.hold(request)

        return Response(200, body(), {}, "text/event-stream")

    fake.intercept = first_chunk_then_hold
    m = tk.resolve("p/gpt-4o-mini")

    async def main() -> tuple[str, AsyncChatStream]:
        stream = await m.achat("hi", stream=True)
        assert isinstance(stream, AsyncChatStream)
        first = await stream.__anext__()
        task = asyncio.create_task(stream.__anext__())
        assert await asyncio.to_thread(holder.arrived.wait, WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return first, stream

    try:
        # The stream stays referenced: dropping it would close its response anyway.
        first, stream = asyncio.run(main())
        assert first == "Hel"
        assert holder.finished.wait(WAIT)
        assert holder.hung_up == [True]
        assert not stream.done
    finally:
        holder.release.set()
    fake.intercept = None
    pool_settles(fake)


def test_interrupting_chat_many_cuts_the_requests_on_the_wire(fake: FakeProvider) -> None:
    """The first 4 prompts are answered; the server holds the next 4 (all the workers) and
    interrupts the kernel when the last of them arrives: each sees its connection closed."""
    holder = Holder()
    fake.intercept = interrupt_on_arrival(8, stall_after=4, stall=holder.hold)
    try:
        batch = tk.resolve("p/gpt-4o-mini").chat_many(
            [f"q{i}" for i in range(100)], concurrency=4, progress=False
        )
        holder.wait_ended(4)
    finally:
        holder.release.set()
    assert batch.interrupted
    assert holder.hung_up == [True] * 4
    assert len(fake.requests_to("chat/completions")) == 8  # nothing new after the interrupt
    assert len([e for e in batch if e is not None]) == 4
    pool_settles(fake)


def test_cancelling_an_aembed_of_many_batches_cuts_every_batch() -> None:
    """Three batches on three workers inside one achat-style call: all are held by the
    server, the awaiting task is cancelled, and each batch's connection is closed."""
    holder = Holder()
    with FakeProvider(embedding_models=("text-embedding-3-small",)) as server:
        tk.get_config().add_provider(
            "openai",
            id="e",
            base_url=server.base_url,
            api_key=server.key,
            models=["text-embedding-3-small"],
        )
        held = threading.Semaphore(0)

        def hold_all(request: Request) -> Response | None:
            held.release()
            holder.hold(request)
            return None

        server.intercept = hold_all
        m = tk.resolve("e/text-embedding-3-small", purpose="embedding")

        async def main() -> None:
            task = asyncio.create_task(m.aembed(["a", "b", "c"], batch_size=1, concurrency=3))
            for _ in range(3):
                assert await asyncio.to_thread(held.acquire, True, WAIT)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        try:
            asyncio.run(main())
            holder.wait_ended(3)
        finally:
            holder.release.set()
        assert holder.hung_up == [True] * 3
        assert len(server.requests_to("embeddings")) == 3
