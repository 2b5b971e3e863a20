"""Magento 2 test data and a loopback fake of its REST API.

Data: the reference payloads in ``shared/reference/shops/magento`` (orders recorded on real
shops, the official invoice example) plus hand-written variants of a French shop (base
currency EUR): multi-rate with taxed shipping, B2B with an intra-EU VAT number, an order in
GBP, tax-inclusive prices with a discount, a partial refund with a restocking fee and a
shipping-only refund.  Every variant amount below is written by hand, not computed, so the
snapshot tests check the mapping against numbers a person can verify.

Server: ``/rest/<store>/V1/{orders,invoices,creditmemos}`` with ``searchCriteria`` filters
(``eq``, ``in``, ``gteq``, ``lteq``), ``pageSize``/``currentPage`` paging that — like Magento —
answers a page past the end with the last page again, ``total_count``, and auth by bearer
token or OAuth 1.0a (HMAC-SHA256 signature recomputed and checked here).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from .server import FakeRequest, FakeResponse

D = Decimal
SAMPLE_ORDERS = (
    "docs-order-get.json",
    "oca-order-9-tax-configurable.json",
    "oca-order-10-edited.json",
    "oca-order-12-discount-tax.json",
    "oca-order-16-guest.json",
    "oca-order-17-coupon-free-shipping.json",
)


def load(shops: Path, name: str) -> Any:
    """A reference payload with every JSON fraction as a Decimal (as the client reads it)."""
    return json.loads((shops / "magento" / name).read_text(), parse_float=Decimal)


# --------------------------------------------------------------------------- variants


def _item(
    item_id: int,
    sku: str,
    qty: int,
    price: str,
    row: str,
    percent: str,
    tax: str,
    discount: str = "0",
    compensation: str = "0",
    rate: str = "1",
) -> dict[str, Any]:
    """An order item; ``base_*`` = plain / ``rate`` (base_to_order_rate), written to the cent."""
    plain = {
        "price": D(price),
        "row_total": D(row),
        "tax_amount": D(tax),
        "discount_amount": D(discount),
        "discount_tax_compensation_amount": D(compensation),
    }
    item: dict[str, Any] = {
        "item_id": item_id,
        "sku": sku,
        "name": f"Article {sku}",
        "product_type": "simple",
        "qty_ordered": qty,
        "tax_percent": D(percent),
        **plain,
    }
    for field, value in plain.items():
        item[f"base_{field}"] = (value / D(rate)).quantize(D("0.01"))
    return item


def _order(entity_id: int, items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    billing = {
        "country_id": "FR",
        "firstname": "Claire",
        "lastname": "Martin",
        "postcode": "69002",
        "city": "Lyon",
        "street": ["12 rue de la République"],
    }
    billing.update(fields.pop("billing", {}))
    order = {
        "entity_id": entity_id,
        "increment_id": f"1000000{entity_id}",
        "created_at": "2026-03-02 09:15:00",
        "state": "processing",
        "status": "processing",
        "base_currency_code": "EUR",
        "order_currency_code": "EUR",
        "base_to_order_rate": D(1),
        "customer_id": 42,
        "customer_is_guest": 0,
        "customer_email": "claire@example.fr",
        "customer_firstname": "Claire",
        "customer_lastname": "Martin",
        "customer_group_id": 1,
        "billing_address": billing,
        "shipping_description": "Colissimo",
        "shipping_discount_amount": D(0),
        "payment": {"method": "stripe_payments", "additional_information": ["Carte bancaire"]},
        "items": items,
        "extension_attributes": {"item_applied_taxes": []},
    }
    order.update(fields)
    return order


def variants() -> list[dict[str, Any]]:
    """Hand-written orders of a French shop (base EUR); see the module docstring."""
    multi_rate = _order(
        101,
        [
            _item(1011, "LIVRE", 2, "10.00", "20.00", "5.5", "1.10"),
            _item(1012, "TSHIRT", 1, "25.00", "25.00", "20", "5.00"),
        ],
        subtotal=D("45.00"),
        shipping_amount=D("5.00"),
        shipping_tax_amount=D("1.00"),
        discount_amount=D(0),
        tax_amount=D("7.10"),
        grand_total=D("57.10"),
        extension_attributes={
            "item_applied_taxes": [
                {"type": "shipping", "applied_taxes": [{"code": "FR-20", "percent": D(20)}]}
            ]
        },
    )
    b2b = _order(
        102,
        [_item(1021, "PALETTE", 3, "100.00", "300.00", "0", "0")],
        billing={
            "country_id": "DE",
            "company": "Beispiel GmbH",
            "vat_id": "DE123456789",
            "postcode": "10115",
            "city": "Berlin",
        },
        customer_group_id=3,
        subtotal=D("300.00"),
        shipping_amount=D("20.00"),
        shipping_tax_amount=D(0),
        discount_amount=D(0),
        tax_amount=D(0),
        grand_total=D("320.00"),
        payment={"method": "banktransfer", "additional_information": ["Virement"]},
    )
    foreign = _order(
        103,
        [_item(1031, "MONTRE", 1, "85.00", "85.00", "20", "17.00", rate="0.85")],
        billing={"country_id": "GB", "postcode": "SW1A 1AA", "city": "London"},
        order_currency_code="GBP",
        base_to_order_rate=D("0.85"),
        subtotal=D("85.00"),
        base_subtotal=D("100.00"),
        shipping_amount=D("8.50"),
        base_shipping_amount=D("10.00"),
        shipping_tax_amount=D("1.70"),
        base_shipping_tax_amount=D("2.00"),
        discount_amount=D(0),
        tax_amount=D("18.70"),
        base_tax_amount=D("22.00"),
        grand_total=D("112.20"),
        base_grand_total=D("132.00"),
    )
    # Catalogue price 24.00 incl. 20 % VAT, 10 % coupon on the incl. price: Magento keeps
    # the row excl. (20.00), the discount incl. (2.40) and the VAT hidden in it (0.40).
    tax_inclusive = _order(
        104,
        [_item(1041, "BOUGIE", 1, "20.00", "20.00", "20", "3.60", "2.40", "0.40")],
        subtotal=D("20.00"),
        shipping_amount=D(0),
        shipping_tax_amount=D(0),
        discount_amount=D("-2.40"),
        discount_tax_compensation_amount=D("0.40"),
        tax_amount=D("3.60"),
        grand_total=D("21.60"),
    )
    return [multi_rate, b2b, foreign, tax_inclusive]


def invoice_from_order(order: dict[str, Any], entity_id: int, state: int = 2) -> dict[str, Any]:
    """The invoice Magento creates for a whole order: the order's own amounts, item by item."""
    copied = (
        "base_currency_code",
        "order_currency_code",
        "base_to_order_rate",
        "subtotal",
        "shipping_amount",
        "shipping_tax_amount",
        "discount_amount",
        "tax_amount",
        "grand_total",
        "discount_tax_compensation_amount",
    )
    invoice = {f: order[f] for f in copied if f in order}
    invoice.update({f"base_{f}": order[f"base_{f}"] for f in copied if f"base_{f}" in order})
    invoice.update(
        entity_id=entity_id,
        increment_id=f"INV-{entity_id}",
        order_id=order["entity_id"],
        state=state,
        created_at=order["created_at"],
        updated_at=order["created_at"],
        items=[
            {
                "order_item_id": item["item_id"],
                "qty": item["qty_ordered"],
                **{
                    f: item[f]
                    for f in (
                        "sku",
                        "name",
                        "price",
                        "row_total",
                        "tax_amount",
                        "discount_amount",
                        "discount_tax_compensation_amount",
                    )
                    if f in item
                },
            }
            for item in order["items"]
        ],
    )
    return invoice


