"""PrestaShop webservice JSON → normalised Sale / Refund / Payment documents (pure, no I/O).

Why a separate pure module: the traps are in the data, not in HTTP.  Every scalar may be a
string or a number (1.7 vs 8.x), ``0000-00-00 00:00:00`` means "no date", the tax *rate* is not
on the order line (only ``associations.taxes`` → ``/api/taxes``, whose rate may have been edited
since: it is cross-checked against the line's incl./excl. amounts), order states are mapped by
their flags because merchants renumber them, payments hang on the order *reference* shared by
split orders, and ``total_paid_real`` is never a payment (it is doubled in a real sample).

Totals are copied as the shop reports them; the engine compares them with the lines and posts
the rounding gap.  Anything that cannot be mapped raises :class:`Unmappable`.  Each document
is built as one dict and validated once by ``validate_document`` (the msgspec mirror).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from postingrules.connectors._http import dec, dec_or
from postingrules.connectors.profile import Document, Raw, Unmappable, joined
from postingrules.connectors.profile import amount as money
from postingrules.model.structs import validate_document

PLATFORM = "prestashop"
ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
RATE_TOLERANCE = Decimal("0.011")
"""A rate fits a line when ``excl × rate`` is within a cent (plus a cent per unit) of its tax."""

METHODS = (
    ("check", "cheque"),
    ("cheque", "cheque"),
    ("wire", "transfer"),
    ("virement", "transfer"),
    ("paypal", "paypal"),
    ("stripe", "card"),
    ("card", "card"),
    ("carte", "card"),
    ("cashondelivery", "cod"),
    ("cod", "cod"),
)


_RATES_CACHE: dict[int, tuple[Mapping[str, Any], int, list[Decimal], dict[str, Decimal]]] = {}
"""Parsed rates of the shops' ``taxes`` tables, by table identity (see Lookups._rates)."""

_MEMOS: dict[int, tuple[Mapping[str, Any], int, dict[str, Any]]] = {}
"""Values derived from the other reference tables, by table identity (see :func:`_memo`)."""


def _iso_code(table: Mapping[str, Mapping[str, Any]], record_id: str) -> str | None:
    """The upper-case ``iso_code`` of one record of a reference table (countries, currencies),
    remembered per table: every order asks for it."""
    memo = _memo(table)
    code = memo.get(record_id)
    if code is None:
        record = table.get(record_id)
        code = sid(record.get("iso_code")).upper() if record is not None else ""
        if not code:
            return None
        memo[record_id] = code
    return code


def _memo(table: Mapping[str, Any]) -> dict[str, Any]:
    """Values derived from the reference ``table`` by id, kept for the next order: every order
    of a fetch looks up the same few countries, currencies and order states.

    As with the taxes, these tables are read-only once mapping starts (``fetch`` loads them
    first); a different table, or one that grew or shrank, starts a new memo.  Keyed by
    identity, not held by :class:`Lookups`, which callers rebuild from its ``__dict__``."""
    entry = _MEMOS.get(id(table))
    if entry is None or entry[0] is not table or entry[1] != len(table):
        if len(_MEMOS) >= 48:
            _MEMOS.clear()
        entry = _MEMOS[id(table)] = (table, len(table), {})
    return entry[2]


