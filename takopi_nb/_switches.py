"""How an on/off word is read: environment switches and REST flags share one reading."""

from __future__ import annotations

import os

__all__ = ["TRUE_WORDS", "is_on", "offline_by_env"]

TRUE_WORDS = ("1", "true", "yes", "on")


def is_on(text: str) -> bool:
    return text.strip().lower() in TRUE_WORDS


def offline_by_env() -> bool:
    """``TAKOPI_NB_OFFLINE`` is on: nothing but loopback and explicit Base URLs is asked."""
    return is_on(os.environ.get("TAKOPI_NB_OFFLINE", ""))
