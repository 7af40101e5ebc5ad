"""Where secrets live: the OS keyring, else a 0600 JSON file; environment variables on read.

One keyring entry per provider id under the service ``takopi_nb``. The value is
an API key, or for codex a JSON document of OAuth tokens. Nothing in this module
logs, prints or puts a secret in an exception message.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._fileio import atomic_write_bytes, file_lock, read_regular_file

if TYPE_CHECKING:
    import logging

__all__ = ["KEYRING_SERVICE", "SecretStore", "mask_secret", "usable_keyring_backend"]

KEYRING_SERVICE = "takopi_nb"

RECENT_SECONDS = 5.0
"""How long a key read for a call is reused for the next calls (see ``get_recent``)."""
SecretBackend = Literal["auto", "keyring", "file"]
StoredIn = Literal["keyring", "file"]


def _log() -> logging.Logger:
    import logging  # only on a warning: a first resolve() need not import it (~5 ms)

    return logging.getLogger("takopi_nb.secrets")


def usable_keyring_backend() -> Any:
    """The OS keyring backend ``keyring`` chose, or None when it has no usable one."""
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def mask_secret(secret: str | None) -> str:
    """A display form that shows at most the last 4 characters, and only of a long secret."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "•" * 4
    return "•" * 4 + secret[-4:]


