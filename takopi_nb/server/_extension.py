"""Wiring the REST API and the catalog refresher into a running Jupyter server."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_server.utils import url_path_join
from traitlets import Float
from traitlets.config import LoggingConfigurable

from ._handlers import API_PATH, route_table
from ._refresher import CatalogRefresher, Offline, offline_reason

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from .._config import TakopiConfig
    from ..catalog import Catalog

__all__ = ["TakopiServerExtension", "TakopiServerState", "load", "start"]

log = logging.getLogger("takopi_nb.server")

SETTINGS_KEY = "takopi_nb"


class TakopiServerExtension(LoggingConfigurable):
    """Settings of the takopi_nb Jupyter server extension.

    Set them like any server option: ``--TakopiServerExtension.catalog_refresh_interval=1800``
    on the command line, or ``c.TakopiServerExtension.catalog_refresh_interval = 1800`` in
    ``jupyter_server_config.py``. The config of the providers themselves is
    :class:`takopi_nb.TakopiConfig` (e.g. ``--TakopiConfig.secret_backend=file``).
    """

    catalog_refresh_interval = Float(
        3600.0,
        help="Seconds between background refreshes of the models.dev catalog cache (the cache "
        "is fresh for 2 hours). 0 turns the refresher off; so does TAKOPI_NB_OFFLINE=1.",
    ).tag(config=True)

    catalog_refresh_initial_delay = Float(
        0.0,
        help="Seconds after the server start before the first catalog refresh.",
    ).tag(config=True)


@dataclass(eq=False)
class TakopiServerState:
    """What the handlers share: the process config, the refresher and the extension settings."""

    config: TakopiConfig
    extension: TakopiServerExtension
    refresher: CatalogRefresher = field(init=False)
    _stopped: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.refresher = CatalogRefresher(
            self.refresh_job,
            self.extension.catalog_refresh_interval,
            initial_delay=self.extension.catalog_refresh_initial_delay,
            disabled_reason=offline_reason(),
        )

    @staticmethod
    def offline_reason() -> str | None:
        return offline_reason()

    @staticmethod
    def catalog() -> Catalog:
        from ..catalog import get_catalog

        return get_catalog()

    def refresh_job(self) -> str | Offline | None:
        """The refresher's job: fetch models.dev, unless this process's copy is recent.

        Returns the error text of a failed fetch, :class:`Offline` when no connection
        could be made (the cached or bundled catalog serves meanwhile), else None. The
        fetch is written to the shared cache, where every kernel of the user finds it.
        """
        from ._views import refresh_catalog, timestamp

        catalog = self.catalog()
        fetched = timestamp(catalog.fetched_at)
        if (
            catalog.source in ("network", "cache")
            and fetched is not None
            and time.time() - fetched < self.refresher.interval * 0.9
        ):
            return None  # fetched not long ago (a Refresh from the panel or the REST API)
        problem = refresh_catalog(catalog)
        if problem and catalog.unreachable:
            return Offline(problem, catalog.describe().removeprefix("offline: "))
        return problem

    def status_extra(self) -> dict[str, Any]:
        return {
            "offline": offline_reason(),
            "catalog_refresher": self.refresher.status(),
        }

    async def shutdown(self) -> None:
        if not self._stopped:
            self._stopped = True
            await self.refresher.stop()


def _process_config(serverapp: ServerApp) -> TakopiConfig:
    """The process-wide config (the one ``tk.get_config()`` returns), with the server's options.

    Options given to the server (``--TakopiConfig.secret_backend=file``, or
    ``c.TakopiConfig...`` in ``jupyter_server_config.py``) are applied to it, so the
    REST API and any code running in the server process see one config.
    """
    from .._config import TakopiConfig, get_config

    cfg = get_config()
    section = serverapp.config.get(TakopiConfig.__name__)
    if section:
        cfg.update_config(serverapp.config)
    return cfg


def _on_shutdown(serverapp: ServerApp, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` when the server cleans up (SIGTERM, Ctrl+C, /api/shutdown).

    jupyter_server calls stop hooks of ExtensionApp subclasses only; this plain
    module extension hooks into the same step, before the other extensions stop.
    """
    original = serverapp.cleanup_extensions

    async def cleanup_extensions() -> None:
        try:
            await callback()
        except Exception:
            log.exception("takopi_nb: error while stopping the server extension")
        await original()

    serverapp.cleanup_extensions = cleanup_extensions  # type: ignore[method-assign]


def _route_package_logs(serverapp: ServerApp) -> None:
    """Send takopi_nb's log records (config notices, catalog, this extension) to the server log."""
    package = logging.getLogger("takopi_nb")
    if package.handlers:
        return  # someone configured it already
    for handler in serverapp.log.handlers:
        package.addHandler(handler)
    package.setLevel(serverapp.log.level)
    package.propagate = False


def load(serverapp: ServerApp) -> None:
    """Register the handlers and prepare the refresher (started once the loop runs)."""
    _route_package_logs(serverapp)
    extension = TakopiServerExtension(parent=serverapp)
    cfg = _process_config(serverapp)
    state = TakopiServerState(cfg, extension)

    web_app = serverapp.web_app
    web_app.settings[SETTINGS_KEY] = state
    base = url_path_join(web_app.settings["base_url"], API_PATH)
    routes = [(url_path_join(base, path), handler) for path, handler in route_table()]
    web_app.add_handlers(".*$", routes)  # type: ignore[no-untyped-call]
    _on_shutdown(serverapp, state.shutdown)
    serverapp.log.info("takopi_nb: REST API at %s/ (config %s)", base, cfg.runtime.store.path)


async def start(serverapp: ServerApp) -> None:
    """Start the background catalog refresher (the event loop runs now)."""
    state: TakopiServerState | None = serverapp.web_app.settings.get(SETTINGS_KEY)
    if state is not None:
        state.refresher.start()
