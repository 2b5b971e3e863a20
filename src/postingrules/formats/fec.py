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
_ZERO = Decimal(0)
_ACCOUNT = re.compile(r"^[0-9]{3}")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SPILL_BATCH = 256  # records per marshal call: what the merge holds per spilled chunk
_MAX_SPILLS = 64  # past this many chunk files, merge them into one (bounded memory and fds)


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
        "sort_chunk_size": 50_000,
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
        self._cache: dict[str, str] = {}
        self._dates: dict[dt.date, str] = {}
        self._parts: dict[tuple[str, str | None, str | None, str], str] = {}

    # -- rendering one entry -----------------------------------------------------------------

    def _text(self, value: str, field: str) -> str:
        """``value`` made safe for a FEC field; repeated values come from a small cache."""
        cache = self._cache
        done = cache.get(value)
        if done is not None:
            return done
        safe = clean_text(value)
        if self.separator in safe:
            safe = safe.replace(self.separator, " ")
        if self.options["neutralise_formulas"]:
            safe = neutralise_formula(safe)
        safe = self._transcoder.text(safe.strip(), None, field)
        if len(cache) > 8192:
            cache.clear()
        cache[value] = safe
        return safe

    def _date(self, day: dt.date) -> str:
        text = self._dates.get(day)
        if text is None:
            if len(self._dates) > 4096:
                self._dates.clear()
            text = self._dates[day] = day.strftime("%Y%m%d")
        return text

    @staticmethod
    def _amount(value: Decimal, field: str) -> str:
        if value < 0:
            raise FormatError(f"negative amount {value}", field=field)
        if value != value.quantize(_CENT):
            raise FormatError(f"amount {value} has more than 2 decimals", field=field)
        return f"{value:.2f}".replace(".", ",")

    def _render(self, entry: Entry) -> tuple[str, bytes]:
        """The journal code and the entry's lines, encoded, with ``_PLACEHOLDER`` for its number."""
        try:
            return self._render_lines(entry)
        except FormatError as err:
            raise FormatError(
                err.message, document_key=entry.document_key, field=err.field
            ) from None

    def _render_lines(self, entry: Entry) -> tuple[str, bytes]:
        opts = self.options
        sep = self.separator
        if not entry.lines:
            raise FormatError("entry has no lines", field="lines")
        start, end = opts["fiscal_year_start"], opts["fiscal_year_end"]
        if (start and entry.date < start) or (end and entry.date > end):
            raise FormatError(f"date {entry.date} is outside the fiscal year {start}..{end}",
                              field="date")  # fmt: skip
        journal = self._text(entry.journal, "journal")
        if not journal:
            raise FormatError("JournalCode is blank", field="journal")
        journal_label = self._text(
            entry.journal_label or self._journal_labels.get(entry.journal) or entry.journal,
            "journal_label",
        )
        piece = self._text(entry.piece or entry.reference, "piece")
        if not piece:
            raise FormatError("PieceRef is blank (no piece nor reference)", field="piece")
        date = self._date(entry.date)
        valid = opts["validation_date"]
        valid_date = self._date(valid) if valid else date
        entry_label = self._text(entry.label, "label")
        # Per-entry fragments; per line only the account part, amounts and currency change.
        head = f"{journal}{sep}{journal_label}{sep}\x00{sep}{date}{sep}"
        tail = f"{sep}{sep}{sep}{valid_date}{sep}"
        parts = self._parts
        total_debit = total_credit = _ZERO
        out = []
        for k, line in enumerate(entry.lines, 1):
            try:
                key = (line.account, line.aux, line.aux_name, line.label)
                account_part = parts.get(key)
                if account_part is None:
                    account_part = self._account_part(line.account, line.aux, line.aux_name,
                                                      line.label, sep)  # fmt: skip
                    if len(parts) > 8192:
                        parts.clear()
                    parts[key] = account_part
                label = entry_label or self._text(line.label, "label")
                if not label:
                    raise FormatError("EcritureLib is blank", field="label")
                debit, credit = line.debit, line.credit
                if debit and not credit:
                    amounts = f"{self._amount(debit, 'debit')}{sep}0,00"
                elif credit and not debit:
                    amounts = f"0,00{sep}{self._amount(credit, 'credit')}"
                else:
                    raise FormatError("exactly one of debit and credit must be non-zero",
                                      field="debit")  # fmt: skip
                total_debit += debit
                total_credit += credit
                if line.currency_amount is None and line.currency is None:
                    foreign = sep
                elif line.currency_amount is None or line.currency is None:
                    raise FormatError(
                        "Montantdevise and Idevise go together: currency_amount and currency",
                        field="currency",
                    )
                elif not _CURRENCY.match(line.currency):
                    raise FormatError(f"Idevise {line.currency!r} is not an ISO 4217 code",
                                      field="currency")  # fmt: skip
                else:
                    amount = f"{line.currency_amount:f}".replace(".", ",")
                    foreign = f"{amount}{sep}{line.currency}"
            except FormatError as err:
                raise FormatError(err.message, field=f"lines[{k}].{err.field}") from None
            out.append(f"{head}{account_part}{sep}{piece}{sep}{date}{sep}{label}{sep}"
                       f"{amounts}{tail}{foreign}")  # fmt: skip
        if total_debit != total_credit:
            raise FormatError(
                f"entry is not balanced: debit {total_debit} != credit {total_credit}",
                field="lines",
            )
        text = self.line_ending.join(out) + self.line_ending
        return journal, text.encode(self._transcoder.encoding)

    def _account_part(
        self, account: str, aux: str | None, aux_name: str | None, label: str, sep: str
    ) -> str:
        """``CompteNum<sep>CompteLib<sep>CompAuxNum<sep>CompAuxLib`` for one kind of line."""
        account_num = self._text(account, "account")
        if not _ACCOUNT.match(account_num):
            raise FormatError(f"CompteNum {account_num!r} must start with 3 digits",
                              field="account")  # fmt: skip
        known = self.options["account_labels"].get(account)
        account_label = self._text(known or label, "label")
        if not account_label:
            raise FormatError(
                f"CompteLib is blank for account {account_num} (no label; give account_labels)",
                field="label",
            )
        if aux:
            aux_text = self._text(aux, "aux")
            aux_name_text = self._text(aux_name or aux, "aux_name")
        else:
            aux_text = aux_name_text = ""
        return f"{account_num}{sep}{account_label}{sep}{aux_text}{sep}{aux_name_text}"

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
                if len(spills) >= _MAX_SPILLS:
                    spills = [self._spill_merged(spills, stack)]
        chunk.sort()
        if not spills:
            return iter(chunk)
        if chunk:
            spills.append(self._spill(chunk, stack))
        return heapq.merge(*(_read_spill(f) for f in spills))

    def _spill_merged(self, spills: list[IO[bytes]], stack: ExitStack) -> IO[bytes]:
        """Merge sorted chunk files into one, so open files and merge buffers stay bounded."""
        merged = stack.enter_context(tempfile.TemporaryFile(dir=self.options["temp_dir"]))  # noqa: SIM115
        batch: list[tuple[Any, ...]] = []
        for record in heapq.merge(*(_read_spill(f) for f in spills)):
            batch.append(record)
            if len(batch) >= _SPILL_BATCH:
                marshal.dump(batch, merged)
                batch = []
        if batch:
            marshal.dump(batch, merged)
        for spill in spills:
            spill.close()
        merged.seek(0)
        return merged

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
