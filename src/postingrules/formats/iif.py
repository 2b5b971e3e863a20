"""IIF (Intuit Interchange Format): QuickBooks Desktop general journal entries, and a reader.

Why: QuickBooks Desktop imports journal entries only from IIF, a TAB-separated text file of
``TRNS``/``SPL``/``ENDTRNS`` blocks announced by ``!TRNS``/``!SPL``/``!ENDTRNS`` header lines
(Intuit "IIF reference: transactions"; research notes §3.7).  Each entry becomes one
``GENERAL JOURNAL`` block: its first line ``TRNS``, the others ``SPL``; debits positive, credits
negative, so each block sums to zero.  Columns, as in the worked example: TRNSID (empty, QuickBooks
numbers), TRNSTYPE, DATE (``MM/DD/YYYY``; option ``date_format`` for a Desktop edition reading
another order), ACCNT, NAME, AMOUNT, DOCNUM (piece), MEMO (line label, else entry label).

QuickBooks matches ACCNT against its chart by name: option ``accounts`` maps account codes
(longest prefix wins: ``{"411": "Accounts Receivable", "7072": "Sales"}``) to those names;
unmapped codes are written as they are.  NAME (the customer) goes on lines with an auxiliary:
QuickBooks requires it on A/R lines.  Book-currency amounts only: IIF general journal lines have
no column for the document currency, so a foreign amount is not carried (it is in the JSON Lines
and plain-text exports).  Analytic sections are not carried either.

Safety: the file is opened in spreadsheets, so DOCNUM and MEMO starting with ``=``, ``+``, ``-``
or ``@`` get a leading apostrophe and their TAB/CR/LF become spaces.  ACCNT and NAME are names
QuickBooks matches exactly against its lists: one starting so, or holding a control character,
is refused with a :class:`FormatError` naming the entry and field (altering it would post to
another account or customer); a mapped account name in the ``accounts`` option is checked when
the format is built.  Text is written in Windows-1252 (option ``encoding``, an encoding writing
ASCII as ASCII), transliterating or refusing characters it cannot hold.  QuickBooks limits
enforced with a located error: NAME 41 characters, DOCNUM 11.  An unbalanced entry is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar

from postingrules.formats.base import (
    FORMULA_PREFIXES,
    Format,
    FormatError,
    OptionError,
    Transcoder,
    clean_text,
    neutralise_formula,
    register,
    string_mapping,
)
from postingrules.formats.hledger import decimal_text
from postingrules.model.entries import Entry, EntryLine

COLUMNS = ("TRNSTYPE", "DATE", "ACCNT", "NAME", "AMOUNT", "DOCNUM", "MEMO")
HEADER = (
    "!TRNS\tTRNSID\t" + "\t".join(COLUMNS),
    "!SPL\tSPLID\t" + "\t".join(COLUMNS),
    "!ENDTRNS",
)
MAX_NAME = 41
MAX_DOCNUM = 11


def _list_name_ok(name: str) -> bool:
    """Whether a QuickBooks list name can be written as it is (see :meth:`Iif._list_name`)."""
    return not name.startswith(FORMULA_PREFIXES) and clean_text(name) == name


@register
class Iif(Format):
    """QuickBooks Desktop IIF general journal."""

    name: ClassVar[str] = "iif"
    summary: ClassVar[str] = "QuickBooks Desktop IIF general journal (TRNS/SPL/ENDTRNS)"
    extension: ClassVar[str] = ".iif"
    columns: ClassVar[tuple[str, ...]] = ("TRNSID", *COLUMNS)
    separator: ClassVar[str | None] = "\t"
    date_format: ClassVar[str] = "%m/%d/%Y"
    encoding: ClassVar[str] = "cp1252"
    line_ending: ClassVar[str] = "\r\n"
    header: ClassVar[bool] = True
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "accounts": None,
        "date_format": "%m/%d/%Y",
        "encoding": "cp1252",
        "on_unencodable": "transliterate",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.accounts = string_mapping(self.name, "accounts", self.options["accounts"])
        for code, name in self.accounts.items():
            if not _list_name_ok(name):
                raise OptionError(
                    f"format 'iif' option 'accounts': {code!r}: QuickBooks account name "
                    f"{name!r} starts with a formula character or holds a control character"
                )
        date_format = self.options["date_format"]
        sample = dt.date(2025, 12, 31).strftime(date_format) if isinstance(date_format, str) else ""
        if not sample or clean_text(sample) != sample:
            raise OptionError(
                "format 'iif' option 'date_format' must be a strftime pattern giving a date "
                f"without TAB/CR/LF (e.g. '%d/%m/%Y'), not {date_format!r}"
            )
        encoding = self.options["encoding"]
        if not isinstance(encoding, str):
            raise OptionError(f"format 'iif' option 'encoding' must be text, not {encoding!r}")
        self.transcoder = Transcoder(encoding, self.options["on_unencodable"])
        # Each record is encoded on its own: an encoding writing a BOM or more than one byte
        # per ASCII character (utf-16, utf-8-sig) would put a BOM before every block.
        if HEADER[0].encode(self.transcoder.encoding) != HEADER[0].encode("ascii"):
            raise OptionError(
                f"format 'iif' option 'encoding': {encoding!r} does not write ASCII as ASCII "
                "(IIF is read as a byte-per-character text file; e.g. cp1252, utf-8)"
            )

    def _list_name(self, entry: Entry, name: str, field: str) -> str:
        """A QuickBooks list name (ACCNT, NAME), refused rather than altered.

        QuickBooks matches these names exactly against its lists, so an apostrophe before a
        formula character, or a control character turned into a space, would make it look
        for another account or customer (or create one): such a name is an error.
        """
        if not _list_name_ok(name):
            raise FormatError(
                f"QuickBooks list name {name!r} starts with a formula character or holds a "
                "control character",
                document_key=entry.document_key,
                field=field,
            )
        return self.transcoder.text(name, entry.document_key, field)

    def account(self, entry: Entry, line: EntryLine) -> str:
        """The QuickBooks account name for a line (mapped by longest prefix, else the code)."""
        code = line.account
        name = next(
            (self.accounts[code[:n]] for n in range(len(code), 0, -1) if code[:n] in self.accounts),
            code,
        )
        return self._list_name(entry, name, "account")

    def _text(self, entry: Entry, value: str, field: str, limit: int | None = None) -> str:
        text = neutralise_formula(clean_text(value).strip())
        text = self.transcoder.text(text, entry.document_key, field)
        if limit is not None and len(text) > limit:
            raise FormatError(
                f"{text!r} is longer than QuickBooks' {limit} characters",
                document_key=entry.document_key,
                field=field,
            )
        return text

    def _name(self, entry: Entry, line: EntryLine) -> str:
        """NAME: the auxiliary's name (else its code), a list name limited to 41 characters."""
        name, field = (line.aux_name, "aux_name") if line.aux_name else (line.aux or "", "aux")
        text = self._list_name(entry, name, field)
        if len(text) > MAX_NAME:
            raise FormatError(
                f"{text!r} is longer than QuickBooks' {MAX_NAME} characters",
                document_key=entry.document_key,
                field=field,
            )
        return text

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        encoding = self.transcoder.encoding
        out.write(("\r\n".join(HEADER) + "\r\n").encode(encoding))
        count = 0
        for entry in entries:
            if entry.total_debit != entry.total_credit:
                raise FormatError(
                    f"debits {entry.total_debit} != credits {entry.total_credit}",
                    document_key=entry.document_key,
                    field="lines",
                )
            date = entry.date.strftime(self.options["date_format"])
            docnum = self._text(entry, entry.piece, "piece", MAX_DOCNUM)
            rows = []
            for index, line in enumerate(entry.lines):
                cells = (
                    "TRNS" if index == 0 else "SPL",
                    "",
                    "GENERAL JOURNAL",
                    date,
                    self.account(entry, line),
                    self._name(entry, line) if line.aux else "",
                    decimal_text(line.debit - line.credit),
                    docnum,
                    self._text(entry, line.label or entry.label, "label"),
                )
                rows.append("\t".join(cells))
            rows.append("ENDTRNS")
            out.write(("\r\n".join(rows) + "\r\n").encode(encoding))
            count += 1
        return count


