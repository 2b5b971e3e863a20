"""QuickBooks Online JournalEntry request bodies, one JSON object per entry (JSON Lines).

Why: QuickBooks Online has no journal import file; entries reach it through the Accounting API
(``POST /v3/company/<realm>/journalentry``).  This format writes exactly the bodies that would
be posted, so they can be reviewed, archived, or sent by a later connector; nothing is sent here.
Shapes follow Intuit's JournalEntry reference and the research notes' worked examples
(``reference/formats/quickbooks-online/worked-example-order5-*.json``); amounts are exact JSON
numbers written from Decimal, never through float.

Two tax models, chosen by the ``edition`` option:

* ``US``: every line as it is, VAT/sales-tax lines included, no tax fields (US companies state
  sales tax per transaction; a journal entry posts it to a liability account explicitly).
* ``FR``, ``GB``, ``CA`` (global tax model): ``GlobalTaxCalculation: TaxExcluded``; the lines on
  tax accounts (option ``tax_accounts``, account prefixes, default ``445``) are not written,
  QuickBooks posts the tax itself from the taxable lines, which carry ``TaxCodeRef``,
  ``TaxApplicableOn: Sales`` and ``TaxAmount``; ``TxnTaxDetail`` gives one ``TaxLine`` per tax
  code (rate, ``NetAmountTaxable``, amount).  A tax code's VAT is shared over its taxable lines
  pro rata, the last line taking the rounding remainder, so the shares add up to the VAT lines
  exactly.  ``FR`` adds ``JournalCodeRef`` on every line.  Unverified against a sandbox: that
  QuickBooks posts the tax to the expected account, and how it wants a refund's tax (amounts are
  written positive, with the lines' own Debit/Credit).

QuickBooks refers to its objects by Id, which only the company knows: the options ``accounts``
(account-code prefix → Account Id, longest prefix wins), ``customers`` (aux → Customer Id),
``tax_codes`` and ``tax_rates`` (tax code → TaxCode / TaxRate Id) and ``journals`` (journal →
JournalCode Id) map ours to theirs; unmapped values are written as they are.  Lines with an
auxiliary carry ``Entity`` (Vendor for accounts starting ``40``, else Customer), which QuickBooks
requires on A/R and A/P lines.  Book-currency amounts only: a foreign amount is not carried.
Taxable lines of one code may stand on both sides (a discount debited at the sales' code): the
bases are signed, so the discount takes a negative share of the tax.  The rate belongs to the
code (one ``TaxLine`` per code), so a taxable line may leave it out when another line of its code
gives it.  Refused with a located error: an entry whose debits and credits differ, a DocNumber
over 21 characters, a VAT line whose tax code has no taxable line, a tax code none of whose
taxable lines has a rate or whose lines have different rates.  ``TransactionLocationType`` (FR:
WithinFrance, FranceOverseas, OutsideFranceWithEU, OutsideEU) is not written: the reference lists
its values but not when each applies, and an entry's tax codes are the ruleset's own names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, BinaryIO, ClassVar

from postingrules.formats.base import (
    Format,
    FormatError,
    OptionError,
    clean_text,
    in_entry,
    register,
    string_mapping,
    unbalanced,
    unbalanced_error,
)
from postingrules.formats.hledger import decimal_text
from postingrules.model.entries import Entry, EntryLine

EDITIONS = ("US", "FR", "GB", "CA")
MAX_DOCNUMBER = 21
ZERO = Decimal(0)
CENT = Decimal("0.01")


class _Number:
    """A JSON number written from its exact decimal text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _money(value: Decimal) -> _Number:
    return _Number(decimal_text(value))


