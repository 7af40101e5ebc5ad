"""The :class:`Catalog` facade and the process-wide :func:`get_catalog`.

Where the data comes from, best first: a fresh cache (under 2 hours old), the
network, a stale cache, the snapshot bundled in the package. Loading never
waits for the network while any local data exists: the catalog starts from the
best local copy and refreshes in a background thread, then swaps the new data
in. Only a first use with no cache and no bundled snapshot fetches in the
foreground.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

from .._errors import CatalogError
from .._switches import offline_by_env
from ._cache import CacheFiles, log, read_bytes
from ._fetch import DEFAULT_URL, Timeouts, host_label, redact_url
from ._freshness import TTL_SECONDS, Origin, Source, describe, is_fresh, source_of, to_datetime
from ._index import CacheCorrupt, Index, encode, restamp
from ._model_info import ModelInfo, ProviderInfo

if TYPE_CHECKING:
    from concurrent.futures import Future

    import httpx

    from ._provider_lists import Purpose

__all__ = ["Catalog", "Provenance", "get_catalog"]

AUTO_RETRY_SECONDS = 300.0
"""After a failed automatic refresh, the next automatic attempt waits this long."""

_HINT = (
    "No models in picker? Check network access to {host} (and proxy settings such as "
    "HTTPS_PROXY), then retry with Refresh or cat.refresh()."
)


class Provenance(NamedTuple):
    """Everything a UI needs to say where the catalog comes from and how old it is."""

    source: Source
    fetched_at: datetime | None
    age: timedelta | None
    description: str
    last_error: str | None
    last_error_at: datetime | None
    refreshing: bool
    offline: bool
    url: str
    skipped: int


class _Loaded(NamedTuple):
    view: Index
    origin: Origin
    from_network: bool
    """Downloaded by this process (as opposed to read from the cache)."""
    fetched_at: float | None
    url: str | None


class Catalog:
    """The models.dev catalog. Use :func:`get_catalog` for the process-wide instance.

    Every argument defaults to the environment (``TAKOPI_NB_CATALOG_URL``,
    ``TAKOPI_NB_CACHE_DIR``, ``TAKOPI_NB_OFFLINE``); tests inject the clock
    (POSIX seconds), an httpx transport and timeouts.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        cache_dir: Path | None = None,
        offline: bool | None = None,
        ttl: float = TTL_SECONDS,
        timeouts: Timeouts | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        auto_refresh: bool = True,
        bundled: bool = True,
    ) -> None:
        self._url = url or os.environ.get("TAKOPI_NB_CATALOG_URL") or DEFAULT_URL
        self._files = CacheFiles(cache_dir) if cache_dir is not None else CacheFiles.default()
        self._offline = offline_by_env() if offline is None else offline
        self._ttl = ttl
        self._timeouts = timeouts or Timeouts()
        self._transport = transport
        self._clock = clock
        self._auto = auto_refresh
        self._use_bundled = bundled
        self._lock = threading.RLock()
        self._inflight: Future[bool] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._next_auto = 0.0
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._unreachable = False
        self._listeners: list[Callable[[Catalog], None]] = []
        self._loaded = self._load_local()
        self._current()  # starts the background refresh when the data is out of date

    # -- provenance -------------------------------------------------------------------------

    @property
    def source(self) -> Source:
        """``"network"``, ``"cache"``, ``"stale-cache"`` or ``"bundled"``."""
        loaded = self._loaded
        return source_of(loaded.origin, loaded.from_network, self._fresh(loaded, self._clock()))

    @property
    def fetched_at(self) -> datetime | None:
        """When the data left models.dev (for the bundled snapshot: the snapshot's date), UTC."""
        return to_datetime(self._loaded.fetched_at)

    @property
    def age(self) -> timedelta | None:
        fetched = self._loaded.fetched_at
        return None if fetched is None else timedelta(seconds=max(0.0, self._clock() - fetched))

    @property
    def last_error(self) -> str | None:
        """Why the last fetch failed, in plain words; ``None`` after a success."""
        return self._last_error

    @property
    def unreachable(self) -> bool:
        """The last fetch failed because no connection could be made (offline), not a fault."""
        return self._unreachable

    @property
    def skipped(self) -> int:
        """How many malformed providers and models were dropped from this catalog."""
        return self._loaded.view.skipped

    @property
    def refreshing(self) -> bool:
        inflight = self._inflight
        return inflight is not None and not inflight.done()

    @property
    def offline(self) -> bool:
        return self._offline

    @property
    def url(self) -> str:
        """Where the catalog is fetched from (a password in it is masked)."""
        return redact_url(self._url)

    def describe(self) -> str:
        """``"models.dev, 12 min ago"``, ``"offline: cached 3 days ago"``,
        ``"offline: bundled snapshot of 2026-07-01"``..."""
        loaded = self._loaded
        return describe(
            source=self.source,
            fetched_at=loaded.fetched_at,
            now=self._clock(),
            label=host_label(self._url),
            offline=self._offline,
            failed=self._last_error is not None,
            refreshing=self.refreshing,
        )

    def provenance(self) -> Provenance:
        return Provenance(
            source=self.source,
            fetched_at=self.fetched_at,
            age=self.age,
            description=self.describe(),
            last_error=self._last_error,
            last_error_at=to_datetime(self._last_error_at),
            refreshing=self.refreshing,
            offline=self._offline,
            url=self.url,
            skipped=self.skipped,
        )

    # -- models -----------------------------------------------------------------------------

    def providers(self) -> list[ProviderInfo]:
        """Every catalog provider, sorted by id."""
        return list(self._current().view.providers.values())

    def provider(self, provider_id: str) -> ProviderInfo | None:
        return self._current().view.providers.get(provider_id)

    def models(self, provider_id: str) -> list[ModelInfo]:
        """One catalog provider's models, sorted by id; ``[]`` for an unknown provider."""
        return list(self._current().view.models(provider_id))

    def all_models(self) -> list[ModelInfo]:
        return list(self._current().view.all_models())

    def get(self, provider_id: str, model_id: str) -> ModelInfo | None:
        """The catalog entry for ``model_id`` (exact id) of a catalog provider, or ``None``."""
        return self._current().view.lookup(provider_id, model_id)

    def models_for_type(self, provider_type: str, purpose: Purpose = "chat") -> list[ModelInfo]:
        """What the picker of a provider type offers for ``"chat"`` or ``"embedding"``.

        Chat lists leave out embedding models, rerankers and image/audio/video
        generators; embedding lists hold embedding models only (none for codex).
        Raises :class:`~takopi_nb._errors.ConfigError` for an unknown type.
        """
        return list(self._type_list(self._current().view, provider_type, purpose))

    def get_for_type(self, provider_type: str, model_id: str) -> ModelInfo | None:
        """The entry for ``model_id`` as a provider type sees it (codex: no prices), or ``None``."""
        from .._provider_types import provider_type as type_spec
        from ._provider_lists import as_codex

        found = self.get(type_spec(provider_type).catalog_provider, model_id)
        if found is not None and provider_type == "codex":
            return as_codex(found)
        return found

    def search(
        self,
        query: str = "",
        *,
        provider: str | None = None,
        provider_type: str | None = None,
        tool_call: bool | None = None,
        reasoning: bool | None = None,
        image_input: bool | None = None,
        embeddings: bool | None = None,
        hide_deprecated: bool = False,
        limit: int | None = None,
    ) -> list[ModelInfo]:
        """Models matching ``query`` (every word, in id, name or family), best first.

        Searches one catalog ``provider``, or the picker list of a
        ``provider_type`` (chat and embedding models; ``embeddings=True`` or
        ``False`` narrows to one), or the whole catalog when neither is given.
        Filters are three-way: ``True`` = must have, ``False`` = must not, ``None`` = any.
        """
        from ._search import search_models

        if provider is not None and provider_type is not None:
            raise ValueError("search() takes provider or provider_type, not both")
        index = self._current().view
        if provider_type is not None:
            purposes: tuple[Purpose, ...] = (
                ("embedding",) if embeddings else ("chat",) if embeddings is False
                else ("chat", "embedding")
            )  # fmt: skip
            lists = [self._type_list(index, provider_type, p) for p in purposes]
            key: tuple[str, ...] = ("search-type", provider_type, *purposes)
            models, texts = index.derived(
                key, lambda: _searchable(sorted((m for lst in lists for m in lst), key=_by_id))
            )
        elif provider is not None:
            models, texts = index.derived(
                ("search", provider), lambda: _searchable(index.models(provider))
            )
        else:
            models, texts = index.derived(("search",), lambda: _searchable(index.all_models()))
        return search_models(
            models, texts, query,
            tool_call=tool_call, reasoning=reasoning, image_input=image_input,
            embeddings=embeddings, hide_deprecated=hide_deprecated, limit=limit,
        )  # fmt: skip

    def to_dataframe(
        self, provider: str | None = None, *, provider_type: str | None = None,
        purpose: Purpose = "chat",
    ) -> Any:  # fmt: skip
        """A pandas DataFrame of one provider, one type's picker list, or the whole catalog.

        Needs the optional extra: ``pip install takopi_nb[pandas]``.
        """
        from ._frame import to_dataframe

        if provider_type is not None:
            return to_dataframe(self.models_for_type(provider_type, purpose))
        return to_dataframe(self.models(provider) if provider is not None else self.all_models())

    def __len__(self) -> int:
        return self._loaded.view.model_count

    def __repr__(self) -> str:
        index = self._loaded.view
        return (
            f"<Catalog {self.describe()}: {len(index.providers)} providers, "
            f"{index.model_count:,} models>"
        )

    # -- refreshing -------------------------------------------------------------------------

    @overload
    def refresh(self, background: Literal[False] = False) -> bool: ...
    @overload
    def refresh(self, background: Literal[True]) -> Future[bool]: ...
    def refresh(self, background: bool = False) -> bool | Future[bool]:
        """Fetch the catalog now, whatever the cache's age.

        Returns True when new data is in (``last_error`` says why not, otherwise).
        ``background=True`` returns at once with a ``Future[bool]``. When a
        refresh is already under way, this waits for (or returns) that one.
        """
        if background:
            return self._start_background(forced=True)
        from concurrent.futures import Future

        with self._lock:
            inflight = self._inflight
            if inflight is None or inflight.done():
                inflight = None
                mine: Future[bool] = Future()
                self._inflight = mine
        if inflight is not None:
            return inflight.result()
        try:
            ok = self._refresh_now(forced=True)
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        mine.set_result(ok)
        return ok

    def wait(self, timeout: float | None = None) -> bool | None:
        """Wait for the latest refresh (such as the automatic one) to finish.

        Returns its result (True = new data is in), or ``None`` when there has been no
        refresh. Raises ``TimeoutError`` when it does not finish within ``timeout`` seconds.
        """
        inflight = self._inflight
        if inflight is None:
            return None
        return inflight.result(timeout)

    def on_change(self, callback: Callable[[Catalog], None]) -> Callable[[], None]:
        """Call ``callback(catalog)`` after new data or a new error (from the refresh thread).

        Returns a function that removes the callback.
        """
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    def close(self, timeout: float = 2.0) -> None:
        """Stop starting refreshes and wait up to ``timeout`` s for one under way."""
        self._closed = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- internals --------------------------------------------------------------------------

    def _fresh(self, loaded: _Loaded, now: float) -> bool:
        return (
            loaded.origin == "network"
            and loaded.url == self._url
            and is_fresh(loaded.fetched_at, now, self._ttl)
        )

    def _current(self) -> _Loaded:
        """The data to answer with; starts a background refresh when it is out of date."""
        loaded = self._loaded
        if self._auto and not self._offline and not self._closed:
            now = self._clock()
            if now >= self._next_auto and not self._fresh(loaded, now):
                self._next_auto = now + AUTO_RETRY_SECONDS
                self._start_background(forced=False)
        return loaded

    def _type_list(
        self, index: Index, provider_type: str, purpose: Purpose
    ) -> tuple[ModelInfo, ...]:
        from .._provider_types import provider_type as type_spec
        from ._provider_lists import pick

        catalog_provider = type_spec(provider_type).catalog_provider
        return index.derived(
            ("type", provider_type, purpose),
            lambda: pick(provider_type, purpose, index.models(catalog_provider)),
        )

    def _load_local(self) -> _Loaded:
        """The best data at hand without the network: a fresh download, else the newer of a
        stale download and the bundled snapshot. Fetches only when there is no data at all."""
        found = self._read_download()
        download = found[1] if found else None
        if download is not None and self._fresh(download, self._clock()):
            return download
        bundled = self._load_bundled(older_than=download.fetched_at if download else None)
        return bundled or download or self._first_fetch()

    def _first_fetch(self) -> _Loaded:
        where = f"there is no catalog cache in {self._files.directory} and no bundled snapshot"
        if self._offline:
            raise CatalogError(
                f"No models.dev catalog is available: offline mode is on (TAKOPI_NB_OFFLINE=1), "
                f"{where}. Unset TAKOPI_NB_OFFLINE and retry."
            )
        loaded = self._fetch_locked(forced=True)
        if loaded is None:
            raise CatalogError(f"No models.dev catalog could be had ({where}). {self._last_error}")
        return loaded

    def _read_download(self) -> tuple[bytes, _Loaded] | None:
        """The last download from the cache file, if it is intact."""
        data = read_bytes(self._files.download)
        if data is None:
            return None
        try:
            index = Index(data)
        except CacheCorrupt as exc:
            log().warning("ignoring the damaged catalog cache %s: %s", self._files.download, exc)
            return None
        meta = index.meta
        fetched_at = meta.get("fetched_at")
        if meta.get("origin") != "network" or not isinstance(fetched_at, (int, float)):
            return None
        url = meta.get("url") if isinstance(meta.get("url"), str) else None
        return data, _Loaded(index, "network", False, float(fetched_at), url)

    def _load_bundled(self, older_than: float | None) -> _Loaded | None:
        """The package snapshot, unless it is missing or not newer than ``older_than`` (the
        stale download's time). The package ships it pre-indexed; should that copy be
        unusable, the raw snapshot is indexed once and kept in the cache dir."""
        if not self._use_bundled:
            return None
        import zlib

        from ._bundled import build_index, snapshot_index, snapshot_info

        try:
            snap = snapshot_info()
        except (OSError, ValueError, KeyError) as exc:
            log().warning("the bundled models.dev snapshot is unusable: %s", exc)
            return None
        if older_than is not None and snap.taken_at <= older_than:
            return None
        shipped: bytes | None
        try:
            shipped = snapshot_index()
        except (OSError, zlib.error) as exc:
            log().warning("the bundled catalog index is unusable (%s); indexing the snapshot", exc)
            shipped = None
        for data in (shipped, read_bytes(self._files.bundled)):
            index = _bundled_index(data, snap.sha256)
            if index is not None:
                return _Loaded(index, "bundled", False, snap.taken_at, None)
            if data is shipped and shipped is not None:
                log().warning(
                    "the bundled catalog index is damaged or of another snapshot; indexing the "
                    "snapshot (rebuild it: python -m takopi_nb.catalog._bundled)"
                )
        from ._parse import CatalogDataError

        try:
            data = build_index(snap)
        except (OSError, zlib.error, CatalogDataError) as exc:
            log().warning("the bundled models.dev snapshot is unusable: %s", exc)
            return None
        self._store(self._files.bundled, data)
        return _Loaded(Index(data), "bundled", False, snap.taken_at, None)

    def _store(self, path: Path, data: bytes) -> None:
        try:
            self._files.write(path, data)
        except OSError as exc:
            log().warning("could not save the catalog cache %s: %s", path, exc)

    def _start_background(self, forced: bool) -> Future[bool]:
        from concurrent.futures import Future

        with self._lock:
            inflight = self._inflight
            if inflight is not None and not inflight.done():
                return inflight
            future: Future[bool] = Future()
            if self._closed:
                future.set_result(False)
                return future
            self._inflight = future
            thread = threading.Thread(
                target=self._run_background, args=(future, forced),
                name="takopi-nb-catalog-refresh", daemon=True,
            )  # fmt: skip
            self._thread = thread
        thread.start()
        return future

    def _run_background(self, future: Future[bool], forced: bool) -> None:
        try:
            ok = self._refresh_now(forced)
        except BaseException as exc:  # never let the thread die with an unhandled error
            log().exception("catalog refresh failed")
            self._fail(f"Unexpected error while refreshing the catalog: {type(exc).__name__}.")
            future.set_exception(exc)
            return
        future.set_result(ok)

    def _refresh_now(self, forced: bool) -> bool:
        """One refresh: adopt a newer cache written by another process, or fetch."""
        if self._offline:
            self._fail(
                "Not fetched: offline mode is on (TAKOPI_NB_OFFLINE=1). "
                "Unset it to fetch the catalog from models.dev."
            )
            return False
        loaded = self._fetch_locked(forced)
        if loaded is None:
            return False
        with self._lock:
            self._loaded = loaded
            self._last_error = None
            self._last_error_at = None
            self._unreachable = False
        self._notify()
        return True

    def _fetch_locked(self, forced: bool) -> _Loaded | None:
        """Under the cross-process lock: take what another process just fetched, or fetch and
        save. ``None`` (and ``last_error`` set) on failure."""
        from ._fetch import FetchError, fetch
        from ._parse import CatalogDataError, load_json, parse_catalog

        started = self._clock()
        host = host_label(self._url)
        with self._files.locked(self._timeouts.total + 10):
            found = self._read_download()
            if found is not None and self._newer_on_disk(found[1], started, forced):
                return found[1]
            etag = last_modified = None
            if found is not None and found[1].url == self._url:
                etag = _str_or_none(found[1].view.meta.get("etag"))
                last_modified = _str_or_none(found[1].view.meta.get("last_modified"))
            try:
                got = fetch(
                    self._url, etag=etag, last_modified=last_modified,
                    timeouts=self._timeouts, transport=self._transport,
                )  # fmt: skip
                now = self._clock()
                if got.body is None and found is not None:  # 304 Not Modified
                    data = restamp(found[0], fetched_at=now)
                else:
                    import hashlib

                    body = got.body or b""
                    parsed = parse_catalog(load_json(body))
                    meta = {
                        "origin": "network", "url": self._url, "fetched_at": now,
                        "etag": got.etag, "last_modified": got.last_modified,
                        "sha256": hashlib.sha256(body).hexdigest(), "size": len(body),
                    }  # fmt: skip
                    data = encode(parsed, meta)
            except FetchError as exc:
                self._fail(f"{exc} {_HINT.format(host=host)}", unreachable=exc.unreachable)
                return None
            except CatalogDataError as exc:
                self._fail(f"{host} {exc}. {_HINT.format(host=host)}")
                return None
            self._store(self._files.download, data)
        return _Loaded(Index(data), "network", True, now, self._url)

    def _newer_on_disk(self, disk: _Loaded, started: float, forced: bool) -> bool:
        """Did another process fetch meanwhile? Forced: after this refresh was asked for.
        Automatic: the cache is fresh and newer than what this catalog holds."""
        if disk.fetched_at is None or disk.url != self._url:
            return False
        if forced:
            return disk.fetched_at > started
        current = self._loaded
        held = current.fetched_at if current.origin == "network" else None
        return self._fresh(disk, started) and (held is None or disk.fetched_at > held)

    def _fail(self, message: str, *, unreachable: bool = False) -> None:
        with self._lock:
            self._last_error = message
            self._last_error_at = self._clock()
            self._unreachable = unreachable
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(self)
            except Exception:
                log().exception("a catalog on_change callback failed")


