"""Reading normalised documents from JSON, JSON arrays and JSON Lines, as a stream.

JSON Lines (``.jsonl``/``.ndjson``, or standard input) is read one line at a time, so a
million-document file never sits in memory.  A ``.json`` file holds one document or an array
of documents and is read whole.  Numbers are parsed by jiter straight into ``Decimal``: no
amount ever passes through ``float``.

Valid documents come out as the msgspec mirrors of :mod:`postingrules.model.structs`
(decoding and validating one costs about a third of what pydantic takes); a line the mirror
refuses goes through pydantic, which accepts it (lax input) or lists every error.  A document
that cannot be read or validated is yielded as a :class:`BadDocument` value with its location
and the reasons, so the caller reports it and the rest of the batch goes on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiter
import msgspec
from pydantic import ValidationError

from postingrules.model.documents import DOCUMENT_ADAPTER, Document
from postingrules.model.structs import struct_from_json, struct_from_python

JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}
READ_BUFFER = 1 << 20
"""Bytes read from a JSON Lines file at a time: with the default (the file system's block,
4 KiB here) a million documents cost ~270,000 ``read`` calls, ~4 % of a run's time."""


@dataclass(frozen=True, slots=True)
class BadDocument:
    """A document set aside before any rule ran: unreadable JSON or an invalid field."""

    location: str
    key: str | None
    reason: str

    def __str__(self) -> str:
        who = self.key or "(no key)"
        return f"{self.location}: {who}: {self.reason}"


def parse_json(data: bytes | str) -> Any:
    """Parse JSON with every non-integer number as ``Decimal``."""
    return jiter.from_json(data.encode() if isinstance(data, str) else data, float_mode="decimal")


def validate(raw: Any, location: str) -> Document | BadDocument:
    """Turn one parsed JSON value into a document, or explain why not."""
    if not isinstance(raw, dict):
        return BadDocument(location, None, f"expected a JSON object, got {type(raw).__name__}")
    try:
        return struct_from_python(raw)
    except msgspec.ValidationError:
        return _validate_with_pydantic(raw, location)  # it decides, and explains


def _validate_with_pydantic(raw: dict[str, Any], location: str) -> Document | BadDocument:
    try:
        return DOCUMENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        key = raw.get("key") if isinstance(raw.get("key"), str) else None
        return BadDocument(location, key, _summarise(exc))


def _summarise(exc: ValidationError) -> str:
    """One line per field error, with the field's dotted path (``lines.0.tax_rate``)."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if p not in ("sale", "refund", "payment"))
        parts.append(f"{loc or 'document'}: {err['msg']}")
    return "; ".join(parts)


def read_documents(path: str | Path) -> Iterator[Document | BadDocument]:
    """Yield every document of one file (``-`` is standard input, read as JSON Lines)."""
    if str(path) == "-":
        yield from _read_lines(sys.stdin.buffer, "<stdin>")
        return
    path = Path(path)
    if path.suffix.lower() in JSON_LINES_SUFFIXES:
        with path.open("rb", buffering=READ_BUFFER) as stream:
            yield from _read_lines(stream, str(path))
        return
    data = path.read_bytes()
    try:
        parsed = parse_json(data)
    except ValueError as exc:
        yield BadDocument(str(path), None, f"invalid JSON: {exc}")
        return
    if isinstance(parsed, list):
        for index, raw in enumerate(parsed):
            yield validate(raw, f"{path}[{index}]")
    else:
        yield validate(parsed, str(path))


def _read_lines(stream: Iterable[bytes], name: str) -> Iterator[Document | BadDocument]:
    for number, line in enumerate(stream, start=1):
        try:
            document = struct_from_json(line)
        except msgspec.MsgspecError:  # bad JSON, refused by the strict mirror, or blank
            if not line.strip():
                continue
            document = _read_carefully(line, f"{name}:{number}")
        yield document


def _read_carefully(line: bytes, location: str) -> Document | BadDocument:
    """The slow path for a line the mirror refused: pydantic accepts it or says why."""
    try:
        raw = parse_json(line)
    except ValueError as exc:
        return BadDocument(location, None, f"invalid JSON: {exc}")
    if not isinstance(raw, dict):
        return validate(raw, location)  # says what the line holds instead of an object
    return _validate_with_pydantic(raw, location)


def read_all(paths: Iterable[str | Path]) -> Iterator[Document | BadDocument]:
    """Chain :func:`read_documents` over several files or directories (``*.json*`` inside)."""
    for path in paths:
        p = Path(path)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and child.suffix.lower() in {".json", *JSON_LINES_SUFFIXES}:
                    yield from read_documents(child)
        else:
            yield from read_documents(p)
