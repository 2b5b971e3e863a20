"""FEC — Fichier des Écritures Comptables (article A47 A-1 of the Livre des procédures fiscales).

The file a French business hands to the tax administration on request, and the one most
French accounting software imports.  The law fixes 18 columns in order with a header line, TAB
or ``|`` as separator, ``AAAAMMJJ`` dates, a decimal comma with no thousands separator, entries
in chronological order of validation, a continuous number sequence (per journal in practice),
every entry balanced, and the name ``<SIREN>FEC<closing date>``.  The writer refuses, with
:class:`FormatError` naming the entry and field, any entry that would break one of these rules,
instead of producing a file the administration would reject.

Sorting and numbering need the whole set of entries, so the writer renders every entry once
(with a placeholder for its number and the columns before it, see :meth:`Fec._line_head`),
keeps at most ``sort_chunk_size`` of them in memory, grouped by (validation date, date,
journal) in the order they came, spills each chunk's groups in key order to a temporary file
and merges the files group by group (:func:`_merge`): memory stays flat however many entries
there are, and nothing is sorted entry by entry.  Numbers (and the columns before them) are
given while the merged stream is written.
"""

from __future__ import annotations

import datetime as dt
import heapq
import marshal
import re
import struct
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from itertools import repeat
from operator import attrgetter
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
    string_mapping,
    unbalanced,
)
from postingrules.formats.chart import Chart
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
# Stands for a line's first four columns (JournalCode to EcritureDate) when the journal's
# label is the first one met for its JournalCode (see Fec._line_head).
_HEAD = "\x01"
_HEAD_BYTES = _HEAD.encode()
_PARTS = 7  # strings a rendered line is made of (see Fec._rendered)
# Rendered text holds the bytes of the file's encoding, one character per byte, the character
# of the byte's value (what latin-1 decodes them to; ASCII stays as it is): see Fec._raw.
_RAW = "latin-1"
_DAYS = struct.Struct(">II")  # validation and entry dates (ordinals), then the journal
_CENT = Decimal("0.01")
_ZERO = Decimal(0)
_debit, _credit = attrgetter("debit"), attrgetter("credit")
_ACCOUNT = re.compile(r"^[0-9]{3}")
_CURRENCY = re.compile(r"[A-Z]{3}")  # fullmatch: "USD\n" is no code
_SPILL_BATCH = 512  # entries per spilled group (length-prefixed marshal): held per spill file
_MAX_SPILLS = 64  # past this many chunk files, merge them into one (bounded memory and fds)
_Dated = tuple[str, str, str, str, bytes, dict[str, tuple[bytes, str]]]  # Fec._date_parts
_Account = tuple[str, str | None, str, str]  # see Fec._account_part


def fec_file_name(siren: str, closing_date: dt.date) -> str:
    """``<SIREN>FEC<AAAAMMJJ>.txt``; :class:`OptionError` when the SIREN is not a valid one,
    or when the closing date's year is not 2000 to 2099: the DGFiP's test tool refuses,
    before any other check, a file whose name does not end in ``FEC20YYMMDD``."""
    try:
        number = stdnum_siren.validate(siren)
    except ValidationError as err:
        raise OptionError(f"SIREN {siren!r} is not valid: {err}") from None
    if not 2000 <= closing_date.year <= 2099:
        raise OptionError(
            f"closing date {closing_date} must be in 2000..2099: the administration's tool "
            "reads FEC<20YYMMDD> in the file name"
        )
    return f"{number}FEC{closing_date:%Y%m%d}.txt"


