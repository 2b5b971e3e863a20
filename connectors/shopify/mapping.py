"""Shopify orders → normalised sales, refunds and payments (pure, no HTTP).

Why one mapping for two APIs: GraphQL Admin is the primary path (REST is legacy since
2024-10), but REST payloads are still what older custom apps and webhooks deliver.  The
mapping reads the **GraphQL order node** shape (the fields ``client.ORDERS_QUERY`` asks for);
:func:`rest_order_to_node` rewrites a REST order (plus its transactions) into that shape, so
both paths share every accounting decision below.

Decisions (API-NOTES.md §4):

* the sale is the *original* order (``totalPriceSet``, not ``current*``, which is already net
  of refunds); refunds become separate :class:`Refund` documents;
* a line's excl. amount = unit price × quantity − its discount allocations, minus its tax
  lines when ``taxesIncluded`` (Shopify then reports tax-inclusive prices);
* every discount in Shopify is allocated to a line or a shipping line, so discounts are
  netted into those lines (``Line.total_excl`` is "after line discounts");
* tax rate = the sum of the line's tax line rates (``ratePercentage``, or REST ``rate`` × 100);
* money comes from ``shopMoney`` (the shop's books) unless ``Context.money`` says
  ``presentment``; then the rate to the shop currency is derived from the order's two totals
  (Shopify publishes no rate) and recorded as ``exchange_rate``;
* a shipping refund appears in ``refundShippingLines`` *and* as an order adjustment of kind
  shipping refund: counted once (the shipping lines win, the adjustment is the fallback for
  versions that lack them);
* the refund's total is what was actually paid back (``totalRefundedSet``): when it differs
  from its lines (as in Shopify's own documentation sample) the document carries the gap;
* payments are successful ``SALE``/``CAPTURE`` transactions (in) and ``REFUND`` ones (out);
  authorisations and voids move no money.

Each document is built as one dict and validated once by ``validate_document`` (the msgspec
mirror of the model).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import ValidationError

from postingrules.connectors._http import dec, dec_or
from postingrules.connectors.profile import (
    Document,
    Raw,
    SetAside,
    Unmappable,
    joined,
    product_line,
    set_aside_reason,
)
from postingrules.connectors.profile import line as _line
from postingrules.model.structs import validate_document

PLATFORM = "shopify"
ZERO = Decimal(0)
ONE = Decimal(1)
RATE_PLACES = Decimal("0.0000000001")
Node = Mapping[str, Any]

GATEWAY_CODES = {
    "shopify_payments": "card",
    "stripe": "card",
    "bogus": "card",
    "paypal": "paypal",
    "bank_deposit": "transfer",
    "bank deposit": "transfer",
    "cash_on_delivery": "cod",
    "cash on delivery (cod)": "cod",
    "money_order": "cheque",
    "gift_card": "gift_card",
    "manual": "manual",
}
FINANCIAL_STATUS = {
    "PAID": "paid",
    "PARTIALLY_PAID": "partially_paid",
    "PARTIALLY_REFUNDED": "partially_refunded",
    "REFUNDED": "refunded",
    "PENDING": "pending",
    "AUTHORIZED": "authorized",
    "VOIDED": "cancelled",
    "EXPIRED": "cancelled",
}


BAGS = {"shop": "shopMoney", "presentment": "presentmentMoney"}
"""``Context.money`` → the ``MoneyBag`` field it reads (anything else reads the shop money)."""


@dataclass(frozen=True)
class Context:
    """Per-shop settings of the mapping."""

    shop: str
    money: Literal["shop", "presentment"] = "shop"
    vat_attribute: str = "vat_number"
    """Order custom attribute (REST ``note_attributes``) holding a B2C/B2B VAT number."""
    bag: str = field(init=False, repr=False, compare=False)
    """The ``MoneyBag`` field ``money`` reads, looked up once here instead of per amount."""
    prefix: str = field(init=False, repr=False, compare=False)
    """``shopify:<shop>:``, the start of every document key."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "bag", BAGS.get(self.money, "shopMoney"))
        object.__setattr__(self, "prefix", f"{PLATFORM}:{self.shop}:")


