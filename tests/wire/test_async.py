"""The async twins in a real ipykernel, whose event loop is already running (top-level await),
and in a plain asyncio loop; both against a loopback fake that counts connections."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import takopi_nb as tk
from takopi_nb.wire import AsyncChatStream, ChatResult
from tests.fakes.providers import FakeProvider

KERNEL_CODE = """\
import asyncio, json, os
import takopi_nb as tk

cfg = tk.get_config()
p = cfg.add_provider("openai", id="p", base_url=os.environ["FAKE_BASE"],
                     models=["gpt-4o-mini", "text-embedding-3-small"])
p.confirm_base_url()  # $OPENAI_API_KEY is for api.openai.com until confirmed for the fake
m = tk.resolve("p/gpt-4o-mini")
assert asyncio.get_running_loop().is_running()   # ipykernel's own loop

one = await m.achat("hello")
chunks = [c async for c in await m.achat("hello", stream=True)]
many = await asyncio.gather(*(m.achat(f"q{i}") for i in range(20)))
vectors = await tk.resolve("p/text-embedding-3-small", purpose="embedding").aembed(["a", "b"])
print(json.dumps({
    "one": str(one), "cost": one.cost, "chunks": chunks, "many": len(set(many)),
    "vectors": len(vectors), "dims": len(vectors[0]),
}))
"""


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(models=("gpt-4o-mini",), embedding_models=("text-embedding-3-small",)) as f:
        yield f


@pytest.mark.slow
def test_async_twins_in_ipykernels_running_loop(
    fake: FakeProvider, tmp_path: Path, isolated_env: Path
) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CODE)])
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        TAKOPI_NB_OFFLINE="1",
        TAKOPI_NB_CONFIG=str(tmp_path / "providers.json"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        IPYTHONDIR=str(tmp_path / "ipython"),
        OPENAI_API_KEY=fake.key,
        FAKE_BASE=fake.base_url,
    )
    # One print is two writes (the text, then the newline), which a busy kernel may flush
    # as two stream messages: coalesced, as Lab shows them.
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", coalesce_streams=True)
    client.execute(env=env)
    outputs = notebook.cells[0].outputs
    assert [o.get("output_type") for o in outputs] == ["stream"], outputs
    seen = json.loads(outputs[0]["text"])
    assert seen["one"] == "Hello from the fake." and seen["cost"] > 0
    assert "".join(seen["chunks"]) == "Hello from the fake." and len(seen["chunks"]) > 1
    assert seen["many"] == 1 and seen["vectors"] == 2 and seen["dims"] == fake.dimensions
    assert len(fake.requests_to("chat/completions")) == 22
    assert fake.connections <= 21  # pooled: concurrent calls share, sequential ones reuse


def test_async_twins_in_asyncio_run(fake: FakeProvider) -> None:
    tk.get_config().add_provider(
        "openai",
        id="p",
        base_url=fake.base_url,
        api_key=fake.key,
        models=["gpt-4o-mini", "text-embedding-3-small"],
    )
    m = tk.resolve("p/gpt-4o-mini")

    async def main() -> tuple[ChatResult, AsyncChatStream, list[str], list[ChatResult]]:
        first = await m.achat("hi")
        assert isinstance(first, ChatResult)
        stream = await m.achat("hi", stream=True)
        assert isinstance(stream, AsyncChatStream)
        chunks = [c async for c in stream]
        gathered = await asyncio.gather(*(m.achat(f"q{i}") for i in range(10)))
        return first, stream, chunks, list(gathered)  # type: ignore[arg-type]

    first, stream, chunks, gathered = asyncio.run(main())
    assert first == "Hello from the fake." and first.cost is not None
    assert "".join(chunks) == stream.text == first and stream.done and stream.cost == first.cost
    assert len(gathered) == 10
    for i in range(3):
        assert asyncio.run(m.achat(f"again {i}")) == first  # a new loop each time: still pooled
    assert fake.connections <= 11
