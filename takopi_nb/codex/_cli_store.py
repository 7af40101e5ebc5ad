"""Where the Codex CLI keeps its sign-in: ``auth.json`` or the OS keyring, as its config says.

Facts from the CLI's source (``codex-rs/login/src/auth/storage.rs``, ``keyring-store``):

- ``cli_auth_credentials_store`` at the top of ``$CODEX_HOME/config.toml`` is one
  of ``"file"`` (the default: ``$CODEX_HOME/auth.json``), ``"keyring"`` (the OS
  keyring only), ``"auto"`` (the keyring; the file when the keyring has no entry
  or cannot be read, and for writes when the keyring refuses them) and
  ``"ephemeral"`` (memory of one CLI process: nothing to share).
- The keyring entry has service ``"Codex Auth"`` and account ``"cli|"`` + the
  first 16 hex digits of the SHA-256 of the canonical ``CODEX_HOME`` path (the
  path as given when it cannot be canonicalised). Its value is the auth.json
  document as compact JSON. A CLI that saves to the keyring deletes auth.json:
  there is never a second copy.
- ``[features] secret_auth_storage`` (on by default on Windows) makes the CLI keep
  the keyring sign-in encrypted in a store of its own, which is not readable
  here; and keyring-rs names Windows credentials differently from Python's
  ``keyring``. Both are refused with a message saying how to switch to the file.

A *link* (kept with the provider's tokens) says where to look again: a plain
absolute path is a file given by the user; ``codex-home:<dir>`` follows the
CLI's config of that ``CODEX_HOME`` at every read, as the CLI does.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._errors import AuthError

__all__ = [
    "KEYRING_SERVICE",
    "CliPlace",
    "CliSignInGone",
    "default_codex_home",
    "find_document",
    "home_link",
    "keyring_account",
    "place_to_write",
]

KEYRING_SERVICE = "Codex Auth"
_HOME_PREFIX = "codex-home:"
_MODES = ("file", "keyring", "auto", "ephemeral")
_FALLBACK = (
    "Sign in with the CLI first (codex login), give the path of an auth.json, or use Sign in "
    "with ChatGPT instead."
)

StoreMode = Literal["file", "keyring", "auto", "ephemeral"]


class CliSignInGone(AuthError):
    """There is no Codex CLI sign-in where the CLI keeps it (never signed in, or logged out)."""


def default_codex_home() -> Path:
    """``$CODEX_HOME``, else ``~/.codex`` (as the CLI finds it)."""
    home = os.environ.get("CODEX_HOME")
    return Path(home).expanduser() if home else Path.home() / ".codex"


def home_link(codex_home: Path) -> str:
    return _HOME_PREFIX + str(codex_home.absolute())


def keyring_account(codex_home: Path) -> str:
    """The CLI's keyring account for ``codex_home``: ``cli|`` + 16 hex of SHA-256(canonical path)."""
    try:
        canonical = str(codex_home.resolve(strict=True))
    except OSError:
        canonical = str(codex_home)
    # Rust hashes the lossy UTF-8 form of the path.
    text = os.fsencode(canonical).decode("utf-8", "replace")
    return "cli|" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class CliPlace:
    """One place a Codex CLI sign-in can be: an auth.json file, or the keyring entry of a home."""

    kind: Literal["file", "keyring"]
    path: Path
    """The auth.json file, or the CODEX_HOME whose keyring entry it is."""

    @property
    def account(self) -> str:
        return keyring_account(self.path)

    def describe(self) -> str:
        if self.kind == "file":
            return str(self.path)
        return (
            f'the OS keyring (service "{KEYRING_SERVICE}", account "{self.account}", for '
            f"CODEX_HOME {self.path})"
        )

    def read(self) -> dict[str, Any] | None:
        """The document here, or None when there is none; AuthError when it cannot be read."""
        if self.kind == "file":
            try:
                text = self.path.read_text(encoding="utf-8")
            except (FileNotFoundError, NotADirectoryError):
                return None
            except OSError as exc:
                raise self.problem(
                    f"it cannot be read ({exc.strerror or type(exc).__name__})", _FALLBACK
                ) from None
        else:
            found = _keyring_get(self.account)
            if found is None:
                return None
            text = found
        try:
            doc = json.loads(text)
        except ValueError:
            raise self.problem("it is not JSON", _rewrite_hint(self)) from None
        if not isinstance(doc, dict):
            raise self.problem("it is not a JSON object", _rewrite_hint(self))
        return doc

    def write(self, doc: dict[str, Any]) -> None:
        """Put ``doc`` here in the CLI's own format; OSError when that fails."""
        if self.kind == "file":
            from .._fileio import atomic_write_bytes

            atomic_write_bytes(self.path, json.dumps(doc, indent=2).encode(), mode=0o600)
            return
        _keyring_set(self.account, json.dumps(doc, separators=(",", ":")))

    def problem(self, what: str, fix: str) -> AuthError:
        return AuthError(f"No usable Codex CLI sign-in in {self.describe()}: {what}. {fix}")