# --------------------------------------------------------------------------- helpers


def _nodes(value: Any) -> Sequence[Any]:
    """GraphQL lists come as plain lists or as connections (``{nodes: [...]}``/edges);
    callers only read the result, so a JSON list is handed back as it is."""
    if value is None:
        return ()
    kind = type(value)
    if kind is list:
        return value
    if kind is dict and "nodes" in value:
        return value["nodes"] or ()
    if isinstance(value, Mapping):
        if "nodes" in value:
            return list(value["nodes"] or [])
        return [edge["node"] for edge in value.get("edges") or []]
    return list(value)


def _money(money_set: Any, ctx: Context, field: str = "") -> Decimal:
    """Amount of a ``MoneyBag`` in the chosen currency; a missing bag is zero.

    The usual ``{"shopMoney": {"amount": "20.00"}}`` is read by subscripts and parsed here;
    anything else (no set, no bag, a number, text that is not one) takes
    :func:`_money_checked`, which decides."""
    try:
        amount = money_set[ctx.bag]["amount"]
        if amount.__class__ is str:
            value = Decimal(amount)
            if value.is_finite():
                return value
    except (TypeError, KeyError, InvalidOperation):
        pass
    return _money_checked(money_set, ctx, field)


def _money_checked(money_set: Any, ctx: Context, field: str) -> Decimal:
    if not money_set:
        return ZERO
    bag = money_set.get(ctx.bag)
    if not bag:
        raise Unmappable(f"{field or 'amount'}: no {ctx.money} money")
    try:
        return dec(bag["amount"])
    except (KeyError, ValueError) as exc:
        raise Unmappable(f"{field or 'amount'}: {exc}") from None


def _currency(money_set: Any, ctx: Context) -> str | None:
    bag = (money_set or {}).get(ctx.bag)
    return (bag or {}).get("currencyCode")


