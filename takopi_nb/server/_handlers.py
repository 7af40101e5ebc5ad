"""Tornado handlers of the REST API under ``<base_url>/takopi/api/``.

Every route needs the Jupyter server's own authentication (token or login
cookie; XSRF on POST for cookie logins) and passes its authorizer with the
resource ``"takopi"``. Replies are JSON; errors are ``{"error": "...", "type": "..."}``
with a fitting status code. The work (file reads, keyring look-ups, catalog
fetches) runs in a daemon thread, so the server's event loop never waits on it
and a slow fetch never holds up the server's exit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from traitlets import TraitError

from .._errors import (
    CatalogError,
    ConfigError,
    EmbeddingsNotSupportedError,
    MissingCredentialsError,
    ModelNotFoundError,
    ProviderNotUsableError,
    ProviderRequestError,
    RefError,
    TakopiError,
)
from .._switches import is_on
from . import _views as views
from . import _writes as writes
from ._threads import in_daemon_thread

if TYPE_CHECKING:
    from .._config import TakopiConfig
    from ._extension import TakopiServerState

__all__ = ["API_PATH", "AUTH_RESOURCE", "route_table"]

log = logging.getLogger("takopi_nb.server")

AUTH_RESOURCE = "takopi"
API_PATH = "takopi/api"
T = TypeVar("T")

# Most specific first: subclasses before their bases.
_STATUS_OF: tuple[tuple[type[TakopiError], int], ...] = (
    (RefError, 400),
    (EmbeddingsNotSupportedError, 400),
    (ModelNotFoundError, 404),
    (ProviderNotUsableError, 409),
    (MissingCredentialsError, 409),
    (CatalogError, 503),
    (ProviderRequestError, 502),  # the provider's own endpoint failed: a bad gateway
    (ConfigError, 500),  # on a read: a config or keyring problem on the server's side
)


def status_of(exc: TakopiError, *, writing: bool = False) -> int:
    """The HTTP status of an error; on a write, a ConfigError is the request's fault (400)."""
    if writing and isinstance(exc, ConfigError):
        return 400
    for kind, code in _STATUS_OF:
        if isinstance(exc, kind):
            return code
    return 500


class TakopiAPIHandler(APIHandler):
    """Base: JSON replies, TakopiError → JSON error, blocking work in a thread."""

    auth_resource = AUTH_RESOURCE

    @property
    def takopi(self) -> TakopiServerState:
        state: TakopiServerState = self.settings["takopi_nb"]
        return state

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data, ensure_ascii=False, default=str))

    def reply_error(self, status: int, message: str, kind: str) -> None:
        self.reply({"error": message, "type": kind}, status)

    def json_body(self) -> Any:
        """The parsed body (``{}`` when empty); raises BadRequest without quoting it (a key)."""
        if not self.request.body:
            return {}
        try:
            return json.loads(self.request.body)
        except ValueError:
            raise views.BadRequest(
                "The request body is not valid JSON; send a JSON object with "
                "Content-Type: application/json."
            ) from None

    async def write_with(
        self,
        change: Callable[[TakopiConfig, Any], dict[str, Any]],
        *,
        status: int = 200,
        needs_body: bool = True,
    ) -> None:
        """Apply ``change(config, body)`` in a thread and reply with its result."""
        cfg = self.takopi.config
        try:
            body = self.json_body() if needs_body else None
        except views.BadRequest as exc:
            self.reply_error(400, str(exc), "BadRequest")
            return
        await self.answer(lambda: change(cfg, body), writing=True, status=status)

    async def answer(
        self, work: Callable[[], Any], *, writing: bool = False, status: int = 200
    ) -> None:
        """Run ``work`` as :meth:`run` does and reply with what it returns."""
        data = await self.run(work, writing=writing)
        if data is not None:
            self.reply(data, status)

    async def run(self, work: Callable[[], T], *, writing: bool = False) -> T | None:
        """Run ``work`` in a thread; on a TakopiError reply with it and return None.

        ``writing``: the work changes the config with a request's values, so the
        Python API's refusals (ConfigError, and the TraitError of a trait's own
        check, e.g. a managed provider's Base URL) are answered 400 with its message.
        """
        try:
            return await in_daemon_thread(work)
        except views.BadRequest as exc:
            self.reply_error(400, str(exc), "BadRequest")
        except TakopiError as exc:
            # TakopiError messages never hold a secret (the package contract).
            error: dict[str, Any] = {"error": str(exc), "type": type(exc).__name__}
            if isinstance(exc, ProviderRequestError):  # what the provider itself answered
                error["upstream_status"] = exc.status
            self.reply(error, status_of(exc, writing=writing))
        except TraitError as exc:
            if not writing:
                raise
            # The trait checks of Provider/TakopiConfig: their own words, about a value.
            self.reply_error(400, str(exc), "ConfigError")
        except Exception as exc:
            # Anything else may carry details that do not belong in a reply: log it only.
            log.exception("takopi_nb: %s %s failed", self.request.method, self.request.path)
            self.reply_error(
                500,
                f"Internal error ({type(exc).__name__}); see the Jupyter server log.",
                type(exc).__name__,
            )
        return None


class StatusHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        state = self.takopi

        def work() -> dict[str, Any]:
            return views.status_view(state.config, state.status_extra())

        await self.answer(work)


class ProvidersHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cfg = self.takopi.config
        await self.answer(lambda: views.providers_view(cfg))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Add a provider: ``{"type", "id"?, "name"?, "base_url"?, "models"?, "api_key"?}``."""
        await self.write_with(writes.add_provider, status=201)


class ProviderHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, provider_id: str) -> None:
        cfg = self.takopi.config

        def work() -> dict[str, Any]:
            return views.provider_view(cfg, cfg.get(provider_id))

        await self.answer(work)

    @web.authenticated
    @authorized
    async def patch(self, provider_id: str) -> None:
        """Change ``name``, ``base_url`` and/or ``models``."""
        await self.write_with(lambda cfg, body: writes.edit_provider(cfg, provider_id, body))

    @web.authenticated
    @authorized
    async def delete(self, provider_id: str) -> None:
        await self.write_with(
            lambda cfg, _: writes.remove_provider(cfg, provider_id), needs_body=False
        )


class ProviderRenameHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, provider_id: str) -> None:
        """``{"id": "<new id>"}``."""
        await self.write_with(lambda cfg, body: writes.rename_provider(cfg, provider_id, body))


class ProviderKeyHandler(TakopiAPIHandler):
    """The API key: write-only. ``PUT {"api_key": …}`` stores it, ``DELETE`` clears it."""

    @web.authenticated
    @authorized
    async def put(self, provider_id: str) -> None:
        await self.write_with(lambda cfg, body: writes.set_key(cfg, provider_id, body))

    @web.authenticated
    @authorized
    async def delete(self, provider_id: str) -> None:
        await self.write_with(lambda cfg, _: writes.clear_key(cfg, provider_id), needs_body=False)


class ProviderLoginHandler(TakopiAPIHandler):
    """ "Sign in with ChatGPT": ``POST`` starts it, ``GET`` reads its state, ``DELETE`` cancels."""

    @web.authenticated
    @authorized
    async def get(self, provider_id: str) -> None:
        logins, cfg = self.takopi.logins, self.takopi.config
        await self.answer(lambda: logins.view(cfg, provider_id))

    @web.authenticated
    @authorized
    async def post(self, provider_id: str) -> None:
        logins = self.takopi.logins
        await self.write_with(
            lambda cfg, _: logins.start(cfg, provider_id), status=202, needs_body=False
        )

    @web.authenticated
    @authorized
    async def delete(self, provider_id: str) -> None:
        logins = self.takopi.logins
        await self.write_with(lambda cfg, _: logins.cancel(cfg, provider_id), needs_body=False)


class ProviderLogoutHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, provider_id: str) -> None:
        logins = self.takopi.logins
        await self.write_with(lambda cfg, _: logins.logout(cfg, provider_id), needs_body=False)


class ProviderConfirmHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, provider_id: str) -> None:
        await self.write_with(
            lambda cfg, _: writes.confirm_base_url(cfg, provider_id), needs_body=False
        )


class ProviderEndpointModelsHandler(TakopiAPIHandler):
    """``GET``: what the provider's endpoint lists, catalog metadata merged; ``?refresh=1``
    asks again instead of using the list kept for two minutes."""

    @web.authenticated
    @authorized
    async def get(self, provider_id: str) -> None:
        cfg = self.takopi.config
        refresh = is_on(self.get_argument("refresh", ""))

        def work() -> dict[str, Any]:
            return views.endpoint_models_view(cfg.get(provider_id), refresh=refresh)

        await self.answer(work)


class SettingsHandler(TakopiAPIHandler):
    """The default and the embedding model."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        cfg = self.takopi.config

        def work() -> dict[str, Any]:
            cfg.reload_if_changed()
            return {"default_model": cfg.default_model, "embedding_model": cfg.embedding_model}

        await self.answer(work)

    @web.authenticated
    @authorized
    async def patch(self) -> None:
        await self.write_with(writes.set_models_of_config)


class ResolveHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        cfg = self.takopi.config
        ref = self.get_argument("ref", "")
        purpose = self.get_argument("purpose", "chat")
        await self.answer(lambda: views.resolve_view(cfg, ref, purpose))


class CatalogHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        state = self.takopi
        await self.answer(lambda: views.catalog_view(state.catalog(), state.refresher))


class CatalogModelsHandler(TakopiAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        state = self.takopi
        provider = self.get_argument("provider", "") or None
        provider_type = self.get_argument("type", "") or None
        purpose = self.get_argument("purpose", "") or None
        query = self.get_argument("q", "") or None

        def work() -> dict[str, Any]:
            return views.catalog_models_view(
                state.catalog(),
                provider=provider,
                provider_type=provider_type,
                purpose=purpose,
                query=query,
            )

        await self.answer(work)


class CatalogRefreshHandler(TakopiAPIHandler):
    """POST: fetch models.dev now. ``{"background": true}`` answers 202 without waiting."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        state = self.takopi
        background = self._background_flag()
        if background is None:
            return
        offline = state.offline_reason()
        if offline:
            self.reply_error(
                409,
                f"The catalog is not fetched while offline ({offline}); the cached or bundled "
                "copy is used. Unset TAKOPI_NB_OFFLINE to refresh.",
                "Offline",
            )
            return
        if background:
            catalog = await self.run(state.catalog)
            if catalog is None:
                return
            catalog.refresh(background=True)
            self.reply({"started": True, **views.catalog_view(catalog, state.refresher)}, 202)
            return

        def work() -> tuple[str | None, dict[str, Any]]:
            catalog = state.catalog()
            problem = views.refresh_catalog(catalog)
            return problem, views.catalog_view(catalog, state.refresher)

        result = await self.run(work)
        if result is None:
            return
        problem, data = result
        if problem:
            failed = {"error": f"The catalog could not be refreshed: {problem}"}
            self.reply({**data, **failed, "type": "CatalogRefreshFailed"}, 502)
        else:
            self.reply(data)

    def _background_flag(self) -> bool | None:
        """``background`` from the JSON body or the query; None after replying 400."""
        raw = self.get_argument("background", "")
        if self.request.body:
            try:
                body = json.loads(self.request.body)
            except ValueError:
                self.reply_error(400, "The request body is not valid JSON.", "BadRequest")
                return None
            if not isinstance(body, dict):
                self.reply_error(400, "The request body must be a JSON object.", "BadRequest")
                return None
            raw = body.get("background", raw)
        if isinstance(raw, bool):
            return raw
        return is_on(str(raw))


def route_table() -> list[tuple[str, type[APIHandler]]]:
    """(path below ``takopi/api``, handler) pairs."""
    return [
        (r"/status", StatusHandler),
        (r"/providers", ProvidersHandler),
        (r"/providers/(?P<provider_id>[^/]+)", ProviderHandler),
        (r"/providers/(?P<provider_id>[^/]+)/rename", ProviderRenameHandler),
        (r"/providers/(?P<provider_id>[^/]+)/key", ProviderKeyHandler),
        (r"/providers/(?P<provider_id>[^/]+)/login", ProviderLoginHandler),
        (r"/providers/(?P<provider_id>[^/]+)/logout", ProviderLogoutHandler),
        (r"/providers/(?P<provider_id>[^/]+)/confirm", ProviderConfirmHandler),
        (r"/providers/(?P<provider_id>[^/]+)/endpoint-models", ProviderEndpointModelsHandler),
        (r"/settings", SettingsHandler),
        (r"/resolve", ResolveHandler),
        (r"/catalog", CatalogHandler),
        (r"/catalog/models", CatalogModelsHandler),
        (r"/catalog/refresh", CatalogRefreshHandler),
    ]