@dataclass
class Lookups:
    """Reference records of one shop, keyed by id (as strings)."""

    shop: str
    order_states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    taxes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    countries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    currencies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    customers: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    addresses: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    invoice_prefix: str = ""
    slip_prefix: str = ""

    def country_code(self, country_id: str) -> str | None:
        """The upper-case ISO code of country ``country_id``; None if unknown or without one."""
        return _iso_code(self.countries, country_id)

    def currency_code(self, currency_id: str) -> str | None:
        """The upper-case ISO code of currency ``currency_id``; None if unknown or without one."""
        return _iso_code(self.currencies, currency_id)

    def state(self, state_id: str) -> tuple[str, str | None]:
        """(normalised status, the state's name) of order state ``state_id``."""
        memo = _memo(self.order_states)
        known = memo.get(state_id)
        if known is None:
            state = self.order_states.get(state_id)
            known = memo[state_id] = (status_of(state), _state_name(state))
        return known

    def _rates(self) -> tuple[list[Decimal], dict[str, Decimal]]:
        """(known rates, rate by tax id), parsed once per ``taxes`` table, not once per line.

        The table is read-only once mapping starts (``fetch`` loads it first); a different
        table, or one that grew or shrank, is parsed again."""
        taxes = self.taxes
        entry = _RATES_CACHE.get(id(taxes))
        if entry is None or entry[0] is not taxes or entry[1] != len(taxes):
            if len(_RATES_CACHE) >= 16:
                _RATES_CACHE.clear()
            known = sorted(
                {ZERO} | {dec(t["rate"]) for t in taxes.values() if t.get("rate") is not None}
            )
            entry = _RATES_CACHE[id(taxes)] = (taxes, len(taxes), known, {})
        return entry[2], entry[3]

    def known_rates(self) -> list[Decimal]:
        return list(self._rates()[0])

    def tax_rate(self, tax_id: str) -> Decimal:
        """The rate of tax ``tax_id`` (which must exist), parsed once."""
        by_id = self._rates()[1]
        rate = by_id.get(tax_id)
        if rate is None:
            rate = by_id[tax_id] = dec(self.taxes[tax_id]["rate"])
        return rate


def sid(value: Any) -> str:
    """An id as a string ("5", 5 and None → "")."""
    if type(value) is str:
        return value.strip()
    return "" if value is None else str(value).strip()


TRUE_FLAGS = frozenset({"1", "true", "True"})


def flag(value: Any) -> bool:
    return sid(value) in TRUE_FLAGS


def parse_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD[ HH:MM:SS]`` (shop-local) → date; ``0000-00-00…`` and empty → None."""
    text = sid(value)
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise Unmappable(f"bad date {text[:30]!r}") from None


def status_of(state: Mapping[str, Any] | None) -> str:
    """Normalised status from an order state's flags (ids are merchant-editable)."""
    if state is None:
        return "unknown"
    template = sid(state.get("template"))
    if flag(state.get("deleted")):
        return "deleted"
    if template == "order_canceled":
        return "cancelled"
    if template == "refund":
        return "refunded"
    if template == "payment_error":
        return "error"
    if flag(state.get("delivery")):
        return "delivered"
    if flag(state.get("shipped")):
        return "shipped"
    if flag(state.get("paid")):
        return "paid"
    if flag(state.get("logable")) or flag(state.get("invoice")):
        return "confirmed"
    return "pending"


@functools.lru_cache(maxsize=1024)
def method_code(*texts: str) -> str:
    """A stable payment method code from the module name or the label (a shop has a few
    modules and labels: each combination is worked out once)."""
    joined = " ".join(t.lower() for t in texts if t)
    for needle, code in METHODS:
        if needle in joined:
            return code
    first = next((t for t in texts if t), "unknown")
    return "".join(ch if ch.isalnum() else "_" for ch in first.lower()).strip("_") or "unknown"


def rate_for(
    excl: Decimal,
    incl: Decimal,
    quantity: Decimal,
    declared: Decimal | None,
    known: Sequence[Decimal],
) -> Decimal:
    """The VAT rate of a line: the declared one if the amounts agree, else a known rate that does."""
    tax = incl - excl
    if excl == ZERO:
        if tax == ZERO:
            return declared if declared is not None else ZERO
        raise Unmappable(f"tax {tax} on a zero tax-excluded amount")
    tolerance = RATE_TOLERANCE * quantity if quantity > ONE else RATE_TOLERANCE
    if declared is not None and abs(excl * declared / 100 - tax) <= tolerance:
        return declared
    best, best_gap = None, tolerance
    for rate in known:  # the known rate nearest the amounts (the first of equals), if close
        gap = abs(excl * rate / 100 - tax)
        if gap <= best_gap and (best is None or gap < best_gap):
            best, best_gap = rate, gap
    if best is not None:
        return best
    implied = (tax / excl * 100).quantize(Decimal("0.01"))
    declared_text = f" (declared {declared} %)" if declared is not None else ""
    raise Unmappable(
        f"unknown tax rate: excl {excl} / incl {incl} implies {implied} %{declared_text}, "
        "which matches no tax of the shop"
    )


