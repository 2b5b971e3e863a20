"""FEC — Fichier des Écritures Comptables (article A47 A-1 of the Livre des procédures fiscales).

The file a French business hands to the tax administration on request, and the one most
French accounting software imports.  The law fixes 18 columns in order with a header line, TAB
or ``|`` as separator, ``AAAAMMJJ`` dates, a decimal comma with no thousands separator, entries
in chronological order of validation, a continuous number sequence (per journal in practice),
every entry balanced, and the name ``<SIREN>FEC<closing date>``.  The writer refuses, with
:class:`FormatError` naming the entry and field, any entry that would break one of these rules,
instead of producing a file the administration would reject.

Sorting and numbering need the whole set of entries, so the writer renders every entry once
(with a placeholder for its number), keeps at most ``sort_chunk_size`` of them in memory,
spills sorted chunks to temporary files and merges them (``heapq.merge``): memory stays flat
however many entries there are.  Numbers are given while the merged stream is written.
"""

from __future__ import annotations

import datetime as dt
import heapq
import marshal
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from typing import IO, Any, BinaryIO, ClassVar

from stdnum.exceptions import ValidationError
from stdnum.fr import siren as stdnum_siren

from postingrules.formats.base import (
    Format,
    FormatError,
    OptionError,
    Transcoder,
    clean_text,
    neutralise_formula,
)
from postingrules.model.entries import Entry

FEC_COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)  # fmt: skip

DEFAULT_JOURNAL_LABELS = {
    "VTE": "Ventes", "VT": "Ventes", "ACH": "Achats", "HA": "Achats", "BQ": "Banque",
    "BQ1": "Banque", "OD": "Opérations diverses", "AN": "A nouveaux", "CAI": "Caisse",
}  # fmt: skip

_PLACEHOLDER = b"\x00"  # stands for EcritureNum until the entry's place is known
_CENT = Decimal("0.01")
_ACCOUNT = re.compile(r"^[0-9]{3}")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SPILL_BATCH = 2000  # records per marshal call in a spilled chunk


def fec_file_name(siren: str, closing_date: dt.date) -> str:
    """``<SIREN>FEC<AAAAMMJJ>.txt``; :class:`OptionError` when the SIREN is not a valid one."""
    try:
        number = stdnum_siren.validate(siren)
    except ValidationError as err:
        raise OptionError(f"SIREN {siren!r} is not valid: {err}") from None
    return f"{number}FEC{closing_date:%Y%m%d}.txt"


