"""Magento 2 / Adobe Commerce payloads → normalised documents (pure, no HTTP).

Why invoices and credit memos, not orders: in Magento the invoice (``/V1/invoices``) is the
accounting sale and the credit memo (``/V1/creditmemos``) the credit note; an order may be
invoiced in several parts and refunded in several memos.  The order is only *context*: it
carries the customer, the addresses, the payment method, each item's tax rate and the
parent/child structure that the invoice items lack.  :func:`map_order` exists for shops
that never create invoices (it builds a sale from the order itself).

Traps handled here (see ``shared/reference/shops/API-NOTES.md`` §3):

* amounts are JSON floats: every value goes through :func:`dec` (never ``float``);
* configurable products appear twice (parent with the amounts, child with
  ``parent_item_id`` and zero row) and dynamic bundles price their children, not the parent:
  only items that carry amounts become lines, so nothing is counted twice;
* ``discount_amount`` is negative on the order/invoice and positive on items; item
  discounts are netted into the item's line (``Line.total_excl`` is "after line discounts")
  and the shipping discount into the shipping line.  Recorded Magento data shows both
  ``row_total`` conventions (before discount, the documented one, and already net of the
  discount, in OCA's recordings): the item's own ``price × qty`` tells which one applies;
* plain amounts are in the *order* currency, ``base_*`` ones in the website's base
  currency: documents keep the order currency and record ``1 / base_to_order_rate`` as the
  exchange rate when the books are kept in the base currency (the ruleset currency decides);
* ``total_paid``/``total_invoiced`` are absent until used: missing means zero;
* totals are copied as reported (``grand_total``, ``tax_amount``) so the engine sees any
  rounding gap between them and the lines.

A payload that cannot be mapped raises :class:`Unmappable`; :func:`map_batch` turns it
into a :class:`SetAside` value so one bad invoice never stops a fetch.  Each document is
built as one dict and validated once by ``validate_document`` (the msgspec mirror).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from postingrules.connectors._http import dec, dec_or
from postingrules.connectors.profile import (
    Document,
    Raw,
    SetAside,
    Unmappable,
    joined,
    set_aside_reason,
)
from postingrules.model.structs import validate_document

PLATFORM = "magento"
ZERO = Decimal(0)
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0000000001")

Payload = Mapping[str, Any]

# Magento payment method codes → normalised codes used by rulesets; anything else keeps
# its own code (rulesets can match it with a wildcard).
PAYMENT_CODES = {
    "checkmo": "cheque",
    "banktransfer": "transfer",
    "cashondelivery": "cod",
    "purchaseorder": "transfer",
    "free": "free",
    "braintree": "card",
    "authorizenet_acceptjs": "card",
    "stripe_payments": "card",
    "payflowpro": "card",
    "paypal_express": "paypal",
    "braintree_paypal": "paypal",
    "payflow_express": "paypal",
}
INVOICE_STATES = {1: "open", 2: "paid", 3: "cancelled"}
CREDITMEMO_STATES = {1: "open", 2: "refunded", 3: "cancelled"}


@dataclass(frozen=True)
class Context:
    """Per-shop settings of the mapping."""

    shop: str
    book_currency: str | None = None
    """The ruleset currency; ``None`` accepts the order currency as is."""


# --------------------------------------------------------------------------- small helpers


def _key(ctx: Context, kind: str, raw_id: Any) -> str:
    return f"{PLATFORM}:{ctx.shop}:{kind}:{raw_id}"


def _date(value: Any) -> dt.date | None:
    """Magento dates are ``YYYY-MM-DD HH:MM:SS`` in UTC; the calendar day is enough here."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Unmappable(f"unreadable date {value!r}") from None


def _amount(payload: Payload, field: str) -> Decimal:
    """A money field; absent or null means zero (Magento omits unused totals)."""
    try:
        return dec_or(payload.get(field), ZERO)
    except ValueError as exc:
        raise Unmappable(f"{field}: {exc}") from None


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value.strip() or None
    text = str(value).strip() if value is not None else ""
    return text or None