def _address(lk: Lookups, address_id: Any) -> tuple[Raw | None, Mapping[str, Any]]:
    record = lk.addresses.get(sid(address_id))
    if record is None:
        return None, {}
    country = lk.country_code(sid(record.get("id_country")))
    if country is None:
        raise Unmappable(
            f"address {sid(address_id)}: unknown country {sid(record.get('id_country'))}"
        )
    name = joined(sid(record.get("firstname")), sid(record.get("lastname")))
    street = joined(sid(record.get("address1")), sid(record.get("address2")), ", ")
    address = {
        "country": country,
        "postcode": sid(record.get("postcode")) or None,
        "city": sid(record.get("city")) or None,
        "street": street or None,
        "company": sid(record.get("company")) or None,
        "name": name or None,
    }
    return address, record


def _addresses(
    lk: Lookups, order: Mapping[str, Any]
) -> tuple[Raw | None, Mapping[str, Any], Raw | None]:
    """(billing address, its record, delivery address); one address when both ids agree."""
    invoice_id, delivery_id = order.get("id_address_invoice"), order.get("id_address_delivery")
    billing, record = _address(lk, invoice_id)
    if sid(delivery_id) == sid(invoice_id):
        return billing, record, billing
    return billing, record, _address(lk, delivery_id)[0]


def _customer(lk: Lookups, order: Mapping[str, Any], invoice_address: Mapping[str, Any]) -> Raw:
    customer_id = sid(order.get("id_customer"))
    record = lk.customers.get(customer_id, {})
    guest = flag(record.get("is_guest"))
    name = joined(sid(record.get("firstname")), sid(record.get("lastname")))
    return {
        "id": None if guest else customer_id or None,
        "name": name or None,
        "company": sid(record.get("company")) or sid(invoice_address.get("company")) or None,
        "email": sid(record.get("email")) or None,
        "vat_number": sid(invoice_address.get("vat_number")) or None,
        "group": sid(record.get("id_default_group")) or None,
    }


def _currency(lk: Lookups, currency_id: Any, conversion_rate: Any) -> tuple[str, Decimal | None]:
    code = lk.currency_code(sid(currency_id))
    if code is None:
        raise Unmappable(f"unknown currency id {sid(currency_id)!r}")
    rate = dec_or(conversion_rate, ONE)
    if rate <= 0:
        raise Unmappable(f"conversion_rate {rate} is not positive")
    # conversion_rate = order currency units per default-currency unit; the document wants the
    # opposite (default-currency units for one unit of the document's currency).
    exchange = None if rate == 1 else (Decimal(1) / rate).quantize(Decimal("0.0000000001"))
    return code, exchange


def _number(prefix: str, number: Any) -> str | None:
    text = sid(number)
    if not text or text == "0":
        return None
    return f"{prefix}{int(text):06d}" if text.isdigit() else f"{prefix}{text}"


def _declared_rate(
    lk: Lookups, detail: Mapping[str, Any], by_id: Mapping[str, Decimal]
) -> Decimal | None:
    """The sum of the rates of the line's taxes (``by_id``: the rates parsed so far)."""
    declared = None
    for tax in (detail.get("associations") or {}).get("taxes") or ():
        tax_id = sid(tax.get("id"))
        rate = by_id.get(tax_id)
        if rate is None:
            if tax_id not in lk.taxes:
                continue
            rate = lk.tax_rate(tax_id)
        declared = rate if declared is None else declared + rate
    return None if declared is None else ZERO + declared


