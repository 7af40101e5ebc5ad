"""Search everything a user could see or that reaches disk for a secret string."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def places_with_secret(
    secret: str, *, dirs: Iterable[Path] = (), texts: Iterable[object] = ()
) -> list[str]:
    """Every file under ``dirs`` and every text in ``texts`` that contains ``secret``."""
    found = []
    needle = secret.encode()
    for directory in dirs:
        for path in Path(directory).rglob("*"):
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path))
    for i, text in enumerate(texts):
        if secret in str(text) or secret in repr(text):
            found.append(f"text #{i}: {str(text)[:60]!r}")
    return found
