"""Entries as JSON Lines: the lossless format, one entry per line, amounts as strings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, ClassVar

import orjson

from postingrules.formats.base import Format
from postingrules.model.entries import Entry


class JsonLines(Format):
    """One JSON object per entry; reading it back with :meth:`Entry.from_dict` is exact."""

    name: ClassVar[str] = "json"
    summary: ClassVar[str] = "entries as JSON Lines (lossless, amounts as strings)"
    extension: ClassVar[str] = ".jsonl"

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        count = 0
        for entry in entries:
            out.write(orjson.dumps(entry.to_dict(), option=orjson.OPT_APPEND_NEWLINE))
            count += 1
        return count
