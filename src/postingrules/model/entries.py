"""Journal entries: what the engine emits and every accounting format consumes.

Entries are frozen msgspec Structs rather than pydantic models or dataclasses: the engine
builds them (from already validated data) once per document on the hot path, where a Struct
is built in C several times faster than a dataclass (and frozen at no cost), and the JSON
Lines writer encodes them directly.  Structs compare, print and read like dataclasses.
An :class:`Entry` always balances exactly; the engine refuses a document rather than emit one
that does not (see :class:`Refusal`).
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import msgspec

ZERO = Decimal(0)
_DEBIT = operator.attrgetter("debit")
_CREDIT = operator.attrgetter("credit")

DocumentKind = Literal["sale", "refund", "payment"]


class EntryLine(msgspec.Struct, frozen=True, gc=False):
    """One posting: an account debited or credited, in the ruleset's currency.

    Exactly one of ``debit`` and ``credit`` is non-zero (both may be zero only for a zero
    line, which the engine does not emit).  ``currency_amount`` keeps the signed amount in the
    document's own currency (positive = debit) when it differs from the ruleset's.
    """

    account: str
    debit: Decimal
    credit: Decimal
    label: str = ""
    aux: str | None = None
    aux_name: str | None = None
    tax_code: str | None = None
    tax_rate: Decimal | None = None
    analytic: str | None = None
    currency_amount: Decimal | None = None
    currency: str | None = None
    provenance: str = ""

    @property
    def amount(self) -> Decimal:
        """Signed amount: positive for a debit, negative for a credit."""
        return self.debit - self.credit

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping; amounts become strings so no reader goes through float."""
        return {
            "account": self.account,
            "aux": self.aux,
            "aux_name": self.aux_name,
            "label": self.label,
            "debit": str(self.debit),
            "credit": str(self.credit),
            "tax_code": self.tax_code,
            "tax_rate": None if self.tax_rate is None else str(self.tax_rate),
            "analytic": self.analytic,
            "currency_amount": None if self.currency_amount is None else str(self.currency_amount),
            "currency": self.currency,
            "provenance": self.provenance,
        }


class Party(msgspec.Struct, frozen=True, gc=False):
    """The customer behind a personal auxiliary account, as the document describes them.

    Set only when the auxiliary account is the customer's own (its template reads the
    document, e.g. ``aux "{customer.accounting_code}"``): a shared account such as CLIENTWEB
    stands for no one in particular.  The customers file creates the account from it.
    """

    name: str | None = None
    company: str | None = None
    email: str | None = None
    vat_number: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


class Entry(msgspec.Struct, frozen=True, gc=False):
    """A balanced journal entry produced from one document; its lines are held in a tuple."""

    journal: str
    date: dt.date
    piece: str
    reference: str
    label: str
    document_key: str
    document_kind: DocumentKind
    currency: str
    lines: tuple[EntryLine, ...]
    payment_method: str | None = None
    journal_label: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    party: Party | None = None

    @property
    def total_debit(self) -> Decimal:
        return sum(map(_DEBIT, self.lines), ZERO)  # map: no generator frame per line

    @property
    def total_credit(self) -> Decimal:
        return sum(map(_CREDIT, self.lines), ZERO)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the lossless ``json`` export format)."""
        return {
            "journal": self.journal,
            "journal_label": self.journal_label,
            "date": self.date.isoformat(),
            "piece": self.piece,
            "reference": self.reference,
            "label": self.label,
            "document_key": self.document_key,
            "document_kind": self.document_kind,
            "currency": self.currency,
            "payment_method": self.payment_method,
            "metadata": dict(self.metadata),
            "party": None if self.party is None else msgspec.structs.asdict(self.party),
            "lines": [line.to_dict() for line in self.lines],
        }


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Entry)


def encode_entry(entry: Entry) -> bytes:
    """One entry as a JSON line (with its newline): the lossless ``json`` format.

    msgspec encodes the Struct directly (amounts as their exact ``str``, dates as ISO 8601),
    several times faster than building a dict first; fields come in declaration order.
    """
    return _ENCODER.encode(entry) + b"\n"


encode_entry_into = _ENCODER.encode_into
"""``encode_entry_into(entry, buffer, offset)``: :func:`encode_entry` without its newline,
written into a ``bytearray`` at ``offset`` (``-1`` appends, ``0`` starts over; the buffer ends
where the entry does, its memory kept).  The JSON Lines writer reuses one buffer this way:
a bytes object per batch of entries would be new, cold memory every time."""


def decode_entry(data: bytes | str) -> Entry:
    """Inverse of :func:`encode_entry`: amounts come back as the same ``Decimal``."""
    return _DECODER.decode(data)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A document the ruleset would not post, with the reason: a value, so a batch goes on.

    ``context`` is the chain of what was being applied when the refusal happened, e.g.
    ``("table `vat` row 7 (fr.rules:31)",)``.
    """

    document_key: str
    document_kind: str
    reason: str
    context: tuple[str, ...] = ()

    def __str__(self) -> str:
        chain = "".join(f"\n  while applying {c}" for c in self.context)
        return f"{self.document_key}: {self.reason}{chain}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_key": self.document_key,
            "document_kind": self.document_kind,
            "reason": self.reason,
            "context": list(self.context),
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A document the ruleset's ``documents when`` filter leaves out (e.g. an unpaid order)."""

    document_key: str
    document_kind: str
    reason: str
