"""Conformance against a real third-party server nobody here wrote: LiteLLM's proxy.

``litellm --config`` runs on 127.0.0.1 with ``mock_response`` models (no upstream
is called) and a master key. Every OpenAI-compatible type and the Anthropic type
point their Base URL at it and must list its models, chat, stream and embed.

``make test`` installs ``litellm[proxy]`` in its own venv (``.venv-litellm``; it
is 750 MB and pins its own versions of the SDKs) and sets
``TAKOPI_NB_LITELLM`` and ``TAKOPI_NB_REQUIRE_LITELLM=1``, so in CI this module
fails rather than skips when the proxy is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import takopi_nb as tk
from tests.leaks import places_with_secret

pytestmark = pytest.mark.slow

MASTER_KEY = "sk-litellm-master-conformance-0123456789"
REPLY = "Hello from LiteLLM."
VECTOR = [0.25, -0.5, 0.75]
CHAT_IDS = ("llama-3.1-8b-instruct", "qwen2.5-coder:7b", "openai/gpt-4o")
OPENAI_COMPATIBLE = ("openai", "openrouter", "deepseek", "opencode", "zai", "vercel")
REPO = Path(__file__).resolve().parents[1]


def _config() -> str:
    entries = [
        f"""  - model_name: "{mid}"
    litellm_params:
      model: "openai/{mid}"
      api_key: upstream-never-called
      mock_response: "{REPLY}"
"""
        for mid in CHAT_IDS
    ]
    entries.append(
        f"""  - model_name: claude-sonnet-4-5
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: upstream-never-called
      mock_response: "{REPLY}"
  - model_name: text-embedding-3-small
    litellm_params:
      model: openai/text-embedding-3-small
      api_key: upstream-never-called
      mock_response: {VECTOR}
"""
    )
    return (
        "model_list:\n"
        + "".join(entries)
        + f"general_settings:\n  master_key: {MASTER_KEY}\n"
        + "litellm_settings:\n  telemetry: false\n"
    )


def _litellm() -> Path | None:
    named = os.environ.get("TAKOPI_NB_LITELLM")
    path = Path(named) if named else REPO / ".venv-litellm" / "bin" / "litellm"
    # Absolute: the proxy runs in its own working directory.
    return path.resolve() if path.is_file() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def litellm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    program = _litellm()
    if program is None:
        if os.environ.get("TAKOPI_NB_REQUIRE_LITELLM") == "1":
            pytest.fail("litellm[proxy] is not installed: run make test (it installs it)")
        pytest.skip("litellm[proxy] is not installed (make test installs it in .venv-litellm)")
    work = tmp_path_factory.mktemp("litellm")
    (work / "config.yaml").write_text(_config())
    port = _free_port()
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price map from GitHub
        "LITELLM_TELEMETRY": "False",
        # Token counting of llama-* ids would look for a tokenizer on huggingface.co first.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "NO_PROXY": "*",
    }
    url = f"http://127.0.0.1:{port}"
    command = [str(program), "--config", "config.yaml", "--host", "127.0.0.1", "--port", str(port)]
    with (
        (work / "litellm.log").open("wb") as log,
        subprocess.Popen(
            command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT
        ) as process,
    ):
        try:
            deadline = time.monotonic() + 240  # a loaded 2-core machine takes its time
            while True:
                if process.poll() is not None:
                    pytest.fail(f"litellm exited: {(work / 'litellm.log').read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/health/liveliness", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    log_text = (work / "litellm.log").read_text()[-2000:]
                    pytest.fail(f"litellm did not start: {log_text}")
                time.sleep(0.5)
            yield url + "/v1"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _provider(ptype: str, base_url: str, models: list[str]) -> tk.Provider:
    return tk.get_config().add_provider(
        ptype, id=f"ll-{ptype}", base_url=base_url, api_key=MASTER_KEY, models=models
    )


@pytest.mark.parametrize("ptype", OPENAI_COMPATIBLE)
def test_every_openai_compatible_type(litellm: str, ptype: str) -> None:
    p = _provider(ptype, litellm, [*CHAT_IDS, "text-embedding-3-small"])
    listed = p.endpoint_models()
    assert set(listed.ids) == {*CHAT_IDS, "claude-sonnet-4-5", "text-embedding-3-small"}
    gpt = listed.get("openai/gpt-4o")
    assert gpt is not None and gpt.info is not None and gpt.info.id.endswith("gpt-4o")
    qwen = listed.get("qwen2.5-coder:7b")
    assert qwen is not None and not qwen.in_catalog
    outputs: list[object] = [listed, repr(listed)]
    for mid in CHAT_IDS:
        model = tk.resolve(f"{p.id}/{mid}")
        answer = model.chat("Say hello")
        assert answer == REPLY
        chunks = list(model.chat("Say hello", stream=True))
        assert "".join(chunks) == REPLY and len(chunks) > 1
        outputs += [answer, repr(answer), chunks, repr(model)]
    vectors = tk.resolve(f"{p.id}/text-embedding-3-small", purpose="embedding").embed(["a"])
    assert vectors == [VECTOR]
    outputs.append(vectors)
    home = Path(tk.get_config().runtime.store.path).parent
    assert places_with_secret(MASTER_KEY, dirs=[home], texts=outputs) == []


def test_anthropic_messages(litellm: str) -> None:
    p = _provider("anthropic", litellm, ["claude-sonnet-4-5"])
    listed = p.endpoint_models()
    assert "claude-sonnet-4-5" in listed.ids
    sonnet = listed.get("claude-sonnet-4-5")
    assert sonnet is not None and sonnet.info is not None and sonnet.info.provider == "anthropic"
    model = tk.resolve(f"{p.id}/claude-sonnet-4-5")
    answer = model.chat("Say hello", max_tokens=50)
    assert answer == REPLY
    chunks = list(model.chat("Say hello", stream=True, max_tokens=50))
    assert "".join(chunks) == REPLY
    outputs = [listed, repr(listed), answer, repr(answer), chunks, repr(model)]
    assert places_with_secret(MASTER_KEY, texts=outputs) == []


def test_a_key_the_proxy_does_not_know(litellm: str) -> None:
    p = tk.get_config().add_provider(
        "openai", id="ll-bad", base_url=litellm, api_key="sk-not-the-master-key-42"
    )
    with pytest.raises(tk.ProviderRequestError) as caught:
        p.endpoint_models()
    message = str(caught.value)
    # Without a database LiteLLM can only check the master key, and answers 400 for others.
    assert caught.value.status in (400, 401) and "model list request" in message
    assert "sk-not-the-master-key-42" not in message
