"""Writing entries to files: one file, or the product sheet's separate files per kind.

Entries arrive as a stream.  For ``--split`` they are first spilled, per part, to JSON Lines
in a temporary folder inside the output folder (lossless, memory flat), then every output file
is written from its spill through :func:`~postingrules.files.atomic_output`, all of them kept
as temporary files until the last is complete: an export appears whole or not at all, the set
of files included (a format refusing an entry of the third part leaves none of the first two
behind for a scheduled import to pick up), and no existing file is replaced unless asked.
Every target name is checked before the first byte is written, so a name clash stops the
export up front.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from postingrules.files import FileNameTemplate, OutputExistsError, atomic_output
from postingrules.formats import base as formats
from postingrules.formats.text import TextExport
from postingrules.model.entries import Entry, decode_entry, encode_entry

PART_OF_KIND = {"sale": "sales", "refund": "refunds", "payment": "payments"}
PARTS = ("sales", "refunds", "payments", "customers")


@dataclass(frozen=True)
class Written:
    """One file an export wrote."""

    path: Path
    part: str
    entries: int


def default_template(part: str, fmt: formats.Format, writer: formats.Format | None = None) -> str:
    """The file-name template of a part: the text profile's, else ``<part>_<date><ext>`` with
    the extension of the format that writes the part (``writer``, default ``fmt``): beside a
    ``.journal`` or ``.iif`` export the customers file is a ``;``-separated text file, which a
    glob import of ``*.journal`` must not pick up."""
    profile = getattr(fmt, "profile", None)
    names = getattr(profile, "file_names", None) or {}
    return names.get(part) or f"{part}_{{date:%Y%m%d}}{(writer or fmt).extension}"


def customers_format(fmt: formats.Format) -> formats.Format:
    """The customers file's format beside entries in ``fmt``: the default customers layout,
    written the way ``fmt`` writes when it is a text layout (encoding and what it does with
    characters it lacks, line ending, decimal mark and, unless it is fixed width, separator
    and quoting): the ledger importing both files reads them with one setting (an EBP
    export's customers in cp1252 too, not UTF-8)."""
    customers = formats.get("customers")
    if not isinstance(fmt, TextExport):
        return customers()
    profile = fmt.profile
    options = {
        "encoding": profile.encoding,
        "on_unencodable": profile.on_unencodable,
        "line_ending": profile.line_ending,
        "decimal_mark": profile.decimal_mark,
    }
    if profile.separator is not None:  # a fixed-width layout: the customers keep their `;`
        options |= {
            "separator": profile.separator,
            "quoting": profile.quoting,
            "quote_char": profile.quote_char,
        }
    return customers(**options)


def _check_targets(paths: Sequence[Path], overwrite: bool) -> None:
    if not overwrite:
        for path in paths:
            if path.exists():
                raise OutputExistsError(f"{path} already exists")
    if len(set(paths)) != len(paths):
        raise formats.OptionError("two parts of the export would be written to the same file")


def write_one(
    entries: Iterable[Entry], fmt: formats.Format, path: Path, overwrite: bool
) -> Written:
    """All entries in one file."""
    with atomic_output(path, overwrite=overwrite) as stream:
        count = fmt.write(entries, stream)
    return Written(path, "entries", count)


def _replay(spill: Path) -> Iterator[Entry]:
    with spill.open("rb") as stream:
        for line in stream:
            yield decode_entry(line)


def write_split(
    entries: Iterable[Entry],
    fmt: formats.Format,
    customers: formats.Format,
    out_dir: Path,
    parts: Sequence[str],
    date: dt.date,
    overwrite: bool,
    siren: str | None = None,
) -> list[Written]:
    """One file per part (sales, refunds, payments, customers), named by templates."""
    writers = {part: customers if part == "customers" else fmt for part in parts}
    names = {
        part: out_dir
        / FileNameTemplate(default_template(part, fmt, writers[part])).render(
            date=date, kind=part, siren=siren
        )
        for part in parts
    }
    _check_targets(list(names.values()), overwrite)
    written = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".postingrules-") as tmp:
        spills: dict[str, BinaryIO] = {p: (Path(tmp) / f"{p}.jsonl").open("wb") for p in parts}
        try:
            for entry in entries:
                line = encode_entry(entry)
                part = PART_OF_KIND[entry.document_kind]
                if part in spills:
                    spills[part].write(line)
                if "customers" in spills:
                    spills["customers"].write(line)
        finally:
            for stream in spills.values():
                stream.close()
        # Each file stays a temporary one until every part is written: an error (or Ctrl-C)
        # in any part removes them all.
        with ExitStack() as outputs:
            for part in parts:
                stream = outputs.enter_context(atomic_output(names[part], overwrite=overwrite))
                count = writers[part].write(_replay(Path(tmp) / f"{part}.jsonl"), stream)
                written.append(Written(names[part], part, count))
    return written