def _rewrite_hint(place: CliPlace) -> str:
    if place.kind == "keyring":
        return f"Run codex login again to rewrite it. {_FALLBACK}"
    return _FALLBACK


# -- the CLI's config ------------------------------------------------------------------


def _read_config(codex_home: Path) -> dict[str, Any]:
    import tomllib

    path = codex_home / "config.toml"
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise AuthError(
            f"The Codex CLI config {path} cannot be read ({exc.strerror or type(exc).__name__}), "
            "so where the CLI keeps its sign-in is unknown. Fix its permissions, or give the "
            "path of the CLI's auth.json."
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError as exc:
        raise AuthError(
            f"The Codex CLI config {path} is not valid TOML ({exc}); the CLI cannot start with "
            "it either. Fix the file, or give the path of the CLI's auth.json."
        ) from None


def _store_mode(codex_home: Path, config: dict[str, Any]) -> StoreMode:
    value = config.get("cli_auth_credentials_store", "file")
    if value not in _MODES:
        raise AuthError(
            f"cli_auth_credentials_store = {value!r} in {codex_home / 'config.toml'} is not a "
            f"value the Codex CLI knows ({', '.join(_MODES)}). Fix config.toml."
        )
    mode: StoreMode = value
    return mode


def _unreadable_store(codex_home: Path, mode: StoreMode, why: str) -> AuthError:
    return AuthError(
        f'The Codex CLI keeps its sign-in {why} (cli_auth_credentials_store = "{mode}" in '
        f"{codex_home / 'config.toml'}), which takopi_nb cannot share. Set "
        'cli_auth_credentials_store = "file" there and run codex login again, or sign in with '
        "ChatGPT instead."
    )


def _candidates(codex_home: Path) -> tuple[StoreMode, list[CliPlace]]:
    """Where the CLI of ``codex_home`` reads its sign-in, in the order it reads them."""
    config = _read_config(codex_home)
    mode = _store_mode(codex_home, config)
    file = CliPlace("file", codex_home / "auth.json")
    if mode == "file":
        return mode, [file]
    if mode == "ephemeral":
        raise _unreadable_store(codex_home, mode, "in the memory of each CLI process only")
    features = config.get("features")
    secret = features.get("secret_auth_storage") if isinstance(features, dict) else None
    if secret is True or (secret is None and sys.platform == "win32"):
        raise _unreadable_store(
            codex_home, mode, "encrypted in its own store ([features] secret_auth_storage)"
        )
    if sys.platform == "win32":
        raise _unreadable_store(codex_home, mode, "in the Windows Credential Manager")
    keyring = CliPlace("keyring", codex_home)
    return mode, [keyring] if mode == "keyring" else [keyring, file]


def _home_of(link: str) -> Path | None:
    return Path(link[len(_HOME_PREFIX) :]) if link.startswith(_HOME_PREFIX) else None


def find_document(link: str) -> tuple[CliPlace, dict[str, Any]]:
    """The CLI's auth document at ``link`` and where it was found.

    CliSignInGone when there is none; AuthError (saying how to fix it) when it
    cannot be read.
    """
    home = _home_of(link)
    if home is None:
        place = CliPlace("file", Path(link))
        doc = place.read()
        if doc is None:
            raise CliSignInGone(
                f"No usable Codex CLI sign-in in {place.describe()}: the file does not exist. "
                f"{_FALLBACK}"
            )
        return place, doc
    mode, places = _candidates(home)
    first_problem: AuthError | None = None
    for place in places:
        try:
            doc = place.read()
        except AuthError as exc:
            if mode != "auto":
                raise
            # "auto" reads the file when the keyring fails, as the CLI does.
            first_problem = first_problem or exc
            continue
        if doc is not None:
            return place, doc
    if first_problem is not None:
        raise first_problem
    where = " nor in ".join(p.describe() for p in places)
    raise CliSignInGone(
        f'No Codex CLI sign-in in {where} (cli_auth_credentials_store = "{mode}" in '
        f"{home / 'config.toml'}). Sign in with the CLI first (codex login, with the same "
        "CODEX_HOME), or use Sign in with ChatGPT instead."
    )


def place_to_write(link: str) -> CliPlace:
    """Where rotated tokens go: where the CLI reads them first. OSError when unknown."""
    home = _home_of(link)
    if home is None:
        return CliPlace("file", Path(link))
    try:
        return find_document(link)[0]
    except CliSignInGone:
        _, places = _candidates(home)
        return places[0]
    except AuthError as exc:
        raise OSError(errno.EIO, str(exc)) from None


# -- the OS keyring ----------------------------------------------------------------------


def _backend() -> Any:
    from .._secrets import usable_keyring_backend

    try:
        return usable_keyring_backend()
    except Exception:  # a broken keyring install reads as no keyring
        return None


def _keyring_get(account: str) -> str | None:
    place = f'the OS keyring (service "{KEYRING_SERVICE}", account "{account}")'
    backend = _backend()
    if backend is None:
        raise AuthError(
            f"The Codex CLI keeps its sign-in in {place}, but no OS keyring is usable here. Run "
            "where the keyring is available (and unlocked), or set cli_auth_credentials_store = "
            '"file" in the CLI\'s config.toml and run codex login again.'
        )
    try:
        value = backend.get_password(KEYRING_SERVICE, account)
    except Exception as exc:  # locked, no D-Bus, ...: every backend fails its own way
        raise AuthError(
            f"The Codex CLI keeps its sign-in in {place}, and the keyring failed "
            f'({type(exc).__name__}). Unlock it, or set cli_auth_credentials_store = "file" in '
            "the CLI's config.toml and run codex login again."
        ) from None
    return value if isinstance(value, str) and value else None


def _keyring_set(account: str, value: str) -> None:
    backend = _backend()
    if backend is None:
        raise OSError(errno.EIO, "no OS keyring is usable here")
    try:
        if not _set_in_secret_service(backend, account, value):
            backend.set_password(KEYRING_SERVICE, account, value)
    except Exception as exc:  # every backend fails its own way; the caller wants an OSError
        raise OSError(
            errno.EIO, f"the OS keyring refused the write ({type(exc).__name__})"
        ) from None


def _set_in_secret_service(backend: Any, account: str, value: str) -> bool:
    """With the Secret Service, update the CLI's own item in place; False for other backends.

    Python's keyring would add an item of its own beside the CLI's (its
    attributes differ), which the CLI never reads.
    """
    try:
        from keyring.backends import SecretService, chainer
    except Exception:  # a keyring without this backend: nothing special to do
        return False
    backends = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
    service = next((b for b in backends if isinstance(b, SecretService.Keyring)), None)
    if service is None:
        return False
    collection = service.get_preferred_collection()  # type: ignore[no-untyped-call]
    wanted = {"service": KEYRING_SERVICE, "username": account}
    items = list(collection.search_items(wanted))
    for item in items:
        if item.is_locked():
            item.unlock()
        item.set_secret(value.encode())
    if not items:
        # Named as keyring-rs names its items, so that the CLI finds it.
        attributes = {**wanted, "target": "default", "application": "takopi_nb"}
        label = f"Codex Auth for {account} (written by takopi_nb)"
        collection.create_item(label, attributes, value.encode(), replace=True)
    return True
