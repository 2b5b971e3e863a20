"""WooCommerce REST v3 JSON → normalised Sale / Refund / Payment documents (pure, no I/O).

Why these choices:
- the API returns line ``subtotal``/``total`` *excluding* tax even on tax-inclusive shops, so
  incl. = total + total_tax everywhere, and ``prices_include_tax`` only explains cent gaps;
- coupons are already spread into line ``subtotal − total``: a sale gets its product lines at
  ``subtotal`` and one discount line per discounted product at that line's rate, so discounts
  reach their own account without changing the total;
- the rate comes from ``tax_lines[].rate_percent`` (stored at checkout); orders older than
  that have none, and the rate is recomputed as tax ÷ taxable base of that rate id, or taken
  from the ``tax_rates`` option (rate id → percent) when given;
- refund lines are negative in the API and positive in our documents; an amount-only refund
  (or the part of ``amount`` no line explains, e.g. shipping on stores older than WC 4.8) is
  booked at the order's single rate, and set aside when the order has several;
- VAT and invoice numbers are plugin meta: their keys are options.

Documents are built as plain dicts and validated once each by
:func:`~postingrules.model.structs.validate_document` (the msgspec mirror, pydantic's word
when the mirror refuses): one validation per document instead of one per sub-model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from postingrules.connectors._http import dec, dec_or
from postingrules.connectors.profile import (
    Document,
    Raw,
    Unmappable,
    amount,
    joined,
    product_line,
)
from postingrules.connectors.profile import line as _line
from postingrules.model.documents import LineKind
from postingrules.model.structs import validate_document

PLATFORM = "woocommerce"
ZERO = Decimal(0)
CENT = Decimal("0.01")
STATUSES = {
    "pending": "pending",
    "on-hold": "pending",
    "processing": "paid",
    "completed": "delivered",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "failed": "error",
    "trash": "deleted",
}
PAID_STATUSES = frozenset({"processing", "completed", "refunded"})
METHODS = {
    "bacs": "transfer",
    "cheque": "cheque",
    "cod": "cod",
    "paypal": "paypal",
    "ppcp-gateway": "paypal",
    "stripe": "card",
    "woocommerce_payments": "card",
}
INVOICE_DATE_FIELDS = {"paid": "date_paid_gmt", "completed": "date_completed_gmt"}
"""``Options.invoice_date`` → the order field read as the invoice date (else the creation)."""
DEFAULT_VAT_KEYS = ("_billing_vat_number", "_vat_number", "vat_number", "_billing_eu_vat_number")


@dataclass(frozen=True)
class Options:
    """Per-shop choices from the connection file's ``[options]``."""

    shop: str
    vat_meta_keys: tuple[str, ...] = DEFAULT_VAT_KEYS
    invoice_meta_key: str | None = None
    number_from_order: bool = False
    """Use the order ``number`` as the document number when no invoice meta is found."""
    invoice_date: str = "paid"  # paid | completed | created
    tax_rates: Mapping[str, Decimal] | None = None