def _by_id(model: ModelInfo) -> str:
    return model.id


def _searchable(models: Iterable[ModelInfo]) -> tuple[tuple[ModelInfo, ...], tuple[str, ...]]:
    from ._search import haystack

    kept = tuple(models)
    return kept, tuple(haystack(m) for m in kept)


def _bundled_index(data: bytes | None, sha256: str) -> Index | None:
    """``data`` as an index of the snapshot whose ``api.json`` has ``sha256``, if it is one."""
    if data is None:
        return None
    try:
        index = Index(data)
    except CacheCorrupt:
        return None
    return index if index.meta.get("sha256") == sha256 else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


_instance: Catalog | None = None
_instance_lock = threading.Lock()


def get_catalog() -> Catalog:
    """The process-wide catalog, created on first use from the environment.

    Never waits for the network when a cache or the bundled snapshot is at
    hand; raises :class:`~takopi_nb._errors.CatalogError` only when no catalog
    can be had at all.
    """
    global _instance
    found = _instance
    if found is None:
        with _instance_lock:
            if _instance is None:
                _instance = Catalog()
            found = _instance
    return found


def _reset() -> None:
    """Drop the process-wide catalog (tests; after the environment changed)."""
    global _instance
    with _instance_lock:
        found, _instance = _instance, None
    if found is not None:
        found.close()