def _address(raw: Payload | None) -> Raw | None:
    if not raw or not raw.get("country_id"):
        return None
    street = raw.get("street") or []
    name = joined(_text(raw.get("firstname")), _text(raw.get("lastname")))
    return {
        "country": str(raw["country_id"]).upper(),
        "postcode": _text(raw.get("postcode")),
        "city": _text(raw.get("city")),
        "region": _text(raw.get("region_code")),
        "street": ", ".join(str(s) for s in street if s) or None,
        "company": _text(raw.get("company")),
        "name": name or None,
    }


def _shipping_address(order: Payload) -> Raw | None:
    assignments = (order.get("extension_attributes") or {}).get("shipping_assignments") or []
    for assignment in assignments:
        address = ((assignment or {}).get("shipping") or {}).get("address")
        if address:
            return _address(address)
    return None


def _customer(order: Payload) -> Raw:
    billing = order.get("billing_address") or {}
    guest = bool(order.get("customer_is_guest"))
    first = _text(order.get("customer_firstname")) or _text(billing.get("firstname"))
    last = _text(order.get("customer_lastname")) or _text(billing.get("lastname"))
    name = joined(first, last)
    group = order.get("customer_group_id")
    return {
        "id": None if guest or order.get("customer_id") is None else str(order["customer_id"]),
        "name": name or None,
        "company": _text(billing.get("company")),
        "email": _text(order.get("customer_email")),
        "vat_number": _text(order.get("customer_taxvat")) or _text(billing.get("vat_id")),
        "group": None if group is None else str(group),
    }


def _payment_method(order: Payload) -> Raw | None:
    payment = order.get("payment") or {}
    code = _text(payment.get("method"))
    if code is None:
        return None
    info = payment.get("additional_information") or []
    label = _text(info[0]) if info else None
    return {"code": PAYMENT_CODES.get(code, code), "label": label or code}


def _exchange_rate(doc: Payload, ctx: Context) -> Decimal | None:
    """Units of the book currency for one unit of the order currency, or ``None``."""
    order_currency = str(doc.get("order_currency_code") or "").upper()
    base_currency = str(doc.get("base_currency_code") or order_currency).upper()
    if ctx.book_currency is None or ctx.book_currency == order_currency:
        return None
    if ctx.book_currency != base_currency:
        raise Unmappable(
            f"currency mismatch: order in {order_currency}, base {base_currency}, "
            f"books in {ctx.book_currency}"
        )
    rate = _amount(doc, "base_to_order_rate")
    if rate <= 0:
        raise Unmappable("base_to_order_rate missing or zero: cannot convert to base currency")
    return (Decimal(1) / rate).quantize(RATE_PLACES)


def _item_rate(order_item: Payload, tax: Decimal, raw_id: Any) -> Decimal:
    """The item's VAT rate: ``tax_percent`` (sum of applied rates), checked against amounts."""
    percent = order_item.get("tax_percent")
    if percent is None:
        if tax != 0:
            raise Unmappable(f"item {raw_id}: tax {tax} but no tax_percent (unknown tax rate)")
        return ZERO
    rate = dec(percent)
    if tax != 0 and rate == 0:
        raise Unmappable(f"item {raw_id}: tax {tax} with tax_percent 0 (unknown tax rate)")
    if not ZERO <= rate <= 100:
        raise Unmappable(f"item {raw_id}: tax_percent {rate} out of range")
    return rate


def _shipping_rate(order: Payload, net: Decimal, tax: Decimal) -> Decimal:
    """Shipping VAT rate from ``item_applied_taxes`` (type shipping), else from the amounts."""
    if tax == 0:
        return ZERO
    applied = (order.get("extension_attributes") or {}).get("item_applied_taxes") or []
    for block in applied:
        if (block or {}).get("type") == "shipping":
            rates = [dec(t["percent"]) for t in block.get("applied_taxes") or []]
            if rates:
                return sum(rates, ZERO)
    if net == 0:
        raise Unmappable(f"shipping tax {tax} on a zero shipping amount (unknown tax rate)")
    # No breakdown: the nearest product rate of the order, if the amounts agree with it.
    derived = tax / net * 100
    rates = {dec(i["tax_percent"]) for i in order.get("items") or [] if i.get("tax_percent")}
    for rate in sorted(rates):
        if abs((net * rate / 100) - tax) <= CENT:
            return rate
    return derived.quantize(Decimal("0.01"))