def _product_lines(
    lk: Lookups,
    order: Mapping[str, Any],
    details: Sequence[Mapping[str, Any]],
    known: Sequence[Decimal],
    by_id: Mapping[str, Decimal],
) -> list[Raw]:
    """The sale's product lines (``known``, ``by_id``: :meth:`Lookups._rates`)."""
    lines = []
    if details:
        for d in details:
            qty = dec(d.get("product_quantity"))
            excl = money(d, "total_price_tax_excl")
            incl = money(d, "total_price_tax_incl")
            unit_excl = money(d, "unit_price_tax_excl")
            lines.append(_line(d, qty, excl, incl, unit_excl, _declared_rate(lk, d, by_id), known))
    else:
        for row in (order.get("associations") or {}).get("order_rows") or []:
            qty = dec(row.get("product_quantity"))
            unit_excl = money(row, "unit_price_tax_excl")
            lines.append(
                _line(
                    row,
                    qty,
                    unit_excl * qty,
                    money(row, "unit_price_tax_incl") * qty,
                    unit_excl,
                    None,
                    known,
                )
            )
    return lines


def _line(
    d: Mapping[str, Any],
    qty: Decimal,
    excl: Decimal,
    incl: Decimal,
    unit_excl: Decimal,
    declared: Decimal | None,
    known: Sequence[Decimal],
) -> Raw:
    if qty <= 0:
        raise Unmappable(f"line {sid(d.get('id'))}: quantity {qty} on a sale")
    return {
        "kind": "product",
        "label": sid(d.get("product_name")),
        "sku": sid(d.get("product_reference")) or None,
        "quantity": qty,
        "unit_price_excl": unit_excl,
        "total_excl": excl,
        "tax_rate": rate_for(excl, incl, qty, declared, known),
        "tax_amount": incl - excl,
        "total_incl": incl,
    }


def _amount_line(
    kind: str,
    label: str,
    excl: Decimal,
    incl: Decimal,
    declared: Decimal | None,
    known: Sequence[Decimal],
) -> Raw:
    return {
        "kind": kind,
        "label": label,
        "total_excl": excl,
        "tax_rate": rate_for(abs(excl), abs(incl), ONE, declared, known),
        "tax_amount": incl - excl,
        "total_incl": incl,
    }