class SecretStore:
    """Reads and writes secrets for provider ids.

    ``backend="auto"`` uses the OS keyring when a usable backend exists and a
    file otherwise; ``"keyring"`` and ``"file"`` force one. Reads look in both
    places (keyring first), so a key saved while the keyring was unavailable
    is still found once it is back.
    """

    def __init__(self, backend: SecretBackend = "auto", file_path: Path | None = None) -> None:
        self._backend_choice: SecretBackend = backend
        self._file_path = file_path
        self._keyring_usable: bool | None = None
        self._keyring_failure: str | None = None
        self._lock = threading.RLock()
        self._recent: dict[str, tuple[str, StoredIn, float]] = {}
        self._writes = 0  # set/delete/forget so far: a read older than one is not kept
        self.file_on_purpose: str | None = None
        """Why keys are kept in the file on purpose (``demo.sandbox()`` says so): the notice
        then gives this reason instead of advice to install a keyring, which would change
        nothing."""

    def __repr__(self) -> str:
        return f"SecretStore(kind={self.kind!r}, file={str(self.file_path)!r})"

    # -- where things go ---------------------------------------------------------------

    @property
    def file_path(self) -> Path:
        if self._file_path is None:
            from ._paths import data_dir

            self._file_path = data_dir() / "secrets.json"
        return self._file_path

    @property
    def kind(self) -> StoredIn:
        """Where a newly saved secret goes."""
        if self._backend_choice == "file":
            return "file"
        if self._backend_choice == "keyring":
            return "keyring"
        return "keyring" if self._keyring_available() else "file"

    @property
    def notice(self) -> str | None:
        """A sentence for the UI when secrets are not in an OS keyring, else None."""
        if self.kind == "keyring":
            return None
        if self.file_on_purpose:
            where = f"Keys are stored in {self.file_path} (readable only by you)"
            return f"{where}: {self.file_on_purpose}."
        if self._backend_choice == "file":
            why = "TakopiConfig.secret_backend is 'file'"
        else:
            why = self._keyring_failure or "no OS keyring backend is available on this machine"
        return (
            f"Keys are stored in {self.file_path} (readable only by you) because {why}. "
            "Install and unlock an OS keyring (e.g. GNOME Keyring / KWallet / macOS Keychain) "
            "to keep them there instead."
        )

    def _keyring_available(self) -> bool:
        if self._backend_choice == "file":
            return False
        if self._keyring_usable is None:
            try:
                usable = usable_keyring_backend() is not None
                self._keyring_usable = usable
                if not usable:
                    self._keyring_failure = "no OS keyring backend is available on this machine"
            except Exception as exc:  # a broken keyring install must not break the product
                self._keyring_usable = False
                self._keyring_failure = f"the keyring could not be loaded ({type(exc).__name__})"
        return self._keyring_usable

    def _keyring_failed(self, exc: Exception) -> None:
        """A keyring call failed (locked, no D-Bus, ...): use the file from now on."""
        if self._backend_choice == "keyring":
            from ._errors import ConfigError

            raise ConfigError(
                f"The OS keyring failed ({type(exc).__name__}). Unlock it, or set "
                "TakopiConfig.secret_backend = 'file' to keep keys in a private file."
            ) from None
        self._keyring_usable = False
        self._keyring_failure = f"the OS keyring failed ({type(exc).__name__})"
        _log().warning("OS keyring unavailable (%s); using %s", type(exc).__name__, self.file_path)

    # -- the file fallback --------------------------------------------------------------

    def _read_file(self, *, for_update: bool = False) -> dict[str, str]:
        """The secrets in the file. An unreadable or damaged file reads as empty (with a log
        line), except ``for_update``: then it raises, because writing would lose its keys."""
        problem = ""
        try:
            raw = read_regular_file(self.file_path)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or type(exc).__name__})"
        else:
            try:
                doc = json.loads(raw)
                secrets = doc.get("secrets", {}) if isinstance(doc, dict) else {}
                return {
                    k: v for k, v in secrets.items() if isinstance(k, str) and isinstance(v, str)
                }
            except (ValueError, AttributeError, RecursionError):
                problem = "is not a valid secrets file"
        _log().warning("Secrets file %s %s; it is left as it is", self.file_path, problem)
        if for_update:
            from ._errors import ConfigError

            raise ConfigError(
                f"The secrets file {self.file_path} {problem}, so no key was saved or deleted "
                "(writing would lose the keys in it). Fix its permissions or move it away."
            )
        return {}

    def _update_file(self, provider_id: str, value: str | None) -> None:
        with file_lock(self.file_path.with_name(self.file_path.name + ".lock")):
            secrets = self._read_file(for_update=True)
            if value is None:
                if provider_id not in secrets:
                    return
                del secrets[provider_id]
            else:
                secrets[provider_id] = value
            data = json.dumps({"version": 1, "secrets": secrets}, indent=1).encode()
            try:
                atomic_write_bytes(self.file_path, data, mode=0o600, locked=True)
            except OSError as exc:
                from ._errors import ConfigError

                raise ConfigError(
                    f"Could not write the secrets file {self.file_path} "
                    f"({exc.strerror or type(exc).__name__}); the key was not changed. Check "
                    "that the folder is writable and the disk (or your file-size limit) is "
                    "not full."
                ) from None

    # -- public operations --------------------------------------------------------------

    def get(self, provider_id: str) -> tuple[str, StoredIn] | None:
        """The stored secret for ``provider_id`` and where it was found, or None."""
        with self._lock:
            if self._keyring_available():
                try:
                    import keyring

                    value = keyring.get_password(KEYRING_SERVICE, provider_id)
                except Exception as exc:
                    self._keyring_failed(exc)
                else:
                    if value:
                        return value, "keyring"
            value = self._read_file().get(provider_id)
            return (value, "file") if value else None

    def get_recent(
        self, provider_id: str, max_age: float | None = None
    ) -> tuple[str, StoredIn] | None:
        """:meth:`get`, answered from memory when this store found the same secret less than
        ``max_age`` seconds ago and nothing was saved, deleted or forgotten since.

        For the request path, which needs the key for every call: one read of the OS
        keyring (the Secret Service over D-Bus) takes ~20 ms, longer than a call to a
        nearby server, and holds the store's lock. Only hits are kept, so a key added
        anywhere is used at once; a key changed in another process is read again after
        the provider rejects the old one (:meth:`forget`, see ``ApiKeyCredentials``).
        """
        max_age = RECENT_SECONDS if max_age is None else max_age
        with self._lock:
            hit = self._recent.get(provider_id)
            now = time.monotonic()
            if hit is not None and now - hit[2] < max_age:
                return hit[0], hit[1]
            writes = self._writes
        found = self.get(provider_id)
        with self._lock:
            if found is not None and writes == self._writes:
                self._recent[provider_id] = (found[0], found[1], now)
        return found

    def forget(self, provider_id: str) -> None:
        """Drop what :meth:`get_recent` kept for ``provider_id``: the next read asks again."""
        with self._lock:
            self._writes += 1
            self._recent.pop(provider_id, None)

    def set(self, provider_id: str, secret: str) -> StoredIn:
        """Store ``secret`` for ``provider_id``; returns where it went."""
        if not isinstance(secret, str) or not secret:
            from ._errors import ConfigError

            raise ConfigError(f"An empty secret cannot be saved for provider {provider_id!r}.")
        with self._lock:
            self.forget(provider_id)
            if self._keyring_available():
                try:
                    import keyring

                    keyring.set_password(KEYRING_SERVICE, provider_id, secret)
                except Exception as exc:
                    self._keyring_failed(exc)
                else:
                    # A stale copy in the file would shadow nothing but is still a secret at rest.
                    # Best effort: the key is saved, and an unreadable file was already logged.
                    from ._errors import ConfigError

                    with contextlib.suppress(ConfigError):
                        self._update_file(provider_id, None)
                    return "keyring"
            self._update_file(provider_id, secret)
            return "file"

    def delete(self, provider_id: str) -> None:
        """Remove the secret of ``provider_id`` from every place it may be."""
        with self._lock:
            self.forget(provider_id)
            if self._keyring_available():
                try:
                    import keyring
                    from keyring.errors import PasswordDeleteError

                    with contextlib.suppress(PasswordDeleteError):
                        keyring.delete_password(KEYRING_SERVICE, provider_id)
                except Exception as exc:
                    self._keyring_failed(exc)
            self._update_file(provider_id, None)

    def move(self, old_id: str, new_id: str) -> None:
        """Move a secret to a new provider id (rename)."""
        with self._lock:
            found = self.get(old_id)
            if found is None:
                return
            self.set(new_id, found[0])
            self.delete(old_id)


def env_secret(names: tuple[str, ...]) -> tuple[str, str] | None:
    """The first non-empty environment variable among ``names``: (value, name)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value, name
    return None