def _dump(value: Any) -> str:
    if isinstance(value, _Number):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{_dump(k)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _lookup(mapping: Mapping[str, str], key: str, prefix: bool = False) -> str:
    if prefix:
        for size in range(len(key), 0, -1):
            if key[:size] in mapping:
                return mapping[key[:size]]
        return key
    return mapping.get(key, key)


@register
class QuickBooksOnline(Format):
    """QuickBooks Online JournalEntry bodies (JSON Lines), US or global tax model."""

    name: ClassVar[str] = "qbo"
    summary: ClassVar[str] = (
        "QuickBooks Online JournalEntry JSON bodies, one per line (US/FR/GB/CA)"
    )
    extension: ClassVar[str] = ".jsonl"
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "edition": "FR",
        "accounts": None,
        "customers": None,
        "tax_codes": None,
        "tax_rates": None,
        "journals": None,
        "tax_accounts": ("445",),
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        edition = self.options["edition"]
        if not (isinstance(edition, str) and edition in EDITIONS):
            raise OptionError(f"edition must be one of {', '.join(EDITIONS)}, not {edition!r}")
        self.edition: str = edition
        self.maps: dict[str, dict[str, str]] = {
            key: string_mapping(self.name, key, self.options[key])
            for key in ("accounts", "customers", "tax_codes", "tax_rates", "journals")
        }
        # A string is refused, not read as a sequence: "445" would become the prefixes
        # "4", "4", "5", so every line would be taken for tax.
        tax_accounts = self.options["tax_accounts"]
        if not (
            isinstance(tax_accounts, (list, tuple))
            and tax_accounts
            and all(isinstance(prefix, str) and prefix for prefix in tax_accounts)
        ):
            raise OptionError(
                f"format {self.name!r} option 'tax_accounts' must be a non-empty list of "
                f'account prefixes (text, e.g. ["445"]), not {tax_accounts!r}'
            )
        self.tax_accounts = tuple(tax_accounts)

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        count = 0
        for entry in entries:
            try:
                body = self.body(entry)
            except FormatError as err:
                raise in_entry(err, entry) from None
            out.write((_dump(body) + "\n").encode("utf-8"))
            count += 1
        return count

    def body(self, entry: Entry) -> dict[str, Any]:
        """The JournalEntry request body for one entry."""
        if unbalanced(entry.lines):  # QuickBooks refuses it; name the entry before posting
            raise unbalanced_error(entry)
        piece = clean_text(entry.piece)
        if len(piece) > MAX_DOCNUMBER:
            raise FormatError(
                f"{piece!r} is longer than QuickBooks' DocNumber ({MAX_DOCNUMBER} characters)",
                document_key=entry.document_key,
                field="piece",
            )
        body: dict[str, Any] = {
            "TxnDate": entry.date.isoformat(),
            "DocNumber": piece,
            "PrivateNote": clean_text(f"postingrules {entry.document_key}"),
        }
        if self.edition == "US":
            body["Line"] = [
                self._line(entry, line, index, None) for index, line in enumerate(entry.lines)
            ]
            return body
        body["GlobalTaxCalculation"] = "TaxExcluded"
        shares, tax_lines = self._taxes(entry)
        kept = [line for line in entry.lines if not self._is_tax(line)]
        body["Line"] = [
            self._line(entry, line, index, shares.get(id(line))) for index, line in enumerate(kept)
        ]
        if tax_lines:
            body["TxnTaxDetail"] = {
                "TotalTax": _money(sum((t[1] for t in tax_lines), ZERO)),
                "TaxLine": [
                    {
                        "Amount": _money(amount),
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {
                            "TaxRateRef": {"value": _lookup(self.maps["tax_rates"], code)},
                            "PercentBased": True,
                            "TaxPercent": _Number(format(rate, "f")),
                            "NetAmountTaxable": _money(base),
                        },
                    }
                    for code, amount, rate, base in tax_lines
                ],
            }
        return body

    def _is_tax(self, line: EntryLine) -> bool:
        return line.account.startswith(self.tax_accounts)

    def _line(
        self, entry: Entry, line: EntryLine, index: int, tax_share: Decimal | None
    ) -> dict[str, Any]:
        description = line.label or entry.label
        if self.edition == "US" and self._is_tax(line) and not line.label:
            description += " - tax"
        detail: dict[str, Any] = {
            "PostingType": "Debit" if line.debit > 0 or line.credit == 0 else "Credit",
            "AccountRef": {"value": _lookup(self.maps["accounts"], line.account, prefix=True)},
        }
        if line.aux:
            detail["Entity"] = {
                "Type": "Vendor" if line.account.startswith("40") else "Customer",
                "EntityRef": {"value": _lookup(self.maps["customers"], line.aux)},
            }
        if tax_share is not None and line.tax_code:
            detail["TaxCodeRef"] = {"value": _lookup(self.maps["tax_codes"], line.tax_code)}
            detail["TaxApplicableOn"] = "Sales"
            detail["TaxAmount"] = _money(tax_share)
        if self.edition == "FR":
            detail["JournalCodeRef"] = {"value": _lookup(self.maps["journals"], entry.journal)}
        return {
            "Id": str(index),
            "Description": clean_text(description),
            "Amount": _money(abs(line.debit - line.credit)),
            "DetailType": "JournalEntryLineDetail",
            "JournalEntryLineDetail": detail,
        }

    def _taxes(
        self, entry: Entry
    ) -> tuple[dict[int, Decimal], list[tuple[str, Decimal, Decimal, Decimal]]]:
        """Tax share per taxable line (by ``id``) and (code, tax, rate, base) per tax code."""

        def fail(message: str, field: str = "tax_code") -> FormatError:
            return FormatError(message, document_key=entry.document_key, field=field)

        taxable: dict[str, list[EntryLine]] = {}
        for line in entry.lines:
            if line.tax_code and not self._is_tax(line):
                taxable.setdefault(line.tax_code, []).append(line)
        vat: dict[str, Decimal] = {}
        for line in entry.lines:
            if not self._is_tax(line):
                continue
            code = line.tax_code or (next(iter(taxable)) if len(taxable) == 1 else None)
            if code is None or code not in taxable:
                raise fail(f"tax line on {line.account} has no taxable line with its tax code")
            vat[code] = vat.get(code, ZERO) + line.credit - line.debit
        shares: dict[int, Decimal] = {}
        summary = []
        for code, lines in taxable.items():
            # The rate belongs to the code (one TaxLine, one TaxPercent per code): a line may
            # leave it out, but two rates under one code would make one of them wrong.
            rates = {line.tax_rate for line in lines if line.tax_rate is not None}
            if not rates:
                raise fail(f"taxable lines of tax code {code!r} have no tax rate", "tax_rate")
            if len(rates) > 1:
                listed = ", ".join(sorted(map(str, rates)))
                raise fail(
                    f"taxable lines of tax code {code!r} have different rates: {listed}", "tax_rate"
                )
            (rate,) = rates
            # Signed bases (credit positive): a discount debited at the sales' rate reduces
            # the base and takes a negative share of the tax, as the VAT it nets out.
            bases = [line.credit - line.debit for line in lines]
            total_base = sum(bases, ZERO)
            tax = vat.get(code, ZERO)
            if total_base == 0 and tax:
                raise fail(f"tax code {code!r} has tax but no taxable amount")
            left = tax
            for position, (line, base) in enumerate(zip(lines, bases, strict=True)):
                if position == len(lines) - 1:
                    share = left
                else:
                    share = (tax * base / total_base).quantize(CENT, rounding=ROUND_HALF_UP)
                shares[id(line)] = abs(share)
                left -= share
            summary.append((code, abs(tax), rate, abs(total_base)))
        return shares, summary


def read(data: bytes) -> Iterator[dict[str, Any]]:
    """The bodies back, numbers as Decimal (the JSON Lines written by this module)."""
    for line in data.decode("utf-8").splitlines():
        if line:
            yield json.loads(line, parse_float=Decimal, parse_int=Decimal)
