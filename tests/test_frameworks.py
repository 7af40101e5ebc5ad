"""Framework hand-offs, each with the real framework installed, making real requests to
loopback fakes: LangChain (chat, embeddings, Anthropic), pydantic-ai, the OpenAI Agents
SDK, litellm, DSPy and ``llm``; a ChatGPT (codex) ref whose token is revoked mid-run and
refreshed through takopi_nb; no key in any framework object's repr, output or logs, nor
anywhere in what the objects that take our clients hold; and the calls sent through our
clients booked in ``tk.usage()`` like ``m.chat()``'s (JSON answers, event streams with their
usage chunk, embeddings, tool rounds, the Codex backend, Anthropic Messages through the
anthropic SDK's httpx2 client), those of frameworks with a client of their own (litellm) not."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import sys
import types
from collections.abc import Iterator
from typing import Any, Literal

import pytest

import takopi_nb as tk
from takopi_nb._errors import (
    MissingCredentialsError,
    MissingDependencyError,
    ProviderRequestError,
)
from takopi_nb.wire._ledger import LedgerRow, ledger
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.http import Response
from tests.fakes.providers import FakeProvider
from tests.fakes.tool_calls import ToolScript
from tests.leaks import places_with_secret

# pydantic-ai's and the Agents SDK's run_sync() keep an event loop of their own open for
# the process and leave it to the garbage collector; asyncio.run() closes its loop. The SDK
# clients the frameworks make themselves (ChatAnthropic's, litellm's, pydantic-ai's
# Anthropic one) are never closed: the garbage collector's ResourceWarning about their
# sockets lands in whichever test runs then. Those sockets are not takopi_nb's, so this
# module lets those two warnings pass.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

REPLY = "Hello from the fake."
KEY = "sk-frameworks-0123456789SECRETKEY"


@pytest.fixture(autouse=True)
def quiet_frameworks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # litellm fetches its price list from GitHub at import unless told to use its own copy.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("OPENAI_AGENTS_DISABLE_TRACING", "1")
    yield
    close_litellm_clients()
    # Collect the frameworks' unclosed clients here, under this module's warning filter,
    # not in whichever test of another module runs next.
    gc.collect()


def close_litellm_clients() -> None:
    """Close the SDK and httpx clients litellm (DSPy's too) keeps in its module-wide cache.

    Nothing else ever closes them: their keep-alive sockets to the fakes outlived the
    session and were reported unclosed at interpreter exit, outside any warning filter.
    """
    litellm = sys.modules.get("litellm")
    if litellm is None:
        return
    cache = litellm.in_memory_llm_clients_cache
    clients = list(cache.cache_dict.values())
    cache.flush_cache()
    for client in clients:
        close = getattr(client, "close", None)
        if close is None:
            continue
        closing = close()
        if asyncio.iscoroutine(closing):  # an async client: its loop is gone, close on a new one
            asyncio.run(closing)


@contextlib.contextmanager
def serving(
    flavor: Literal["openai", "anthropic"], served: tuple[str, ...], models: list[str]
) -> Iterator[FakeProvider]:
    """A fake of ``flavor`` serving ``served``, configured as provider "p" (openai) or "a"."""
    with FakeProvider(key=KEY, flavor=flavor, models=served) as server:
        provider_id = "p" if flavor == "openai" else "a"
        tk.get_config().add_provider(
            flavor, id=provider_id, base_url=server.base_url, api_key=KEY, models=models
        )
        yield server


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with serving("openai", ("m", "gpt-5.2"), ["m"]) as server:
        yield server


@pytest.fixture
def anthropic_fake() -> Iterator[FakeProvider]:
    with serving("anthropic", ("claude-x",), ["claude-x"]) as server:
        yield server


@pytest.fixture
def chatgpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatGPT]:
    with FakeChatGPT() as server:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", server.issuer)
        cfg = tk.get_config()
        cfg.add_provider("codex", id="c", base_url=server.codex_base, models=["gpt-5.5"])
        cfg.runtime.secrets.set("c", server.issue_tokens(account_id="acct").storage_json())
        yield server


def no_leak(*objects: Any, caplog: pytest.LogCaptureFixture, capsys: Any) -> None:
    out = capsys.readouterr()
    texts = [*objects, *(repr(o) for o in objects), caplog.text, out.out, out.err]
    assert places_with_secret(KEY, texts=texts) == []


def sent_anthropic_key(server: FakeProvider) -> str | None:
    sent = server.requests_to("messages")[0]
    return sent.header("x-api-key") or (sent.header("Authorization") or "").removeprefix("Bearer ")


def anthropic_keys(server: FakeProvider) -> list[str | None]:
    return [r.header("x-api-key") for r in server.requests_to("messages")]


_NOT_STATE = (types.ModuleType, type, types.FunctionType, types.MethodType, types.CodeType)


def holding_secret(root: object, secret: str = KEY) -> list[str]:
    """The strings holding ``secret`` among everything ``root`` refers to, transitively.

    Functions, methods, classes and modules are not followed: a key fetched through one
    at request time (takopi_nb's auth asks the secret store) is not a key held.
    """
    seen: set[int] = set()
    todo: list[object] = [root]
    found: list[str] = []
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, _NOT_STATE):
            continue
        seen.add(id(obj))
        if isinstance(obj, str | bytes):
            if secret in (obj if isinstance(obj, str) else obj.decode("latin-1")):
                found.append(f"{type(obj).__name__} of {len(obj)}")
            continue
        todo.extend(gc.get_referents(obj))
    return found


def bearer_calls(server: FakeProvider, path: str) -> list[str]:
    return [r.header("Authorization") or "" for r in server.requests_to(path)]


# -- LangChain ------------------------------------------------------------------------------


def test_langchain_chat_model(
    fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = tk.resolve("p/m").langchain(temperature=0)

    assert type(chat).__name__ == "ChatOpenAI"
    assert chat.invoke("Say hello").content == REPLY
    assert asyncio.run(chat.ainvoke("Say hello")).content == REPLY
    assert "".join(c.content for c in chat.stream("Say hello")) == REPLY
    assert bearer_calls(fake, "chat/completions") == [f"Bearer {KEY}"] * 3
    no_leak(chat, chat.model_dump(), caplog=caplog, capsys=capsys)


def test_langchain_tool_calls(fake: FakeProvider) -> None:
    script = ToolScript([[("add", '{"a": 2, "b": 3}')]])
    fake.intercept = script.intercept(fake)

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    answer = tk.resolve("p/m").langchain().bind_tools([add]).invoke("2+3?")
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [("add", {"a": 2, "b": 3})]


def test_langchain_anthropic(
    anthropic_fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = tk.resolve("a/claude-x").langchain()

    assert type(chat).__name__ == "ChatAnthropic"
    assert chat.invoke("Say hello").content == REPLY
    assert asyncio.run(chat.ainvoke("Say hello")).content == REPLY
    assert "".join(str(c.content) for c in chat.stream("Say hello")) == REPLY
    assert anthropic_keys(anthropic_fake) == [KEY] * 3
    no_leak(chat, chat.model_dump(), vars(chat), caplog=caplog, capsys=capsys)
    assert holding_secret(chat) == []
    chat._client.close()  # ChatAnthropic never closes its SDK clients


def test_langchain_embeddings(
    fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    tk.get_config().get("p").models = ["m", "text-embedding-3-small"]
    embeddings = tk.resolve("p/text-embedding-3-small", purpose="embedding").langchain_embeddings()

    # One text per request: the fake returns a batch in reverse order (the API promises
    # only the index field), and LangChain's OpenAIEmbeddings reads the batch in list order.
    # (LangChain asks for base64 float32: equal to float32 precision.)
    assert embeddings.embed_documents(["b c"]) == [pytest.approx(fake.vector("b c"), abs=1e-6)]
    assert embeddings.embed_query("a") == pytest.approx(fake.vector("a"), abs=1e-6)
    no_leak(embeddings, caplog=caplog, capsys=capsys)


# -- pydantic-ai and the Agents SDK -----------------------------------------------------------


def test_pydantic_ai_agent_with_a_tool(
    fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    from pydantic_ai import Agent

    caplog.set_level(logging.DEBUG)
    script = ToolScript([[("add", '{"a": 2, "b": 3}')]])
    fake.intercept = script.intercept(fake)
    model = tk.resolve("p/m").pydantic_ai()
    agent = Agent(model)

    @agent.tool_plain
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    assert asyncio.run(agent.run("2+3?")).output == "Tool results: 5"
    assert len(script.bodies) == 2
    no_leak(model, agent, caplog=caplog, capsys=capsys)


def test_async_hand_offs_keep_connections_alive_per_event_loop(fake: FakeProvider) -> None:
    """A lasting loop (a notebook's, pydantic-ai's run_sync) reuses one connection; each
    asyncio.run() gets its own, never one of a closed loop."""
    from pydantic_ai import Agent

    agent = Agent(tk.resolve("p/m").pydantic_ai())
    loop = asyncio.new_event_loop()
    try:
        for _ in range(3):
            assert loop.run_until_complete(agent.run("Hi")).output == REPLY
        on_one_loop = {r.connection for r in fake.requests_to("chat/completions")}
        assert len(on_one_loop) == 1
        for _ in range(2):
            assert asyncio.run(agent.run("Hi")).output == REPLY
        per_run = [r.connection for r in fake.requests_to("chat/completions")[3:]]
        assert len(set(per_run)) == 2 and not on_one_loop & set(per_run)
        assert loop.run_until_complete(agent.run("Hi")).output == REPLY  # the first loop's
        assert fake.requests_to("chat/completions")[-1].connection in on_one_loop
    finally:
        loop.close()


def test_pydantic_ai_anthropic(
    anthropic_fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    from pydantic_ai import Agent

    caplog.set_level(logging.DEBUG)
    model = tk.resolve("a/claude-x").pydantic_ai()
    assert asyncio.run(Agent(model).run("Hi")).output == REPLY
    assert anthropic_keys(anthropic_fake) == [KEY]
    no_leak(model, vars(model), caplog=caplog, capsys=capsys)
    assert holding_secret(model) == []


def test_agents_sdk_with_a_tool(
    fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    from agents import Agent, Runner, function_tool

    caplog.set_level(logging.DEBUG)
    script = ToolScript([[("add", '{"a": 2, "b": 3}')]])
    fake.intercept = script.intercept(fake)

    @function_tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = tk.resolve("p/m").agents_model()
    agent = Agent(name="calc", instructions="Use the tools.", model=model, tools=[add])
    assert asyncio.run(Runner.run(agent, "2+3?")).final_output == "Tool results: 5"
    assert bearer_calls(fake, "chat/completions") == [f"Bearer {KEY}"] * 2
    no_leak(model, agent, caplog=caplog, capsys=capsys)


def test_agents_sdk_anthropic_goes_through_its_openai_compatible_endpoint(
    anthropic_fake: FakeProvider,
) -> None:
    from agents import Agent, Runner

    agent = Agent(name="a", instructions="Be brief.", model=tk.resolve("a/claude-x").agents_model())
    assert asyncio.run(Runner.run(agent, "Hi")).final_output == REPLY
    assert bearer_calls(anthropic_fake, "chat/completions") == [f"Bearer {KEY}"]


# -- litellm, DSPy, llm -----------------------------------------------------------------------


def test_litellm_kwargs(
    fake: FakeProvider,
    anthropic_fake: FakeProvider,
    caplog: pytest.LogCaptureFixture,
    capsys: Any,
) -> None:
    import litellm

    caplog.set_level(logging.DEBUG)
    kwargs = tk.resolve("p/m").litellm_kwargs()
    assert kwargs["model"] == "openai/m" and kwargs["api_base"] == fake.base_url
    answer = litellm.completion(**kwargs, messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content == REPLY
    assert bearer_calls(fake, "chat/completions") == [f"Bearer {KEY}"]

    claude = tk.resolve("a/claude-x").litellm_kwargs()
    answer = litellm.completion(**claude, messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content == REPLY
    assert sent_anthropic_key(anthropic_fake) == KEY
    printed = [str(kwargs), repr(claude)]
    assert "••••" in printed[0]
    no_leak(*printed, caplog=caplog, capsys=capsys)


def test_dspy_lm(fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    lm = tk.resolve("p/m").dspy(cache=False)
    assert lm("Say hello") == [REPLY]
    assert bearer_calls(fake, "chat/completions") == [f"Bearer {KEY}"]
    no_leak(lm, caplog=caplog, capsys=capsys)


def test_llm_model(fake: FakeProvider, caplog: pytest.LogCaptureFixture, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    model = tk.resolve("p/m").llm()
    assert model.prompt("Say hello").text() == REPLY
    conversation = model.conversation()
    conversation.prompt("First").text()
    assert conversation.prompt("Second", stream=True).text() == REPLY
    sent = fake.requests_to("chat/completions")[-1].json()["messages"]
    assert [m["content"] for m in sent] == ["First", REPLY, "Second"]
    no_leak(model, caplog=caplog, capsys=capsys)


# -- codex: tokens refresh through takopi_nb --------------------------------------------------


def test_codex_refs_refresh_mid_run_in_every_framework_that_takes_a_client(
    chatgpt: FakeChatGPT,
) -> None:
    from agents import Agent, Runner
    from pydantic_ai import Agent as PydanticAgent

    chatgpt.reply_chunks = ["Hello", " from", " Codex."]
    m = tk.resolve("c/gpt-5.5")
    chat = m.langchain()
    pyd = PydanticAgent(m.pydantic_ai())
    agent = Agent(name="a", instructions="Be brief.", model=m.agents_model())
    llm_model = m.llm()
    runs = [
        lambda: chat.invoke("Hi").text,
        lambda: asyncio.run(pyd.run("Hi")).output,
        lambda: asyncio.run(Runner.run(agent, "Hi")).final_output,
        lambda: llm_model.prompt("Hi").text(),
    ]
    for index, run in enumerate(runs):
        assert run() == "Hello from Codex.", index
        token = tk.get_config().runtime.secrets.get("c")
        assert token is not None
        import json

        chatgpt.invalidate_access_token(json.loads(token[0])["access_token"])  # mid-run
        assert run() == "Hello from Codex.", index
    assert chatgpt.counts["refresh_ok"] == len(runs)
    bodies = [c.body for c in chatgpt.responses_calls]
    assert all(b["store"] is False and b["stream"] is True for b in bodies)


def test_codex_hand_offs_that_take_only_a_key_say_so(chatgpt: FakeChatGPT) -> None:
    m = tk.resolve("c/gpt-5.5")
    for build in (m.litellm_kwargs, m.dspy):
        with pytest.raises(ProviderRequestError, match="token expires within hours"):
            build()
    assert chatgpt.responses_calls == []


# -- calls through our clients show in tk.usage() -------------------------------------------

USAGE_REF = "p/gpt-4o-mini"


def row(ref: str) -> LedgerRow:
    rows = {r.ref: r for r in ledger.rows()}
    assert ref in rows, list(rows)
    return rows[ref]


@pytest.fixture
def priced() -> Iterator[FakeProvider]:
    """A provider whose model has a catalog price."""
    with serving("openai", ("gpt-4o-mini",), ["gpt-4o-mini", "text-embedding-3-small"]) as server:
        yield server


def test_langchain_calls_are_booked_like_m_chat(priced: FakeProvider) -> None:
    m = tk.resolve(USAGE_REF)
    own = m.chat("Say hello")  # the reference: same prompt, same fake answer
    assert own.usage and own.cost
    chat = m.langchain(stream_usage=True)
    assert chat.invoke("Say hello").content == own  # JSON
    assert asyncio.run(chat.ainvoke("Say hello")).content == own  # JSON, async client
    assert "".join(str(c.content) for c in chat.stream("Say hello")) == own  # event stream
    sent = priced.requests_to("chat/completions")
    assert sent[-1].json()["stream_options"] == {"include_usage": True}

    booked = row(USAGE_REF)
    assert booked.calls == 4 and booked.unpriced == 0
    assert booked.input_tokens == 4 * own.usage["input_tokens"]
    assert booked.output_tokens == 4 * own.usage["output_tokens"]
    assert booked.cost == pytest.approx(4 * own.cost)
    shown = tk.usage(as_frame=False)
    assert places_with_secret(KEY, texts=[repr(shown), str(shown.rows)]) == []


def test_a_compressed_answer_is_booked_from_its_decoded_body(priced: FakeProvider) -> None:
    """Providers gzip their answers: the hook sees the raw bytes, the ledger the tokens."""
    import gzip
    import json

    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290},
    }
    packed = gzip.compress(json.dumps(answer).encode())
    priced.intercept = lambda request: Response(200, packed, {"Content-Encoding": "gzip"})
    assert tk.resolve(USAGE_REF).langchain().invoke("Hi").content == REPLY
    booked = row(USAGE_REF)
    assert (booked.calls, booked.input_tokens, booked.output_tokens) == (1, 1234, 56)


def test_langchain_embeddings_are_booked(priced: FakeProvider) -> None:
    m = tk.resolve("p/text-embedding-3-small", purpose="embedding")
    own = m.embed(["b c"])
    embeddings = m.langchain_embeddings()
    embeddings.embed_documents(["b c"])
    booked = row("p/text-embedding-3-small")
    assert own.usage and own.cost
    assert booked.calls == 2 and booked.input_tokens == 2 * own.usage["input_tokens"]
    assert booked.cost == pytest.approx(2 * own.cost)


def test_pydantic_ai_and_agents_sdk_tool_rounds_are_booked(priced: FakeProvider) -> None:
    from agents import Agent, Runner, function_tool
    from pydantic_ai import Agent as PydanticAgent

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    m = tk.resolve(USAGE_REF)
    priced.intercept = ToolScript([[("add", '{"a": 2, "b": 3}')]]).intercept(priced)
    agent = PydanticAgent(m.pydantic_ai())
    agent.tool_plain(add)
    assert asyncio.run(agent.run("2+3?")).output == "Tool results: 5"
    after_pydantic = row(USAGE_REF)
    assert after_pydantic.calls == 2
    assert after_pydantic.tool_rounds == 1 and after_pydantic.tool_calls == 1
    assert after_pydantic.input_tokens > 0 and after_pydantic.cost

    priced.intercept = ToolScript([[("add", '{"a": 2, "b": 3}')]]).intercept(priced)
    sdk_agent = Agent(name="calc", model=m.agents_model(), tools=[function_tool(add)])
    assert asyncio.run(Runner.run(sdk_agent, "2+3?")).final_output == "Tool results: 5"
    booked = row(USAGE_REF)
    assert booked.calls == 4 and booked.tool_rounds == 2 and booked.tool_calls == 2
    assert len(priced.requests_to("chat/completions")) == 4


def test_codex_calls_through_langchain_are_booked(chatgpt: FakeChatGPT) -> None:
    chatgpt.reply_chunks = ["Hello", " from", " Codex."]
    m = tk.resolve("c/gpt-5.5")
    own = m.chat("Hi")
    chat = m.langchain()
    assert chat.invoke("Hi").text == own  # the backend streams; the transport made JSON
    assert "".join(str(c.text) for c in chat.stream("Hi")) == own
    booked = row("c/gpt-5.5")
    assert own.usage and booked.calls == 3
    assert booked.output_tokens == 3 * own.usage["output_tokens"]


CLAUDE_REF = "a/claude-haiku-4-5"


@pytest.fixture
def priced_anthropic() -> Iterator[FakeProvider]:
    """An Anthropic provider whose model has a catalog price."""
    with serving("anthropic", ("claude-haiku-4-5",), ["claude-haiku-4-5"]) as server:
        yield server


def test_langchain_anthropic_calls_are_booked(priced_anthropic: FakeProvider) -> None:
    m = tk.resolve(CLAUDE_REF)
    own = m.chat("Say hello")  # the reference: same prompt, same fake answer
    assert own.usage and own.cost
    chat = m.langchain()
    assert chat.invoke("Say hello").content == own  # JSON
    assert asyncio.run(chat.ainvoke("Say hello")).content == own  # JSON, async client
    assert "".join(str(c.content) for c in chat.stream("Say hello")) == own  # event stream
    assert anthropic_keys(priced_anthropic) == [KEY] * 4

    booked = row(CLAUDE_REF)
    assert booked.calls == 4 and booked.unpriced == 0
    assert booked.input_tokens == 4 * own.usage["input_tokens"]
    assert booked.output_tokens == 4 * own.usage["output_tokens"]
    assert booked.cost == pytest.approx(4 * own.cost)
    chat._client.close()


def test_pydantic_ai_anthropic_calls_are_booked_streamed_and_with_tools(
    priced_anthropic: FakeProvider,
) -> None:
    from pydantic_ai import Agent

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = tk.resolve(CLAUDE_REF).pydantic_ai()
    priced_anthropic.intercept = ToolScript([[("add", '{"a": 2, "b": 3}')]]).intercept(
        priced_anthropic
    )
    agent = Agent(model, tools=[add])
    ran = asyncio.run(agent.run("2+3?"))
    assert ran.output == "Tool results: 5"

    async def streamed() -> Any:
        async with Agent(model).run_stream("Say hello") as run:
            text = await run.get_output()
        return text, run.usage

    text, stream_usage = asyncio.run(streamed())
    assert text == REPLY
    assert anthropic_keys(priced_anthropic) == [KEY] * 3

    usage = ran.usage
    tokens_in = usage.input_tokens + stream_usage.input_tokens
    tokens_out = usage.output_tokens + stream_usage.output_tokens
    booked = row(CLAUDE_REF)
    assert (booked.calls, booked.tool_rounds, booked.tool_calls) == (3, 1, 1)
    assert (booked.input_tokens, booked.output_tokens) == (tokens_in, tokens_out)
    info = tk.resolve(CLAUDE_REF).info
    assert info and info.cost_input and info.cost_output
    price = (tokens_in * info.cost_input + tokens_out * info.cost_output) / 1e6
    assert booked.cost == pytest.approx(price)  # the catalog's prices


def test_a_compressed_anthropic_answer_reaches_the_sdk_and_the_ledger_decoded_once(
    priced_anthropic: FakeProvider,
) -> None:
    """The bridge to the anthropic SDK's httpx2 client passes the raw bytes: decoded once."""
    import gzip
    import json

    answer = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": REPLY}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1234, "output_tokens": 56},
    }
    packed = gzip.compress(json.dumps(answer).encode())
    priced_anthropic.intercept = lambda request: Response(200, packed, {"Content-Encoding": "gzip"})
    chat = tk.resolve(CLAUDE_REF).langchain()
    reply = chat.invoke("Hi")
    assert reply.content == REPLY and reply.usage_metadata["input_tokens"] == 1234
    booked = row(CLAUDE_REF)
    assert (booked.calls, booked.input_tokens, booked.output_tokens) == (1, 1234, 56)
    chat._client.close()


def test_an_unreachable_anthropic_provider_is_the_sdks_connection_error(
    priced_anthropic: FakeProvider,
) -> None:
    """httpx's transport errors reach the anthropic SDK as httpx2's, which it knows."""
    import anthropic

    chat = tk.resolve(CLAUDE_REF).langchain(max_retries=0)
    priced_anthropic.stop()
    with pytest.raises(anthropic.APIConnectionError) as info:
        chat.invoke("Hi")
    causes = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(f"{type(error).__module__.split('.')[0]}.{type(error).__name__}")
        error = error.__cause__
    assert "httpx2.ConnectError" in causes, causes
    assert CLAUDE_REF not in {r.ref for r in ledger.rows()}
    chat._client.close()


def test_an_anthropic_hand_off_without_a_key_says_where_to_put_one(
    anthropic_fake: FakeProvider,
) -> None:
    tk.get_config().get("a").clear_api_key()
    m = tk.resolve("a/claude-x")
    for build in (m.langchain, m.pydantic_ai):
        with pytest.raises(MissingCredentialsError, match="No API key for provider 'a'"):
            build()
    assert anthropic_fake.requests == []


def test_the_key_search_finds_a_key_a_framework_holds(anthropic_fake: FakeProvider) -> None:
    """The search above can fail: ChatAnthropic given the key, as it was before, holds it."""
    from langchain_anthropic import ChatAnthropic

    assert holding_secret(ChatAnthropic(model="claude-x", api_key=KEY)) != []
    assert holding_secret(tk.resolve("a/claude-x").langchain()) == []


def test_a_framework_with_its_own_client_is_not_booked(priced: FakeProvider) -> None:
    import litellm

    kwargs = tk.resolve(USAGE_REF).litellm_kwargs()
    litellm.completion(**kwargs, messages=[{"role": "user", "content": "Hi"}])
    assert len(priced.requests_to("chat/completions")) == 1
    assert USAGE_REF not in {r.ref for r in ledger.rows()}  # documented: litellm builds its own


# -- missing packages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "module", "package"),
    [
        ("langchain", "langchain_openai", "langchain-openai"),
        ("langchain_embeddings", "langchain_openai", "langchain-openai"),
        ("pydantic_ai", "pydantic_ai.models.openai", "pydantic-ai-slim[openai]"),
        ("agents_model", "agents", "openai-agents"),
        ("dspy", "dspy", "dspy"),
        ("llm", "llm", "llm"),
    ],
)
def test_a_missing_framework_names_the_package_to_install(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch, method: str, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import now fails as if not installed
    purpose = "embedding" if method == "langchain_embeddings" else "chat"
    if purpose == "embedding":
        tk.get_config().get("p").models = ["m", "text-embedding-3-small"]
    m = tk.resolve("p/text-embedding-3-small" if purpose == "embedding" else "p/m", purpose)
    with pytest.raises(MissingDependencyError, match=re.escape(f"pip install {package}")) as info:
        getattr(m, method)()
    assert isinstance(info.value, ImportError) and f"m.{method}()" in str(info.value)
    assert fake.requests == []
