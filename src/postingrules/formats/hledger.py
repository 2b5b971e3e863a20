"""hledger / ledger journal export, and a reader for it.

Why this format: ``hledger check`` and ``ledger bal`` recompute every balance from the file
alone, so an export they accept is evidence, independent of our code, that each entry balances
and that the account totals are the engine's.  The writer keeps to the journal syntax both tools
accept (research notes §5.1):

* ``DATE * (PIECE) LABEL`` - the piece is the transaction code, the entry label the
  description; then one ``; key: value`` comment line per tag (``doc`` = document key, ``kind``,
  ``journal``, ``reference``, the entry's metadata), then the postings, each followed by its own
  tags (``rule`` = provenance, ``tax``, ``rate``, ``name`` = auxiliary name, ``label``,
  ``analytic``).
* Account names are ``ACCOUNT`` or ``ACCOUNT:AUX`` (``411000:CLIENTWEB``), so ``hledger bal``
  totals a customer account over its auxiliaries and ``--depth 1`` gives the general ledger.
* ``commodity``, ``account`` and ``tag`` directives are written just before the first
  transaction that needs them: the file then passes ``hledger check -s`` and
  ``ledger --pedantic`` while the writer still streams (it only remembers the names seen).
* A foreign-currency line is written as its document-currency amount with its booked value as
  a total cost: ``110.00 USD @@ 101.45 EUR``; the transaction balances at cost and
  ``hledger bal -B`` shows the book-currency totals.

What does not survive the syntax, on purpose and documented: a ``;`` in a label ends the
description in both tools and is written ``,``; a tag value ends at a comma in hledger, so commas
in tag values are written ``;``; TAB/CR/LF become spaces.  Names that would change the meaning of
a line (``(``, ``[``, ``;``, ``:`` inside an account code or auxiliary, two spaces) are refused
with a :class:`FormatError` naming the entry and field; so is an entry whose debits and
credits differ (hledger and ledger would reject the whole file without saying which entry).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar, TextIO

from postingrules.formats.base import (
    Format,
    FormatError,
    clean_text,
    in_entry,
    register,
    unbalanced_error,
)
from postingrules.model.entries import Entry, EntryLine

ZERO = Decimal(0)
CENT = Decimal("0.01")

# Tags always declared (ledger --pedantic refuses undeclared ones).
ENTRY_TAGS = ("doc", "kind", "journal", "journal_label", "reference", "payment_method")
LINE_TAGS = ("rule", "tax", "rate", "name", "label", "analytic")
_TAG_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_NAME = re.compile(r"[^\s;:()\[\]@=*!]+(?: [^\s;:()\[\]@=*!]+)*\Z")


def decimal_text(value: Decimal) -> str:
    """Exact decimal text with at least two decimals, no exponent, no ``-0``."""
    if value == 0:
        value = abs(value)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(CENT)
    return format(value, "f")


def foreign_amount(entry: Entry, line: EntryLine) -> tuple[Decimal, str] | None:
    """The line's signed amount in its document currency, when that differs from the entry's.

    Checks that the foreign amount has the same sign as the booked amount: a cost notation with
    opposite signs would balance the transaction on a wrong value.
    """
    if line.currency_amount is None:
        return None
    if line.currency is None:
        raise FormatError(
            f"currency_amount {line.currency_amount} on account {line.account} has no currency",
            document_key=entry.document_key,
            field="currency",
        )
    if line.currency == entry.currency:
        return None
    booked = line.debit - line.credit
    if (line.currency_amount > 0) != (booked > 0) or (line.currency_amount == 0) != (booked == 0):
        raise FormatError(
            f"currency_amount {line.currency_amount} {line.currency} on account {line.account} "
            f"has not the sign of the booked amount {booked}",
            document_key=entry.document_key,
            field="currency_amount",
        )
    return line.currency_amount, line.currency


def _tag_value(value: str) -> str:
    return clean_text(value).replace(",", ";").strip()


def _check_name(entry: Entry, value: str, field: str) -> str:
    if not _NAME.match(value):
        raise FormatError(
            f"{value!r} cannot be a journal account name (no ':', ';', brackets, '@', '=', "
            "'*', '!', leading/trailing or double spaces)",
            document_key=entry.document_key,
            field=field,
        )
    return value


def account_name(entry: Entry, line: EntryLine) -> str:
    """``ACCOUNT`` or ``ACCOUNT:AUX``, refused when either part would alter the syntax."""
    name = _check_name(entry, line.account, "account")
    if line.aux:
        name += ":" + _check_name(entry, line.aux, "aux")
    return name


@register
class Hledger(Format):
    """hledger/ledger journal; checkable with ``hledger check -s`` and ``ledger --pedantic``."""

    name: ClassVar[str] = "hledger"
    summary: ClassVar[str] = "hledger/ledger journal with document key and rule provenance tags"
    extension: ClassVar[str] = ".journal"
    separator: ClassVar[str | None] = " "
    line_ending: ClassVar[str] = "\n"

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        commodities: set[str] = set()
        accounts: set[str] = set()
        tags: set[str] = set(ENTRY_TAGS + LINE_TAGS)
        head = ["; postingrules export - hledger/ledger journal"]
        head += [f"tag {t}" for t in sorted(tags)]
        out.write(("\n".join(head) + "\n").encode())
        count = 0
        for entry in entries:
            try:
                body = self._transaction(entry)
            except FormatError as err:
                raise in_entry(err, entry) from None
            directives: list[str] = []
            for key in self._entry_tags(entry):
                if key not in tags:
                    tags.add(key)
                    directives.append(f"tag {key}")
            for line in entry.lines:
                cur = [entry.currency]
                foreign = foreign_amount(entry, line)
                if foreign:
                    cur.append(foreign[1])
                for c in cur:
                    if c not in commodities:
                        commodities.add(c)
                        directives += [f"commodity {c}", f"    format 1000.00 {c}"]
                name = account_name(entry, line)
                if name not in accounts:
                    accounts.add(name)
                    directives.append(f"account {name}")
            text = "\n" + "".join(d + "\n" for d in directives) + body
            out.write(text.encode("utf-8"))
            count += 1
        return count

    @staticmethod
    def _entry_tags(entry: Entry) -> dict[str, str]:
        tags = {
            "doc": entry.document_key,
            "kind": entry.document_kind,
            "journal": entry.journal,
        }
        if entry.journal_label:
            tags["journal_label"] = entry.journal_label
        if entry.reference:
            tags["reference"] = entry.reference
        if entry.payment_method:
            tags["payment_method"] = entry.payment_method
        for key, value in entry.metadata.items():
            if not _TAG_KEY.match(key) or key in tags or key in ENTRY_TAGS + LINE_TAGS:
                raise FormatError(
                    f"metadata key {key!r} cannot be a tag (lower-case letters, digits, '_'; "
                    "not one of the export's own tags)",
                    document_key=entry.document_key,
                    field="metadata",
                )
            tags[key] = value
        return tags

    def _transaction(self, entry: Entry) -> str:
        piece = _tag_value(entry.piece).replace(")", "]")
        label = clean_text(entry.label).replace(";", ",").strip()
        out = [f"{entry.date.isoformat()} * ({piece}) {label}".rstrip()]
        out += [f"    ; {k}: {_tag_value(v)}" for k, v in self._entry_tags(entry).items()]
        balance = ZERO
        for line in entry.lines:
            signed = line.debit - line.credit
            balance += signed
            amount = f"{decimal_text(signed)} {entry.currency}"
            foreign = foreign_amount(entry, line)
            if foreign:
                booked = decimal_text(abs(line.debit - line.credit))
                amount = f"{decimal_text(foreign[0])} {foreign[1]} @@ {booked} {entry.currency}"
            name = account_name(entry, line)
            out.append(f"    {name}{' ' * max(2, 24 - len(name))}{amount:>14}")
            line_tags = {
                "rule": line.provenance,
                "tax": line.tax_code or "",
                "rate": "" if line.tax_rate is None else str(line.tax_rate),
                "name": line.aux_name or "",
                "label": line.label if line.label != entry.label else "",
                "analytic": line.analytic or "",
            }
            out += [f"        ; {k}: {_tag_value(v)}" for k, v in line_tags.items() if v]
        if balance:  # the lines' signed amounts do not add up to zero
            raise unbalanced_error(entry)
        return "\n".join(out) + "\n"


# --- reader (round trip) ----------------------------------------------------------------------

_TXN = re.compile(r"(\d{4}-\d{2}-\d{2}) \* \(([^)]*)\) ?(.*)\Z")
_TAG = re.compile(r"; ([a-z][a-z0-9_]*): (.*)\Z")
_POSTING = re.compile(
    r"(?P<name>\S(?:.*?\S)?)  +(?P<qty>-?\d+(?:\.\d+)?) (?P<cur>[A-Z]{3})"
    r"(?: @@ (?P<cost>\d+(?:\.\d+)?) (?P<costcur>[A-Z]{3}))?\Z"
)


def read(stream: TextIO) -> Iterator[Entry]:
    """Entries back from a journal this module wrote (documented text substitutions aside)."""
    txn: dict[str, Any] | None = None
    lines: list[dict[str, Any]] = []
    for number, raw in enumerate(stream, 1):
        text = raw.rstrip("\n")
        if not text.startswith(" "):
            if txn is not None:
                yield _entry(txn, lines)
                txn = None
            match = _TXN.match(text)
            if match:
                txn = {"date": match[1], "piece": match[2], "label": match[3], "tags": {}}
                lines = []
            continue
        if txn is None:
            continue  # sub-directive (commodity format)
        stripped = text.strip()
        tag = _TAG.match(stripped)
        if tag:
            (lines[-1]["tags"] if lines else txn["tags"])[tag[1]] = tag[2]
            continue
        posting = _POSTING.match(stripped)
        if not posting:
            raise ValueError(f"line {number}: not a posting: {text!r}")
        lines.append({**posting.groupdict(), "tags": {}})
    if txn is not None:
        yield _entry(txn, lines)


def _entry(txn: dict[str, Any], postings: list[dict[str, Any]]) -> Entry:
    tags: dict[str, str] = dict(txn["tags"])
    currency = ""
    out_lines = []
    for p in postings:
        if p["cost"] is not None:
            booked = Decimal(p["cost"]) * (-1 if p["qty"].startswith("-") else 1)
            currency = p["costcur"]
        else:
            booked = Decimal(p["qty"])
            currency = p["cur"]
        account, _, aux = p["name"].partition(":")
        lt: dict[str, str] = p["tags"]
        out_lines.append(
            EntryLine(
                account=account,
                aux=aux or None,
                aux_name=lt.get("name"),
                debit=booked if booked > 0 else ZERO,
                credit=-booked if booked < 0 else ZERO,
                label=lt.get("label", txn["label"]),
                tax_code=lt.get("tax"),
                tax_rate=Decimal(lt["rate"]) if "rate" in lt else None,
                analytic=lt.get("analytic"),
                currency_amount=Decimal(p["qty"]) if p["cost"] is not None else None,
                currency=p["cur"] if p["cost"] is not None else None,
                provenance=lt.get("rule", ""),
            )
        )
    return Entry(
        journal=tags.pop("journal"),
        journal_label=tags.pop("journal_label", None),
        date=dt.date.fromisoformat(txn["date"]),
        piece=txn["piece"],
        reference=tags.pop("reference", ""),
        label=txn["label"],
        document_key=tags.pop("doc"),
        document_kind=tags.pop("kind"),  # type: ignore[arg-type]
        currency=currency,
        payment_method=tags.pop("payment_method", None),
        metadata=tags,
        lines=tuple(out_lines),
    )