def _date(value: Any) -> dt.date | None:
    """Shopify timestamps carry an offset; the shop-local calendar day is the one printed."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        raise Unmappable(f"unreadable date {value!r}") from None


def _text(value: Any) -> str | None:
    """Trimmed text, ``None`` when empty; absent fields (the most frequent) answered first."""
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    return str(value).strip() or None


def _legacy_id(node: Node) -> str:
    legacy = node.get("legacyResourceId")
    if legacy:
        return str(legacy)
    return str(node.get("id", "")).rsplit("/", 1)[-1]


def _tax(tax_lines: Any, ctx: Context) -> tuple[Decimal, Decimal]:
    """(sum of tax amounts, sum of rates in percent) of a node's ``taxLines`` (a list, read
    as it is, or a connection)."""
    amount = ZERO
    rate = ZERO
    for tax in tax_lines if type(tax_lines) is list else _nodes(tax_lines):
        amount += _money(tax.get("priceSet"), ctx, "tax line")
        percent = tax.get("ratePercentage")
        if percent is not None:
            rate += dec(percent)
        elif tax.get("rate") is not None:
            rate += dec(tax["rate"]) * 100
        else:
            raise Unmappable(f"tax line {tax.get('title')!r} without a rate")
    # 6.00 → 6 and 8.250 → 8.25, never the exponent form that ``normalize`` gives 20.
    return amount, rate.quantize(ONE) if rate == rate.to_integral_value() else rate.normalize()


def _address(raw: Node | None) -> Raw | None:
    if not raw or not raw.get("countryCodeV2"):
        return None
    street = joined(_text(raw.get("address1")), _text(raw.get("address2")), ", ")
    return {
        "country": str(raw["countryCodeV2"]).upper(),
        "postcode": _text(raw.get("zip")),
        "city": _text(raw.get("city")),
        "region": _text(raw.get("provinceCode")),
        "street": street or None,
        "company": _text(raw.get("company")),
        "name": _text(raw.get("name")),
    }


def _vat_number(order: Node, entity: Node, ctx: Context) -> str | None:
    """VAT number: the B2B company location's tax id (``entity`` is the order's purchasing
    entity), else the configured custom attribute."""
    location = entity.get("location") or {}
    if location.get("taxRegistrationId"):
        return _text(location["taxRegistrationId"])
    for attribute in order.get("customAttributes") or []:
        if str(attribute.get("key", "")).lower() == ctx.vat_attribute.lower():
            return _text(attribute.get("value"))
    return None


def _customer(order: Node, ctx: Context) -> Raw:
    raw = order.get("customer") or {}
    billing = order.get("billingAddress") or {}
    entity = order.get("purchasingEntity") or {}
    company = _text((entity.get("company") or {}).get("name")) or _text(billing.get("company"))
    name = joined(_text(raw.get("firstName")), _text(raw.get("lastName")))
    return {
        "id": _legacy_id(raw) if raw.get("id") else None,
        "name": name or _text(billing.get("name")),
        "company": company,
        "email": _text(raw.get("email")) or _text(order.get("email")),
        "vat_number": _vat_number(order, entity, ctx),
        "group": "B2B" if entity.get("company") else None,
    }


def _method(gateway: Any) -> Raw:
    label = _text(gateway) or "unknown"
    return {"code": GATEWAY_CODES.get(label.lower(), label.lower()), "label": label}


def _exchange_rate(order: Node, ctx: Context) -> Decimal | None:
    """Shop currency per presentment unit, derived from the order totals (presentment only)."""
    if ctx.money != "presentment":
        return None
    total = order.get("totalPriceSet") or {}
    shop = total.get("shopMoney") or {}
    shown = total.get("presentmentMoney") or {}
    if shop.get("currencyCode") == shown.get("currencyCode"):
        return None
    shown_amount = dec_or(shown.get("amount"), ZERO)
    if shown_amount == 0:
        raise Unmappable("presentment total is zero: no exchange rate can be derived")
    return (dec(shop["amount"]) / shown_amount).quantize(RATE_PLACES)


def _key(ctx: Context, kind: str, raw_id: str) -> str:
    return f"{ctx.prefix}{kind}:{raw_id}"


# --------------------------------------------------------------------------- sale


def _source(ctx: Context, raw_id: str) -> Raw:
    return {"platform": PLATFORM, "shop": ctx.shop, "raw_id": raw_id}


def _discount(line: Node, ctx: Context) -> Decimal:
    """The sum of a line's discount allocations (most lines have none: callers ask first)."""
    allocations = line.get("discountAllocations")
    if not allocations:
        return ZERO
    total = ZERO
    for allocation in _nodes(allocations):
        total += _money(allocation.get("allocatedAmountSet"), ctx, "discount")
    return total


def _item_line(item: Node, taxes_included: bool, ctx: Context) -> Raw:
    quantity = dec(item.get("quantity", 0))
    if quantity < 0:
        raise Unmappable(f"line item {_legacy_id(item)}: negative quantity {quantity}")
    unit = _money(item.get("originalUnitPriceSet"), ctx, "originalUnitPrice")
    discount = _discount(item, ctx) if item.get("discountAllocations") else ZERO
    tax, rate = _tax(item.get("taxLines"), ctx)
    excl = unit * quantity - discount
    if taxes_included:
        excl -= tax
    return product_line(str(item.get("name") or ""), _text(item.get("sku")), quantity,
                        None if taxes_included else unit, excl, tax, rate)  # fmt: skip


def _shipping_line(line: Node, taxes_included: bool, ctx: Context) -> Raw | None:
    price = _money(line.get("originalPriceSet"), ctx, "shipping price")
    discount = _discount(line, ctx) if line.get("discountAllocations") else ZERO
    tax, rate = _tax(line.get("taxLines"), ctx)
    if price == 0 and tax == 0:
        return None
    after_discount = price - discount
    excl = after_discount - tax if taxes_included else after_discount
    return _line("shipping", str(line.get("title") or "Shipping"), excl, tax, rate)


def _paid(order: Node, ctx: Context) -> Decimal:
    paid = ZERO
    for txn in _nodes(order.get("transactions")):
        status = txn.get("status", "")  # GraphQL enums come upper-case: no str() nor upper()
        if status != "SUCCESS" and str(status).upper() != "SUCCESS":
            continue
        kind = txn.get("kind", "")
        if kind in ("SALE", "CAPTURE") or str(kind).upper() in ("SALE", "CAPTURE"):
            paid += _money(txn.get("amountSet"), ctx, "transaction")
    return paid