def _date_option(options: dict[str, Any], name: str) -> dt.date | None:
    """The date option ``name`` as a date: given as one, or as ISO text (``2026-01-31``) as
    it comes from ``--option`` or a profile; :class:`OptionError` naming it otherwise.  A
    datetime is refused too: it does not compare with the entries' dates."""
    value = options[name]
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise OptionError(f"FEC option {name} must be a date (YYYY-MM-DD), not {value!r}")


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
        for name in ("validation_date", "fiscal_year_start", "fiscal_year_end"):
            opts[name] = _date_option(opts, name)
        start, end = opts["fiscal_year_start"], opts["fiscal_year_end"]
        if start and end and start > end:
            raise OptionError(f"fiscal_year_start {start} is after fiscal_year_end {end}")
        self.separator = opts["separator"]
        self.encoding = opts["encoding"]
        self.line_ending = opts["line_ending"]
        self._transcoder = Transcoder(opts["encoding"], opts["on_unencodable"])
        self._journal_labels = {**DEFAULT_JOURNAL_LABELS, **opts["journal_labels"]}
        self._chart = Chart(string_mapping(self.name, "account_labels", opts["account_labels"]))
        self._cache: dict[str, str] = {}
        self._dates: dict[dt.date, str] = {}
        self._parts: dict[str | tuple[str, str | None, str | None], _Account] = {}
        self._journals: dict[str | tuple[str, str], tuple[bytes, str]] = {}
        self._year = (opts["fiscal_year_start"], opts["fiscal_year_end"])
        valid = opts["validation_date"]
        self._tail = f"{self.separator * 3}{self._date(valid)}{self.separator}" if valid else ""
        # What makes _text change a printable ASCII value: a space or formula prefix first.
        self._bad_first = " =+-@" if opts["neutralise_formulas"] else " "
        self._dated: dict[dt.date, _Dated] = {}
        # By journal sort key, the first head (see _journal) met; the sort keys of entries
        # with another head (same JournalCode, another JournalLib), see _line_head.
        self._first_heads: dict[bytes, str] = {}
        self._mixed: set[bytes] = set()

    # -- rendering one entry -----------------------------------------------------------------

    def _text(self, value: str, field: str) -> str:
        """``value`` made safe for a FEC field; repeated values come from a small cache."""
        cache = self._cache
        done = cache.get(value)
        if done is not None:
            return done
        try:
            safe = clean_text(value)
        except FormatError as err:  # a lone surrogate: name the field
            raise FormatError(err.message, field=field) from None
        if self.separator in safe:
            safe = safe.replace(self.separator, " ")
        if self.options["neutralise_formulas"]:
            safe = neutralise_formula(safe)
        safe = self._transcoder.text(safe.strip(), None, field)
        if len(cache) > 8192:
            cache.clear()
        cache[value] = safe
        return safe

    def _raw(self, text: str) -> str:
        """``text`` (made encodable by the transcoder) as rendered entries hold it: its bytes in
        the file's encoding, each as the character of the same value, so that latin-1 gives the
        bytes back (``"é"`` in UTF-8 is ``"Ã©"``).  ASCII text, the usual case, is its own."""
        if text.isascii():
            return text
        return text.encode(self._transcoder.encoding).decode(_RAW)

    def _date_parts(self, day: dt.date) -> _Dated:
        """What every entry of a date shares, kept per date: the date's text, the same
        between separators (PieceDate in the middle of a row), the columns
        from EcritureLet to Idevise and the line ending after a credit with no foreign
        currency (empty Montantdevise and Idevise), the same after a debit (``<sep>0,00``
        first), the two dates of the sort key packed, and by journal (its first columns, see
        :meth:`_journal`) the sort key and what its lines start with (:meth:`_line_head`)."""
        date = self._date(day)
        sep, eol = self.separator, self.line_ending
        tail = self._tail or f"{sep}{sep}{sep}{date}{sep}"
        valid = self.options["validation_date"]
        days = _DAYS.pack((valid or day).toordinal(), day.toordinal())
        if len(self._dated) > 4096:
            self._dated.clear()
        parts = self._dated[day] = (
            date, f"{sep}{date}{sep}", f"{tail}{sep}{eol}", f"{sep}0,00{tail}{sep}{eol}", days, {}
        )  # fmt: skip
        return parts

    def _date(self, day: dt.date) -> str:
        text = self._dates.get(day)
        if text is None:
            if len(self._dates) > 4096:
                self._dates.clear()
            text = self._dates[day] = day.strftime("%Y%m%d")
        return text

    @staticmethod
    def _amount(value: Decimal, debit: Decimal) -> str:
        """A line's amount that is not plain two-decimal text, formatted or refused; the
        line's ``debit`` names the field (zero: the amount is the credit)."""
        field = "debit" if debit else "credit"
        if value < 0:
            raise FormatError(f"negative amount {value}", field=field)
        if value != value.quantize(_CENT):
            raise FormatError(f"amount {value} has more than 2 decimals", field=field)
        return f"{value:.2f}".replace(".", ",")

    def _journal(self, entry: Entry) -> tuple[bytes, str]:
        """The journal's sort key (UTF-8, NUL-terminated) and
        ``JournalCode<sep>JournalLib<sep>\x00<sep>`` (see :meth:`_raw`)."""
        key = entry.journal if entry.journal_label is None else (entry.journal, entry.journal_label)
        done = self._journals.get(key)
        if done is None:
            journal = self._text(entry.journal, "journal")
            if not journal:
                raise FormatError("JournalCode is blank", field="journal")
            label = self._text(
                entry.journal_label or self._journal_labels.get(entry.journal) or entry.journal,
                "journal_label",
            )
            sep = self.separator
            done = (journal.encode() + b"\0", self._raw(f"{journal}{sep}{label}{sep}\x00{sep}"))
            self._journals[key] = done
        return done

    def _rendered(self, entries: Iterable[Entry]) -> Iterator[tuple[bytes, bytes]]:
        """Each entry's sort key (validation date and date packed, then the journal's key, see
        :meth:`_journal`) and its lines encoded, starting with ``_HEAD`` or with
        ``_PLACEHOLDER`` for its number (see :meth:`_line_head`); errors
        name the entry and field.  One generator for all entries, not a call per entry.

        The parts are held as :meth:`_raw` text, the entry encoded with latin-1 (a copy): not
        encoded into the file's encoding, which for UTF-8 goes character by character over an
        entry with an accent (a PCG account's name as CompteLib, most lines), several times the
        cost of the rest of the entry's rendering.  Values that _text made safe are made raw;
        the others (printable ASCII) and amounts are raw as they are."""
        sep = self.separator
        start, end = self._year
        bad_first, tab = self._bad_first, sep == "\t"  # TAB is not printable
        zero_sep = f"0,00{sep}"  # a credit line's Debit column
        journals, dated_parts, parts = self._journals, self._dated, self._parts
        for entry in entries:
            try:
                lines = entry.lines
                if not lines:
                    raise FormatError("entry has no lines", field="lines")
                day = entry.date
                if (start and day < start) or (end and day > end):
                    bound = (
                        f"before its start {start}"
                        if start and day < start
                        else f"after its end {end}"
                    )
                    raise FormatError(f"date {day} is outside the fiscal year: {bound}",
                                      field="date")  # fmt: skip
                # Keyed by the journal alone when the entry has no journal label (no tuple).
                journal_label = entry.journal_label
                try:  # subscripts, not .get, here and below: no method call on the usual hit
                    journal, head = journals[
                        entry.journal if journal_label is None else (entry.journal, journal_label)
                    ]
                except KeyError:
                    journal, head = self._journal(entry)
                # Pieces and labels are new on every entry (no cache helps): printable ASCII without
                # the separator nor a space or formula prefix first, nor a space last, is what
                # _text would leave as it is, the usual case: taken as it is.
                piece = entry.piece or entry.reference
                if not (piece and piece.isascii() and piece.isprintable() and piece[0] not in bad_first
                        and piece[-1] != " " and (tab or sep not in piece)):  # fmt: skip
                    piece = self._raw(self._text(piece, "piece"))
                if not piece:
                    raise FormatError("PieceRef is blank (no piece nor reference)", field="piece")
                try:
                    date, date_sep, plain_tail, debit_tail, days, keys = dated_parts[day]
                except KeyError:
                    date, date_sep, plain_tail, debit_tail, days, keys = self._date_parts(day)
                try:
                    key, head = keys[head]
                except KeyError:
                    key_head = keys[head] = self._line_head(days + journal, journal, head, date)
                    key, head = key_head
                # Per line only the account part, amounts and currency change (and the label, when
                # the entry has none): a row is _PARTS strings, the zero amount written with the
                # columns around it (`mid_credit`, `debit_tail`).
                entry_label = raw_label = entry.label
                if entry_label and not (
                    entry_label.isascii() and entry_label.isprintable()
                    and entry_label[0] not in bad_first and entry_label[-1] != " "
                    and (tab or sep not in entry_label)
                ):  # fmt: skip
                    entry_label = self._raw(self._text(entry_label, "label"))
                mid = f"{sep}{piece}{date_sep}{entry_label}{sep}"
                mid_credit = mid + zero_sep
                out: list[str] = []  # the lines' parts (_PARTS a line), joined once
                extend = out.extend
                total_debit: Decimal | None = None
                total_credit: Decimal | None = None
                try:
                    for line in lines:
                        # Keyed by the account alone when the line has no auxiliary account: no
                        # tuple to build and hash on most lines.
                        # An auxiliary name without an auxiliary account keys its own kind,
                        # so _account_part refuses it wherever it comes, not only on first use.
                        kind = (
                            line.account
                            if line.aux is None and line.aux_name is None
                            else (line.account, line.aux, line.aux_name)
                        )
                        try:  # a subscript, not .get: no method call on the usual hit
                            known = parts[kind]
                        except KeyError:
                            known = self._account_part(line.account, line.aux, line.aux_name, line.label,
                                                       sep)  # fmt: skip
                            if len(parts) > 8192:
                                parts.clear()
                            parts[kind] = known
                        # CompteNum<sep> + CompteLib + <sep>CompAuxNum<sep>CompAuxLib, the first holding
                        # them all when CompteLib is fixed (see _account_part); else CompteLib is the
                        # line's label, most often the entry's.
                        account, account_label, aux, account_num = known
                        if account_label is None:
                            label = line.label
                            if label == raw_label and entry_label:
                                account_label = entry_label
                            else:
                                account_label = self._text(label, "label")
                                if not account_label:
                                    raise FormatError(
                                        f"CompteLib is blank for account {account_num} (no label; "
                                        "give account_labels)",
                                        field="label",
                                    )
                                account_label = self._raw(account_label)
                        if not entry_label:
                            label = self._text(line.label, "label")
                            if not label:
                                raise FormatError("EcritureLib is blank", field="label")
                            label = self._raw(label)
                            mid = f"{sep}{piece}{date_sep}{label}{sep}"
                            mid_credit = mid + zero_sep
                        debit = line.debit
                        credit = line.credit
                        # Not two decimals in plain notation, or negative ("-" sorts before digits):
                        # _amount formats or refuses.  (Indexing, not slicing: no slice object;
                        # IndexError, not a length test: no call in the usual case.)  The
                        # zero amount is written with the columns around it (`mid_credit`,
                        # `debit_tail`); a line is _PARTS strings, joined with the entry's others.
                        if not debit:
                            if not credit:
                                raise FormatError("exactly one of debit and credit must be non-zero",
                                                  field="debit")  # fmt: skip
                            # Totals skip zeros and start from the first amount: adding costs.
                            total_credit = credit if total_credit is None else total_credit + credit
                            amount = credit  # separate stores: no tuple packed and unpacked a line
                            middle = mid_credit
                            closing = plain_tail
                        elif credit:
                            raise FormatError("exactly one of debit and credit must be non-zero",
                                              field="debit")  # fmt: skip
                        else:
                            total_debit = debit if total_debit is None else total_debit + debit
                            amount = debit
                            middle = mid
                            closing = debit_tail
                        text = str(amount)
                        try:
                            if text[-3] != "." or text < "0":
                                text = self._amount(amount, debit)
                        except IndexError:  # fewer than 3 characters
                            text = self._amount(amount, debit)
                        if line.currency_amount is not None or line.currency is not None:
                            closing = self._foreign_closing(closing, line.currency_amount,
                                                            line.currency, debit)  # fmt: skip
                        extend((head, account, account_label, aux, middle, text.replace(".", ","),
                                closing))  # fmt: skip
                except FormatError as err:  # the line is the one after those rendered
                    raise FormatError(
                        err.message, field=f"lines[{len(out) // _PARTS + 1}].{err.field}"
                    ) from None
                if total_debit != total_credit and unbalanced(lines):
                    total_debit, total_credit = (
                        sum(map(_debit, lines), _ZERO),
                        sum(map(_credit, lines), _ZERO),
                    )
                    raise FormatError(
                        f"entry is not balanced: debit {total_debit} != credit {total_credit}",
                        field="lines",
                    )
                blob = "".join(out).encode(_RAW)
            except FormatError as err:
                raise FormatError(
                    err.message, document_key=entry.document_key, field=err.field
                ) from None
            yield key, blob

    def _line_head(self, key: bytes, journal: bytes, head: str, date: str) -> tuple[bytes, str]:
        """The sort key and what a line starts with, for entries of a date and journal head:
        ``_HEAD`` when the head is the first met for its JournalCode, the usual case, the
        columns then being written when the entry is numbered (:meth:`write`); else the
        columns themselves, with ``_PLACEHOLDER`` for the number, the sort key noted as
        mixed.  Held and spilled entries are a fifth shorter."""
        if self._first_heads.setdefault(journal, head) == head:
            return key, _HEAD
        self._mixed.add(key)
        return key, f"{head}{date}{self.separator}"

    def _head_template(self, key: bytes, number: bytes) -> bytes:
        """What ``_HEAD`` stands for in the entries of ``key`` (see :meth:`_line_head`), as a
        %-template taking the entry's number (``number``, e.g. ``b"VTE-%06d"``)."""
        day = self._date(dt.date.fromordinal(_DAYS.unpack_from(key)[1]))
        columns = f"{self._first_heads[key[_DAYS.size :]]}{day}{self.separator}"
        return columns.encode(_RAW).replace(b"%", b"%%").replace(_PLACEHOLDER, number)

    def _foreign_closing(
        self, closing: str, amount: Decimal | None, currency: str | None, debit: Decimal
    ) -> str:
        """A line's closing columns (see :meth:`_date_parts`) with Montantdevise and Idevise
        instead of the two empty columns; ``debit`` is the line's (zero: a credit line)."""
        sep, eol = self.separator, self.line_ending
        return closing[: -len(sep) - len(eol)] + self._foreign(amount, currency, sep, debit) + eol

    @staticmethod
    def _foreign(amount: Decimal | None, currency: str | None, sep: str, debit: Decimal) -> str:
        """``Montantdevise<sep>Idevise`` of a foreign-currency line.  Montantdevise is signed
        as :attr:`EntryLine.currency_amount` is, positive on a debit line and negative on a
        credit line: one with the other side's sign is refused, not written for a reader to
        take the wrong way."""
        if amount is None or currency is None:
            raise FormatError(
                "Montantdevise and Idevise go together: currency_amount and currency",
                field="currency",
            )
        if not _CURRENCY.fullmatch(currency):
            raise FormatError(f"Idevise {currency!r} is not an ISO 4217 code", field="currency")
        if (amount < 0) if debit else (amount > 0):
            side = "debit" if debit else "credit"
            raise FormatError(
                f"Montantdevise {amount} has the sign of no {side} line (currency_amount is "
                "positive on a debit, negative on a credit)",
                field="currency_amount",
            )
        return f"{amount:f}".replace(".", ",") + sep + currency

    def _account_part(
        self, account: str, aux: str | None, aux_name: str | None, label: str, sep: str
    ) -> _Account:
        """For one kind of line: ``CompteNum<sep>``, CompteLib (None: the line's label, which
        changes from entry to entry), ``<sep>CompAuxNum<sep>CompAuxLib``, these three as
        :meth:`_raw` text, and CompteNum (for errors); when the chart names the account, the
        first holds all three and the next two are empty.

        CompteLib is the account's name "conformément à la nomenclature du plan comptable"
        (VII): the merchant's (``account_labels``), else the PCG account's it subdivides
        (:class:`~postingrules.formats.chart.Chart`); only an account outside the PCG falls
        back to the line's label.  Checked in column order with this line's label."""
        account_num = self._text(account, "account")
        if not _ACCOUNT.match(account_num):
            raise FormatError(f"CompteNum {account_num!r} must start with 3 digits",
                              field="account")  # fmt: skip
        known = self._chart.label(account)
        account_label = self._text(known or label, "label")
        if not account_label:
            raise FormatError(
                f"CompteLib is blank for account {account_num} (no label; give account_labels)",
                field="label",
            )
        # CompAuxNum and CompAuxLib go together (VII: the auxiliary account's number and
        # name): a name is never written beside an empty number; a blank name is the number.
        aux_text = self._text(aux, "aux") if aux else ""
        aux_name_text = self._text(aux_name, "aux_name") if aux_name else ""
        if aux_text:
            aux_name_text = aux_name_text or aux_text
        elif aux_name_text:
            raise FormatError(
                f"CompAuxNum is blank (aux {aux!r}) beside CompAuxLib {aux_name_text!r}",
                field="aux",
            )
        aux_part = f"{sep}{aux_text}{sep}{aux_name_text}"
        if known:
            return self._raw(f"{account_num}{sep}{account_label}{aux_part}"), "", "", account_num
        return self._raw(f"{account_num}{sep}"), None, self._raw(aux_part), account_num

    # -- ordering and numbering --------------------------------------------------------------

    def _records(
        self, entries: Iterable[Entry], stack: ExitStack
    ) -> Iterator[tuple[bytes, list[bytes]]]:
        """Groups ``(key, rendered entries)`` in chronological order, spilling to disk.

        The law's order is (validation date, entry date, journal, arrival), and entries of a
        same (validation date, date, journal) keep their arrival order: so a chunk of entries
        is kept as lists per key (the key packed so that comparing bytes orders keys) and
        needs no sorting, only its keys sorted when it is spilled; merging the spills goes
        by key and spill number, a group of up to ``_SPILL_BATCH`` entries at a time.
        """
        chunk: defaultdict[bytes, list[bytes]] = defaultdict(list)
        held = 0
        spills: list[IO[bytes]] = []
        size = int(self.options["sort_chunk_size"])
        for key, blob in self._rendered(entries):
            chunk[key].append(blob)
            held += 1
            if held >= size:
                spills.append(self._spill(_popped(chunk), stack))
                held = 0
                if len(spills) >= _MAX_SPILLS:
                    spills = [self._spill(_merge(spills), stack)]
        # The last chunk is merged from memory, not spilled and read back: it is held
        # already, and the merge holds one group per spill file besides.
        last = _popped(chunk)
        return _merge(spills, last) if spills else last

    def _spill(self, groups: Iterable[tuple[bytes, list[bytes]]], stack: ExitStack) -> IO[bytes]:
        """A temporary file holding ``groups`` (in key order), cut in ``_SPILL_BATCH``s."""
        spill = stack.enter_context(tempfile.TemporaryFile(dir=self.options["temp_dir"]))  # noqa: SIM115
        for key, blobs in groups:
            # A group of one batch, the usual case, dumped as it is: a slice would touch
            # every entry once more.
            batches = (
                (blobs,)
                if len(blobs) <= _SPILL_BATCH
                else (blobs[i : i + _SPILL_BATCH] for i in range(0, len(blobs), _SPILL_BATCH))
            )
            for batch in batches:
                data = marshal.dumps((key, batch))
                spill.write(len(data).to_bytes(8, "big") + data)
        spill.seek(0)
        return spill

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        numbers: dict[bytes, int] = {}
        templates: dict[bytes, bytes] = {}  # journal -> b"VTE-%06d"
        first = self.options["first_numbers"]
        width = int(self.options["number_width"])
        encoding = self._transcoder.encoding
        header = self.separator.join(FEC_COLUMNS) + self.line_ending
        head_key, head = b"", b""  # the last group's key and its template for _HEAD
        count = 0
        with ExitStack() as stack:
            groups = self._records(entries, stack)
            out.write(header.encode(encoding))
            for key, blobs in groups:
                journal = key[_DAYS.size : -1]
                number = numbers.get(journal)
                if number is None:
                    name = journal.decode()
                    prefix = f"{name}-".encode(encoding).replace(b"%", b"%%")
                    templates[journal] = b"%s%%0%dd" % (prefix, width)
                    number = int(first.get(name, 1)) - 1
                template = templates[journal]
                if key != head_key:  # a key's groups come one after the other
                    head_key, head = key, self._head_template(key, template)
                # The numbers set in C (map), not in a Python loop over the entries.
                last = number + len(blobs)
                span = range(number + 1, last + 1)
                numbered = map(bytes.replace, blobs, repeat(_HEAD_BYTES), map(head.__mod__, span))
                if key in self._mixed:
                    numbered = map(bytes.replace, numbered, repeat(_PLACEHOLDER),
                                   map(template.__mod__, span))  # fmt: skip
                out.write(b"".join(numbered))
                numbers[journal] = last
                count += len(blobs)
        return count


