"""Fixtures for the format tests; the sample entries themselves live in sample_entries.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_entries import ENTRIES, REFERENCE

from postingrules.model.entries import Entry


@pytest.fixture
def entries() -> tuple[Entry, ...]:
    return ENTRIES


@pytest.fixture
def reference() -> Path:
    assert REFERENCE.is_dir(), f"reference data missing: {REFERENCE}"
    return REFERENCE
