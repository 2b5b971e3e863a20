"""Shopify test data and a loopback fake of its Admin API (GraphQL and REST).

Data: the REST reference payloads in ``shared/reference/shops/shopify`` (Shopify's own
documentation examples) and hand-written GraphQL order nodes for a French shop in EUR:
tax-inclusive prices, two VAT rates, a USD presentment currency, a partial refund, a
shipping-only refund reported twice by Shopify, a 100 % coupon, a guest, a B2B company with
a VAT number, and two broken orders.  Amounts are written by hand, not computed.

Server, with a clock the test controls (its ``sleep`` advances time, so throttling is
exercised in virtual seconds):

* ``POST /admin/api/<v>/graphql.json`` — cursor paging over the nodes (``first``/``after``),
  cost-based throttling: each page costs ``query_cost`` points from a bucket of
  ``max_points`` refilled at ``restore_rate``/s; when short, the answer is HTTP 200 with
  ``errors[].extensions.code == "THROTTLED"`` and the cost extension, as Shopify does;
* ``GET /admin/api/<v>/orders.json`` and ``/orders/<id>/transactions.json`` — REST with
  ``Link: <…page_info=…>; rel="next"`` paging (filters refused with ``page_info``, like
  Shopify) and the leaky bucket: ``bucket`` requests, leaking ``leak_rate``/s, reported in
  ``X-Shopify-Shop-Api-Call-Limit``; over it, 429 with ``Retry-After``.
"""

from __future__ import annotations

import base64
import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from .server import FakeRequest, FakeResponse, json_response


def load(shops: Path, name: str) -> Any:
    return json.loads((shops / "shopify" / name).read_text(), parse_float=Decimal)


# --------------------------------------------------------------------------- GraphQL nodes


def money(
    shop: str,
    presentment: str | None = None,
    shop_cur: str = "EUR",
    presentment_cur: str | None = None,
) -> dict[str, Any]:
    return {
        "shopMoney": {"amount": shop, "currencyCode": shop_cur},
        "presentmentMoney": {
            "amount": presentment or shop,
            "currencyCode": presentment_cur or shop_cur,
        },
    }


def _taxes(taxes: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"title": f"TVA {pct}%", "ratePercentage": float(pct), "priceSet": money(amount)}
        for pct, amount in taxes
    ]


def item(
    gid: int,
    sku: str,
    qty: int,
    unit: str,
    taxes: list[tuple[str, str]],
    discount: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/LineItem/{gid}",
        "name": f"Produit {sku}",
        "sku": sku,
        "quantity": qty,
        "originalUnitPriceSet": extra.pop("unit_set", None) or money(unit),
        "taxLines": extra.pop("tax_lines", None) or _taxes(taxes),
        "discountAllocations": [{"allocatedAmountSet": money(discount)}] if discount else [],
    }


def shipping(price: str, taxes: list[tuple[str, str]], discount: str | None = None) -> dict:
    return {
        "title": "Colissimo",
        "originalPriceSet": money(price),
        "taxLines": _taxes(taxes),
        "discountAllocations": [{"allocatedAmountSet": money(discount)}] if discount else [],
    }


def txn(tid: int, kind: str, amount: str, status: str = "SUCCESS") -> dict[str, Any]:
    return {
        "id": f"gid://shopify/OrderTransaction/{tid}",
        "kind": kind,
        "status": status,
        "gateway": "shopify_payments",
        "processedAt": "2026-03-02T10:00:00+01:00",
        "amountSet": money(amount),
    }


def order(oid: int, items: list[dict], total: str, tax: str, **extra: Any) -> dict[str, Any]:
    node = {
        "id": f"gid://shopify/Order/{oid}",
        "legacyResourceId": str(oid),
        "name": f"#{oid}",
        "createdAt": "2026-03-02T09:58:00+01:00",
        "processedAt": "2026-03-02T10:00:00+01:00",
        "updatedAt": "2026-03-02T10:00:00+01:00",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "currencyCode": "EUR",
        "presentmentCurrencyCode": "EUR",
        "taxesIncluded": False,
        "email": "client@example.fr",
        "paymentGatewayNames": ["shopify_payments"],
        "customer": {
            "id": "gid://shopify/Customer/77",
            "legacyResourceId": "77",
            "email": "client@example.fr",
            "firstName": "Luc",
            "lastName": "Petit",
        },
        "billingAddress": {
            "name": "Luc Petit",
            "address1": "3 quai Saint-Vincent",
            "city": "Lyon",
            "zip": "69001",
            "countryCodeV2": "FR",
        },
        "shippingAddress": {
            "name": "Luc Petit",
            "city": "Lyon",
            "zip": "69001",
            "countryCodeV2": "FR",
        },
        "totalPriceSet": money(total),
        "totalTaxSet": money(tax),
        "lineItems": {"nodes": items, "pageInfo": {"hasNextPage": False}},
        "shippingLines": {"nodes": []},
        "transactions": [txn(oid * 10, "SALE", total)] if Decimal(total) > 0 else [],
        "refunds": [],
    }
    node.update(extra)
    return node


