"""The catalog against a loopback models.dev serving the real snapshot: fresh, stale, offline,
errors, timeouts, bad bodies, a corrupt cache, proxies, background refresh."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import takopi_nb
from takopi_nb._errors import CatalogError
from takopi_nb.catalog import Catalog, get_catalog
from takopi_nb.catalog._cache import CacheFiles
from takopi_nb.catalog._fetch import Timeouts
from takopi_nb.catalog._index import Index
from tests.fakes.models_dev import Clock, ModelsDevServer, snapshot_doc

HOUR = 3600.0
MakeCatalog = Callable[..., Catalog]


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "NO_PROXY", "no_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[ModelsDevServer]:
    with ModelsDevServer() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "catalog-cache"


@pytest.fixture
def make(server: ModelsDevServer, cache_dir: Path, clock: Clock) -> Iterator[MakeCatalog]:
    cache_dir.mkdir()
    made: list[Catalog] = []

    def factory(**kwargs: Any) -> Catalog:
        kwargs.setdefault("url", server.api_url)
        kwargs.setdefault("cache_dir", cache_dir)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("timeouts", Timeouts(connect=2, read=2, total=10))
        catalog = Catalog(**kwargs)
        made.append(catalog)
        return catalog

    yield factory
    for catalog in made:
        catalog.close(10)


def host(server: ModelsDevServer) -> str:
    return f"127.0.0.1:{server.port}"


def fill_cache(make: MakeCatalog) -> Catalog:
    """A catalog that fetched from the fake (so the download cache is written)."""
    catalog = make(auto_refresh=False)
    assert catalog.refresh() is True, catalog.last_error
    return catalog


# -- the normal path ---------------------------------------------------------------------------


def test_first_use_serves_the_bundled_snapshot_at_once_and_refreshes_in_background(
    make: MakeCatalog, server: ModelsDevServer, cache_dir: Path
) -> None:
    server.hang()  # answers only when released: a load that waited for it could not return
    catalog = make()
    assert catalog.source == "bundled"
    assert catalog.refreshing
    assert catalog.describe() == f"bundled snapshot of 2026-07-01, refreshing from {host(server)}…"
    assert len(catalog.models("openai")) == 51
    server.release()
    assert catalog.wait(60) is True
    assert catalog.source == "network" and not catalog.refreshing
    assert catalog.describe() == f"{host(server)}, just now"
    assert catalog.last_error is None
    assert server.hits == 1
    assert Index((cache_dir / "models-dev.v1.cache").read_bytes()).model_count == 5276


def test_fresh_cache_is_used_without_the_network(
    make: MakeCatalog, server: ModelsDevServer, clock: Clock
) -> None:
    first = fill_cache(make)
    clock.advance(HOUR)
    second = make()
    assert second.source == "cache"
    assert not second.refreshing and second.wait() is None
    assert second.describe() == f"{host(server)}, 1 hour ago"
    assert second.fetched_at == first.fetched_at
    assert second.age is not None and second.age.total_seconds() == HOUR
    assert second.models("openrouter") == first.models("openrouter")
    assert server.hits == 1


def test_stale_cache_is_served_then_refreshed_in_background(
    make: MakeCatalog, server: ModelsDevServer, clock: Clock
) -> None:
    fill_cache(make)
    clock.advance(2 * HOUR + 1)
    catalog = make()
    assert catalog.source == "stale-cache"
    assert catalog.wait(60) is True
    assert catalog.source == "network"
    assert server.hits == 2


def test_data_going_stale_while_in_use_triggers_one_background_refresh(
    make: MakeCatalog, server: ModelsDevServer, clock: Clock
) -> None:
    fill_cache(make)
    catalog = make()
    catalog.models("openai")
    assert server.hits == 1 and catalog.source == "cache"
    clock.advance(2 * HOUR + 1)
    assert catalog.source == "stale-cache"
    catalog.models("openai")
    catalog.models("anthropic")
    assert catalog.wait(60) is True
    assert server.hits == 2
    assert catalog.source == "network"


def test_not_modified_keeps_the_data_and_renews_its_age(
    make: MakeCatalog, server: ModelsDevServer, clock: Clock, cache_dir: Path
) -> None:
    server.etag = '"v1"'
    first = fill_cache(make)
    clock.advance(3 * HOUR)
    catalog = make(auto_refresh=False)
    assert catalog.source == "stale-cache"
    assert catalog.refresh() is True
    assert server.requests_to("/api.json")[-1].header("If-None-Match") == '"v1"'
    assert catalog.source == "network" and catalog.age is not None
    assert catalog.age.total_seconds() == 0
    assert catalog.models("openai") == first.models("openai")
    assert Index((cache_dir / "models-dev.v1.cache").read_bytes()).meta["fetched_at"] == clock.now


def test_gzip_encoded_answer(make: MakeCatalog, server: ModelsDevServer) -> None:
    server.gzip = True
    catalog = fill_cache(make)
    assert len(catalog) == 5276


def test_on_change_is_called_after_a_background_refresh(make: MakeCatalog) -> None:
    catalog = make(auto_refresh=False)
    seen: list[str] = []
    done = threading.Event()

    def listener(changed: Catalog) -> None:
        seen.append(changed.source)
        done.set()

    remove = catalog.on_change(listener)
    future = catalog.refresh(background=True)
    assert future.result(60) is True
    assert done.wait(60) and seen == ["network"]
    remove()
    catalog.refresh()
    assert seen == ["network"]


# -- offline and failures -----------------------------------------------------------------------


def test_offline_mode_never_touches_the_network(
    server: ModelsDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAKOPI_NB_CATALOG_URL", server.api_url)
    monkeypatch.setenv("TAKOPI_NB_OFFLINE", "1")
    catalog = get_catalog()
    assert catalog.offline and catalog.source == "bundled"
    assert catalog.describe() == "offline: bundled snapshot of 2026-07-01"
    assert not catalog.refreshing
    assert catalog.refresh() is False
    assert catalog.last_error is not None and "TAKOPI_NB_OFFLINE" in catalog.last_error
    assert len(catalog.search("claude")) > 100
    assert server.hits == 0


def test_offline_mode_uses_even_a_stale_cache(
    make: MakeCatalog, server: ModelsDevServer, clock: Clock
) -> None:
    fill_cache(make)
    clock.advance(3 * 86400)
    catalog = make(offline=True)
    assert catalog.source == "stale-cache"
    assert catalog.describe() == "offline: cached 3 days ago"
    assert server.hits == 1


def test_http_500_keeps_what_is_at_hand_and_says_why(
    make: MakeCatalog, server: ModelsDevServer, cache_dir: Path
) -> None:
    server.mode = "error"
    catalog = make(auto_refresh=False)
    assert catalog.refresh() is False
    assert catalog.source == "bundled" and len(catalog) == 5276
    assert catalog.last_error == (
        f"{host(server)} answered HTTP 500 (Internal Server Error). No models in picker? "
        f"Check network access to {host(server)} (and proxy settings such as HTTPS_PROXY), "
        "then retry with Refresh or cat.refresh()."
    )
    assert catalog.describe() == "offline: bundled snapshot of 2026-07-01"
    assert catalog.provenance().last_error_at is not None
    assert not (cache_dir / "models-dev.v1.cache").exists()
    server.mode = "ok"
    assert catalog.refresh() is True
    assert catalog.last_error is None and catalog.provenance().last_error_at is None


def test_stale_cache_and_a_failing_network(
    make: MakeCatalog, server: ModelsDevServer, clock: Clock
) -> None:
    fill_cache(make)
    clock.advance(2 * HOUR + 1)
    server.mode = "error"
    server.status = 503
    catalog = make()
    assert catalog.wait(60) is False
    assert catalog.source == "stale-cache"
    assert catalog.describe() == "offline: cached 2 hours ago"
    assert catalog.last_error is not None and "HTTP 503" in catalog.last_error
    catalog.models("openai")  # no immediate retry: automatic attempts back off
    assert not catalog.refreshing and server.hits == 2


def test_timeout(make: MakeCatalog, server: ModelsDevServer) -> None:
    server.hang()  # never answers in the test's life: only the read timeout can end the wait
    catalog = make(auto_refresh=False, timeouts=Timeouts(connect=1, read=0.5, total=5))
    assert catalog.refresh() is False
    assert catalog.last_error is not None
    assert catalog.last_error.startswith(f"{host(server)} did not answer in time.")
    assert "No models in picker?" in catalog.last_error


def test_a_trickling_server_hits_the_total_deadline(
    make: MakeCatalog, server: ModelsDevServer
) -> None:
    server.mode = "trickle"
    server.trickle_pause = 0.3
    catalog = make(auto_refresh=False, timeouts=Timeouts(connect=1, read=2, total=1))
    assert catalog.refresh() is False  # the whole body would take 3 minutes: the deadline hit
    assert catalog.last_error is not None and "took over 1 s" in catalog.last_error


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("truncated", "sent an incomplete catalog (cut off after 1,221,887 bytes)"),
        ("cut", "was cut off before the end"),
        ("html", "sent a web page instead of the catalog"),
        ("garbage", "sent text that is not UTF-8"),
    ],
)
def test_bad_bodies_never_replace_a_good_cache(
    make: MakeCatalog, server: ModelsDevServer, cache_dir: Path, mode: str, words: str
) -> None:
    catalog = fill_cache(make)
    good = (cache_dir / "models-dev.v1.cache").read_bytes()
    server.mode = mode
    assert catalog.refresh() is False
    assert catalog.last_error is not None and words in catalog.last_error
    assert "No models in picker?" in catalog.last_error
    assert (cache_dir / "models-dev.v1.cache").read_bytes() == good
    assert len(catalog.models("openai")) == 51


def test_unreachable_host(make: MakeCatalog) -> None:
    catalog = make(url="http://127.0.0.1:9/api.json", auto_refresh=False)
    assert catalog.refresh() is False
    assert catalog.last_error is not None
    assert catalog.last_error.startswith("Could not connect to 127.0.0.1:9 (")
    assert "Check network access to 127.0.0.1:9" in catalog.last_error


# -- the cache ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x00" * 1000, b"takopi-catalog/1 00000000\n{}\n", "truncate", "flip"],
)
def test_corrupt_cache_file_is_ignored_and_replaced(
    make: MakeCatalog, server: ModelsDevServer, cache_dir: Path, damage: object
) -> None:
    fill_cache(make)
    path = cache_dir / "models-dev.v1.cache"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "flip":
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    else:
        assert isinstance(damage, bytes)
        path.write_bytes(damage)
    catalog = make()
    assert catalog.source == "bundled"
    assert catalog.wait(60) is True
    assert catalog.source == "network"
    assert Index(path.read_bytes()).model_count == 5276


def test_the_bundled_snapshot_is_read_pre_indexed_from_the_package(
    make: MakeCatalog, cache_dir: Path
) -> None:
    catalog = make(auto_refresh=False)
    assert catalog.source == "bundled" and len(catalog.models("openrouter")) == 337
    assert not (cache_dir / "bundled.v1.cache").exists()  # nothing to index, nothing written


def test_the_shipped_index_is_the_raw_snapshot_indexed() -> None:
    # The package ships both; `python -m takopi_nb.catalog._bundled` rebuilds the index.
    from takopi_nb.catalog._bundled import build_index, snapshot_index, snapshot_info

    assert snapshot_index() == build_index(snapshot_info())


@pytest.mark.parametrize("shipped", ["missing", "damaged", "of another snapshot"])
def test_without_a_usable_shipped_index_the_raw_snapshot_is_indexed_into_the_cache(
    make: MakeCatalog, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, shipped: str,
) -> None:  # fmt: skip
    from takopi_nb.catalog import _bundled
    from takopi_nb.catalog._index import restamp

    real = _bundled._path(_bundled.INDEX_FILE).read_bytes()
    if shipped != "missing":
        import gzip

        replacement = tmp_path / "index.gz"
        replacement.write_bytes(
            real[:-100] if shipped == "damaged"
            else gzip.compress(restamp(_bundled.snapshot_index(), sha256="0" * 64))
        )  # fmt: skip
        monkeypatch.setattr(_bundled, "INDEX_FILE", str(replacement))  # absolute: replaces data/
    else:
        monkeypatch.setattr(_bundled, "INDEX_FILE", "no-such-index.gz")
    path = cache_dir / "bundled.v1.cache"
    catalog = make(auto_refresh=False)
    assert catalog.source == "bundled" and len(catalog.models("openrouter")) == 337
    assert Index(path.read_bytes()).meta["origin"] == "bundled"
    assert "the bundled catalog index is" in caplog.text  # a developer learns to rebuild it
    path.write_bytes(b"junk")  # a damaged cache is rebuilt too
    catalog = make(auto_refresh=False)
    assert catalog.source == "bundled" and len(catalog.models("openrouter")) == 337
    assert Index(path.read_bytes()).model_count == 5276


def test_a_newer_bundled_snapshot_beats_an_older_stale_cache(
    make: MakeCatalog, clock: Clock
) -> None:
    clock.now = 1_700_000_000.0  # 2023: before the bundled snapshot was taken
    fill_cache(make)
    clock.now = 1_800_000_000.0
    assert make(auto_refresh=False).source == "bundled"


def test_a_cache_of_another_url_counts_as_stale(make: MakeCatalog, server: ModelsDevServer) -> None:
    fill_cache(make)
    catalog = make(url=server.api_url + "?mirror=2", auto_refresh=False)
    assert catalog.source == "stale-cache"


def test_an_unwritable_cache_dir_still_works_in_memory(make: MakeCatalog, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    catalog = make(cache_dir=blocker, auto_refresh=False)
    assert catalog.source == "bundled"
    assert catalog.refresh() is True
    assert catalog.source == "network" and len(catalog) == 5276


def test_no_catalog_at_all_is_a_catalog_error(make: MakeCatalog) -> None:
    with pytest.raises(CatalogError) as info:
        make(url="http://127.0.0.1:9/api.json", bundled=False)
    text = str(info.value)
    assert "No models.dev catalog could be had" in text
    assert "Check network access to 127.0.0.1:9" in text
    with pytest.raises(CatalogError, match="TAKOPI_NB_OFFLINE"):
        make(offline=True, bundled=False)


def test_no_local_data_fetches_in_the_foreground(
    make: MakeCatalog, server: ModelsDevServer
) -> None:
    catalog = make(bundled=False)
    assert catalog.source == "network" and server.hits == 1 and not catalog.refreshing


# -- what the network serves -------------------------------------------------------------------


def test_a_hostile_catalog_from_the_network(make: MakeCatalog, server: ModelsDevServer) -> None:
    doc = snapshot_doc()
    doc["openai"]["models"]["gpt-5.2"]["name"] = "<script>alert('x')</script>\x1b[2J"
    doc["openai"]["models"]["bad id"] = doc["openai"]["models"]["gpt-5"]
    doc["openai"]["models"]["gpt-5"] = ["not", "a", "model"]
    doc["broken-provider"] = {"id": "broken-provider", "name": "B", "models": None}
    server.body = json.dumps(doc).encode()
    catalog = fill_cache(make)
    assert catalog.skipped == 3
    assert catalog.get("openai", "gpt-5.2").name == "<script>alert('x')</script> [2J"  # type: ignore[union-attr]
    assert catalog.get("openai", "gpt-5") is None
    assert len(catalog.models("openai")) == 50
    assert catalog.provenance().skipped == 3


def test_proxy_from_the_environment_is_honoured(
    make: MakeCatalog, server: ModelsDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    catalog = make(url="http://models.dev.invalid/api.json", auto_refresh=False)
    assert catalog.refresh() is True, catalog.last_error
    [request] = server.requests_to("/api.json")
    assert request.header("Host") == "models.dev.invalid"
    assert catalog.describe() == "models.dev.invalid, just now"


def test_a_url_that_is_not_http(make: MakeCatalog) -> None:
    catalog = make(url="file:///etc/passwd", auto_refresh=False)
    assert catalog.refresh() is False
    assert catalog.last_error is not None and "not an http(s) URL" in catalog.last_error


# -- process-wide ------------------------------------------------------------------------------


def test_get_catalog_is_process_wide_and_reset_drops_it(
    server: ModelsDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAKOPI_NB_CATALOG_URL", server.api_url)
    catalog = get_catalog()
    assert takopi_nb.get_catalog() is catalog is get_catalog()
    assert catalog.wait(60) is True
    takopi_nb._reset_for_tests()
    again = get_catalog()
    assert again is not catalog
    assert again.source == "cache"  # what the first one fetched, from the shared cache
    assert CacheFiles.default().download.exists()


def test_describe_names_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAKOPI_NB_CATALOG_URL")
    catalog = Catalog(offline=True)
    assert catalog.url == "https://models.dev/api.json"
    assert repr(catalog) == (
        "<Catalog offline: bundled snapshot of 2026-07-01: 147 providers, 5,276 models>"
    )


def test_a_password_in_the_url_is_never_shown(make: MakeCatalog) -> None:
    catalog = make(url="http://bob:hunter2@127.0.0.1:9/api.json", auto_refresh=False)
    assert catalog.refresh() is False
    shown = [catalog.url, catalog.provenance().url, catalog.describe(), repr(catalog)]
    shown.append(catalog.last_error or "")
    assert not [text for text in shown if "hunter2" in text]
    assert catalog.url == "http://bob:***@127.0.0.1:9/api.json"
