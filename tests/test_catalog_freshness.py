"""Age, source and the one-line description; the display helpers. All pure."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from takopi_nb.catalog import format_price, format_tokens
from takopi_nb.catalog._freshness import (
    TTL_SECONDS,
    age_words,
    describe,
    is_fresh,
    source_of,
    to_datetime,
)

NOW = 1_800_000_000.0
SNAPSHOT = datetime(2026, 7, 1, 16, 40, 28, tzinfo=timezone.utc).timestamp()


def test_ttl_is_two_hours() -> None:
    assert TTL_SECONDS == 7200
    assert is_fresh(NOW - 7199, NOW) and not is_fresh(NOW - 7200, NOW)
    assert not is_fresh(None, NOW)
    assert is_fresh(NOW + 60, NOW)  # a little clock skew between processes is fine
    assert not is_fresh(NOW + 3600, NOW)  # written under a wrong clock


def test_source_of() -> None:
    assert source_of("network", True, True) == "network"
    assert source_of("network", False, True) == "cache"
    assert source_of("network", True, False) == "stale-cache"
    assert source_of("bundled", False, True) == "bundled"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "just now"), (59, "just now"), (60, "1 min ago"), (12 * 60 + 5, "12 min ago"),
     (3600, "1 hour ago"), (5 * 3600, "5 hours ago"), (47 * 3600, "47 hours ago"),
     (3 * 86400, "3 days ago")],
)  # fmt: skip
def test_age_words(seconds: float, words: str) -> None:
    assert age_words(seconds) == words


def test_describe_examples_from_the_design() -> None:
    assert describe(source="network", fetched_at=NOW - 720, now=NOW) == "models.dev, 12 min ago"
    assert describe(source="cache", fetched_at=NOW - 720, now=NOW) == "models.dev, 12 min ago"
    assert (
        describe(source="stale-cache", fetched_at=NOW - 3 * 86400, now=NOW, failed=True)
        == "offline: cached 3 days ago"
    )
    assert (
        describe(source="bundled", fetched_at=SNAPSHOT, now=NOW, offline=True)
        == "offline: bundled snapshot of 2026-07-01"
    )


def test_describe_other_states() -> None:
    stale = NOW - 3 * 3600
    assert (
        describe(source="stale-cache", fetched_at=stale, now=NOW, refreshing=True)
        == "cached 3 hours ago, refreshing from models.dev…"
    )
    assert describe(source="stale-cache", fetched_at=stale, now=NOW) == (
        "cached 3 hours ago (out of date)"
    )
    assert describe(source="cache", fetched_at=NOW - 60, now=NOW, offline=True) == (
        "offline: cached 1 min ago"
    )
    assert describe(source="bundled", fetched_at=SNAPSHOT, now=NOW) == (
        "bundled snapshot of 2026-07-01"
    )
    assert describe(
        source="bundled", fetched_at=SNAPSHOT, now=NOW, refreshing=True, label="mirror:8080"
    ) == ("bundled snapshot of 2026-07-01, refreshing from mirror:8080…")
    assert describe(source="network", fetched_at=NOW, now=NOW, label="mirror.corp") == (
        "mirror.corp, just now"
    )


def test_to_datetime() -> None:
    assert to_datetime(None) is None
    assert to_datetime(SNAPSHOT) == datetime(2026, 7, 1, 16, 40, 28, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("price", "text"),
    [(None, "—"), (0, "free"), (0.0, "free"), (1.25, "$1.25"), (15, "$15"), (15.5, "$15.50"),
     (0.075, "$0.075"), (0.1, "$0.10"), (0.09999999999999999, "$0.10"),
     (0.12500000000000003, "$0.125"), (0.08333333333333334, "$0.0833"),
     (0.0000025, "$0.0000025"), (2500, "$2,500"), (-1, "—"), (float("nan"), "—"),
     (float("inf"), "—")],
)  # fmt: skip
def test_format_price(price: float | None, text: str) -> None:
    assert format_price(price) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(None, "—"), (0, "—"), (512, "512"), (1000, "1K"), (1500, "1.5K"), (8192, "8.19K"),
     (128_000, "128K"), (131_072, "131K"), (400_000, "400K"), (999_400, "999K"),
     (999_600, "1M"), (1_048_576, "1.05M"), (2_000_000, "2M"), (10_000_000, "10M")],
)  # fmt: skip
def test_format_tokens(count: int | None, text: str) -> None:
    assert format_tokens(count) == text