def refund(
    rid: int,
    total: str,
    lines: list[dict] = (),
    shipping_lines: list[dict] = (),
    adjustments: list[dict] = (),
    txn_id: int | None = None,
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Refund/{rid}",
        "createdAt": "2026-03-09T15:00:00+01:00",
        "note": "Retour client",
        "totalRefundedSet": money(total),
        "refundLineItems": {"nodes": list(lines)},
        "refundShippingLines": {"nodes": list(shipping_lines)},
        "orderAdjustments": {"nodes": list(adjustments)},
        "transactions": {"nodes": [{"id": f"gid://shopify/OrderTransaction/{txn_id}"}]}
        if txn_id
        else {"nodes": []},
    }


def variants() -> list[dict[str, Any]]:
    """Hand-written GraphQL order nodes; see the module docstring for what each one shows."""
    tax_inclusive = order(
        1001,
        [item(1, "BOUGIE", 2, "24.00", [("20", "8.00")])],
        "54.00",
        "9.00",
        taxesIncluded=True,
        shippingLines={"nodes": [shipping("6.00", [("20", "1.00")])]},
    )
    multi_rate = order(
        1002,
        [
            item(2, "LIVRE", 1, "10.00", [("5.5", "0.55")]),
            item(3, "MUG", 2, "15.00", [("20", "6.00")]),
        ],
        "52.43",
        "7.53",
        shippingLines={"nodes": [shipping("4.90", [("20", "0.98")])]},
    )
    foreign = order(
        1003,
        [
            item(
                4,
                "MONTRE",
                1,
                "100.00",
                [],
                unit_set=money("100.00", "108.00", "EUR", "USD"),
                tax_lines=[
                    {
                        "title": "TVA",
                        "ratePercentage": 20.0,
                        "priceSet": money("20.00", "21.60", "EUR", "USD"),
                    }
                ],
            )
        ],
        "120.00",
        "20.00",
        presentmentCurrencyCode="USD",
        totalPriceSet=money("120.00", "129.60", "EUR", "USD"),
        totalTaxSet=money("20.00", "21.60", "EUR", "USD"),
        transactions=[
            dict(txn(10030, "SALE", "120.00"), amountSet=money("120.00", "129.60", "EUR", "USD"))
        ],
    )
    partial = order(
        1004,
        [
            item(5, "VESTE", 1, "50.00", [("20", "10.00")]),
            item(6, "BONNET", 1, "30.00", [("20", "6.00")]),
        ],
        "108.00",
        "18.00",
        displayFinancialStatus="PARTIALLY_REFUNDED",
        shippingLines={"nodes": [shipping("10.00", [("20", "2.00")])]},
        refunds=[
            refund(
                501,
                "36.00",
                lines=[
                    {
                        "quantity": 1,
                        "lineItem": {
                            "id": "gid://shopify/LineItem/6",
                            "name": "Produit BONNET",
                            "sku": "BONNET",
                        },
                        "subtotalSet": money("30.00"),
                        "totalTaxSet": money("6.00"),
                    }
                ],
                txn_id=10041,
            )
        ],
    )
    partial["transactions"].append(txn(10041, "REFUND", "36.00"))
    shipping_only = order(
        1005,
        [item(7, "LAMPE", 1, "40.00", [("20", "8.00")])],
        "53.88",
        "8.98",
        displayFinancialStatus="PARTIALLY_REFUNDED",
        shippingLines={"nodes": [shipping("4.90", [("20", "0.98")])]},
        refunds=[
            refund(
                502,
                "5.88",
                shipping_lines=[
                    {
                        "subtotalAmountSet": money("4.90"),
                        "taxAmountSet": money("0.98"),
                        "shippingLine": {
                            "title": "Colissimo",
                            "taxLines": _taxes([("20", "0.98")]),
                        },
                    }
                ],
                adjustments=[
                    {
                        "reason": "SHIPPING_REFUND",
                        "amountSet": money("-4.90"),
                        "taxAmountSet": money("-0.98"),
                    }
                ],
                txn_id=10051,
            )
        ],
    )
    shipping_only["transactions"].append(txn(10051, "REFUND", "5.88"))
    coupon = order(
        1006,
        [item(8, "ECHANTILLON", 1, "30.00", [], discount="30.00")],
        "0.00",
        "0.00",
        shippingLines={"nodes": [shipping("5.00", [], discount="5.00")]},
    )
    guest = order(
        1007,
        [item(9, "CARTE", 1, "20.00", [("20", "4.00")])],
        "24.00",
        "4.00",
        customer=None,
        email="invite@example.fr",
    )
    b2b = order(
        1008,
        [item(10, "PALETTE", 5, "40.00", [])],
        "200.00",
        "0.00",
        billingAddress={
            "name": "Anna Schmidt",
            "company": "Beispiel GmbH",
            "city": "Berlin",
            "zip": "10115",
            "countryCodeV2": "DE",
        },
        purchasingEntity={
            "company": {"name": "Beispiel GmbH"},
            "location": {"taxRegistrationId": "DE123456789"},
        },
    )
    return [tax_inclusive, multi_rate, foreign, partial, shipping_only, coupon, guest, b2b]