def creditmemos() -> list[dict[str, Any]]:
    """Refunds of order 101: one book back with a 2.00 restocking fee; shipping only."""
    partial = {
        "entity_id": 501,
        "increment_id": "AV-501",
        "order_id": 101,
        "invoice_id": 1101,
        "state": 2,
        "created_at": "2026-03-10 14:00:00",
        "updated_at": "2026-03-10 14:00:00",
        "order_currency_code": "EUR",
        "base_currency_code": "EUR",
        "base_to_order_rate": D(1),
        "subtotal": D("10.00"),
        "shipping_amount": D(0),
        "shipping_tax_amount": D(0),
        "discount_amount": D(0),
        "adjustment_positive": D(0),
        "adjustment_negative": D("2.00"),
        "tax_amount": D("0.55"),
        "grand_total": D("8.55"),
        "comments": [{"comment": "Livre abîmé"}],
        "items": [
            {
                "order_item_id": 1011,
                "sku": "LIVRE",
                "name": "Article LIVRE",
                "qty": 1,
                "price": D("10.00"),
                "row_total": D("10.00"),
                "tax_amount": D("0.55"),
                "discount_amount": D(0),
            },
            {
                "order_item_id": 1012,
                "sku": "TSHIRT",
                "name": "Article TSHIRT",
                "qty": 0,
                "price": D("25.00"),
                "row_total": D(0),
                "tax_amount": D(0),
                "discount_amount": D(0),
            },
        ],
    }
    shipping_only = {
        "entity_id": 502,
        "increment_id": "AV-502",
        "order_id": 101,
        "invoice_id": 1101,
        "state": 2,
        "created_at": "2026-03-11 10:00:00",
        "updated_at": "2026-03-11 10:00:00",
        "order_currency_code": "EUR",
        "base_currency_code": "EUR",
        "base_to_order_rate": D(1),
        "subtotal": D(0),
        "shipping_amount": D("5.00"),
        "shipping_tax_amount": D("1.00"),
        "discount_amount": D(0),
        "adjustment_positive": D(0),
        "adjustment_negative": D(0),
        "tax_amount": D("1.00"),
        "grand_total": D("6.00"),
        "comments": [],
        "items": [],
    }
    return [partial, shipping_only]