def _popped(chunk: dict[bytes, list[bytes]]) -> Iterator[tuple[bytes, list[bytes]]]:
    """The groups of ``chunk`` in key order, each taken out of it: a group's entries are
    freed once it is written (spilled or numbered), while they are still in the cache,
    not all together when the chunk goes, by then cold."""
    for key in sorted(chunk):
        yield key, chunk.pop(key)


def _merge(
    spills: list[IO[bytes]], last: Iterable[tuple[bytes, list[bytes]]] = ()
) -> Iterator[tuple[bytes, list[bytes]]]:
    """The groups of sorted spill files, then of ``last`` (the groups of the chunk that came
    after them, in key order, held in memory), in key order; a key's groups in spill order
    (the order the entries came in), then file order.  Holds one group per file."""

    def groups(number: int, spill: IO[bytes]) -> Iterator[tuple[bytes, int, int, list[bytes]]]:
        part = 0
        while size := int.from_bytes(spill.read(8), "big"):
            # marshal.load on a file reads each bytes object with a method call: loads is
            # several times faster on the group read at once.
            key, blobs = marshal.loads(spill.read(size))
            yield key, number, part, blobs
            part += 1
        spill.close()

    held = ((key, len(spills), 0, blobs) for key, blobs in last)  # one group per key
    for key, _, _, blobs in heapq.merge(*(groups(n, f) for n, f in enumerate(spills)), held):
        yield key, blobs