def _common(order: Node, ctx: Context) -> dict[str, Any]:
    """The fields every document of the order shares."""
    currency = _currency(order.get("totalPriceSet"), ctx) or (
        order.get("presentmentCurrencyCode")
        if ctx.money == "presentment"
        else order.get("currencyCode")
    )
    gateways = order.get("paymentGatewayNames") or []
    return {
        "order_id": _legacy_id(order),
        "order_reference": _text(order.get("name")),
        "order_date": _date(order.get("createdAt") or order.get("processedAt")),
        "currency": currency,
        "exchange_rate": _exchange_rate(order, ctx),
        "customer": _customer(order, ctx),
        "billing": _address(order.get("billingAddress")),
        "shipping": _address(order.get("shippingAddress")),
        "payment_method": _method(gateways[0]) if gateways else None,
    }


def map_sale(order: Node, ctx: Context, common: Raw | None = None) -> Document:
    """The original order as a :class:`Sale` (number = the order name, e.g. ``#1001``);
    ``common`` is :func:`_common` of the order when the caller already has it."""
    taxes_included = bool(order.get("taxesIncluded"))
    lines = [_item_line(i, taxes_included, ctx) for i in _nodes(order.get("lineItems"))]
    for shipping in _nodes(order.get("shippingLines")):
        line = _shipping_line(shipping, taxes_included, ctx)
        if line is not None:
            lines.append(line)
    if not lines:
        raise Unmappable("order without line items")
    incl = _money(order.get("totalPriceSet"), ctx, "totalPrice")
    tax = _money(order.get("totalTaxSet"), ctx, "totalTax")
    status = str(order.get("displayFinancialStatus") or "").upper()
    invoice_date = _date(order.get("processedAt") or order.get("createdAt"))
    paid = _paid(order, ctx)
    if not common:
        common = _common(order, ctx)
    order_id = common["order_id"]
    return validate_document(
        {
            "kind": "sale",
            "key": _key(ctx, "sale", order_id),
            "number": common["order_reference"],
            **common,
            "status": "cancelled" if order.get("cancelledAt") else FINANCIAL_STATUS.get(status),
            "status_raw": status.lower() or None,
            "source": _source(ctx, order_id),
            "lines": lines,
            "totals": {"excl": incl - tax, "tax": tax, "incl": incl, "paid": paid},
            "invoice_date": invoice_date,
        }
    )


# --------------------------------------------------------------------------- refunds


def _refund_lines(refund: Node, order: Node, ctx: Context) -> list[Raw]:
    taxes_included = bool(order.get("taxesIncluded"))
    rates = {}
    for item in _nodes(order.get("lineItems")):
        rates[item.get("id")] = _tax(item.get("taxLines"), ctx)[1]
    lines: list[Raw] = []
    for rli in _nodes(refund.get("refundLineItems")):
        item = rli.get("lineItem") or {}
        quantity = dec(rli.get("quantity", 0))
        subtotal = _money(rli.get("subtotalSet"), ctx, "refund subtotal")
        tax = _money(rli.get("totalTaxSet"), ctx, "refund tax")
        excl = subtotal - tax if taxes_included else subtotal
        if item.get("id") in rates:
            rate = rates[item["id"]]
        elif tax == 0:
            rate = ZERO
        else:
            raise Unmappable(
                f"refunded line item {item.get('id')} not in the order (unknown tax rate)"
            )
        lines.append(product_line(str(item.get("name") or ""), _text(item.get("sku")), quantity,
                                  None, excl, tax, rate))  # fmt: skip
    shipping_lines = _nodes(refund.get("refundShippingLines"))
    for rsl in shipping_lines:
        excl = _money(rsl.get("subtotalAmountSet"), ctx, "shipping refund")
        tax = _money(rsl.get("taxAmountSet"), ctx, "shipping refund tax")
        original = rsl.get("shippingLine") or {}
        _, rate = _tax(original.get("taxLines"), ctx)
        label = str(original.get("title") or "Shipping refund")
        lines.append(_line("shipping", label, excl, tax, rate if tax else ZERO))
    for adjustment in _nodes(refund.get("orderAdjustments")):
        reason = str(adjustment.get("reason") or adjustment.get("kind") or "").upper()
        is_shipping = reason == "SHIPPING_REFUND"
        if is_shipping and shipping_lines:
            continue  # already counted from refundShippingLines
        # Adjustments are negative when money goes back to the customer.
        excl = -_money(adjustment.get("amountSet"), ctx, "adjustment")
        tax = -_money(adjustment.get("taxAmountSet"), ctx, "adjustment tax")
        lines.append(
            _line(
                "shipping" if is_shipping else "fee",
                "Shipping refund" if is_shipping else reason.replace("_", " ").capitalize(),
                excl,
                tax,
                _rate_of(excl, tax),
            )
        )
    return lines