# --------------------------------------------------------------------------- lines


def _configurable_child(order_item: Payload, order_items: Mapping[Any, Payload]) -> bool:
    """True for the child row of a configurable product: its parent carries the amounts."""
    parent_id = order_item.get("parent_item_id")
    if parent_id is None:
        return False
    parent = order_items.get(parent_id) or order_item.get("parent_item") or {}
    return parent.get("product_type") == "configurable"


def _net_row(row: Decimal, discount: Decimal, compensation: Decimal, gross: Decimal) -> Decimal:
    """The line total excl. tax after the item's discount (``gross`` = price × quantity)."""
    if discount != 0 and abs(row - gross) > CENT and abs(row + discount - gross) <= CENT:
        return row  # row already net of the discount (seen in recorded data)
    return row - discount + compensation


def _product_lines(
    order: Payload, items: Iterable[Payload], qty_field: str
) -> tuple[list[Raw], Decimal]:
    """Lines for the items that carry amounts, and the sum of their discounts.

    Rows that would double count are skipped: configurable children, and rows without any
    amount (a dynamic bundle parent, whose children carry the amounts, or a configurable
    child without ``parent_item_id``).  Each amount of a row is read once."""
    order_items = {i.get("item_id"): i for i in order.get("items") or []}
    lines: list[Raw] = []
    discounts = ZERO
    for item in items:
        order_item = order_items.get(item.get("order_item_id"), item)
        if _configurable_child(order_item, order_items):
            continue
        row = _amount(item, "row_total")
        tax = _amount(item, "tax_amount")
        discount = _amount(item, "discount_amount")
        if not (row or tax or discount):
            continue
        qty = _amount(item, qty_field)
        if qty < 0:
            raise Unmappable(f"item {item.get('order_item_id')}: negative quantity {qty}")
        price = _amount(item, "price")
        compensation = _amount(item, "discount_tax_compensation_amount")
        net = _net_row(row, discount, compensation, price * qty)
        discounts += discount
        raw_id = item.get("order_item_id", item.get("item_id"))
        lines.append(
            {
                "kind": "product",
                "label": str(item.get("name") or order_item.get("name") or ""),
                "sku": _text(item.get("sku")),
                "quantity": qty,
                "unit_price_excl": price,
                "total_excl": net,
                "tax_rate": _item_rate(order_item, tax, raw_id),
                "tax_amount": tax,
                "total_incl": net + tax,
            }
        )
    return lines, discounts


def _shipping_line(doc: Payload, order: Payload, shipping_discount: Decimal) -> Raw | None:
    amount = _amount(doc, "shipping_amount")
    tax = _amount(doc, "shipping_tax_amount")
    if amount == 0 and tax == 0:
        return None
    net = amount - shipping_discount
    return {
        "kind": "shipping",
        "label": str(order.get("shipping_description") or "Shipping"),
        "total_excl": net,
        "tax_rate": _shipping_rate(order, net, tax),
        "tax_amount": tax,
        "total_incl": net + tax,
    }


def _lines(doc: Payload, order: Payload, qty_field: str) -> list[Raw]:
    lines, item_discounts = _product_lines(order, doc.get("items") or [], qty_field)
    if "shipping_discount_amount" in doc:
        shipping_discount = _amount(doc, "shipping_discount_amount")
    else:  # invoices and memos: the document discount minus what the items took
        shipping_discount = max(ZERO, -_amount(doc, "discount_amount") - item_discounts)
    shipping = _shipping_line(doc, order, shipping_discount)
    if shipping is not None:
        lines.append(shipping)
    return lines


def _totals(doc: Payload, paid: Decimal | None) -> Raw:
    incl = _amount(doc, "grand_total")
    tax = _amount(doc, "tax_amount")
    return {"excl": incl - tax, "tax": tax, "incl": incl, "paid": paid}