def dataset(shops: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """(orders, invoices, credit memos): samples + variants, one invoice per order."""
    orders = [load(shops, name) for name in SAMPLE_ORDERS] + variants()
    invoices = [load(shops, "docs-invoice-get.json")]
    invoices += [invoice_from_order(o, 1000 + o["entity_id"]) for o in orders[1:]]
    return orders, invoices, creditmemos()


# --------------------------------------------------------------------------- server


def encode(data: Any) -> bytes:
    """Magento's JSON: money as bare floats (PHP ``json_encode``), e.g. ``57.1``, ``0.55``."""
    return json.dumps(data, default=float).encode()


def _enc(text: str) -> str:
    return quote(text, safe="~-._")


def oauth_signature(
    method: str, url: str, params: list[tuple[str, str]], consumer_secret: str, token_secret: str
) -> str:
    """RFC 5849 HMAC-SHA256 signature, computed independently of the client's code."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _enc(url), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


class FakeMagento:
    """Serves ``orders``, ``invoices``, ``creditmemos`` with Magento's paging and auth."""

    def __init__(
        self,
        orders: list[dict],
        invoices: list[dict],
        creditmemos: list[dict],
        *,
        token: str = "",
        oauth: tuple[str, str, str, str] | None = None,
        store: str = "default",
    ) -> None:
        self.resources = {"orders": orders, "invoices": invoices, "creditmemos": creditmemos}
        self.token = token
        self.oauth = oauth  # consumer key, consumer secret, token, token secret
        self.store = store
        self.base_url = ""  # set by the test once the server knows its port

    def _authorised(self, request: FakeRequest) -> bool:
        header = request.headers.get("authorization", "")
        if self.token and header == f"Bearer {self.token}":
            return True
        if self.oauth and header.startswith("OAuth "):
            fields = {}
            for part in header[6:].split(","):
                name, _, value = part.strip().partition("=")
                fields[name] = unquote(value.strip('"'))
            key, secret, token, token_secret = self.oauth
            if fields.get("oauth_consumer_key") != key or fields.get("oauth_token") != token:
                return False
            params = list(request.query_list) + [(k, v) for k, v in fields.items() if k != "realm"]
            expected = oauth_signature(
                request.method, self.base_url + request.path, params, secret, token_secret
            )
            return hmac.compare_digest(expected, fields.get("oauth_signature", ""))
        return False

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if not self._authorised(request):
            body = {"message": "The consumer isn't authorized to access %resources."}
            return FakeResponse(401, encode(body), {"Content-Type": "application/json"})
        prefix = f"/rest/{self.store}/V1/"
        name = request.path.removeprefix(prefix)
        if not request.path.startswith(prefix) or name not in self.resources:
            return FakeResponse(404, b'{"message":"Request does not match any route."}')
        items = [i for i in self.resources[name] if _matches(i, request.query)]
        sort = request.query.get("searchCriteria[sortOrders][0][field]")
        if sort:
            items.sort(key=lambda i: (str(i.get(sort, "")), i["entity_id"]))
        size = int(request.query.get("searchCriteria[pageSize]") or 0) or len(items) or 1
        page = int(request.query.get("searchCriteria[currentPage]") or 1)
        last = max(1, -(-len(items) // size))
        page = min(page, last)  # Magento repeats the last page past the end
        body = {
            "items": items[(page - 1) * size : page * size],
            "search_criteria": {"page_size": size, "current_page": page},
            "total_count": len(items),
        }
        return FakeResponse(200, encode(body), {"Content-Type": "application/json"})


def _matches(item: dict, query: dict[str, str]) -> bool:
    groups: dict[str, dict[str, dict[str, str]]] = {}
    for key, value in query.items():
        if not key.startswith("searchCriteria[filter_groups]"):
            continue
        parts = key.replace("]", "").split("[")  # searchCriteria, filter_groups, g, filters, f, x
        groups.setdefault(parts[2], {}).setdefault(parts[4], {})[parts[5]] = value
    # filter groups are ANDed, the filters inside one group ORed
    return all(any(_test(item, f) for f in filters.values()) for filters in groups.values())


def _test(item: dict, spec: dict[str, str]) -> bool:
    value = str(item.get(spec["field"], ""))
    wanted = spec.get("value", "")
    condition = spec.get("condition_type", "eq")
    if condition == "in":
        return value in wanted.split(",")
    if condition == "gteq":
        return value >= wanted
    if condition == "lteq":
        return value <= wanted
    return value == wanted