def broken() -> list[dict[str, Any]]:
    """A tax line without any rate, and a negative quantity."""
    no_rate = order(
        1090,
        [item(90, "X", 1, "10.00", [], tax_lines=[{"title": "?", "priceSet": money("2.00")}])],
        "12.00",
        "2.00",
    )
    negative = order(1091, [item(91, "Y", -1, "10.00", [])], "-10.00", "0.00")
    return [no_rate, negative]


# --------------------------------------------------------------------------- server


class VirtualClock:
    """Shared by the fake shop and the client under test: sleeping advances time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"idx:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode()[4:]) if cursor else 0


class FakeShopify:
    """GraphQL + REST Admin API over the same orders, with Shopify's throttling."""

    def __init__(
        self,
        nodes: list[dict],
        rest_orders: list[dict],
        rest_transactions: dict[str, list[dict]],
        *,
        token: str,
        clock: VirtualClock,
        version: str = "2024-04",
        max_points: float = 1000.0,
        restore_rate: float = 100.0,
        query_cost: float = 252.0,
        bucket: int = 40,
        leak_rate: float = 2.0,
    ) -> None:
        self.nodes = nodes
        self.rest_orders = rest_orders
        self.rest_transactions = rest_transactions
        self.token = token
        self.clock = clock
        self.prefix = f"/admin/api/{version}"
        self.max_points, self.restore_rate, self.query_cost = max_points, restore_rate, query_cost
        self.points = max_points
        self.bucket, self.leak_rate = bucket, leak_rate
        self.used = 0.0
        self.last = clock()
        self.throttled = 0  # GraphQL THROTTLED answers sent
        self.rejected = 0  # REST 429 answers sent
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        elapsed, self.last = now - self.last, now
        self.points = min(self.max_points, self.points + elapsed * self.restore_rate)
        self.used = max(0.0, self.used - elapsed * self.leak_rate)

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if request.headers.get("x-shopify-access-token") != self.token:
            return json_response({"errors": "[API] Invalid API key or access token"}, 401)
        with self._lock:
            self._refill()
            if request.path == f"{self.prefix}/graphql.json":
                return self._graphql(request)
            return self._rest(request)

    # -- GraphQL --------------------------------------------------------------------

    def _cost(self, actual: float) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": self.query_cost,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.max_points,
                    "currentlyAvailable": self.points,
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def _graphql(self, request: FakeRequest) -> FakeResponse:
        body = json.loads(request.body)
        variables = body.get("variables") or {}
        if "orders(" not in body.get("query", ""):
            return json_response({"errors": [{"message": "unknown query"}]})
        if self.points + 1e-9 < self.query_cost:  # float dust is not a throttle
            self.throttled += 1
            return json_response(
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": self._cost(0),
                }
            )
        self.points -= self.query_cost
        start = _index(variables.get("cursor"))
        page = self.nodes[start : start + int(variables.get("first") or 50)]
        end = start + len(page)
        data = {
            "orders": {
                "nodes": page,
                "pageInfo": {"hasNextPage": end < len(self.nodes), "endCursor": _cursor(end)},
            }
        }
        return json_response({"data": data, "extensions": self._cost(self.query_cost)})

    # -- REST -----------------------------------------------------------------------

    def _rest(self, request: FakeRequest) -> FakeResponse:
        if self.used + 1 > self.bucket + 1e-9:
            self.rejected += 1
            wait = (self.used + 1 - self.bucket) / self.leak_rate
            return json_response(
                {"errors": "Exceeded 2 calls per second for api client."},
                429,
                {"Retry-After": f"{wait:.2f}"},
            )
        self.used += 1
        limit = {"X-Shopify-Shop-Api-Call-Limit": f"{round(self.used)}/{self.bucket}"}
        if request.path == f"{self.prefix}/orders.json":
            query = request.query
            if "page_info" in query and set(query) - {"page_info", "limit", "fields"}:
                return json_response({"errors": {"page_info": "Invalid value."}}, 400, limit)
            if "page_info" not in query and query.get("status") != "any":
                return json_response({"orders": []}, 200, limit)  # default: open orders only
            start = _index(query.get("page_info"))
            size = int(query.get("limit") or 50)
            page = self.rest_orders[start : start + size]
            if start + size < len(self.rest_orders):
                link = (
                    f"<http://shop{self.prefix}/orders.json?limit={size}"
                    f'&page_info={_cursor(start + size)}>; rel="next"'
                )
                limit["Link"] = link
            return json_response({"orders": page}, 200, limit)
        parts = request.path.removeprefix(f"{self.prefix}/orders/").split("/")
        if len(parts) == 2 and parts[1] == "transactions.json":
            return json_response(
                {"transactions": self.rest_transactions.get(parts[0], [])}, 200, limit
            )
        return json_response({"errors": "Not Found"}, 404, limit)