class Fec(Format):
    """The 18-column FEC, TAB-separated by default, UTF-8, CRLF, header line."""

    name: ClassVar[str] = "fec"
    summary: ClassVar[str] = "Fichier des Écritures Comptables (art. A47 A-1 LPF), 18 columns"
    extension: ClassVar[str] = ".txt"
    columns: ClassVar[tuple[str, ...]] = FEC_COLUMNS
    separator: ClassVar[str | None] = "\t"
    decimal_mark: ClassVar[str] = ","
    date_format: ClassVar[str] = "%Y%m%d"
    encoding: ClassVar[str] = "utf-8"
    line_ending: ClassVar[str] = "\r\n"
    header: ClassVar[bool] = True
    option_defaults: ClassVar[dict[str, Any]] = {
        "separator": "\t",
        "encoding": "utf-8",
        "line_ending": "\r\n",
        "on_unencodable": "transliterate",
        "account_labels": {},
        "journal_labels": {},
        "validation_date": None,
        "fiscal_year_start": None,
        "fiscal_year_end": None,
        "first_numbers": {},
        "number_width": 6,
        "neutralise_formulas": True,
        "sort_chunk_size": 100_000,
        "temp_dir": None,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        opts = self.options
        if opts["separator"] not in ("\t", "|"):
            raise OptionError("FEC separator must be TAB or '|' (art. A47 A-1, VI 1° c)")
        if opts["encoding"].lower().replace("_", "-") not in (
            "utf-8", "utf8", "ascii", "iso-8859-15", "latin-9", "latin9",
        ):  # fmt: skip
            raise OptionError("FEC encoding must be ASCII, ISO 8859-15 or UTF-8 (XII 1°)")
        if opts["line_ending"] not in ("\r\n", "\n", "\r"):
            raise OptionError("FEC records end with CR and/or LF (VI 1° a)")
        if int(opts["sort_chunk_size"]) < 1:
            raise OptionError("sort_chunk_size must be at least 1")
        self.separator = opts["separator"]
        self.encoding = opts["encoding"]
        self.line_ending = opts["line_ending"]
        self._transcoder = Transcoder(opts["encoding"], opts["on_unencodable"])
        self._journal_labels = {**DEFAULT_JOURNAL_LABELS, **opts["journal_labels"]}

    # -- rendering one entry -----------------------------------------------------------------

    def _text(self, value: str, entry: Entry, field: str) -> str:
        value = clean_text(value)
        if self.separator in value:
            value = value.replace(self.separator, " ")
        if self.options["neutralise_formulas"]:
            value = neutralise_formula(value)
        return self._transcoder.text(value.strip(), entry.document_key, field)

    def _amount(self, value: Decimal, entry: Entry, field: str) -> str:
        if value < 0:
            raise FormatError(f"negative amount {value}", document_key=entry.document_key,
                              field=field)  # fmt: skip
        if value != value.quantize(_CENT):
            raise FormatError(f"amount {value} has more than 2 decimals",
                              document_key=entry.document_key, field=field)  # fmt: skip
        return f"{value:.2f}".replace(".", ",")

    def _render(self, entry: Entry) -> tuple[str, bytes]:
        """The journal code and the entry's lines, encoded, with ``_PLACEHOLDER`` for its number."""
        key = entry.document_key
        opts = self.options
        if not entry.lines:
            raise FormatError("entry has no lines", document_key=key, field="lines")
        if entry.total_debit != entry.total_credit:
            raise FormatError(
                f"entry is not balanced: debit {entry.total_debit} != credit {entry.total_credit}",
                document_key=key, field="lines",
            )  # fmt: skip
        start, end = opts["fiscal_year_start"], opts["fiscal_year_end"]
        if (start and entry.date < start) or (end and entry.date > end):
            raise FormatError(f"date {entry.date} is outside the fiscal year {start}..{end}",
                              document_key=key, field="date")  # fmt: skip
        journal = self._text(entry.journal, entry, "journal")
        if not journal:
            raise FormatError("JournalCode is blank", document_key=key, field="journal")
        journal_label = self._text(
            entry.journal_label or self._journal_labels.get(entry.journal) or entry.journal,
            entry, "journal_label",
        )  # fmt: skip
        piece = self._text(entry.piece or entry.reference, entry, "piece")
        if not piece:
            raise FormatError("PieceRef is blank (no piece nor reference)", document_key=key,
                              field="piece")  # fmt: skip
        date = entry.date.strftime("%Y%m%d")
        valid = opts["validation_date"]
        valid_date = valid.strftime("%Y%m%d") if valid else date
        entry_label = self._text(entry.label, entry, "label")
        sep = self.separator
        out = []
        for n, line in enumerate(entry.lines, 1):
            where = f"lines[{n}]"
            account = self._text(line.account, entry, f"{where}.account")
            if not _ACCOUNT.match(account):
                raise FormatError(f"CompteNum {account!r} must start with 3 digits",
                                  document_key=key, field=f"{where}.account")  # fmt: skip
            account_label = self._text(
                opts["account_labels"].get(line.account) or line.label, entry, f"{where}.label"
            )
            if not account_label:
                raise FormatError(
                    f"CompteLib is blank for account {account} (no label; give account_labels)",
                    document_key=key, field=f"{where}.label",
                )  # fmt: skip
            label = entry_label or self._text(line.label, entry, f"{where}.label")
            if not label:
                raise FormatError("EcritureLib is blank", document_key=key, field="label")
            debit = self._amount(line.debit, entry, f"{where}.debit")
            credit = self._amount(line.credit, entry, f"{where}.credit")
            if (line.debit == 0) == (line.credit == 0):
                raise FormatError("exactly one of debit and credit must be non-zero",
                                  document_key=key, field=f"{where}.debit")  # fmt: skip
            aux = self._text(line.aux or "", entry, f"{where}.aux")
            aux_name = self._text(line.aux_name or line.aux or "", entry, f"{where}.aux_name")
            if line.currency_amount is None and line.currency is None:
                foreign = currency = ""
            elif line.currency_amount is None or line.currency is None:
                raise FormatError(
                    "Montantdevise and Idevise go together: currency_amount and currency",
                    document_key=key, field=f"{where}.currency",
                )  # fmt: skip
            else:
                if not _CURRENCY.match(line.currency):
                    raise FormatError(f"Idevise {line.currency!r} is not an ISO 4217 code",
                                      document_key=key, field=f"{where}.currency")  # fmt: skip
                foreign = f"{line.currency_amount:f}".replace(".", ",")
                currency = line.currency
            out.append(sep.join((
                journal, journal_label, "\x00", date, account, account_label, aux, aux_name,
                piece, date, label, debit, credit, "", "", valid_date, foreign, currency,
            )))  # fmt: skip
        text = self.line_ending.join(out) + self.line_ending
        return journal, text.encode(self._transcoder.encoding)

    # -- ordering and numbering --------------------------------------------------------------

    def _records(self, entries: Iterable[Entry], stack: ExitStack) -> Iterator[tuple[Any, ...]]:
        """(valid date, date, journal, seq, blob) in chronological order, spilling to disk."""
        chunk: list[tuple[Any, ...]] = []
        spills: list[IO[bytes]] = []
        size = int(self.options["sort_chunk_size"])
        valid = self.options["validation_date"]
        valid_ord = valid.toordinal() if valid else None
        for seq, entry in enumerate(entries):
            day = entry.date.toordinal()
            journal, blob = self._render(entry)
            chunk.append((valid_ord or day, day, journal, seq, blob))
            if len(chunk) >= size:
                spills.append(self._spill(chunk, stack))
                chunk = []
        chunk.sort()
        if not spills:
            return iter(chunk)
        if chunk:
            spills.append(self._spill(chunk, stack))
        return heapq.merge(*(_read_spill(f) for f in spills))

    def _spill(self, chunk: list[tuple[Any, ...]], stack: ExitStack) -> IO[bytes]:
        chunk.sort()
        spill = stack.enter_context(tempfile.TemporaryFile(dir=self.options["temp_dir"]))  # noqa: SIM115
        for i in range(0, len(chunk), _SPILL_BATCH):
            marshal.dump(chunk[i : i + _SPILL_BATCH], spill)
        spill.seek(0)
        return spill

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        numbers: dict[str, int] = {}
        first = self.options["first_numbers"]
        width = int(self.options["number_width"])
        header = self.separator.join(FEC_COLUMNS) + self.line_ending
        count = 0
        with ExitStack() as stack:
            records = self._records(entries, stack)
            out.write(header.encode(self._transcoder.encoding))
            for _, _, journal, _, blob in records:
                number = numbers.get(journal)
                number = int(first.get(journal, 1)) if number is None else number + 1
                numbers[journal] = number
                num = f"{journal}-{number:0{width}d}".encode(self._transcoder.encoding)
                out.write(blob.replace(_PLACEHOLDER, num))
                count += 1
        return count


def _read_spill(spill: IO[bytes]) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            batch = marshal.load(spill)
        except EOFError:
            return
        yield from batch
