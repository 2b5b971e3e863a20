"""The fields a rule file may name, checked at compile time against the document model.

Each dotted path (``order.reference``, ``tax.rate``…) has a type (used to check comparisons
and table keys), the document kinds that carry it, whether it belongs to a document line
(only table keys and line-level templates may use those), and a getter.  Getters are plain
functions over the documents: the definition of each field, which the generated code of
:mod:`postingrules.dsl.expressions` follows (inline for plain attribute paths).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from postingrules.model.documents import Line

FieldType = Literal["text", "date", "amount", "rate", "country", "bool"]
Kind = Literal["sale", "refund", "payment"]
Getter = Callable[[Any, Line | None], Any]

ALL: frozenset[Kind] = frozenset({"sale", "refund", "payment"})
COMMERCIAL: frozenset[Kind] = frozenset({"sale", "refund"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    path: str
    type: FieldType
    kinds: frozenset[Kind]
    getter: Getter
    description: str
    line_level: bool = False

    @property
    def attrs(self) -> tuple[str, ...]:
        """The attribute path on the document (``("customer", "name")``) when the field is
        just that: the compiler then reads it with ``getattr`` itself, one call fewer per use."""
        return getattr(self.getter, "attrs", ())

    @property
    def line_attr(self) -> str | None:
        """The attribute of the document line when the field is just that (``tax_rate``)."""
        return getattr(self.getter, "line_attr", None)


def _attr(first: str, second: str | None = None) -> Getter:
    """Getter of ``doc.first`` or ``doc.first.second``; ``None`` as soon as one is missing.

    The attribute path is recorded on the getter for :attr:`FieldSpec.attrs`: generated code
    (:mod:`postingrules.dsl.expressions`) reads it inline, and the getter stays the definition
    that code is tested against.
    """
    if second is None:

        def get(doc: Any, line: Line | None) -> Any:
            return getattr(doc, first, None)

    else:

        def get(doc: Any, line: Line | None) -> Any:
            value = getattr(doc, first, None)
            return None if value is None else getattr(value, second, None)

    get.attrs = (first,) if second is None else (first, second)  # type: ignore[attr-defined]
    return get


def _line(name: str) -> Getter:
    def get(doc: Any, line: Line | None) -> Any:
        return None if line is None else getattr(line, name)

    get.line_attr = name  # type: ignore[attr-defined]  # see FieldSpec.line_attr
    return get


def _tax_country(doc: Any, line: Line | None) -> str | None:
    """The country whose VAT applies: the line's own, else where the goods went."""
    if line is not None and line.tax_country:
        return line.tax_country
    return destination_country(doc)


def destination_country(doc: Any) -> str | None:
    address = getattr(doc, "shipping", None) or doc.billing
    return None if address is None else address.country


def _payment_method(doc: Any, line: Line | None) -> str | None:
    method = doc.method if doc.kind == "payment" else doc.payment_method
    return None if method is None else method.code


def _payment_label(doc: Any, line: Line | None) -> str | None:
    method = doc.method if doc.kind == "payment" else doc.payment_method
    return None if method is None else (method.label or method.code)


def _invoice_number(doc: Any, line: Line | None) -> str | None:
    if doc.kind == "sale":
        return doc.number
    if doc.kind == "refund":
        return doc.sale_number
    return None


