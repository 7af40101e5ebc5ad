"""Where takopi_nb keeps its files. Nothing here touches the disk at import time.

``jupyter_core`` is imported on first use only, so that ``import takopi_nb``
stays instant.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CONFIG_FILE_NAME",
    "admin_config_files",
    "cache_dir",
    "data_dir",
    "user_config_file",
]

CONFIG_FILE_NAME = "providers.json"
_SUBDIR = "takopi"


def user_config_file() -> Path:
    """The user's config file: ``$TAKOPI_NB_CONFIG`` or ``<jupyter_config_dir>/takopi/providers.json``."""
    named = os.environ.get("TAKOPI_NB_CONFIG")
    if named:
        return Path(named).expanduser()
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / _SUBDIR / CONFIG_FILE_NAME


def admin_config_files() -> list[Path]:
    """Config files of the other (system/env) Jupyter config dirs, lowest precedence first.

    ``jupyter_config_path()`` lists the user dir first and ``/etc/jupyter`` last;
    the admin layer is everything but the user dir, and the more system-wide a
    dir is, the earlier it is applied.
    """
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    user_dir = Path(jupyter_config_dir()).resolve()
    files = []
    for directory in jupyter_config_path():
        path = Path(directory)
        if path.resolve() == user_dir:
            continue
        files.append(path / _SUBDIR / CONFIG_FILE_NAME)
    files.reverse()
    return files


def data_dir() -> Path:
    """``<jupyter_data_dir>/takopi``: the secrets file fallback and lock files live here."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / _SUBDIR


def cache_dir() -> Path:
    """``$TAKOPI_NB_CACHE_DIR`` or the platform user cache dir for ``takopi_nb``."""
    named = os.environ.get("TAKOPI_NB_CACHE_DIR")
    if named:
        return Path(named).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("takopi_nb", appauthor=False))
