"""The takopi_nb Jupyter server extension: a REST API and a background catalog refresher.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/takopi_nb.json``.
Routes (all behind the server's authentication, resource ``"takopi"``):

========================================  ============================================
``GET  /takopi/api/status``               config files, secret store, refresher state
``GET  /takopi/api/providers``            every provider with status (never a secret)
``GET  /takopi/api/providers/<id>``       one provider
``GET  /takopi/api/resolve?ref=&purpose=`` a ref resolved (no headers, no key)
``GET  /takopi/api/catalog``              catalog source, age, counts, refresher
``GET  /takopi/api/catalog/models``       ``?provider=`` or ``?type=&purpose=``, ``&q=``
``POST /takopi/api/catalog/refresh``      fetch models.dev now (``{"background": true}``)
``POST /takopi/api/providers``            add a provider (its key, if sent, is write-only)
``PATCH|DELETE /takopi/api/providers/<id>`` change name, Base URL, models / remove it
``POST /takopi/api/providers/<id>/rename`` give it a new id
``PUT|DELETE /takopi/api/providers/<id>/key`` set / clear its API key (never returned)
``POST|GET|DELETE …/<id>/login``          "Sign in with ChatGPT": start, state, cancel
``POST /takopi/api/providers/<id>/logout`` sign out
``POST /takopi/api/providers/<id>/confirm`` send the key to the moved Base URL
``GET|PATCH /takopi/api/settings``        the default and the embedding model
========================================  ============================================

Writes go through the public Python API (docs/rest-api.md).

Importing this module is cheap: jupyter_server and tornado are imported only
when the server loads the extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "takopi_nb.server"}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    from ._extension import load

    load(serverapp)


async def _start_jupyter_server_extension(serverapp: ServerApp) -> None:
    from ._extension import start

    await start(serverapp)
