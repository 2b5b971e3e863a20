"""Entries as JSON Lines: the lossless format, one entry per line, amounts as strings."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import BinaryIO, ClassVar

from postingrules.formats.base import Format
from postingrules.model.entries import Entry, encode_entries

BATCH = 256
"""Entries encoded per call: one write per batch instead of one per entry."""


class JsonLines(Format):
    """One JSON object per entry; reading it back with ``decode_entry`` is exact."""

    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "entries as JSON Lines (lossless, amounts as strings)"
    extension: ClassVar[str] = ".jsonl"

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        count = 0
        stream = iter(entries)
        while batch := tuple(itertools.islice(stream, BATCH)):
            out.write(encode_entries(batch))
            count += len(batch)
        return count
