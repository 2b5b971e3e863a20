"""The JSON Lines writer: one reused buffer, written whenever it holds ``CHUNK`` bytes.

What a reader gets must not depend on where the writes fell: the file is every entry's own
encoding, in order, however many buffers it took.  Each write is a whole number of lines, so
a file cut short by a crash still ends on a line boundary.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from postingrules.formats import jsonl
from postingrules.formats.jsonl import JsonLines
from postingrules.model.entries import Entry, EntryLine, decode_entry, encode_entry


def entry(number: int) -> Entry:
    amount = Decimal(number) / 100
    label = f"Cde {number} " + "x" * (number % 97)  # entries of many sizes
    return Entry(
        journal="VTE",
        date=dt.date(2026, 1, 1 + number % 28),
        piece=f"FA{number:06}",
        reference="",
        label=label,
        document_key=f"k{number}",
        document_kind="sale",
        currency="EUR",
        lines=(
            EntryLine("41100000", amount, Decimal("0.00"), label),
            EntryLine("70720000", Decimal("0.00"), amount, label),
        ),
    )


class Recording(io.RawIOBase):
    """A stream that records each write as it was given (the buffer is reused after it)."""

    def __init__(self) -> None:
        self.snapshots: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.snapshots.append(bytes(data))
        return len(data)


@pytest.mark.parametrize("chunk", [1, 200, 1000, 1 << 16])
def test_file_is_each_entry_encoded_in_order_whatever_the_chunk(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "CHUNK", chunk)
    entries = [entry(n) for n in range(1, 500)]
    out = io.BytesIO()
    assert JsonLines().write(iter(entries), out) == len(entries)
    data = out.getvalue()
    assert data == b"".join(encode_entry(e) for e in entries)
    assert [decode_entry(line) for line in data.splitlines()] == entries


def test_writes_are_whole_lines_and_chunk_sized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "CHUNK", 1000)
    sink = Recording()
    JsonLines().write((entry(n) for n in range(1, 300)), sink)  # type: ignore[arg-type]
    assert len(sink.snapshots) > 10
    for written in sink.snapshots[:-1]:  # the last write is what was left
        assert written.endswith(b"\n") and 1000 <= len(written) < 1000 + 2000
    assert b"".join(sink.snapshots) == b"".join(encode_entry(entry(n)) for n in range(1, 300))


def test_no_entries_writes_nothing() -> None:
    sink = Recording()
    assert JsonLines().write(iter(()), sink) == 0  # type: ignore[arg-type]
    assert sink.snapshots == []
