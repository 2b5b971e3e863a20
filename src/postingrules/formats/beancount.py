"""beancount export, and a reader for it built on beancount's own parser.

Why this format: ``bean-check`` is a second independent checker (beside hledger) that recomputes
every transaction's balance, and beancount's tools (fava, bean-query) give an accountant a
browsable view of an export without any of our code.

beancount has no free account names: they must sit under one of five roots (Assets,
Liabilities, Equity, Income, Expenses) and every component must start with an upper-case letter
or a digit.  A French chart account (PCG) is placed by its class and group, longest prefix first
(:data:`PCG_ROOTS`): class 1 Equity (16-17 borrowings: Liabilities), 2-3 Assets, 4 third parties
(customers 41, deductible VAT 4456, supplier advances 409, prepaid 486: Assets; the rest of
class 4, including collected VAT 445: Liabilities), 5 Assets, 6 Expenses, 7 Income.  The name
is ``ROOT:GROUP:C<account>[:<AUX>]`` as in the worked example
(``Assets:Clients:C411000:CLIENTWEB``); the ``C`` keeps the component a plain word.  Another
chart (or letters in the first character) needs the ``roots`` option, a mapping of account
prefix to ``"Root:Group"``; an account no prefix matches is refused, naming the entry.  An
auxiliary code becomes an upper-case ASCII component (``client_1`` → ``CLIENT-1``); two codes
that would become the same component are refused rather than merged.

Layout: ``DATE * "payee" "label" #JOURNAL ^PIECE``, payee = the first auxiliary name; entry
metadata ``document_key``, ``kind``, ``journal``, ``piece``, ``reference`` and the entry's own
metadata; per posting ``provenance``, ``tax_code``, ``tax_rate``, ``aux``, ``aux_name``,
``label``, ``analytic``.  A foreign line is written ``110.00 USD @@ 101.45 EUR`` (price =
booked value).  ``open`` directives are written last, dated 1 January of the year of each
account's first use and listing the currencies it holds: beancount reads directives in date
order wherever they stand, and the writer streams, remembering only account names.  An entry
whose debits and credits differ is refused with a :class:`FormatError` naming it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar

from postingrules.formats.base import (
    Format,
    FormatError,
    OptionError,
    clean_text,
    in_entry,
    register,
    string_mapping,
    unbalanced_error,
)
from postingrules.formats.hledger import decimal_text, foreign_amount
from postingrules.model.entries import Entry, EntryLine

ZERO = Decimal(0)
CENT = Decimal("0.01")
_EPSILON = Decimal("1e-20")

PCG_ROOTS: Mapping[str, str] = {
    "1": "Equity:Capitaux",
    "16": "Liabilities:Emprunts",
    "17": "Liabilities:Dettes",
    "2": "Assets:Immobilisations",
    "3": "Assets:Stocks",
    "4": "Liabilities:Tiers",
    "40": "Liabilities:Fournisseurs",
    "409": "Assets:Fournisseurs",
    "41": "Assets:Clients",
    "419": "Liabilities:Clients",
    "42": "Liabilities:Personnel",
    "43": "Liabilities:Social",
    "44": "Liabilities:Etat",
    "445": "Liabilities:TVA",
    "4456": "Assets:TVA",
    "486": "Assets:Regularisation",
    "5": "Assets:Tresorerie",
    "51": "Assets:Banques",
    "53": "Assets:Caisse",
    "58": "Assets:Virements",
    "6": "Expenses:Charges",
    "60": "Expenses:Achats",
    "61": "Expenses:Services",
    "62": "Expenses:Services",
    "63": "Expenses:Impots",
    "64": "Expenses:Personnel",
    "66": "Expenses:Financieres",
    "67": "Expenses:Exceptionnelles",
    "7": "Income:Produits",
    "70": "Income:Ventes",
    "75": "Income:Gestion",
    "76": "Income:Financiers",
    "77": "Income:Exceptionnels",
}
_ROOT = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)*\Z")
_CODE = re.compile(r"[A-Za-z0-9-]+\Z")
_TAG = re.compile(r"[A-Za-z0-9_/.-]+\Z")
_META_KEY = re.compile(r"[a-z][a-zA-Z0-9_-]*\Z")
ENTRY_META = (
    "document_key",
    "kind",
    "journal",
    "journal_label",
    "piece",
    "reference",
    "payment_method",
)


def _string(value: str) -> str:
    return '"' + clean_text(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _aux_component(aux: str) -> str:
    plain = unicodedata.normalize("NFKD", aux).encode("ascii", "ignore").decode().upper()
    component = re.sub(r"[^A-Z0-9-]", "-", plain)
    return component if component[:1].isalnum() else "X" + component


@dataclass
class _Opened:
    first: dt.date
    currencies: set[str] = field(default_factory=set)
    account: str = ""
    aux: str | None = None


@register
class Beancount(Format):
    """beancount ledger; checkable with ``bean-check``."""

    name: ClassVar[str] = "beancount"
    summary: ClassVar[str] = "beancount ledger with document key and provenance metadata"
    extension: ClassVar[str] = ".beancount"
    separator: ClassVar[str | None] = " "
    option_defaults: ClassVar[Mapping[str, Any]] = {"roots": None}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        option = self.options["roots"]
        roots = dict(PCG_ROOTS) if option is None else string_mapping(self.name, "roots", option)
        for prefix, root in roots.items():
            if not _ROOT.match(root):
                raise OptionError(
                    f"format 'beancount' option 'roots': {root!r} (for {prefix!r}) is not a "
                    "beancount account prefix (Assets|Liabilities|Equity|Income|Expenses, "
                    "then :Component…)"
                )
        self.roots = roots

    def account(self, entry: Entry, line: EntryLine) -> str:
        """The beancount name of a line's account (and auxiliary)."""
        code = line.account
        for size in range(len(code), 0, -1):
            root = self.roots.get(code[:size])
            if root is not None:
                break
        else:
            raise FormatError(
                f"account {code!r} matches no beancount root (option 'roots')",
                document_key=entry.document_key,
                field="account",
            )
        if not _CODE.match(code):
            raise FormatError(
                f"account {code!r} holds characters a beancount name cannot",
                document_key=entry.document_key,
                field="account",
            )
        name = f"{root}:C{code}"
        return f"{name}:{_aux_component(line.aux)}" if line.aux else name

    def write(self, entries: Iterable[Entry], out: BinaryIO) -> int:
        opened: dict[str, _Opened] = {}
        count = 0
        out.write(b'option "title" "postingrules export"\n')
        for entry in entries:
            if count == 0:
                out.write(f'option "operating_currency" "{entry.currency}"\n'.encode())
            try:
                text = self._transaction(entry, opened)
            except FormatError as err:
                raise in_entry(err, entry) from None
            out.write(text.encode("utf-8"))
            count += 1
        out.write(b"\n; accounts: beancount reads directives in date order, wherever they stand\n")
        for name, info in sorted(opened.items()):
            start = dt.date(info.first.year, 1, 1).isoformat()
            text = f"{start} open {name} {','.join(sorted(info.currencies))}\n"
            text += f"  pcg: {_string(info.account)}\n"
            if info.aux is not None:
                text += f"  aux: {_string(info.aux)}\n"
            out.write(text.encode("utf-8"))
        return count

    def _transaction(self, entry: Entry, opened: dict[str, _Opened]) -> str:
        payee = next((line.aux_name for line in entry.lines if line.aux_name), None)
        head = f"\n{entry.date.isoformat()} *"
        if payee:
            head += " " + _string(payee)
        head += " " + _string(entry.label)
        if _TAG.match(entry.journal):
            head += f" #{entry.journal}"
        if _TAG.match(entry.piece):
            head += f" ^{entry.piece}"
        meta = {
            "document_key": entry.document_key,
            "kind": entry.document_kind,
            "journal": entry.journal,
            "journal_label": entry.journal_label or "",
            "piece": entry.piece,
            "reference": entry.reference,
            "payment_method": entry.payment_method or "",
        }
        for key, value in entry.metadata.items():
            if not _META_KEY.match(key) or key in ENTRY_META:
                raise FormatError(
                    f"metadata key {key!r} cannot be a beancount key (a-z first, then letters, "
                    "digits, '_', '-'; not one of the export's own keys)",
                    document_key=entry.document_key,
                    field="metadata",
                )
            meta[key] = value
        out = [head, *(f"  {k}: {_string(v)}" for k, v in meta.items() if v)]
        balance = ZERO
        for line in entry.lines:
            name = self.account(entry, line)
            info = opened.setdefault(name, _Opened(entry.date, account=line.account, aux=line.aux))
            if info.aux != line.aux:
                raise FormatError(
                    f"aux {line.aux!r} and {info.aux!r} both become {name!r} in beancount",
                    document_key=entry.document_key,
                    field="aux",
                )
            info.first = min(info.first, entry.date)
            signed = line.debit - line.credit
            balance += signed
            amount = f"{decimal_text(signed)} {entry.currency}"
            foreign = foreign_amount(entry, line)
            if foreign:
                booked = decimal_text(abs(signed))
                amount = f"{decimal_text(foreign[0])} {foreign[1]} @@ {booked} {entry.currency}"
                info.currencies.add(foreign[1])
            else:
                info.currencies.add(entry.currency)
            out.append(f"  {name}{' ' * max(2, 38 - len(name))}{amount:>11}")
            line_meta = {
                "provenance": _string(line.provenance) if line.provenance else "",
                "tax_code": _string(line.tax_code) if line.tax_code else "",
                "tax_rate": "" if line.tax_rate is None else format(line.tax_rate, "f"),
                "aux": _string(line.aux) if line.aux else "",
                "aux_name": _string(line.aux_name) if line.aux_name else "",
                "label": _string(line.label) if line.label else "",
                "analytic": _string(line.analytic) if line.analytic else "",
            }
            out += [f"    {k}: {v}" for k, v in line_meta.items() if v]
        if balance:  # the lines' signed amounts do not add up to zero
            raise unbalanced_error(entry)
        return "\n".join(out) + "\n"