def _source(ctx: Context, raw_id: Any) -> Raw:
    return {"platform": PLATFORM, "shop": ctx.shop, "raw_id": str(raw_id)}


def _commercial(doc: Payload, order: Payload, ctx: Context) -> Raw:
    return {
        "order_id": str(order.get("entity_id", doc.get("order_id", ""))) or None,
        "order_reference": _text(order.get("increment_id")),
        "order_date": _date(order.get("created_at")),
        "currency": str(doc.get("order_currency_code") or order.get("order_currency_code")),
        "exchange_rate": _exchange_rate(doc, ctx),
        "customer": _customer(order),
        "billing": _address(order.get("billing_address")),
        "shipping": _shipping_address(order),
        "payment_method": _payment_method(order),
    }


# --------------------------------------------------------------------------- documents


def map_invoice(invoice: Payload, order: Payload, ctx: Context) -> Document:
    """An invoice (with its order for context) → a :class:`Sale`."""
    if invoice.get("order_id") is not None and order.get("entity_id") != invoice["order_id"]:
        raise Unmappable(f"order {order.get('entity_id')} is not the invoice's order")
    state = invoice.get("state")
    grand_total = _amount(invoice, "grand_total")
    return validate_document(
        {
            "kind": "sale",
            "key": _key(ctx, "sale", invoice["entity_id"]),
            "number": _text(invoice.get("increment_id")),
            "invoice_date": _date(invoice.get("created_at")),
            "status": INVOICE_STATES.get(state) if isinstance(state, int) else None,
            "status_raw": None if state is None else f"invoice state {state}",
            "source": _source(ctx, invoice["entity_id"]),
            "lines": _lines(invoice, order, "qty"),
            "totals": _totals(invoice, grand_total if state == 2 else None),
            **_commercial(invoice, order, ctx),
        }
    )


def map_order(order: Payload, ctx: Context) -> Document:
    """An order as a sale, for shops that do not invoice (numbered with the order number)."""
    return validate_document(
        {
            "kind": "sale",
            "key": _key(ctx, "sale", f"order-{order['entity_id']}"),
            "number": _text(order.get("increment_id")),
            "invoice_date": _date(order.get("created_at")),
            "status": _text(order.get("state")),
            "status_raw": _text(order.get("status")),
            "source": _source(ctx, order["entity_id"]),
            "lines": _lines(order, order, "qty_ordered"),
            "totals": _totals(order, _amount(order, "total_paid")),
            **_commercial(order, order, ctx),
        }
    )


def map_creditmemo(
    memo: Payload, order: Payload, ctx: Context, invoice_number: str | None = None
) -> Document:
    """A credit memo → a :class:`Refund` (items, shipping, adjustments; positive amounts).

    ``adjustment_positive`` (an extra amount refunded) and ``adjustment_negative`` (a fee
    kept by the merchant) carry no tax in Magento: they become ``fee`` lines at 0 %.
    """
    if memo.get("order_id") is not None and order.get("entity_id") != memo["order_id"]:
        raise Unmappable(f"order {order.get('entity_id')} is not the credit memo's order")
    lines = _lines(memo, order, "qty")
    for field, sign, label in (
        ("adjustment_positive", 1, "Adjustment refund"),
        ("adjustment_negative", -1, "Adjustment fee"),
    ):
        value = _amount(memo, field)
        if value != 0:
            amount = value * sign
            lines.append(
                {
                    "kind": "fee",
                    "label": label,
                    "total_excl": amount,
                    "tax_rate": ZERO,
                    "tax_amount": ZERO,
                    "total_incl": amount,
                }
            )
    if not lines:
        raise Unmappable("credit memo without items, shipping or adjustment")
    state = memo.get("state")
    comments = [c.get("comment") for c in memo.get("comments") or [] if c.get("comment")]
    invoice_id = memo.get("invoice_id")
    return validate_document(
        {
            "kind": "refund",
            "key": _key(ctx, "refund", memo["entity_id"]),
            "number": _text(memo.get("increment_id")),
            "refund_date": _date(memo.get("created_at")),
            "status": CREDITMEMO_STATES.get(state) if isinstance(state, int) else None,
            "status_raw": None if state is None else f"creditmemo state {state}",
            "sale_key": _key(ctx, "sale", invoice_id) if invoice_id else None,
            "sale_number": invoice_number,
            "reason": _text(comments[0]) if comments else None,
            "source": _source(ctx, memo["entity_id"]),
            "lines": lines,
            "totals": _totals(memo, None),
            **_commercial(memo, order, ctx),
        }
    )


