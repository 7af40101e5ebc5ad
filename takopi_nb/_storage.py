"""The config files on disk: cheap change detection, locked atomic writes, corrupt-file care.

A :class:`ConfigStore` caches the merged snapshot and re-reads only when a
file's (inode, mtime, size) changes, so a change made by another kernel shows
up at the next look without re-reading on every call.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._document import ConfigSnapshot, empty_document, merge_layers
from ._errors import ConfigError, ConfigWarning
from ._fileio import StatSignature, atomic_write_bytes, file_lock, stat_signature

__all__ = ["ConfigStore", "Mutation"]

log = logging.getLogger("takopi_nb.config")

Mutation = Callable[[dict[str, Any], ConfigSnapshot], dict[str, Any] | None]
"""Gets the fresh user document and the snapshot it gives; returns the new document or None."""


class ConfigStore:
    """The user config file plus the read-only admin layers."""

    def __init__(self, path: Path | None = None, admin_paths: Sequence[Path] | None = None) -> None:
        self._path = path
        self._admin_paths = list(admin_paths) if admin_paths is not None else None
        self._lock = threading.RLock()
        self._signature: tuple[StatSignature, ...] | None = None
        self._admin_signature: tuple[StatSignature, ...] | None = None
        self._snapshot = ConfigSnapshot()
        self._user_doc: dict[str, Any] = empty_document()
        self._admin_docs: list[tuple[str, Mapping[str, Any]]] = []
        self._admin_problems: list[str] = []
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"ConfigStore({str(self.path)!r})"

    @property
    def path(self) -> Path:
        if self._path is None:
            from ._paths import user_config_file

            self._path = user_config_file()
        return self._path

    @property
    def admin_paths(self) -> list[Path]:
        if self._admin_paths is None:
            from ._paths import admin_config_files

            self._admin_paths = admin_config_files()
        return self._admin_paths

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _signatures(self) -> tuple[StatSignature, ...]:
        return (stat_signature(self.path), *(stat_signature(p) for p in self.admin_paths))

    # -- reading ------------------------------------------------------------------------

    def snapshot(self) -> ConfigSnapshot:
        """The current merged config; re-read only when a file changed on disk."""
        signature = self._signatures()
        if signature == self._signature:
            return self._snapshot
        with self._lock:
            signature = self._signatures()
            if signature != self._signature:
                self._reload(signature)
            return self._snapshot

    def _reload(self, signature: tuple[StatSignature, ...]) -> None:
        if signature[1:] != self._admin_signature:
            self._admin_docs, self._admin_problems = self._read_admin()
            self._admin_signature = signature[1:]
        user_doc, problems = self._read_user()
        self._user_doc = user_doc
        self._signature = signature if not problems else self._signatures()
        self._snapshot = merge_layers(
            self._admin_docs,
            user_doc,
            str(self.path),
            base_problems=[*self._admin_problems, *problems],
        )
        self._report(self._snapshot.problems)

    def _read_admin(self) -> tuple[list[tuple[str, Mapping[str, Any]]], list[str]]:
        docs: list[tuple[str, Mapping[str, Any]]] = []
        problems: list[str] = []
        for path in self.admin_paths:
            try:
                raw = path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                problems.append(f"{path}: cannot be read ({exc.strerror}); ask your administrator")
                continue
            try:
                doc = json.loads(raw)
                if not isinstance(doc, dict):
                    raise ValueError("the top level is not an object")
            except ValueError as exc:
                problems.append(
                    f"{path} is not valid JSON ({exc}); its managed providers are not loaded. "
                    "Ask your administrator to fix it."
                )
                continue
            docs.append((str(path), doc))
        return docs, problems

    def _read_user(self) -> tuple[dict[str, Any], list[str]]:
        doc, error = self._parse_user_file()
        if error is None:
            return doc, []
        # Corrupt: keep it aside under the lock so that no writer replaces it meanwhile.
        with file_lock(self.lock_path):
            doc, error = self._parse_user_file()
            if error is None:
                return doc, []
            aside = self.path.with_name(
                f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            )
            os.replace(self.path, aside)
        return empty_document(), [
            f"{self.path} could not be read ({error}). It was moved to {aside} and an empty "
            "configuration is used; fix that copy and move it back, or add your providers again."
        ]

    def _parse_user_file(self) -> tuple[dict[str, Any], str | None]:
        try:
            raw = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return empty_document(), None
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            return {}, f"not valid JSON: {exc}"
        if not isinstance(doc, dict):
            return {}, f"the top level is a {type(doc).__name__}, not an object"
        return doc, None

    def _report(self, problems: Sequence[str]) -> None:
        for problem in problems:
            if problem not in self._warned:
                self._warned.add(problem)
                log.warning("%s", problem)
                warnings.warn(problem, ConfigWarning, stacklevel=4)

    # -- writing ------------------------------------------------------------------------

    def transact(self, mutate: Mutation) -> ConfigSnapshot:
        """Apply ``mutate`` to the latest user document under the cross-process lock.

        The document is re-read inside the lock, so concurrent kernels never lose
        each other's changes. ``mutate`` may raise (e.g. ConfigError for a
        duplicate id); then nothing is written.
        """
        with self._lock, file_lock(self.lock_path):
            self._reload(self._signatures())
            snapshot = self._snapshot
            if snapshot.read_only_reason:
                raise ConfigError(f"Not saved: {snapshot.read_only_reason}.")
            new_doc = mutate(self._user_doc, snapshot)
            if new_doc is None or new_doc == self._user_doc:
                return snapshot
            data = (json.dumps(new_doc, indent=2, ensure_ascii=False) + "\n").encode()
            try:
                atomic_write_bytes(self.path, data)
            except OSError as exc:
                raise ConfigError(
                    f"Could not save {self.path}: {exc.strerror or exc}. Check that the folder "
                    "is writable and the disk is not full; nothing was changed."
                ) from None
            self._reload(self._signatures())
            return self._snapshot