def map_sale(
    lk: Lookups,
    order: Mapping[str, Any],
    details: Sequence[Mapping[str, Any]] = (),
    invoices: Sequence[Mapping[str, Any]] = (),
    cart_rules: Sequence[Mapping[str, Any]] = (),
) -> Document:
    """One order (with its order_details, order_invoices, order_cart_rules) → a Sale."""
    oid = sid(order.get("id"))
    if not oid:
        raise Unmappable("order without id")
    known, by_id = lk._rates()
    lines = _product_lines(lk, order, details, known, by_id)
    if not lines:
        raise Unmappable("order without lines")
    ship_excl, ship_incl = (
        money(order, "total_shipping_tax_excl"),
        money(order, "total_shipping_tax_incl"),
    )
    if ship_excl or ship_incl:
        declared = dec_or(order.get("carrier_tax_rate"), ZERO)
        lines.append(_amount_line("shipping", "Shipping", ship_excl, ship_incl, declared, known))
    wrap_excl, wrap_incl = (
        money(order, "total_wrapping_tax_excl"),
        money(order, "total_wrapping_tax_incl"),
    )
    if wrap_excl or wrap_incl:
        lines.append(_amount_line("gift_wrap", "Gift wrapping", wrap_excl, wrap_incl, None, known))
    if cart_rules:
        for rule in cart_rules:
            excl, incl = money(rule, "value_tax_excl"), money(rule, "value")
            if excl or incl:
                lines.append(
                    _amount_line(
                        "discount", sid(rule.get("name")) or "Discount", -excl, -incl, None, known
                    )
                )
    else:
        disc_excl = money(order, "total_discounts_tax_excl")
        disc_incl = money(order, "total_discounts_tax_incl")
        if disc_excl or disc_incl:
            lines.append(_amount_line("discount", "Discount", -disc_excl, -disc_incl, None, known))

    billing, billing_record, shipping = _addresses(lk, order)
    currency, exchange = _currency(lk, order.get("id_currency"), order.get("conversion_rate"))
    invoice = min(invoices, key=lambda i: dec_or(i.get("id"), ZERO)) if invoices else None
    number = _number(
        lk.invoice_prefix, invoice.get("number") if invoice else order.get("invoice_number")
    )
    status, status_raw = lk.state(sid(order.get("current_state")))
    excl, incl = money(order, "total_paid_tax_excl"), money(order, "total_paid_tax_incl")
    payment = sid(order.get("payment"))
    return validate_document(
        {
            "kind": "sale",
            "key": f"{PLATFORM}:{lk.shop}:sale:{oid}",
            "number": number,
            "order_id": oid,
            "order_reference": sid(order.get("reference")) or None,
            "order_date": parse_date(order.get("date_add")),
            "invoice_date": parse_date(
                invoice.get("date_add") if invoice else order.get("invoice_date")
            ),
            "delivery_date": parse_date(order.get("delivery_date")),
            "status": status,
            "status_raw": status_raw,
            "currency": currency,
            "exchange_rate": exchange,
            "customer": _customer(lk, order, billing_record),
            "billing": billing,
            "shipping": shipping,
            "payment_method": {
                "code": method_code(sid(order.get("module")), payment),
                "label": payment or None,
            },
            "source": {"platform": PLATFORM, "shop": lk.shop, "raw_id": oid},
            "lines": lines,
            "totals": {"excl": excl, "tax": incl - excl, "incl": incl},
        }
    )


def _state_name(state: Mapping[str, Any] | None) -> str | None:
    if state is None:
        return None
    name = state.get("name")
    if isinstance(name, list):  # multilingual: [{"id": "1", "value": "…"}]
        name = name[0].get("value") if name else None
    return sid(name) or None


def map_refund(
    lk: Lookups,
    slip: Mapping[str, Any],
    order: Mapping[str, Any],
    details_by_id: Mapping[str, Mapping[str, Any]],
    invoices: Sequence[Mapping[str, Any]] = (),
) -> Document:
    """One order_slip (credit slip) with its order and the order's details → a Refund."""
    slip_id = sid(slip.get("id"))
    known, by_id = lk._rates()
    lines: list[Raw] = []
    for item in (slip.get("associations") or {}).get("order_slip_details") or []:
        detail = details_by_id.get(sid(item.get("id_order_detail")))
        if detail is None:
            raise Unmappable(
                f"slip detail refers to unknown order_detail {sid(item.get('id_order_detail'))}"
            )
        qty = dec(item.get("product_quantity"))
        excl, incl = money(item, "amount_tax_excl"), money(item, "amount_tax_incl")
        lines.append(
            {
                "kind": "product",
                "label": sid(detail.get("product_name")),
                "sku": sid(detail.get("product_reference")) or None,
                "quantity": qty,
                "total_excl": excl,
                "tax_rate": rate_for(excl, incl, qty, _declared_rate(lk, detail, by_id), known),
                "tax_amount": incl - excl,
                "total_incl": incl,
            }
        )
    prod_excl, prod_incl = (
        money(slip, "total_products_tax_excl"),
        money(slip, "total_products_tax_incl"),
    )
    if not lines and (prod_excl or prod_incl):
        lines.append(
            _amount_line("product", "Products refunded", prod_excl, prod_incl, None, known)
        )
    ship_excl, ship_incl = (
        money(slip, "total_shipping_tax_excl"),
        money(slip, "total_shipping_tax_incl"),
    )
    if ship_excl or ship_incl:
        declared = dec_or(order.get("carrier_tax_rate"), ZERO)
        lines.append(
            _amount_line("shipping", "Shipping refunded", ship_excl, ship_incl, declared, known)
        )
    if not lines:
        raise Unmappable("credit slip without amounts")
    billing, billing_record, shipping = _addresses(lk, order)
    currency, exchange = _currency(lk, order.get("id_currency"), slip.get("conversion_rate"))
    oid = sid(slip.get("id_order"))
    invoice = min(invoices, key=lambda i: dec_or(i.get("id"), ZERO)) if invoices else None
    excl, incl = prod_excl + ship_excl, prod_incl + ship_incl
    return validate_document(
        {
            "kind": "refund",
            "key": f"{PLATFORM}:{lk.shop}:refund:{slip_id}",
            "number": _number(lk.slip_prefix, slip_id),
            "order_id": oid,
            "order_reference": sid(order.get("reference")) or None,
            "order_date": parse_date(order.get("date_add")),
            "refund_date": parse_date(slip.get("date_add")),
            "currency": currency,
            "exchange_rate": exchange,
            "customer": _customer(lk, order, billing_record),
            "billing": billing,
            "shipping": shipping,
            "source": {"platform": PLATFORM, "shop": lk.shop, "raw_id": slip_id},
            "sale_key": f"{PLATFORM}:{lk.shop}:sale:{oid}",
            "sale_number": _number(
                lk.invoice_prefix, invoice.get("number") if invoice else order.get("invoice_number")
            ),
            "lines": lines,
            "totals": {"excl": excl, "tax": incl - excl, "incl": incl},
        }
    )