def _payment(
    doc: Payload, order: Payload, ctx: Context, kind: str, direction: str, settles: str
) -> Document | None:
    amount = _amount(doc, "grand_total")
    if amount <= 0:
        return None
    raw_id = doc["entity_id"]
    return validate_document(
        {
            "kind": "payment",
            "key": _key(ctx, "payment", f"{kind}-{raw_id}"),
            "id": f"{kind}-{raw_id}",
            "payment_date": _date(doc.get("created_at")) or _date(order.get("created_at")),
            "method": _payment_method(order) or {"code": "unknown"},
            "direction": direction,
            "amount": amount,
            "transaction_id": _text(doc.get("transaction_id"))
            or _text((order.get("payment") or {}).get("last_trans_id")),
            "currency": str(doc.get("order_currency_code") or order.get("order_currency_code")),
            "exchange_rate": _exchange_rate(doc, ctx),
            "order_id": str(order.get("entity_id")),
            "order_reference": _text(order.get("increment_id")),
            "settles": (settles,),
            "customer": _customer(order),
            "billing": _address(order.get("billing_address")),
            "source": _source(ctx, raw_id),
        }
    )


def invoice_payment(invoice: Payload, order: Payload, ctx: Context) -> Document | None:
    """Money received for a *paid* invoice (state 2); ``None`` for open or zero invoices."""
    if invoice.get("state") != 2:
        return None
    return _payment(invoice, order, ctx, "invoice", "in", _key(ctx, "sale", invoice["entity_id"]))


def creditmemo_payment(memo: Payload, order: Payload, ctx: Context) -> Document | None:
    """Money paid back for a *refunded* credit memo (state 2), direction ``out``."""
    if memo.get("state") != 2:
        return None
    return _payment(memo, order, ctx, "creditmemo", "out", _key(ctx, "refund", memo["entity_id"]))


# --------------------------------------------------------------------------- batch


def map_batch(
    invoices: Iterable[Payload],
    creditmemos: Iterable[Payload],
    orders: Mapping[Any, Payload],
    ctx: Context,
    *,
    invoice_numbers: Mapping[Any, str] | None = None,
) -> tuple[list[Document], list[SetAside]]:
    """Map invoices and memos (orders by ``entity_id`` give context); bad ones set aside."""
    documents: list[Document] = []
    aside: list[SetAside] = []
    numbers = dict(invoice_numbers or {})
    jobs = [("invoice", i) for i in invoices] + [("creditmemo", m) for m in creditmemos]
    for kind, payload in jobs:
        raw_id = f"{kind} {payload.get('entity_id')}"
        order = orders.get(payload.get("order_id"))
        kind_of = "sale" if kind == "invoice" else "refund"
        if order is None:
            reason = f"order {payload.get('order_id')} not found"
            aside.append(SetAside(PLATFORM, raw_id, reason, kind_of))
            continue
        try:
            if kind == "invoice":
                numbers[payload.get("entity_id")] = str(payload.get("increment_id"))
                found: list[Document | None] = [
                    map_invoice(payload, order, ctx),
                    invoice_payment(payload, order, ctx),
                ]
            else:
                number = numbers.get(payload.get("invoice_id"))
                found = [
                    map_creditmemo(payload, order, ctx, number),
                    creditmemo_payment(payload, order, ctx),
                ]
        except (Unmappable, ValidationError, KeyError, TypeError, ValueError) as exc:
            aside.append(SetAside(PLATFORM, raw_id, set_aside_reason(exc), kind_of))
            continue
        documents.extend(d for d in found if d is not None)
    return documents, aside
