"""Calling at scale, against loopback fakes that count TCP connections: pooled clients,
chat_many with failures, 429s and an interrupt, cost, the usage ledger and the cache."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import takopi_nb as tk
from takopi_nb._errors import ProviderRequestError
from takopi_nb.wire import ChatBatch, ChatResult
from takopi_nb.wire._progress import BatchProgress
from tests.fakes.http import Request, Response
from tests.fakes.providers import FakeProvider, openai_error
from tests.leaks import places_with_secret
from tests.wire.interrupts import interrupt_on_arrival

KEY2 = "sk-test-second-key-9876543210zyx"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("gpt-4o-mini", "no-such-price-model")) as server:
        yield server


def add(fake: FakeProvider, *models: str, pid: str = "p", **kw: Any) -> tk.Provider:
    kw.setdefault("base_url", fake.base_url)
    kw.setdefault("api_key", fake.key)
    return tk.get_config().add_provider("openai", id=pid, models=list(models), **kw)


def auth_of(request: Request) -> str:
    return request.header("Authorization") or ""


# -- pooled clients ------------------------------------------------------------------------


def test_100_sequential_chats_use_one_connection(fake: FakeProvider) -> None:
    add(fake, "gpt-4o-mini")
    m = tk.resolve("p/gpt-4o-mini")
    for i in range(100):
        assert m.chat(f"q{i}") == "Hello from the fake."
    assert len(fake.requests_to("chat/completions")) == 100
    assert fake.connections == 1


def test_threads_share_the_pool(fake: FakeProvider) -> None:
    add(fake, "gpt-4o-mini")
    m = tk.resolve("p/gpt-4o-mini")
    m.chat("warm up")
    threads = [threading.Thread(target=lambda: [m.chat("x") for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.requests_to("chat/completions")) == 41
    assert fake.connections <= 4  # at most one per thread that ran at the same time


def test_a_new_key_or_base_url_gets_a_new_connection_and_the_old_key_stays_home(
    fake: FakeProvider,
) -> None:
    p = add(fake, "gpt-4o-mini")
    key1 = fake.key
    tk.resolve("p/gpt-4o-mini").chat("one")
    tk.resolve("p/gpt-4o-mini").chat("two")
    assert fake.connections == 1

    fake.key = KEY2
    p.set_api_key(KEY2)
    tk.resolve("p/gpt-4o-mini").chat("three")
    assert fake.connections == 2
    (third,) = [r for r in fake.requests if r.connection == 2]
    assert auth_of(third) == f"Bearer {KEY2}"

    with FakeProvider(models=("gpt-4o-mini",), key="sk-test-third-key-abcdefabcdef") as other:
        p.base_url = other.base_url
        p.set_api_key(other.key)
        tk.resolve("p/gpt-4o-mini").chat("four")
        tk.resolve("p/gpt-4o-mini").chat("five")
        assert other.connections == 1 and len(other.requests) == 2
        seen = " ".join(str(r.headers) for r in other.requests)
        assert KEY2 not in seen and key1 not in seen
        assert all(auth_of(r) == f"Bearer {other.key}" for r in other.requests)
    assert fake.connections == 2  # the old host saw nothing more


# -- chat_many -----------------------------------------------------------------------------


def _prompt(request: Request) -> str:
    return str(request.json()["messages"][-1]["content"])


def test_chat_many_keeps_order_and_failures_in_place(
    fake: FakeProvider, no_waiting: list[float]
) -> None:
    """200 prompts: every 17th always fails with 500 (retried, bounded), every 10th is told
    429 + Retry-After once; all entries come back in input order."""
    add(fake, "gpt-4o-mini")
    fake.answer_with = lambda prompt: f"answer to {prompt}"
    throttled: set[str] = set()
    lock = threading.Lock()

    def intercept(request: Request) -> Response | None:
        prompt = _prompt(request)
        n = int(prompt.removeprefix("prompt "))
        if n % 17 == 0:
            return openai_error("The server had an error", "server_error", status=500)
        if n % 10 == 0:
            with lock:
                if prompt not in throttled:
                    throttled.add(prompt)
                    return Response.json(
                        {"error": {"message": "Rate limit", "type": "requests", "code": None}},
                        429,
                        **{"Retry-After": "2"},
                    )
        return None

    fake.intercept = intercept
    prompts = [f"prompt {i}" for i in range(200)]
    seen: list[BatchProgress] = []
    batch = tk.resolve("p/gpt-4o-mini").chat_many(prompts, concurrency=16, progress=seen.append)

    assert isinstance(batch, ChatBatch) and len(batch) == 200 and not batch.interrupted
    for i, entry in enumerate(batch):
        if i % 17 == 0:
            assert isinstance(entry, ProviderRequestError) and entry.status == 500
            assert batch.texts[i] is None and batch.errors[i] is entry
        else:
            assert isinstance(entry, ChatResult) and entry == f"answer to prompt {i}"
            assert batch.errors[i] is None
    failing = len(range(0, 200, 17))
    throttled_ok = len([i for i in range(0, 200, 10) if i % 17])
    max_retries = 2
    sent = len(fake.requests_to("chat/completions"))
    assert sent == 200 + failing * max_retries + throttled_ok  # bounded: no retry storm
    assert 2.0 in no_waiting  # Retry-After honoured
    assert batch.lowest_concurrency is not None and batch.lowest_concurrency < 16
    assert seen[-1].done == 200 and seen[-1].failed == failing
    assert batch.usage is not None and batch.usage["output_tokens"] == 200 - failing
    assert fake.connections <= 16


def test_interrupt_returns_what_finished(fake: FakeProvider) -> None:
    """The kernel's Interrupt is a KeyboardInterrupt in the main thread: after the 30th
    answer the server interrupts, then holds every later request until the batch returned."""
    add(fake, "gpt-4o-mini")
    release = threading.Event()
    fake.intercept = interrupt_on_arrival(30, stall_after=30, stall=lambda r: release.wait(60))
    try:
        batch = tk.resolve("p/gpt-4o-mini").chat_many(
            [f"q{i}" for i in range(200)], concurrency=4, progress=False
        )
    finally:
        release.set()
    assert batch.interrupted and len(batch) == 200
    finished = [e for e in batch if e is not None]
    assert 25 <= len(finished) <= 30 + 4
    assert all(isinstance(e, ChatResult) for e in finished)
    assert len(fake.requests_to("chat/completions")) <= 30 + 4  # nothing new was sent
    assert "interrupted" in repr(batch)


def test_chat_many_takes_a_pandas_series_and_message_lists(fake: FakeProvider) -> None:
    pd = pytest.importorskip("pandas")
    add(fake, "gpt-4o-mini")
    fake.answer_with = lambda prompt: prompt.upper()
    m = tk.resolve("p/gpt-4o-mini")
    series = pd.Series(["a", "b", "c"], index=[10, 20, 30])
    assert m.chat_many(series, progress=False).texts == ["A", "B", "C"]
    batch = m.chat_many([[{"role": "user", "content": "x"}], "y"], progress=False)
    assert batch.texts == ["X", "Y"]
    with pytest.raises(TypeError, match="not one string"):
        m.chat_many("abc")


def test_long_embed_runs_batches_concurrently_in_order() -> None:
    with FakeProvider(embedding_models=("text-embedding-3-small",)) as fake:
        add(fake, "text-embedding-3-small", pid="e")
        texts = [f"text {i}" for i in range(50)]
        vectors = tk.resolve("e/text-embedding-3-small", purpose="embedding").embed(
            texts, batch_size=5, concurrency=4
        )
        assert vectors == [fake.vector(t) for t in texts]
        assert len(fake.requests_to("embeddings")) == 10
        assert fake.connections <= 4
        assert vectors.cost is not None and vectors.cost > 0


# -- cost and the ledger -------------------------------------------------------------------


def test_cost_from_the_catalog_prices_and_none_when_unknown(fake: FakeProvider) -> None:
    add(fake, "gpt-4o-mini", "no-such-price-model")
    info = tk.get_catalog().get("openai", "gpt-4o-mini")
    assert info is not None and info.cost_input and info.cost_output
    result = tk.resolve("p/gpt-4o-mini").chat("three words here")
    assert result.usage is not None
    expected = (
        result.usage["input_tokens"] * info.cost_input
        + result.usage["output_tokens"] * info.cost_output
    ) / 1e6
    assert result.cost == pytest.approx(expected) and result.cost > 0
    unknown = tk.resolve("p/no-such-price-model").chat("hi")
    assert unknown.cost is None and not unknown.cached

    streamed = tk.resolve("p/gpt-4o-mini").chat("three words here", stream=True)
    assert streamed.cost is None  # not before the end
    "".join(streamed)
    assert streamed.cost == pytest.approx(expected)

    table = tk.usage(as_frame=False)
    rows = {row[0]: row for row in table.rows}
    assert rows["p/gpt-4o-mini"][1] == "2" and rows["p/no-such-price-model"][6] == "1"
    assert "$" in rows["p/gpt-4o-mini"][5]
    assert rows["p/no-such-price-model"][5] == "unknown"
    frame = tk.usage()
    assert list(frame["ref"]) == ["p/gpt-4o-mini", "p/no-such-price-model"]


def test_cost_counts_cache_reads_and_writes() -> None:
    from takopi_nb.catalog import ModelInfo
    from takopi_nb.wire._cost import usage_cost
    from takopi_nb.wire._results import normalise_usage

    info = ModelInfo(
        provider="x",
        id="m",
        cost_input=3.0,
        cost_output=15.0,
        cost_cache_read=0.3,
        cost_cache_write=3.75,
    )
    openai_style = normalise_usage(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 100,
            "prompt_tokens_details": {"cached_tokens": 800},
        }
    )
    assert usage_cost(openai_style, info) == pytest.approx((200 * 3 + 800 * 0.3 + 100 * 15) / 1e6)
    anthropic_style = normalise_usage(
        {
            "input_tokens": 10,
            "output_tokens": 100,
            "cache_read_input_tokens": 800,
            "cache_creation_input_tokens": 200,
        }
    )
    assert usage_cost(anthropic_style, info) == pytest.approx(
        (10 * 3 + 100 * 15 + 800 * 0.3 + 200 * 3.75) / 1e6
    )
    no_cache_price = ModelInfo(provider="x", id="m", cost_input=3.0, cost_output=15.0)
    assert usage_cost(openai_style, no_cache_price) is None  # unknown, never a silent 0
    assert usage_cost({"input_tokens": 5, "cost": 0.25}, None) == 0.25  # provider-reported
    assert usage_cost(None, info) is None


# -- the response cache --------------------------------------------------------------------


def test_cache_hit_sends_nothing_and_costs_nothing(fake: FakeProvider) -> None:
    add(fake, "gpt-4o-mini", "no-such-price-model")
    m = tk.resolve("p/gpt-4o-mini")
    first = m.chat("cache me", cache=True)
    assert not first.cached and first.cost and first.cost > 0
    second = m.chat("cache me", cache=True)
    assert second == first and second.cached and second.cost == 0
    assert len(fake.requests) == 1
    streamed = m.chat("cache me", cache=True, stream=True)
    assert "".join(streamed) == first and streamed.cached
    assert len(fake.requests) == 1

    m.chat("cache me", cache=True, temperature=0.1)  # another body
    tk.resolve("p/no-such-price-model").chat("cache me", cache=True)  # another model
    m.chat("cache me")  # not asked to use the cache
    assert len(fake.requests) == 4

    batch = m.chat_many(["cache me", "cache me too"], cache=True, progress=False)
    assert [e.cached for e in batch] == [True, False]
    assert tk.clear_cache() >= 3
    m.chat("cache me", cache=True)
    assert len(fake.requests) == 6


def test_cache_never_holds_the_key_errors_or_broken_streams(fake: FakeProvider) -> None:
    add(fake, "gpt-4o-mini")
    m = tk.resolve("p/gpt-4o-mini")
    fake.fail_next(400)
    with pytest.raises(ProviderRequestError):
        m.chat("bad", cache=True)
    fake.truncate_stream = True
    with pytest.raises(ProviderRequestError):
        "".join(m.chat("cut", cache=True, stream=True))
    fake.truncate_stream = False
    stream = m.chat("left early", cache=True, stream=True)
    next(stream)
    stream.close()
    from takopi_nb.wire._cache import response_cache

    assert len(response_cache()) == 0
    m.chat("good", cache=True)
    assert len(response_cache()) == 1
    assert response_cache().directory.is_dir()
    assert places_with_secret(fake.key, dirs=[response_cache().directory]) == []


def test_limiter_halves_once_per_round_and_climbs_back() -> None:
    from takopi_nb.wire._batch import Limiter

    limiter = Limiter(16)
    rounds = [limiter.acquire() for _ in range(3)]  # three requests in flight together
    for epoch in rounds:
        assert epoch is not None
        limiter.throttled(epoch)  # all three were told 429: one cut, not three
    assert limiter.limit == 8
    later = limiter.acquire()
    assert later is not None
    limiter.throttled(later)  # a request sent after the cut: cut again
    assert limiter.limit == 4 and limiter.lowest == 4
    for _ in range(4):
        limiter.release(ok=True)
    assert limiter.limit == 5  # four successes in a row at limit 4: one more place
    limiter.stop()
    assert limiter.acquire() is None and limiter.stopped


def test_the_pool_closes_its_clients_and_builds_new_ones_after(fake: FakeProvider) -> None:
    from takopi_nb.wire._pool import pool

    add(fake, "gpt-4o-mini")
    m = tk.resolve("p/gpt-4o-mini")
    m.chat("one")
    clients = list(pool._slots.values())
    assert len(clients) == 1 and not clients[0].client.is_closed
    assert pool._registered  # closed by atexit at interpreter exit
    assert fake.key not in repr(pool) + repr(clients[0].client) + repr(clients[0])
    pool.close()  # what exit does
    assert clients[0].client.is_closed and len(pool) == 0
    m.chat("two")
    assert fake.connections == 2


def test_a_429_pauses_every_worker_until_its_retry_after_is_waited_out(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request is told 429 + Retry-After once the 4 workers' requests are all on
    the wire; those 3 others (in flight) are answered only once the wait began. Requests
    arriving during the wait (the injected sleep) are counted: none may. The 429 halved the
    limit to 2, so once those 3 are answered one worker may go on: the wait ends when it is
    parked at the endpoint's gate, or when a new request came."""
    from takopi_nb.wire import _http as wire_http
    from takopi_nb.wire._gate import gate_for

    add(fake, "gpt-4o-mini")
    lock = threading.Lock()
    arrived = 0
    all_on_wire = threading.Event()
    window_open = threading.Event()
    told: list[int] = []

    def intercept(request: Request) -> Response | None:
        nonlocal arrived
        with lock:
            arrived += 1
            first = arrived == 1
            if arrived == 4:
                all_on_wire.set()
        if first:
            assert all_on_wire.wait(30)
            told.append(len(fake.requests))
            return Response.json(
                {"error": {"message": "Rate limit", "type": "requests", "code": None}},
                429,
                **{"Retry-After": "3"},
            )
        if not window_open.is_set():
            assert window_open.wait(30)  # in flight: answered once the wait began
        return None

    gate = gate_for("p", fake.base_url)
    during: list[int] = []

    def sleep(seconds: float) -> None:
        at_open = len(fake.requests)
        window_open.set()
        for _ in range(600):
            if gate.waiting == 1 or len(fake.requests) > at_open:
                break
            threading.Event().wait(0.05)
        during.append(len(fake.requests) - at_open)
        slept.append(seconds)

    slept: list[float] = []
    monkeypatch.setattr(wire_http, "DEFAULT_RETRY", wire_http.RetryPolicy(sleep=sleep))
    fake.intercept = intercept
    batch = tk.resolve("p/gpt-4o-mini").chat_many(
        [f"q{i}" for i in range(40)], concurrency=4, progress=False
    )
    assert slept == [3.0] and told == [4]
    assert during == [0]  # nobody sent anything while the 429's Retry-After was waited out
    assert len(batch.results) == 40 and len(fake.requests_to("chat/completions")) == 41
    assert batch.lowest_concurrency == 2  # halved once, then climbed back (AIMD)