def map_payment(
    lk: Lookups, payment: Mapping[str, Any], orders: Iterable[Mapping[str, Any]]
) -> Document:
    """One order_payments record and the orders sharing its reference → a Payment."""
    pid = sid(payment.get("id"))
    amount = money(payment, "amount")
    if amount == ZERO:
        raise Unmappable("payment of 0")
    linked = sorted(orders, key=lambda o: int(sid(o.get("id")) or 0))
    currency, exchange = _currency(lk, payment.get("id_currency"), payment.get("conversion_rate"))
    when = parse_date(payment.get("date_add"))
    if when is None:
        raise Unmappable("payment without date_add")
    billing: Raw | None = None
    customer: Raw = {}
    if linked:
        billing, billing_record = _address(lk, linked[0].get("id_address_invoice"))
        customer = _customer(lk, linked[0], billing_record)
    label = sid(payment.get("payment_method"))
    return validate_document(
        {
            "kind": "payment",
            "key": f"{PLATFORM}:{lk.shop}:payment:{pid}",
            "id": pid,
            "payment_date": when,
            "method": {"code": method_code(label), "label": label or None},
            "direction": "out" if amount < 0 else "in",
            "amount": abs(amount),
            "transaction_id": sid(payment.get("transaction_id")) or None,
            "currency": currency,
            "exchange_rate": exchange,
            "order_id": sid(linked[0].get("id")) if len(linked) == 1 else None,
            "order_reference": sid(payment.get("order_reference")) or None,
            "settles": tuple(f"{PLATFORM}:{lk.shop}:sale:{sid(o.get('id'))}" for o in linked),
            "customer": customer,
            "billing": billing,
            "source": {"platform": PLATFORM, "shop": lk.shop, "raw_id": pid},
        }
    )


def as_list(data: Any, resource: str) -> list[dict[str, Any]]:
    """A webservice list answer → its records: ``{"orders": [...]}``, ``[]`` or ``{}`` all work."""
    if isinstance(data, list):
        if data:
            raise Unmappable(f"unexpected bare list for {resource}")
        return []
    if not isinstance(data, dict):
        raise Unmappable(f"unexpected answer for {resource}: {type(data).__name__}")
    records = data.get(resource, [])
    if isinstance(records, dict):  # single-record answers: {"order": {...}}
        records = [records]
    if not isinstance(records, list):
        raise Unmappable(f"unexpected {resource} payload")
    return records