# --- reader (round trip), through beancount's own loader ----------------------------------------


def read(text: str) -> Iterator[Entry]:
    """Entries back from an export, parsed by beancount itself (``pip install beancount``).

    beancount keeps a ``@@`` total price as a unit price; the booked amount comes back as its
    weight (units x unit price, 28 significant digits), put back on cents when it is within
    1e-20 of them.  Raises ``ValueError`` with beancount's messages when the file does not load.
    """
    from beancount import loader
    from beancount.core import convert, data

    directives, errors, _ = loader.load_string(text)
    if errors:
        raise ValueError("; ".join(str(getattr(e, "message", e)) for e in errors))
    for txn in directives:
        if not isinstance(txn, data.Transaction):
            continue
        meta = {
            k: v
            for k, v in txn.meta.items()
            if k not in ("filename", "lineno") and not k.startswith("__")
        }
        lines = []
        currency = ""
        for posting in txn.postings:
            pm: dict[str, Any] = posting.meta or {}
            units = posting.units.number
            weight = convert.get_weight(posting)
            booked, currency = weight.number, weight.currency
            if posting.price is not None and abs(booked - booked.quantize(CENT)) < _EPSILON:
                booked = booked.quantize(CENT)
            lines.append(
                EntryLine(
                    account=posting.account.split(":")[2][1:],
                    aux=pm.get("aux"),
                    aux_name=pm.get("aux_name"),
                    label=pm.get("label", ""),
                    debit=booked if booked > 0 else ZERO,
                    credit=-booked if booked < 0 else ZERO,
                    tax_code=pm.get("tax_code"),
                    tax_rate=pm.get("tax_rate"),
                    analytic=pm.get("analytic"),
                    currency_amount=units if posting.price is not None else None,
                    currency=posting.units.currency if posting.price is not None else None,
                    provenance=pm.get("provenance", ""),
                )
            )
        yield Entry(
            journal=meta.pop("journal"),
            journal_label=meta.pop("journal_label", None),
            date=txn.date,
            piece=meta.pop("piece"),
            reference=meta.pop("reference", ""),
            label=txn.narration,
            document_key=meta.pop("document_key"),
            document_kind=meta.pop("kind"),
            currency=currency,
            payment_method=meta.pop("payment_method", None),
            metadata=meta,
            lines=tuple(lines),
        )