def sid(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    return "" if value is None else str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    text = sid(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise Unmappable(f"bad date {text[:30]!r}") from None


def _created(record: Mapping[str, Any]) -> dt.date | None:
    """When an order or refund was made: the UTC time, else the shop's local one (older
    stores and some import plugins leave ``date_created_gmt`` empty).  One rule for sales,
    refunds and refund payments, so a refund's order date is its sale's."""
    return parse_date(record.get("date_created_gmt") or record.get("date_created"))


def meta(record: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    values = {
        sid(m.get("key")): m.get("value")
        for m in record.get("meta_data") or []
        if isinstance(m, dict)
    }
    for key in keys:
        value = values.get(key)
        if value is not None and (text := sid(value)):  # sid(None) is "": never the answer
            return text
    return None


def implied_rate(tax: Decimal, base: Decimal, lines: int) -> Decimal:
    """The simplest rate (fewest decimals) that gives ``tax`` on ``base`` within a cent per line.

    Tax-inclusive shops round each line, so 4.16 of tax on 20.84 is 20 %, not 19.96 %.
    """
    exact = tax / base * 100
    tolerance = CENT * max(lines, 1)
    for places in ("1", "0.1", "0.01", "0.001"):
        candidate = exact.quantize(Decimal(places))
        if abs(base * candidate / 100 - tax) <= tolerance:
            return candidate.normalize()
    return exact.quantize(Decimal("0.001")).normalize()


class Rates:
    """Rate id → percent for one order: ``rate_percent``, the option, or tax ÷ base."""

    def __init__(self, order: Mapping[str, Any], overrides: Mapping[str, Decimal] | None) -> None:
        self.by_id: dict[str, Decimal] = {}
        bases: dict[str, Decimal] | None = None  # only needed for a tax line without a rate
        for tax_line in order.get("tax_lines") or []:
            rate_id = sid(tax_line.get("rate_id"))
            if overrides and rate_id in overrides:
                self.by_id[rate_id] = Decimal(overrides[rate_id])
            elif tax_line.get("rate_percent") is not None:
                self.by_id[rate_id] = dec(tax_line["rate_percent"])
            else:
                if bases is None:
                    bases = _taxable_bases(order)
                if bases.get(rate_id):
                    total = amount(tax_line, "tax_total") + amount(tax_line, "shipping_tax_total")
                    self.by_id[rate_id] = implied_rate(total, bases[rate_id], len(bases))

    def single(self) -> Decimal | None:
        rates = set(self.by_id.values())
        return rates.pop() if len(rates) == 1 else (ZERO if not rates else None)

    def of(self, line: Mapping[str, Any]) -> Decimal:
        """The rate of one line: the sum of its taxes' rates (compound taxes are rare)."""
        rate = ZERO
        taxed = False
        for tax in line.get("taxes") or ():
            if dec_or(tax.get("total"), ZERO) or dec_or(tax.get("subtotal"), ZERO):
                rate_id = sid(tax.get("id"))
                known = self.by_id.get(rate_id)
                if known is None:
                    raise Unmappable(
                        f"unknown tax rate id {rate_id} (no rate_percent, no base, no option)"
                    )
                rate += known
                taxed = True
        if not taxed and amount(line, "total_tax"):
            raise Unmappable(
                f"line {sid(line.get('id'))}: tax {amount(line, 'total_tax')} without a tax rate id"
            )
        return rate


def _taxable_bases(order: Mapping[str, Any]) -> dict[str, Decimal]:
    """Rate id → the excl. total of the lines it taxes (to recompute a rate from tax ÷ base)."""
    bases: dict[str, Decimal] = {}
    for line in [
        *(order.get("line_items") or []),
        *(order.get("shipping_lines") or []),
        *(order.get("fee_lines") or []),
    ]:
        for tax in line.get("taxes") or []:
            if dec_or(tax.get("total"), ZERO):
                bases[sid(tax.get("id"))] = bases.get(sid(tax.get("id")), ZERO) + amount(
                    line, "total"
                )
    return bases


def _address(block: Mapping[str, Any] | None) -> Raw | None:
    if not block:
        return None
    country = sid(block.get("country"))
    if not country:
        return None
    name = joined(sid(block.get("first_name")), sid(block.get("last_name")))
    street = joined(sid(block.get("address_1")), sid(block.get("address_2")), ", ")
    return {
        "country": country.upper(),
        "postcode": sid(block.get("postcode")) or None,
        "city": sid(block.get("city")) or None,
        "region": sid(block.get("state")) or None,
        "street": street or None,
        "company": sid(block.get("company")) or None,
        "name": name or None,
    }


def _customer(order: Mapping[str, Any], opts: Options) -> Raw:
    billing = order.get("billing") or {}
    name = joined(sid(billing.get("first_name")), sid(billing.get("last_name")))
    customer_id = sid(order.get("customer_id"))
    return {
        "id": None if customer_id in {"", "0"} else customer_id,
        "name": name or None,
        "company": sid(billing.get("company")) or None,
        "email": sid(billing.get("email")) or None,
        "vat_number": meta(order, opts.vat_meta_keys),
    }


def _method(order: Mapping[str, Any]) -> Raw | None:
    gateway = sid(order.get("payment_method"))
    if not gateway:
        return None
    code = METHODS.get(gateway) or next((c for g, c in METHODS.items() if g in gateway), gateway)
    return {"code": code, "label": sid(order.get("payment_method_title")) or None}


def _source(opts: Options, raw_id: str) -> Raw:
    return {"platform": PLATFORM, "shop": opts.shop, "raw_id": raw_id}


def _invoice_number(order: Mapping[str, Any], opts: Options) -> str | None:
    number = meta(order, [opts.invoice_meta_key]) if opts.invoice_meta_key else None
    if number is None and opts.number_from_order:
        number = sid(order.get("number")) or None
    return number


def map_sale(order: Mapping[str, Any], opts: Options) -> Document:
    """One order → a Sale (product lines before coupons, discount lines, shipping, fees)."""
    oid = sid(order.get("id"))
    if not oid:
        raise Unmappable("order without id")
    rates = Rates(order, opts.tax_rates)
    coupons = ", ".join([sid(c.get("code")) for c in order.get("coupon_lines") or []]) or "Discount"
    lines: list[Raw] = []
    for item in order.get("line_items") or []:
        qty = dec(item.get("quantity"))
        if qty <= 0:
            raise Unmappable(f"line {sid(item.get('id'))}: quantity {qty} on a sale")
        rate = rates.of(item)
        total, total_tax = amount(item, "total"), amount(item, "total_tax")
        if "subtotal" not in item:
            sub, sub_tax = total, total_tax
        elif "subtotal_tax" not in item:
            sub = amount(item, "subtotal")
            sub_tax = sum(
                (dec_or(t.get("subtotal"), ZERO) for t in item.get("taxes") or []), ZERO
            ).quantize(CENT)
        else:
            sub, sub_tax = amount(item, "subtotal"), amount(item, "subtotal_tax")
        name = sid(item.get("name"))
        lines.append(
            product_line(name, sid(item.get("sku")) or None, qty, sub / qty, sub, sub_tax, rate)
        )
        if sub != total or sub_tax != total_tax:
            lines.append(
                _line("discount", f"{coupons} – {name}", total - sub, total_tax - sub_tax, rate)
            )
    for ship in order.get("shipping_lines") or []:
        lines.append(
            _line(
                "shipping",
                sid(ship.get("method_title")) or "Shipping",
                amount(ship, "total"),
                amount(ship, "total_tax"),
                rates.of(ship),
            )
        )
    for fee in order.get("fee_lines") or []:
        lines.append(
            _line(
                "fee",
                sid(fee.get("name")) or "Fee",
                amount(fee, "total"),
                amount(fee, "total_tax"),
                rates.of(fee),
            )
        )
    if not lines:
        raise Unmappable("order without lines")
    incl, tax = amount(order, "total"), amount(order, "total_tax")
    status = sid(order.get("status"))
    invoice_field = INVOICE_DATE_FIELDS.get(opts.invoice_date, "date_created_gmt")
    return validate_document(
        {
            "kind": "sale",
            "key": f"{PLATFORM}:{opts.shop}:sale:{oid}",
            "number": _invoice_number(order, opts),
            "order_id": oid,
            "order_reference": sid(order.get("number")) or oid,
            "order_date": _created(order),
            "invoice_date": parse_date(order.get(invoice_field)),
            "delivery_date": parse_date(order.get("date_completed_gmt")),
            "status": STATUSES.get(status, status or None),
            "status_raw": status or None,
            "currency": sid(order.get("currency")).upper() or "EUR",
            "customer": _customer(order, opts),
            "billing": _address(order.get("billing")),
            "shipping": _address(order.get("shipping")),
            "payment_method": _method(order),
            "source": _source(opts, oid),
            "lines": lines,
            "totals": {"excl": incl - tax, "tax": tax, "incl": incl},
        }
    )


def map_refund(refund: Mapping[str, Any], order: Mapping[str, Any], opts: Options) -> Document:
    """One ``/orders/{id}/refunds`` record with its order → a Refund (positive amounts)."""
    rid = sid(refund.get("id"))
    oid = sid(order.get("id"))
    rates = Rates(order, opts.tax_rates)
    originals = {
        sid(line.get("id")): line
        for group in ("line_items", "shipping_lines", "fee_lines")
        for line in order.get(group) or []
    }
    lines: list[Raw] = []
    groups: tuple[tuple[str, LineKind], ...] = (
        ("line_items", "product"),
        ("shipping_lines", "shipping"),
        ("fee_lines", "fee"),
    )
    for group, kind in groups:
        for item in refund.get(group) or []:
            original = originals.get(meta(item, ["_refunded_item_id"]) or "", item)
            rate = rates.of(original)
            label = sid(
                item.get("name")
                or item.get("method_title")
                or original.get("name")
                or original.get("method_title")
            )
            line = _line(
                kind,
                label or kind.title(),
                -amount(item, "total"),
                -amount(item, "total_tax"),
                rate,
            )
            if kind == "product":
                line["sku"] = sid(item.get("sku")) or None
                line["quantity"] = abs(dec_or(item.get("quantity"), Decimal(1)))
            lines.append(line)
    refunded = amount(refund, "amount")
    unexplained = refunded - sum((line["total_incl"] for line in lines), ZERO)
    if unexplained > CENT:
        rate = rates.single()
        if rate is None:
            raise Unmappable(
                f"{unexplained} refunded without lines on an order with several tax rates"
            )
        excl = (unexplained / (1 + rate / 100)).quantize(CENT)
        lines.append(_line("product", "Refund (amount only)", excl, unexplained - excl, rate))
    if not lines:
        raise Unmappable("refund of 0 without lines")
    tax = sum((line["tax_amount"] for line in lines), ZERO)
    return validate_document(
        {
            "kind": "refund",
            "key": f"{PLATFORM}:{opts.shop}:refund:{rid}",
            "order_id": oid,
            "order_reference": sid(order.get("number")) or oid,
            "order_date": _created(order),
            "refund_date": _created(refund),
            "currency": sid(order.get("currency")).upper() or "EUR",
            "customer": _customer(order, opts),
            "billing": _address(order.get("billing")),
            "shipping": _address(order.get("shipping")),
            "payment_method": _method(order),
            "source": _source(opts, rid),
            "sale_key": f"{PLATFORM}:{opts.shop}:sale:{oid}",
            "sale_number": _invoice_number(order, opts),
            "reason": sid(refund.get("reason")) or None,
            "lines": lines,
            "totals": {"excl": refunded - tax, "tax": tax, "incl": refunded},
        }
    )


def map_payments(
    order: Mapping[str, Any], refunds: Sequence[Mapping[str, Any]], opts: Options
) -> list[Document]:
    """The order's payment (when paid) and the refunds the gateway paid back."""
    oid = sid(order.get("id"))
    common = {
        "kind": "payment",
        "currency": sid(order.get("currency")).upper() or "EUR",
        "order_id": oid,
        "order_reference": sid(order.get("number")) or oid,
        "customer": _customer(order, opts),
        "billing": _address(order.get("billing")),
        "method": _method(order) or {"code": "unknown"},
    }
    payments = []
    paid_on = parse_date(order.get("date_paid_gmt"))
    total = amount(order, "total")
    if paid_on and sid(order.get("status")) in PAID_STATUSES and total > 0:
        payments.append(
            validate_document(
                {
                    **common,
                    "key": f"{PLATFORM}:{opts.shop}:payment:{oid}",
                    "id": oid,
                    "payment_date": paid_on,
                    "amount": total,
                    "transaction_id": sid(order.get("transaction_id")) or None,
                    "settles": (f"{PLATFORM}:{opts.shop}:sale:{oid}",),
                    "source": _source(opts, oid),
                }
            )
        )
    for refund in refunds:
        rid = sid(refund.get("id"))
        value = amount(refund, "amount")
        if refund.get("refunded_payment") is True and value > 0:
            payments.append(
                validate_document(
                    {
                        **common,
                        "key": f"{PLATFORM}:{opts.shop}:payment:refund-{rid}",
                        "id": rid,
                        "payment_date": _created(refund),
                        "direction": "out",
                        "amount": value,
                        "settles": (f"{PLATFORM}:{opts.shop}:refund:{rid}",),
                        "source": _source(opts, rid),
                    }
                )
            )
    return payments
