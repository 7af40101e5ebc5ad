"""A call does not read the OS keyring every time, and still follows a key changed elsewhere.

One read of the Secret Service over D-Bus takes ~20 ms (and holds the secret store's
lock), more than a call to a nearby server, so the key read for a call is reused for
the next calls for a few seconds. A key saved or removed in this process is used at
once; one changed in another process is read again when the provider rejects the old
one, and the call is retried once with it. These tests change the keyring behind the
config's back, as another kernel would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import takopi_nb as tk
from takopi_nb import ProviderRequestError, _secrets
from tests.fakes.keyring_backend import MemoryKeyring
from tests.fakes.providers import FakeProvider

OLD = "sk-old-0123456789abcdef"
NEW = "sk-new-fedcba9876543210"


class CountingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingKeyring]:
    import keyring

    counting = CountingKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(counting)
    # Long enough that a slow machine cannot make a kept key expire within a test.
    monkeypatch.setattr(_secrets, "RECENT_SECONDS", 3600.0)
    yield counting
    keyring.set_keyring(previous)


@pytest.fixture
def fake(backend: CountingKeyring) -> Iterator[FakeProvider]:
    with FakeProvider(key=OLD, models=("gpt-4o-mini",)) as server:
        tk.get_config().add_provider(
            "openai", id="p", base_url=server.base_url, api_key=OLD, models=["gpt-4o-mini"]
        )
        assert tk.get_config().get("p").credential_source == "keyring"
        yield server


def sent_keys(fake: FakeProvider, path: str = "chat/completions") -> list[str | None]:
    return [r.header("authorization") for r in fake.requests_to(path)]


def changed_elsewhere(backend: CountingKeyring, fake: FakeProvider, key: str | None) -> None:
    """Another process saves (or removes) the key; the provider takes only the new one."""
    if key is None:
        del backend.passwords[("takopi_nb", "p")]
        fake.key = "sk-nobody-has-this-key"
    else:
        backend.passwords[("takopi_nb", "p")] = key
        fake.key = key


def test_calls_reuse_the_key_they_read(fake: FakeProvider, backend: CountingKeyring) -> None:
    m = tk.resolve("p/gpt-4o-mini")
    m.chat("first")
    before = backend.reads
    for i in range(10):
        m.chat(f"again {i}")
    assert backend.reads == before  # 10 calls, no keyring read
    assert sent_keys(fake) == [f"Bearer {OLD}"] * 11


def test_a_key_saved_here_is_used_at_once(fake: FakeProvider) -> None:
    m = tk.resolve("p/gpt-4o-mini")
    m.chat("first")
    fake.key = NEW
    tk.get_config().get("p").set_api_key(NEW)
    m.chat("second")
    assert sent_keys(fake) == [f"Bearer {OLD}", f"Bearer {NEW}"]  # no 401 in between


def test_a_key_changed_elsewhere_is_read_again_after_the_401(
    fake: FakeProvider, backend: CountingKeyring
) -> None:
    m = tk.resolve("p/gpt-4o-mini")
    m.chat("first")
    changed_elsewhere(backend, fake, NEW)
    assert m.chat("second") == "Hello from the fake."
    assert sent_keys(fake) == [f"Bearer {OLD}", f"Bearer {OLD}", f"Bearer {NEW}"]
    m.chat("third")  # straight to the new key
    assert sent_keys(fake)[-1] == f"Bearer {NEW}" and len(sent_keys(fake)) == 4


def test_the_endpoint_list_follows_a_key_changed_elsewhere(
    fake: FakeProvider, backend: CountingKeyring
) -> None:
    provider = tk.get_config().get("p")
    tk.resolve("p/gpt-4o-mini").chat("first")  # the key is now kept
    changed_elsewhere(backend, fake, NEW)
    assert "gpt-4o-mini" in [m.id for m in provider.endpoint_models(refresh=True)]
    assert sent_keys(fake, "models") == [f"Bearer {OLD}", f"Bearer {NEW}"]


def test_a_key_removed_elsewhere_fails_once_then_says_it_is_missing(
    fake: FakeProvider, backend: CountingKeyring
) -> None:
    m = tk.resolve("p/gpt-4o-mini")
    m.chat("first")
    changed_elsewhere(backend, fake, None)
    with pytest.raises(ProviderRequestError) as rejected:
        m.chat("second")
    assert rejected.value.status == 401 and OLD not in str(rejected.value)
    with pytest.raises(tk.MissingCredentialsError):
        m.chat("third")
    assert sent_keys(fake) == [f"Bearer {OLD}", f"Bearer {OLD}"]
