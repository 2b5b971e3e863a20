"""Mapping speed of each shop connector, network excluded: documents per second.

Why: a fetch is bounded by the shop's rate limit, so the mapping must never be the bottleneck
(issue 4 target: ≥ 20,000 orders/s per platform on this machine).  Payloads are synthetic but
shaped like the reference samples (strings for money, several lines, shipping, a discount),
parsed with the same Decimal-preserving parser, and mapped by the pure mapping functions.

    python bench/bench_connectors.py [N] [--repeat R]   # default 10,000 orders, best of 3

Platforms are registered in ``BENCHES`` (PrestaShop, WooCommerce, Magento, Shopify, Iziflux).
The machine is shared, so every figure is the best of ``R`` runs.  A second column gives the
same mapping with the document models replaced by plain namespaces (no pydantic at all): what
the mapping itself costs, the rest being the validation floor every connector shares.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from postingrules.connectors import iziflux, magento, prestashop, shopify, woocommerce
from postingrules.connectors._http import parse_json
from postingrules.connectors.iziflux.mapping import ColumnMap, Importer, Settings
from postingrules.connectors.magento.mapping import Context as MagentoContext
from postingrules.connectors.magento.mapping import map_invoice as mg_map_invoice
from postingrules.connectors.prestashop.mapping import Lookups
from postingrules.connectors.prestashop.mapping import map_sale as ps_map_sale
from postingrules.connectors.shopify.mapping import Context as ShopifyContext
from postingrules.connectors.shopify.mapping import map_sale as sh_map_sale
from postingrules.connectors.woocommerce.mapping import Options
from postingrules.connectors.woocommerce.mapping import map_sale as wc_map_sale
from postingrules.model.documents import Sale


def _ps_orders(n: int) -> tuple[list[tuple[dict, list[dict]]], Lookups]:
    lookups = Lookups(
        shop="bench",
        taxes={"1": {"rate": "20.000"}, "2": {"rate": "5.500"}},
        countries={"8": {"iso_code": "FR"}},
        currencies={"1": {"iso_code": "EUR"}},
        addresses={"1": {"id_country": "8", "firstname": "A", "lastname": "B", "vat_number": ""}},
        customers={"1": {"firstname": "A", "lastname": "B", "email": "a@b.fr", "is_guest": "0"}},
        order_states={"2": {"paid": "1", "invoice": "1", "logable": "1"}},
        invoice_prefix="#IN",
    )
    raw = []
    for i in range(n):
        q = 1 + i % 3
        order = {
            "id": i + 1,
            "reference": f"REF{i:06d}",
            "current_state": "2",
            "id_customer": "1",
            "id_address_invoice": "1",
            "id_address_delivery": "1",
            "id_currency": "1",
            "conversion_rate": "1.000000",
            "module": "ps_wirepayment",
            "payment": "Virement",
            "invoice_number": str(i + 1),
            "invoice_date": "2024-03-01 10:00:00",
            "date_add": "2024-03-01 09:00:00",
            "delivery_date": "0000-00-00 00:00:00",
            "total_shipping_tax_excl": "5.000000",
            "total_shipping_tax_incl": "6.000000",
            "carrier_tax_rate": "20.000",
            "total_wrapping_tax_excl": "0.000000",
            "total_wrapping_tax_incl": "0.000000",
            "total_discounts_tax_excl": "1.000000",
            "total_discounts_tax_incl": "1.200000",
            "total_paid_tax_excl": f"{10 * q + 10 + 5 - 1:.6f}",
            "total_paid_tax_incl": f"{12 * q + 10.55 + 6 - 1.2:.6f}",
        }
        details = [
            {
                "id": 1,
                "product_name": "T",
                "product_reference": "T",
                "product_quantity": str(q),
                "unit_price_tax_excl": "10.000000",
                "total_price_tax_excl": f"{10 * q:.6f}",
                "total_price_tax_incl": f"{12 * q:.6f}",
                "associations": {"taxes": [{"id": "1"}]},
            },
            {
                "id": 2,
                "product_name": "B",
                "product_reference": "B",
                "product_quantity": "1",
                "unit_price_tax_excl": "10.000000",
                "total_price_tax_excl": "10.000000",
                "total_price_tax_incl": "10.550000",
                "associations": {"taxes": [{"id": "2"}]},
            },
        ]
        raw.append((order, details))
    payload = json.dumps(raw).encode()
    return parse_json(payload), lookups


def bench_prestashop(n: int) -> tuple[int, float]:
    orders, lookups = _ps_orders(n)
    start = time.perf_counter()
    for order, details in orders:
        ps_map_sale(lookups, order, details)
    return n, time.perf_counter() - start


def _wc_orders(n: int) -> list[dict]:
    raw = []
    for i in range(n):
        q = 1 + i % 3
        raw.append(
            {
                "id": i + 1,
                "number": str(i + 1),
                "status": "completed",
                "currency": "EUR",
                "date_created_gmt": "2024-03-01T10:00:00",
                "date_paid_gmt": "2024-03-01T10:00:00",
                "total": f"{24 * q + 10.55 + 6:.2f}",
                "total_tax": f"{4 * q + 0.55 + 1:.2f}",
                "customer_id": 7,
                "payment_method": "stripe",
                "payment_method_title": "Card",
                "billing": {
                    "first_name": "A",
                    "last_name": "B",
                    "country": "FR",
                    "email": "a@b.fr",
                },
                "shipping": {"country": "FR"},
                "meta_data": [{"key": "_billing_vat_number", "value": ""}],
                "line_items": [
                    {
                        "id": 1,
                        "name": "T",
                        "quantity": q,
                        "subtotal": f"{25 * q:.2f}",
                        "subtotal_tax": f"{5 * q:.2f}",
                        "total": f"{20 * q:.2f}",
                        "total_tax": f"{4 * q:.2f}",
                        "taxes": [{"id": 1, "total": str(4 * q), "subtotal": str(5 * q)}],
                        "sku": "T",
                        "price": 20.0,
                    },
                    {
                        "id": 2,
                        "name": "B",
                        "quantity": 1,
                        "subtotal": "10.00",
                        "subtotal_tax": "0.55",
                        "total": "10.00",
                        "total_tax": "0.55",
                        "taxes": [{"id": 2, "total": "0.55", "subtotal": "0.55"}],
                    },
                ],
                "shipping_lines": [
                    {
                        "id": 3,
                        "method_title": "Colissimo",
                        "total": "5.00",
                        "total_tax": "1.00",
                        "taxes": [{"id": 1, "total": "1", "subtotal": ""}],
                    }
                ],
                "coupon_lines": [{"code": "promo"}],
                "tax_lines": [
                    {"rate_id": 1, "rate_percent": 20, "tax_total": "4", "shipping_tax_total": "1"},
                    {
                        "rate_id": 2,
                        "rate_percent": 5.5,
                        "tax_total": "0.55",
                        "shipping_tax_total": "0",
                    },
                ],
            }
        )
    return parse_json(json.dumps(raw).encode())


def bench_woocommerce(n: int) -> tuple[int, float]:
    orders, opts = _wc_orders(n), Options(shop="bench")
    start = time.perf_counter()
    for order in orders:
        wc_map_sale(order, opts)
    return n, time.perf_counter() - start


def _mg_pairs(n: int) -> list[list[dict]]:
    """(invoice, order) pairs: two taxed items (one configurable parent + child), shipping."""
    raw = []
    for i in range(n):
        q = 1 + i % 3
        items = [
            {
                "item_id": 1,
                "product_type": "configurable",
                "sku": "T",
                "name": "T",
                "qty_ordered": q,
                "price": 20.0,
                "row_total": 20.0 * q,
                "tax_amount": 4.0 * q,
                "tax_percent": 20.0,
                "discount_amount": 0.0,
            },
            {
                "item_id": 2,
                "parent_item_id": 1,
                "product_type": "simple",
                "sku": "T",
                "qty_ordered": q,
                "price": 20.0,
                "row_total": 0.0,
                "tax_amount": 0.0,
            },
            {
                "item_id": 3,
                "product_type": "simple",
                "sku": "B",
                "name": "B",
                "qty_ordered": 1,
                "price": 10.0,
                "row_total": 10.0,
                "tax_amount": 0.55,
                "tax_percent": 5.5,
                "discount_amount": 0.0,
            },
        ]
        order = {
            "entity_id": i + 1,
            "increment_id": f"{i + 1:09d}",
            "created_at": "2024-03-01 09:00:00",
            "order_currency_code": "EUR",
            "base_currency_code": "EUR",
            "base_to_order_rate": 1.0,
            "customer_id": 7,
            "customer_is_guest": 0,
            "customer_firstname": "A",
            "customer_lastname": "B",
            "customer_email": "a@b.fr",
            "billing_address": {
                "country_id": "FR",
                "firstname": "A",
                "lastname": "B",
                "street": ["1 rue X"],
                "city": "Lyon",
                "postcode": "69001",
            },
            "payment": {"method": "checkmo", "additional_information": ["Chèque"]},
            "shipping_description": "Colissimo",
            "items": items,
            "extension_attributes": {
                "item_applied_taxes": [{"type": "shipping", "applied_taxes": [{"percent": 20.0}]}]
            },
        }
        invoice = {
            "entity_id": i + 1,
            "increment_id": f"INV{i + 1}",
            "order_id": i + 1,
            "state": 2,
            "created_at": "2024-03-01 10:00:00",
            "order_currency_code": "EUR",
            "base_currency_code": "EUR",
            "base_to_order_rate": 1.0,
            "shipping_amount": 5.0,
            "shipping_tax_amount": 1.0,
            "discount_amount": 0.0,
            "tax_amount": 4.0 * q + 1.55,
            "grand_total": 24.0 * q + 16.55,
            "items": [
                {
                    "order_item_id": it["item_id"],
                    "qty": q,
                    **{k: it[k] for k in ("sku", "price", "row_total", "tax_amount") if k in it},
                }
                for it in items
            ],
        }
        raw.append([invoice, order])
    return parse_json(json.dumps(raw).encode())


def bench_magento(n: int) -> tuple[int, float]:
    pairs, ctx = _mg_pairs(n), MagentoContext(shop="bench")
    start = time.perf_counter()
    for invoice, order in pairs:
        mg_map_invoice(invoice, order, ctx)
    return n, time.perf_counter() - start


def _money(amount: str) -> dict:
    bag = {"amount": amount, "currencyCode": "EUR"}
    return {"shopMoney": bag, "presentmentMoney": bag}


def _sh_nodes(n: int) -> list[dict]:
    """GraphQL order nodes: two lines at two rates, a discount allocation, taxed shipping."""
    raw = []
    for i in range(n):
        q = 1 + i % 3
        raw.append(
            {
                "id": f"gid://shopify/Order/{i + 1}",
                "legacyResourceId": str(i + 1),
                "name": f"#{1000 + i}",
                "processedAt": "2024-03-01T10:00:00+01:00",
                "displayFinancialStatus": "PAID",
                "currencyCode": "EUR",
                "taxesIncluded": False,
                "customer": {
                    "id": "gid://shopify/Customer/7",
                    "email": "a@b.fr",
                    "firstName": "A",
                    "lastName": "B",
                },
                "billingAddress": {"countryCodeV2": "FR", "city": "Lyon", "zip": "69001"},
                "paymentGatewayNames": ["shopify_payments"],
                "totalPriceSet": _money(f"{24 * q + 10.55 + 6 - 1.2:.2f}"),
                "totalTaxSet": _money(f"{4 * q + 0.55 + 1 - 0.2:.2f}"),
                "lineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/LineItem/1",
                            "name": "T",
                            "sku": "T",
                            "quantity": q,
                            "originalUnitPriceSet": _money("20.00"),
                            "taxLines": [
                                {"ratePercentage": 20.0, "priceSet": _money(f"{4 * q - 0.2:.2f}")}
                            ],
                            "discountAllocations": [{"allocatedAmountSet": _money("1.00")}],
                        },
                        {
                            "id": "gid://shopify/LineItem/2",
                            "name": "B",
                            "sku": "B",
                            "quantity": 1,
                            "originalUnitPriceSet": _money("10.00"),
                            "taxLines": [{"ratePercentage": 5.5, "priceSet": _money("0.55")}],
                            "discountAllocations": [],
                        },
                    ]
                },
                "shippingLines": {
                    "nodes": [
                        {
                            "title": "Colissimo",
                            "originalPriceSet": _money("5.00"),
                            "taxLines": [{"ratePercentage": 20.0, "priceSet": _money("1.00")}],
                            "discountAllocations": [],
                        }
                    ]
                },
                "transactions": [
                    {
                        "id": f"gid://shopify/OrderTransaction/{i}",
                        "kind": "SALE",
                        "status": "SUCCESS",
                        "gateway": "shopify_payments",
                        "amountSet": _money(f"{24 * q + 10.55 + 6 - 1.2:.2f}"),
                    }
                ],
            }
        )
    return parse_json(json.dumps(raw).encode())


def bench_shopify(n: int) -> tuple[int, float]:
    nodes, ctx = _sh_nodes(n), ShopifyContext(shop="bench")
    start = time.perf_counter()
    for node in nodes:
        sh_map_sale(node, ctx)
    return n, time.perf_counter() - start


def bench_iziflux(n: int) -> tuple[int, float]:
    """One hourly file of ``n`` orders, two item lines each, parsed and mapped (sale + payment)."""
    columns = ColumnMap(unit_price=41, shipping=42, tax_rate=43, country=44)
    header = "|".join(f"C{i}" for i in range(45))
    rows = [header]
    for i in range(n):
        for ref, price, rate in (("A", "24.00", "20"), ("B", "5.50", "5.5")):
            cells = ["NON-RENSEIGNE"] * 45
            cells[0], cells[2], cells[3], cells[4] = (
                f"AMZ-{i}",
                f"ASIN-{ref}",
                ref,
                "2024-03-01 10:00:00",
            )
            cells[31], cells[32], cells[39], cells[40] = "Amazon", "1", "978", f"T{i}"
            cells[41], cells[42], cells[43], cells[44] = price, "4.80", rate, "FR"
            rows.append("|".join(cells))
    text = "\n".join(rows)
    start = time.perf_counter()
    documents, aside = Importer(Settings(shop="bench", columns=columns)).read(text)
    assert len(documents) == 2 * n and not aside
    return n, time.perf_counter() - start


def bench_model_only(n: int) -> tuple[int, float]:
    """The floor every connector shares: validating an already-mapped Sale (pydantic)."""
    sale = wc_map_sale(_wc_orders(1)[0], Options(shop="bench")).model_dump()
    start = time.perf_counter()
    for _ in range(n):
        Sale.model_validate(sale)
    return n, time.perf_counter() - start


BENCHES: dict[str, Callable[[int], tuple[int, float]]] = {
    "prestashop": bench_prestashop,
    "woocommerce": bench_woocommerce,
    "magento (invoice + order)": bench_magento,
    "shopify (GraphQL node)": bench_shopify,
    "iziflux (file, sale + payment)": bench_iziflux,
    "(Sale model validation only)": bench_model_only,
}


MODELS = (
    "Address",
    "Customer",
    "Line",
    "Payment",
    "PaymentMethod",
    "Refund",
    "Sale",
    "Source",
    "Totals",
)


@contextlib.contextmanager
def unvalidated() -> Iterator[None]:
    """Within the block, the mappings build plain namespaces instead of validated models."""
    modules = [p.mapping for p in (prestashop, woocommerce, magento, shopify, iziflux)]
    saved: list[tuple[Any, str, Any]] = []
    for module in modules:
        for name in MODELS:
            if hasattr(module, name):
                saved.append((module, name, getattr(module, name)))
                setattr(module, name, SimpleNamespace)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def best_rate(bench: Callable[[int], tuple[int, float]], n: int, repeat: int) -> float:
    return max(count / seconds for count, seconds in (bench(n) for _ in range(repeat)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="orders per platform")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best kept)")
    args = parser.parse_args()
    print(
        f"{'':30} {'orders/s':>10} {'no validation':>14}  (best of {args.repeat}, {args.n:,} orders)"
    )
    for name, bench in BENCHES.items():
        rate = best_rate(bench, args.n, args.repeat)
        if bench is bench_model_only:
            bare = ""
        else:
            with unvalidated():
                bare = f"{best_rate(bench, args.n, args.repeat):,.0f}"
        flag = "ok" if rate >= 20_000 else "BELOW TARGET (20,000/s)"
        print(f"{name:30} {rate:10,.0f} {bare:>14}  {flag}")


if __name__ == "__main__":
    main()
