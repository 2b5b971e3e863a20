"""Mapping speed of each shop connector, network excluded: documents per second.

Why: a fetch is bounded by the shop's rate limit, so the mapping must never be the bottleneck
(issue 4 target: ≥ 20,000 orders/s per platform on this machine).  Payloads are synthetic but
shaped like the reference samples (strings for money, several lines, shipping, a discount),
parsed with the same Decimal-preserving parser, and mapped by the pure mapping functions.

    python bench/bench_connectors.py [N]        # default N = 10,000 orders per platform

Platforms are registered in ``BENCHES``; connectors-2 adds Magento, Shopify and Iziflux there.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from postingrules.connectors._http import parse_json
from postingrules.connectors.prestashop.mapping import Lookups
from postingrules.connectors.prestashop.mapping import map_sale as ps_map_sale
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
    "(Sale model validation only)": bench_model_only,
}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for name, bench in BENCHES.items():
        count, seconds = bench(n)
        rate = count / seconds
        flag = "ok" if rate >= 20_000 else "BELOW TARGET (20,000/s)"
        print(f"{name:30} {count:7} orders in {seconds:6.3f}s = {rate:9,.0f} orders/s  {flag}")


if __name__ == "__main__":
    main()
