"""Entries as JSON Lines: the lossless format, one entry per line, amounts as strings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, ClassVar

from postingrules.formats.base import Format
from postingrules.model.entries import Entry, encode_entry


class JsonLines(Format):
    """One JSON object per entry; reading it back with :func:`decode_entry` is exact."""

    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "entries as JSON Lines (lossless, amounts as strings)"
    extension: ClassVar[str] = ".jsonl"

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        count = 0
        write = out.write
        for entry in entries:
            write(encode_entry(entry))
            count += 1
        return count
