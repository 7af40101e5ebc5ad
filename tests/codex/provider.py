"""A codex provider of the process-wide config, and the sign-in it keeps in the secret store."""

from __future__ import annotations

import json
from typing import Any

import takopi_nb as tk
from tests.fakes.codex_server import FakeChatGPT


def codex_provider(fake: FakeChatGPT, pid: str = "chatgpt") -> tk.Provider:
    return tk.get_config().add_provider(
        "codex", id=pid, base_url=fake.codex_base, models=["gpt-5.5"]
    )


def stored(pid: str = "chatgpt") -> dict[str, Any]:
    """The token document the secret store holds for ``pid`` (which must be signed in)."""
    found = tk.get_config().runtime.secrets.get(pid)
    assert found is not None
    doc: dict[str, Any] = json.loads(found[0])
    return doc
