"""Calls that frameworks send through the HTTP clients takopi_nb hands them are booked in
``tk.usage()``, with tokens and catalog cost as for ``m.chat()``: the real framework
packages against loopback fakes (JSON answers, event streams with their usage chunk,
embeddings, tool rounds, the Codex backend). Frameworks with a client of their own
(litellm) are not, as the docs say."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

import takopi_nb as tk
from takopi_nb.wire._ledger import LedgerRow, ledger
from tests.fakes.codex_server import FakeChatGPT
from tests.fakes.providers import FakeProvider
from tests.fakes.tool_calls import ToolScript
from tests.leaks import places_with_secret

pytestmark = [  # see tests/test_frameworks.py: the frameworks' own unclosed clients
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

KEY = "sk-usage-0123456789SECRETKEY"
REF = "p/gpt-4o-mini"


@pytest.fixture(autouse=True)
def quiet_frameworks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("OPENAI_AGENTS_DISABLE_TRACING", "1")
    yield
    gc.collect()


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(key=KEY, models=("gpt-4o-mini",)) as server:
        tk.get_config().add_provider(
            "openai",
            id="p",
            base_url=server.base_url,
            api_key=KEY,
            models=["gpt-4o-mini", "text-embedding-3-small"],
        )
        yield server


def row(ref: str) -> LedgerRow:
    rows = {r.ref: r for r in ledger.rows()}
    assert ref in rows, list(rows)
    return rows[ref]


def test_langchain_calls_are_booked_like_m_chat(fake: FakeProvider) -> None:
    m = tk.resolve(REF)
    own = m.chat("Say hello")  # the reference: same prompt, same fake answer
    assert own.usage and own.cost
    chat = m.langchain(stream_usage=True)
    assert chat.invoke("Say hello").content == own  # JSON
    assert asyncio.run(chat.ainvoke("Say hello")).content == own  # JSON, async client
    assert "".join(str(c.content) for c in chat.stream("Say hello")) == own  # event stream
    sent = fake.requests_to("chat/completions")
    assert sent[-1].json()["stream_options"] == {"include_usage": True}

    booked = row(REF)
    assert booked.calls == 4 and booked.unpriced == 0
    assert booked.input_tokens == 4 * own.usage["input_tokens"]
    assert booked.output_tokens == 4 * own.usage["output_tokens"]
    assert booked.cost == pytest.approx(4 * own.cost)
    shown = tk.usage(as_frame=False)
    assert places_with_secret(KEY, texts=[repr(shown), str(shown.rows)]) == []


def test_langchain_embeddings_are_booked(fake: FakeProvider) -> None:
    m = tk.resolve("p/text-embedding-3-small", purpose="embedding")
    own = m.embed(["b c"])
    embeddings = m.langchain_embeddings()
    embeddings.embed_documents(["b c"])
    booked = row("p/text-embedding-3-small")
    assert own.usage and own.cost
    assert booked.calls == 2 and booked.input_tokens == 2 * own.usage["input_tokens"]
    assert booked.cost == pytest.approx(2 * own.cost)


def test_pydantic_ai_and_agents_sdk_tool_rounds_are_booked(fake: FakeProvider) -> None:
    from agents import Agent, Runner, function_tool
    from pydantic_ai import Agent as PydanticAgent

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    m = tk.resolve(REF)
    fake.intercept = ToolScript([[("add", '{"a": 2, "b": 3}')]]).intercept(fake)
    agent = PydanticAgent(m.pydantic_ai())
    agent.tool_plain(add)
    assert asyncio.run(agent.run("2+3?")).output == "Tool results: 5"
    after_pydantic = row(REF)
    assert after_pydantic.calls == 2
    assert after_pydantic.tool_rounds == 1 and after_pydantic.tool_calls == 1
    assert after_pydantic.input_tokens > 0 and after_pydantic.cost

    fake.intercept = ToolScript([[("add", '{"a": 2, "b": 3}')]]).intercept(fake)
    sdk_agent = Agent(name="calc", model=m.agents_model(), tools=[function_tool(add)])
    assert asyncio.run(Runner.run(sdk_agent, "2+3?")).final_output == "Tool results: 5"
    booked = row(REF)
    assert booked.calls == 4 and booked.tool_rounds == 2 and booked.tool_calls == 2
    assert len(fake.requests_to("chat/completions")) == 4


def test_codex_calls_through_langchain_are_booked(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeChatGPT() as server:
        monkeypatch.setenv("TAKOPI_NB_CODEX_ISSUER", server.issuer)
        cfg = tk.get_config()
        cfg.add_provider("codex", id="c", base_url=server.codex_base, models=["gpt-5.5"])
        cfg.runtime.secrets.set("c", server.issue_tokens(account_id="acct").storage_json())
        server.reply_chunks = ["Hello", " from", " Codex."]
        m = tk.resolve("c/gpt-5.5")
        own = m.chat("Hi")
        chat = m.langchain()
        assert chat.invoke("Hi").text == own  # the backend streams; the transport made JSON
        assert "".join(str(c.text) for c in chat.stream("Hi")) == own
    booked = row("c/gpt-5.5")
    assert own.usage and booked.calls == 3
    assert booked.output_tokens == 3 * own.usage["output_tokens"]


def test_a_framework_with_its_own_client_is_not_booked(fake: FakeProvider) -> None:
    import litellm

    kwargs = tk.resolve(REF).litellm_kwargs()
    litellm.completion(**kwargs, messages=[{"role": "user", "content": "Hi"}])
    assert len(fake.requests_to("chat/completions")) == 1
    assert REF not in {r.ref for r in ledger.rows()}  # documented: litellm builds its own