# --- reader (round trip) ----------------------------------------------------------------------


@dataclass(frozen=True)
class IifLine:
    """One TRNS or SPL row read back."""

    account: str
    name: str
    amount: Decimal
    memo: str


@dataclass(frozen=True)
class IifTransaction:
    """One TRNS…ENDTRNS block read back."""

    trnstype: str
    date: dt.date
    docnum: str
    lines: tuple[IifLine, ...]


def read(
    data: bytes, encoding: str = "cp1252", date_format: str = "%m/%d/%Y"
) -> Iterator[IifTransaction]:
    """Transactions back from an IIF file, using its ``!TRNS``/``!SPL`` header lines."""
    columns: dict[str, list[str]] = {}
    block: list[dict[str, str]] = []
    for number, raw in enumerate(data.decode(encoding).split("\r\n"), 1):
        if not raw:
            continue
        cells = raw.split("\t")
        kind = cells[0]
        if kind.startswith("!"):
            columns[kind[1:]] = cells
        elif kind in ("TRNS", "SPL"):
            if kind not in columns:
                raise ValueError(f"line {number}: {kind} before its !{kind} header")
            block.append(dict(zip(columns[kind], cells, strict=True)))
        elif kind == "ENDTRNS":
            if not block:
                raise ValueError(f"line {number}: ENDTRNS without TRNS")
            first = block[0]
            yield IifTransaction(
                trnstype=first["TRNSTYPE"],
                date=dt.datetime.strptime(first["DATE"], date_format).date(),
                docnum=first["DOCNUM"],
                lines=tuple(
                    IifLine(row["ACCNT"], row["NAME"], Decimal(row["AMOUNT"]), row["MEMO"])
                    for row in block
                ),
            )
            block = []
        else:
            raise ValueError(f"line {number}: unknown record {kind!r}")