def _rate_of(excl: Decimal, tax: Decimal) -> Decimal:
    """Rate implied by an adjustment (Shopify gives no rate for them), to 2 decimals."""
    if tax == 0 or excl == 0:
        return ZERO
    return (tax / excl * 100).quantize(Decimal("0.01"))


def map_refund(
    refund: Node, order: Node, ctx: Context, index: int = 1, common: Raw | None = None
) -> Document:
    """One refund of an order → a :class:`Refund` with positive amounts.

    Shopify numbers no credit notes: the number is the order name and the refund's rank in
    the order (``#1004-R1``), stable because Shopify refunds cannot be deleted.
    """
    lines = _refund_lines(refund, order, ctx)
    refunded = _money(refund.get("totalRefundedSet"), ctx, "totalRefunded")
    if not lines:
        if refunded == 0:
            raise Unmappable("refund without lines and without amount")
        # An amount-only refund: Shopify does not say what it was for.
        lines = [_line("fee", "Refund without items", refunded, ZERO, ZERO)]
    tax = sum((line["tax_amount"] for line in lines), ZERO)
    refund_id = _legacy_id(refund)
    return validate_document(
        {
            "kind": "refund",
            "key": _key(ctx, "refund", refund_id),
            "number": f"{order.get('name') or _legacy_id(order)}-R{index}",
            "refund_date": _date(refund.get("createdAt")),
            "sale_key": _key(ctx, "sale", _legacy_id(order)),
            "sale_number": _text(order.get("name")),
            "reason": _text(refund.get("note")),
            "status": "refunded",
            "source": _source(ctx, refund_id),
            "lines": lines,
            "totals": {"excl": refunded - tax, "tax": tax, "incl": refunded, "paid": refunded},
            **(common or _common(order, ctx)),
        }
    )


# --------------------------------------------------------------------------- payments


def map_payments(order: Node, ctx: Context, common: Raw | None = None) -> list[Document]:
    """Successful money movements of the order: sales/captures in, refunds out."""
    refund_of: dict[str, str] = {}
    for refund in _nodes(order.get("refunds")):
        for txn in _nodes(refund.get("transactions")):
            refund_of[str(txn.get("id"))] = _legacy_id(refund)
    if common is None:
        common = _common(order, ctx)
    payments = []
    for txn in _nodes(order.get("transactions")):
        kind = str(txn.get("kind", "")).upper()
        if str(txn.get("status", "")).upper() != "SUCCESS" or kind not in (
            "SALE",
            "CAPTURE",
            "REFUND",
        ):
            continue
        amount = _money(txn.get("amountSet"), ctx, "transaction")
        if amount <= 0:
            continue
        txn_id = _legacy_id(txn)
        if kind == "REFUND":
            refund_id = refund_of.get(str(txn.get("id")))
            settles = (_key(ctx, "refund", refund_id),) if refund_id else ()
        else:
            settles = (_key(ctx, "sale", _legacy_id(order)),)
        payments.append(
            validate_document(
                {
                    "kind": "payment",
                    "key": _key(ctx, "payment", txn_id),
                    "id": txn_id,
                    "payment_date": _date(txn.get("processedAt") or txn.get("createdAt")),
                    "method": _method(txn.get("gateway")),
                    "direction": "out" if kind == "REFUND" else "in",
                    "amount": amount,
                    "transaction_id": _text(txn.get("authorizationCode")) or txn_id,
                    "currency": _currency(txn.get("amountSet"), ctx) or common["currency"],
                    "exchange_rate": common["exchange_rate"],
                    "order_id": common["order_id"],
                    "order_reference": common["order_reference"],
                    "settles": settles,
                    "customer": common["customer"],
                    "billing": common["billing"],
                    "source": _source(ctx, txn_id),
                }
            )
        )
    return payments


