"""Shared fixtures for connector tests: reference data path and a no-wait retry policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from postingrules.connectors._http import RetryPolicy

SHOPS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "shops"


class SleepRecorder:
    """Replaces ``time.sleep`` in retry policies: records the delays, waits at most 1 ms."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def shops_dir() -> Path:
    if not SHOPS.is_dir():
        pytest.skip(f"reference payloads not found beside the checkout ({SHOPS.name})")
    return SHOPS


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fast_retry(sleeps: SleepRecorder) -> RetryPolicy:
    """Five attempts, real backoff arithmetic, no real waiting, deterministic jitter."""
    return RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, sleep=sleeps, rng=lambda: 0.5)
