"""The config files on disk: cheap change detection, locked atomic writes, corrupt-file care.

A :class:`ConfigStore` caches the merged snapshot and re-reads only when a
file's (inode, mtime, size) changes, so a change made by another kernel shows
up at the next look without re-reading on every call.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._document import ConfigSnapshot, empty_document, merge_layers
from ._errors import ConfigError, ConfigWarning
from ._fileio import (
    StatSignature,
    atomic_write_bytes,
    file_lock,
    read_regular_file,
    stat_signature,
)

if TYPE_CHECKING:
    import logging

__all__ = ["ConfigStore", "Mutation"]


def _log() -> logging.Logger:
    import logging  # only on a warning: a first resolve() need not import it (~5 ms)

    return logging.getLogger("takopi_nb.config")


Mutation = Callable[[dict[str, Any], ConfigSnapshot], dict[str, Any] | None]
"""Gets the fresh user document and the snapshot it gives; returns the new document or None."""


class ConfigStore:
    """The user config file plus the read-only admin layers."""

    def __init__(self, path: Path | None = None, admin_paths: Sequence[Path] | None = None) -> None:
        self._path = path
        self._admin_paths = list(admin_paths) if admin_paths is not None else None
        self._watched: tuple[str, ...] | None = None
        self._lock = threading.RLock()
        self._signature: tuple[StatSignature, ...] | None = None
        self._admin_signature: tuple[StatSignature, ...] | None = None
        self._snapshot = ConfigSnapshot()
        self._user_doc: dict[str, Any] = empty_document()
        self._admin_docs: list[tuple[str, Mapping[str, Any]]] = []
        self._admin_problems: list[str] = []
        self._warned: set[str] = set()
        self._moved: dict[str, str] = {}
        """Copies this store kept aside → what was wrong with them."""

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
        watched = self._watched
        if watched is None:
            # As str, once: os.stat of a Path converts it on every call (~1 µs a file), and
            # every resolve() checks every file.
            watched = self._watched = (str(self.path), *map(str, self.admin_paths))
        return tuple([stat_signature(p) for p in watched])

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
        # Everything is computed first and stored last: a failure part-way must not leave a
        # signature that hides the next attempt behind a stale (or empty) snapshot.
        admin_docs, admin_problems = self._admin_docs, self._admin_problems
        if signature[1:] != self._admin_signature:
            admin_docs, admin_problems = self._read_admin()
        moves = len(self._moved)
        user_doc, problems, read_only = self._read_user()
        snapshot = merge_layers(
            admin_docs,
            user_doc,
            str(self.path),
            base_problems=[*admin_problems, *problems],
        )
        if read_only and not snapshot.read_only_reason:
            snapshot = replace(snapshot, read_only_reason=read_only)
        damaged = "" if os.path.lexists(self.path) else self._damage_notice()
        if damaged:
            snapshot = replace(snapshot, damaged=damaged, problems=(*snapshot.problems, damaged))
        self._admin_docs, self._admin_problems = admin_docs, admin_problems
        self._admin_signature = signature[1:]
        self._user_doc = user_doc
        self._snapshot = snapshot
        # After a move aside the file's signature changed under us: take the new one.
        moved = len(self._moved) != moves
        self._signature = signature if not (problems or moved) else self._signatures()
        self._report(snapshot.problems)

    def _damage_notice(self) -> str:
        """While the user file is missing and a damaged copy was kept aside: where that copy is.

        Read from the folder, not from memory, so every kernel (and a restarted one)
        says the same until the user acts: restores the copy, deletes it, or saves
        a new configuration.
        """
        try:
            kept = sorted(self.path.parent.glob(f"{self.path.name}.corrupt-*"))
        except OSError:
            return ""
        if not kept:
            return ""
        why = self._moved.get(str(kept[-1]))
        return (
            f"{self.path} was damaged{f' ({why})' if why else ''} and moved to {kept[-1]}; "
            "no providers are loaded from it. "
            "Fix that copy and move it back, or add your providers again."
        )

    def _read_admin(self) -> tuple[list[tuple[str, Mapping[str, Any]]], list[str]]:
        docs: list[tuple[str, Mapping[str, Any]]] = []
        problems: list[str] = []
        for path in self.admin_paths:
            try:
                raw = read_regular_file(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                problems.append(f"{path}: cannot be read ({_why(exc)}); ask your administrator")
                continue
            doc, error = _parse(raw)
            if error is not None:
                problems.append(
                    f"{path} is {error}; its managed providers are not loaded. "
                    "Ask your administrator to fix it."
                )
                continue
            docs.append((str(path), doc))
        return docs, problems

    def _read_user(self) -> tuple[dict[str, Any], list[str], str]:
        """(document, problems, read-only reason) of the user file."""
        try:
            doc, error = self._parse_user_file()
        except OSError as exc:
            # Unreadable, or not a file at all: report it and never write over it.
            problem = (
                f"{self.path} cannot be read ({_why(exc)}); no providers are loaded from it. "
                f"Make it a readable file (e.g. chmod u+rw {self.path}) or move it away."
            )
            return empty_document(), [problem], f"{self.path} cannot be read ({_why(exc)})"
        if error is None:
            return doc, [], ""
        # Corrupt: keep it aside under the lock so that no writer replaces it meanwhile.
        with file_lock(self.lock_path):
            doc, error = self._parse_user_file()
            if error is None:
                return doc, [], ""
            aside = self.path.with_name(
                f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            )
            try:
                os.replace(self.path, aside)
            except OSError as exc:
                problem = (
                    f"{self.path} is {error} and could not be moved aside ({_why(exc)}). "
                    "Fix or remove it by hand; nothing is saved over it meanwhile."
                )
                return empty_document(), [problem], f"{self.path} is damaged"
        self._moved[str(aside)] = error
        return empty_document(), [], ""

    def _parse_user_file(self) -> tuple[dict[str, Any], str | None]:
        try:
            raw = read_regular_file(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return empty_document(), None
        return _parse(raw)

    def _report(self, problems: Iterable[str]) -> None:
        for problem in problems:
            if problem not in self._warned:
                self._warned.add(problem)
                _log().warning("%s", problem)
                warnings.warn(problem, ConfigWarning, stacklevel=4)

    # -- writing ------------------------------------------------------------------------

    def _check_loads(self, new_doc: Mapping[str, Any]) -> None:
        """Refuse a change after which the file would not load cleanly (a new problem)."""
        where = str(self.path)
        before = set(merge_layers(self._admin_docs, self._user_doc, where).problems)
        after = merge_layers(self._admin_docs, new_doc, where).problems
        new = [p for p in after if p not in before]
        if new:
            raise ConfigError(f"Not saved, the change would not load again: {new[0]}.")

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
            self._check_loads(new_doc)
            data = (json.dumps(new_doc, indent=2, ensure_ascii=False) + "\n").encode()
            try:
                atomic_write_bytes(self.path, data, locked=True)
            except OSError as exc:
                raise ConfigError(
                    f"Could not save {self.path}: {_why(exc)}. Check that the folder "
                    "is writable and the disk is not full; nothing was changed."
                ) from None
            self._reload(self._signatures())
            return self._snapshot


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _parse(raw: bytes) -> tuple[dict[str, Any], str | None]:
    """The JSON object in ``raw``, or ({}, what is wrong with it)."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        return {}, f"not valid JSON ({detail})"
    if not isinstance(doc, dict):
        return {}, f"not a JSON object (the top level is a {type(doc).__name__})"
    return doc, None
