"""How old the catalog is, and how to say so. Pure: every function takes ``now``.

Times are POSIX seconds (wall clock), because the cache is shared between
processes and survives restarts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

__all__ = ["TTL_SECONDS", "Source", "age_words", "describe", "is_fresh", "source_of", "to_datetime"]

TTL_SECONDS = 2 * 60 * 60
CLOCK_SKEW = 5 * 60
"""A cache stamped further than this in the future was written under a wrong clock: stale."""

Source = Literal["network", "cache", "stale-cache", "bundled"]
Origin = Literal["network", "bundled"]


def is_fresh(fetched_at: float | None, now: float, ttl: float = TTL_SECONDS) -> bool:
    if fetched_at is None:
        return False
    return -CLOCK_SKEW <= now - fetched_at < ttl


def source_of(origin: Origin, from_network: bool, fresh: bool) -> Source:
    """``from_network``: this process downloaded the data (rather than reading the cache)."""
    if origin == "bundled":
        return "bundled"
    if not fresh:
        return "stale-cache"
    return "network" if from_network else "cache"


def age_words(seconds: float) -> str:
    """``"just now"``, ``"12 min ago"``, ``"5 hours ago"``, ``"3 days ago"``."""
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def to_datetime(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)


def describe(
    *,
    source: Source,
    fetched_at: float | None,
    now: float,
    label: str = "models.dev",
    offline: bool = False,
    failed: bool = False,
    refreshing: bool = False,
) -> str:
    """One line saying where the catalog comes from and how old it is.

    ``"models.dev, 12 min ago"``, ``"offline: cached 3 days ago"``,
    ``"offline: bundled snapshot of 2026-07-01"``. ``label`` names the source
    host (a mirror when ``TAKOPI_NB_CATALOG_URL`` is set); ``failed`` means
    the last fetch did not work; ``refreshing`` that one is under way.
    """
    age = age_words(max(0.0, now - fetched_at)) if fetched_at is not None else "at an unknown time"
    if source in ("network", "cache") and not offline:
        return f"{label}, {age}"
    if source == "bundled":
        day = to_datetime(fetched_at)
        what = f"bundled snapshot of {day:%Y-%m-%d}" if day else "bundled snapshot"
    else:
        what = f"cached {age}"
    if refreshing and not offline:
        return f"{what}, refreshing from {label}…"
    if offline or failed:
        return f"offline: {what}"
    return f"{what} (out of date)" if source == "stale-cache" else what