def map_order(order: Node, ctx: Context) -> list[Document]:
    """Every document of one order node: its sale, its refunds and its payments."""
    common = _common(order, ctx)  # shared by every document of the order: read once
    documents: list[Document] = [map_sale(order, ctx, common)]
    refunds = sorted(_nodes(order.get("refunds")), key=lambda r: str(r.get("createdAt") or ""))
    documents.extend(map_refund(r, order, ctx, k, common) for k, r in enumerate(refunds, start=1))
    documents.extend(map_payments(order, ctx, common))
    return documents


def map_batch(orders: Iterable[Node], ctx: Context) -> tuple[list[Document], list[SetAside]]:
    """Map order nodes; an order that cannot be mapped is set aside, the rest goes on."""
    documents: list[Document] = []
    aside: list[SetAside] = []
    for order in orders:
        try:
            documents.extend(map_order(order, ctx))
        except (Unmappable, ValidationError, KeyError, TypeError, ValueError) as exc:
            aside.append(
                SetAside(PLATFORM, f"order {_legacy_id(order)}", set_aside_reason(exc), "sale")
            )
    return documents, aside


# --------------------------------------------------------------------------- REST → node


def _set(rest_set: Any, amount: Any = None, currency: str | None = None) -> dict[str, Any] | None:
    """REST ``*_set`` (snake case) → GraphQL ``MoneyBag``; a bare amount when no set exists."""
    if rest_set:
        return {
            "shopMoney": {
                "amount": rest_set["shop_money"]["amount"],
                "currencyCode": rest_set["shop_money"].get("currency_code"),
            },
            "presentmentMoney": {
                "amount": rest_set["presentment_money"]["amount"],
                "currencyCode": rest_set["presentment_money"].get("currency_code"),
            },
        }
    if amount is None:
        return None
    bag = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": bag, "presentmentMoney": bag}


def _rest_taxes(tax_lines: Iterable[Node]) -> list[dict[str, Any]]:
    return [
        {
            "title": t.get("title"),
            "rate": t.get("rate"),
            "priceSet": _set(t.get("price_set"), t.get("price")),
        }
        for t in tax_lines or []
    ]


def _rest_allocations(allocations: Iterable[Node]) -> list[dict[str, Any]]:
    return [
        {"allocatedAmountSet": _set(a.get("amount_set"), a.get("amount"))}
        for a in allocations or []
    ]


