"""An independent FEC validator for the tests, written from the published rules, not the writer.

Sources: article A47 A-1 LPF (VI, VII, IX, XII), BOFiP BOI-CF-IOR-60-40-20, and the checks of the
DGFiP's own tool (Test Compta Demat), which this adds to: that tool does not check per-entry
balance, numbering continuity or chronology (see shared/reference/formats/fec/README.md).
Each problem carries the rule it breaks, so a test can assert that a file breaking exactly one
rule fails for exactly that reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pycountry
from stdnum.fr import siren as stdnum_siren

COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)  # fmt: skip
MANDATORY = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "ValidDate",
)  # fmt: skip
DATES = ("EcritureDate", "PieceDate", "ValidDate")
AMOUNT = re.compile(r"^[+-]?[0-9]+(,[0-9]+)?$|^[0-9]+(,[0-9]+)?[+-]$")
FILE_NAME = re.compile(r"^(?P<siren>[0-9]{9})FEC(?P<date>[0-9]{8})(\.[A-Za-z]+)?$")
NUMBER = re.compile(r"([0-9]+)$")

RULES = (
    "file-name", "encoding", "separator", "header", "field-count", "mandatory", "account",
    "account-name", "aux-account", "date", "amount", "debit-credit", "currency", "currency-sign",
    "balance", "entry-consistency", "numbering", "chronology", "fiscal-year",
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: [{self.rule}] {self.message}"


def _date(value: str) -> dt.date | None:
    if not re.fullmatch(r"[0-9]{8}", value):
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def _amount(value: str) -> Decimal:
    sign = -1 if "-" in value else 1
    return sign * Decimal(value.strip("+-").replace(",", "."))


def validate_fec(
    data: bytes, file_name: str | None = None, encoding: str = "utf-8"
) -> list[Problem]:
    """Every problem found in a FEC file (empty list = valid)."""
    problems: list[Problem] = []

    def fail(rule: str, line: int, message: str) -> None:
        problems.append(Problem(rule, line, message))

    closing: dt.date | None = None
    if file_name is not None:
        match = FILE_NAME.match(file_name)
        if not match:
            fail("file-name", 0, f"{file_name!r} is not <SIREN>FEC<AAAAMMJJ>")
        else:
            if not stdnum_siren.is_valid(match["siren"]):
                fail("file-name", 0, f"SIREN {match['siren']} fails the Luhn check")
            closing = _date(match["date"])
            if closing is None:
                fail("file-name", 0, f"closing date {match['date']} is not a date")
            elif not match["date"].startswith("20"):  # the DGFiP tool reads FEC<20YYMMDD>
                fail("file-name", 0, f"closing date {match['date']} is not 20YYMMDD")
                closing = None  # the tool refuses such a file before any other check
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        fail("encoding", 0, f"not {encoding}: {err}")
        return problems
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        fail("header", 1, "empty file")
        return problems
    head = lines[0]
    sep = "\t" if "\t" in head else "|" if "|" in head else None
    if sep is None:
        fail("separator", 1, "fields are separated neither by TAB nor by '|'")
        return problems
    names = head.split(sep)
    if tuple(names[:18]) != COLUMNS:
        fail("header", 1, f"first 18 names must be {', '.join(COLUMNS)}")
        return problems
    width = len(names)

    entries: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = defaultdict(list)
    account_names: dict[str, str] = {}  # CompteNum -> its first CompteLib
    order: list[tuple[str, str]] = []
    for number, raw in enumerate(lines[1:], 2):
        fields = raw.split(sep)
        if len(fields) != width:
            fail("field-count", number, f"{len(fields)} fields, header has {width}")
            if len(fields) < len(COLUMNS):
                continue  # too short to read; a longer one is still checked for the rest
        row = dict(zip(COLUMNS, fields[: len(COLUMNS)], strict=True))
        for name in MANDATORY:
            if not row[name].strip():
                fail("mandatory", number, f"{name} is blank")
        if not re.match(r"^[0-9]{3}", row["CompteNum"]):
            fail("account", number, f"CompteNum {row['CompteNum']!r} must start with 3 digits")
        # VII: CompteLib is the account's name in the chart, so one name per account.
        name = account_names.setdefault(row["CompteNum"], row["CompteLib"])
        if name != row["CompteLib"]:
            fail("account-name", number,
                 f"CompteNum {row['CompteNum']}: CompteLib {row['CompteLib']!r}, "
                 f"before {name!r}")  # fmt: skip
        if bool(row["CompAuxNum"].strip()) != bool(row["CompAuxLib"].strip()):
            fail("aux-account", number, "CompAuxNum and CompAuxLib must be both set or both blank")
        for name in DATES:
            if row[name] and _date(row[name]) is None:
                fail("date", number, f"{name} {row[name]!r} is not AAAAMMJJ")
        if row["DateLet"] and _date(row["DateLet"]) is None:
            fail("date", number, f"DateLet {row['DateLet']!r} is not AAAAMMJJ")
        amounts_ok = True
        for name in ("Debit", "Credit", "Montantdevise"):
            if (row[name] or name != "Montantdevise") and not AMOUNT.match(row[name]):
                fail("amount", number, f"{name} {row[name]!r} is not a decimal-comma number")
                amounts_ok = amounts_ok and name == "Montantdevise"
        if amounts_ok and (_amount(row["Debit"]) == 0) == (_amount(row["Credit"]) == 0):
            fail("debit-credit", number, "exactly one of Debit and Credit must be non-zero")
        elif amounts_ok and row["Montantdevise"] and AMOUNT.match(row["Montantdevise"]):
            # The writer's convention (EntryLine.currency_amount): positive on a debit line,
            # negative on a credit line; the law gives none, the DGFiP tool checks none.
            foreign, debit_side = _amount(row["Montantdevise"]), _amount(row["Debit"]) != 0
            if (foreign < 0 and debit_side) or (foreign > 0 and not debit_side):
                side = "debit" if debit_side else "credit"
                fail("currency-sign", number,
                     f"Montantdevise {row['Montantdevise']} has the sign of no {side} line")  # fmt: skip
        if bool(row["Montantdevise"]) != bool(row["Idevise"]):
            fail("currency", number, "Montantdevise and Idevise must be both set or both blank")
        if row["Idevise"] and pycountry.currencies.get(alpha_3=row["Idevise"]) is None:
            fail("currency", number, f"Idevise {row['Idevise']!r} is not an ISO 4217 code")
        key = (row["JournalCode"], row["EcritureNum"])
        if key not in entries:
            order.append(key)
        elif entries[key][-1][0] != number - 1:
            fail("entry-consistency", number, f"lines of entry {key[1]} are not contiguous")
        entries[key].append((number, row))

    last: dict[str, int] = {}
    previous: tuple[dt.date, dt.date] | None = None
    for key in order:
        rows = entries[key]
        first_line = rows[0][0]
        try:
            debit = sum((_amount(r["Debit"]) for _, r in rows), Decimal(0))
            credit = sum((_amount(r["Credit"]) for _, r in rows), Decimal(0))
        except ArithmeticError:
            debit = credit = Decimal(0)  # already reported as an amount problem
        if debit != credit:
            fail("balance", first_line, f"entry {key[1]}: debit {debit} != credit {credit}")
        for name in ("EcritureDate", "PieceRef", "ValidDate"):
            if len({r[name] for _, r in rows}) > 1:
                fail("entry-consistency", first_line, f"entry {key[1]} has several {name}")
        match = NUMBER.search(key[1])
        if match is None:
            fail("numbering", first_line, f"EcritureNum {key[1]!r} has no sequence number")
        else:
            seq = int(match[1])
            if key[0] in last and seq != last[key[0]] + 1:
                fail("numbering", first_line,
                     f"journal {key[0]}: {key[1]} follows number {last[key[0]]}")  # fmt: skip
            last[key[0]] = seq
        valid, date = _date(rows[0][1]["ValidDate"]), _date(rows[0][1]["EcritureDate"])
        if valid and date:
            if previous and (valid, date) < previous:
                fail("chronology", first_line, f"entry {key[1]} is dated before the previous one")
            previous = (valid, date)
            if closing and date > closing:
                fail("fiscal-year", first_line, f"entry {key[1]} is after the closing date")
    return problems