def _specs() -> dict[str, FieldSpec]:
    specs: list[FieldSpec] = [
        FieldSpec("document.key", "text", ALL, _attr("key"), "stable document key"),
        FieldSpec("document.kind", "text", ALL, _attr("kind"), "sale, refund or payment"),
        FieldSpec("order.id", "text", ALL, _attr("order_id"), "shop order id"),
        FieldSpec("order.reference", "text", ALL, _attr("order_reference"), "shop order reference"),
        FieldSpec("order.date", "date", COMMERCIAL, _attr("order_date"), "order date"),
        FieldSpec("order.status", "text", COMMERCIAL, _attr("status"), "normalised order status"),
        FieldSpec("order.status_raw", "text", COMMERCIAL, _attr("status_raw"), "shop's status"),
        FieldSpec("invoice.number", "text", COMMERCIAL, _invoice_number, "invoice number"),
        FieldSpec(
            "invoice.date", "date", frozenset({"sale"}), _attr("invoice_date"), "invoice date"
        ),
        FieldSpec(
            "refund.number", "text", frozenset({"refund"}), _attr("number"), "credit-note number"
        ),
        FieldSpec(
            "refund.date", "date", frozenset({"refund"}), _attr("refund_date"), "credit-note date"
        ),
        FieldSpec("refund.reason", "text", frozenset({"refund"}), _attr("reason"), "refund reason"),
        FieldSpec("delivery.date", "date", COMMERCIAL, _attr("delivery_date"), "shipping date"),
        FieldSpec("customer.id", "text", ALL, _attr("customer", "id"), "shop customer id"),
        FieldSpec("customer.name", "text", ALL, _attr("customer", "name"), "customer name"),
        FieldSpec("customer.company", "text", ALL, _attr("customer", "company"), "company"),
        FieldSpec("customer.email", "text", ALL, _attr("customer", "email"), "e-mail"),
        FieldSpec(
            "customer.vat_number", "text", ALL, _attr("customer", "vat_number"), "VAT number"
        ),
        FieldSpec(
            "customer.vat_validated", "bool", ALL, _attr("customer", "vat_validated"), "VIES check"
        ),
        FieldSpec("customer.group", "text", ALL, _attr("customer", "group"), "customer group"),
        FieldSpec(
            "customer.accounting_code",
            "text",
            ALL,
            _attr("customer", "accounting_code"),
            "shop's accounting code",
        ),
        FieldSpec("payment.method", "text", ALL, _payment_method, "payment method code"),
        FieldSpec("payment.method_label", "text", ALL, _payment_label, "payment method label"),
        FieldSpec("payment.id", "text", frozenset({"payment"}), _attr("id"), "payment id"),
        FieldSpec("payment.date", "date", frozenset({"payment"}), _attr("payment_date"), "date"),
        FieldSpec("payment.amount", "amount", frozenset({"payment"}), _attr("amount"), "amount"),
        FieldSpec("payment.fees", "amount", frozenset({"payment"}), _attr("fees"), "fees"),
        FieldSpec(
            "payment.direction", "text", frozenset({"payment"}), _attr("direction"), "in/out"
        ),
        FieldSpec(
            "payment.transaction_id",
            "text",
            frozenset({"payment"}),
            _attr("transaction_id"),
            "provider transaction id",
        ),
        FieldSpec("total.excl", "amount", COMMERCIAL, _attr("totals", "excl"), "total excl. tax"),
        FieldSpec("total.tax", "amount", COMMERCIAL, _attr("totals", "tax"), "total tax"),
        FieldSpec("total.incl", "amount", COMMERCIAL, _attr("totals", "incl"), "total incl. tax"),
        FieldSpec("currency", "text", ALL, _attr("currency"), "document currency"),
        FieldSpec("exchange_rate", "rate", ALL, _attr("exchange_rate"), "rate to ruleset currency"),
        FieldSpec("source.platform", "text", ALL, _attr("source", "platform"), "shop platform"),
        FieldSpec("source.shop", "text", ALL, _attr("source", "shop"), "shop identifier"),
        FieldSpec("source.raw_id", "text", ALL, _attr("source", "raw_id"), "shop's record id"),
        FieldSpec("tax.country", "country", COMMERCIAL, _tax_country, "VAT country", True),
        FieldSpec("tax.rate", "rate", COMMERCIAL, _line("tax_rate"), "VAT rate (%)", True),
        FieldSpec("line.kind", "text", COMMERCIAL, _line("kind"), "line kind", True),
        FieldSpec("line.label", "text", COMMERCIAL, _line("label"), "line label", True),
        FieldSpec("line.sku", "text", COMMERCIAL, _line("sku"), "SKU", True),
        FieldSpec("line.category", "text", COMMERCIAL, _line("category"), "category", True),
    ]
    for prefix, attr, kinds in (
        ("billing", "billing", ALL),
        ("shipping", "shipping", COMMERCIAL),
    ):
        specs += [
            FieldSpec(f"{prefix}.country", "country", kinds, _attr(attr, "country"), "country"),
            FieldSpec(f"{prefix}.postcode", "text", kinds, _attr(attr, "postcode"), "postcode"),
            FieldSpec(f"{prefix}.city", "text", kinds, _attr(attr, "city"), "city"),
            FieldSpec(f"{prefix}.region", "text", kinds, _attr(attr, "region"), "region"),
            FieldSpec(f"{prefix}.company", "text", kinds, _attr(attr, "company"), "company"),
        ]
    return {spec.path: spec for spec in specs}


FIELDS: dict[str, FieldSpec] = _specs()