def _rest_address(raw: Node | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {
        "name": raw.get("name"),
        "company": raw.get("company"),
        "address1": raw.get("address1"),
        "address2": raw.get("address2"),
        "city": raw.get("city"),
        "zip": raw.get("zip"),
        "provinceCode": raw.get("province_code"),
        "countryCodeV2": raw.get("country_code"),
    }


def _rest_transaction(txn: Node) -> dict[str, Any]:
    return {
        "id": txn.get("id"),
        "kind": str(txn.get("kind", "")).upper(),
        "status": str(txn.get("status", "")).upper(),
        "gateway": txn.get("gateway"),
        "processedAt": txn.get("processed_at") or txn.get("created_at"),
        "authorizationCode": txn.get("authorization"),
        "amountSet": _set(txn.get("amount_set"), txn.get("amount"), txn.get("currency")),
    }


def rest_order_to_node(order: Node, transactions: Iterable[Node] | None = None) -> dict[str, Any]:
    """A REST Admin order (+ ``/orders/{id}/transactions.json``) in the GraphQL node shape."""
    currency = order.get("currency")
    customer = order.get("customer") or {}
    refunds = []
    for refund in order.get("refunds") or []:
        refund_txns = [
            t
            for t in refund.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") == "success"
        ]
        total = sum((dec(t["amount"]) for t in refund_txns), ZERO)
        refunds.append(
            {
                "id": refund.get("id"),
                "createdAt": refund.get("created_at"),
                "note": refund.get("note"),
                "totalRefundedSet": _set(None, str(total), currency),
                "refundLineItems": [
                    {
                        "quantity": r.get("quantity"),
                        "lineItem": {
                            "id": (r.get("line_item") or {}).get("id", r.get("line_item_id")),
                            "name": (r.get("line_item") or {}).get("name"),
                            "sku": (r.get("line_item") or {}).get("sku"),
                        },
                        "subtotalSet": _set(r.get("subtotal_set"), r.get("subtotal"), currency),
                        "totalTaxSet": _set(r.get("total_tax_set"), r.get("total_tax"), currency),
                    }
                    for r in refund.get("refund_line_items") or []
                ],
                "refundShippingLines": [
                    {
                        "subtotalAmountSet": _set(s.get("subtotal_amount_set")),
                        "taxAmountSet": _set(s.get("tax_amount_set")),
                        "shippingLine": {
                            "title": (s.get("shipping_line") or {}).get("title"),
                            "taxLines": _rest_taxes(
                                (s.get("shipping_line") or {}).get("tax_lines")
                            ),
                        },
                    }
                    for s in refund.get("refund_shipping_lines") or []
                ],
                "orderAdjustments": [
                    {
                        "reason": str(a.get("kind", "")).upper(),
                        "amountSet": _set(a.get("amount_set"), a.get("amount"), currency),
                        "taxAmountSet": _set(
                            a.get("tax_amount_set"), a.get("tax_amount"), currency
                        ),
                    }
                    for a in refund.get("order_adjustments") or []
                ],
                "transactions": [_rest_transaction(t) for t in refund_txns],
            }
        )
    status = order.get("financial_status") or ""
    return {
        "id": order.get("admin_graphql_api_id") or order.get("id"),
        "legacyResourceId": str(order.get("id")),
        "name": order.get("name"),
        "createdAt": order.get("created_at"),
        "processedAt": order.get("processed_at"),
        "cancelledAt": order.get("cancelled_at"),
        "displayFinancialStatus": status.upper(),
        "currencyCode": currency,
        "presentmentCurrencyCode": order.get("presentment_currency"),
        "taxesIncluded": order.get("taxes_included"),
        "email": order.get("email"),
        "paymentGatewayNames": order.get("payment_gateway_names") or [],
        "customAttributes": [
            {"key": a.get("name"), "value": a.get("value")}
            for a in order.get("note_attributes") or []
        ],
        "customer": {
            "id": customer.get("id"),
            "legacyResourceId": str(customer["id"]),
            "email": customer.get("email"),
            "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
        }
        if customer.get("id")
        else None,
        "billingAddress": _rest_address(order.get("billing_address")),
        "shippingAddress": _rest_address(order.get("shipping_address")),
        "totalPriceSet": _set(order.get("total_price_set"), order.get("total_price"), currency),
        "totalTaxSet": _set(order.get("total_tax_set"), order.get("total_tax"), currency),
        "lineItems": [
            {
                "id": li.get("id"),
                "name": li.get("name"),
                "sku": li.get("sku"),
                "quantity": li.get("quantity"),
                "originalUnitPriceSet": _set(li.get("price_set"), li.get("price"), currency),
                "taxLines": _rest_taxes(li.get("tax_lines")),
                "discountAllocations": _rest_allocations(li.get("discount_allocations")),
            }
            for li in order.get("line_items") or []
        ],
        "shippingLines": [
            {
                "title": s.get("title"),
                "originalPriceSet": _set(s.get("price_set"), s.get("price"), currency),
                "taxLines": _rest_taxes(s.get("tax_lines")),
                "discountAllocations": _rest_allocations(s.get("discount_allocations")),
            }
            for s in order.get("shipping_lines") or []
        ],
        "transactions": [_rest_transaction(t) for t in transactions or []],
        "refunds": refunds,
    }
