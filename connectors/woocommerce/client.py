"""WooCommerce REST v3 client: consumer key/secret, ``page``/``per_page`` with X-WP-TotalPages.

Why orders drive everything: v3 core has no global refunds list nor transactions endpoint, so
refunds are read per order (``/orders/{id}/refunds``) for the orders whose inline ``refunds[]``
is not empty, and payments come from the order (``date_paid``) and from refunds the gateway
paid back (``refunded_payment``).  The window filters on ``modified_after``/``modified_before``
with ``dates_are_gmt=true`` (an order is modified when refunded); refunds outside the window
are left for the fetch whose window holds them.

Options: ``auth`` = "basic" (default, HTTPS) or "query" (``consumer_key``/``consumer_secret``
parameters for servers that drop ``Authorization``), ``per_page`` (default 100, the maximum),
``vat_meta_keys``, ``invoice_meta_key``, ``number_from_order`` (use the order number when
the invoice meta is absent), ``invoice_date`` (paid|completed|created),
``tax_rates`` (rate id → percent, for orders older than ``rate_percent``), ``timeout``.
Credential roles: ``consumer_key``, ``consumer_secret``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx

from postingrules.connectors._http import RetryPolicy, ShopClient, numbered_pages
from postingrules.connectors.profile import (
    Document,
    FetchRequest,
    Profile,
    SetAside,
    Unmappable,
    guard,
)

from .mapping import DEFAULT_VAT_KEYS, PLATFORM, Options, map_payments, map_refund, map_sale, sid

DEFAULT_STATUSES = ("processing", "completed", "refunded")


def make_client(
    profile: Profile,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ShopClient:
    """A client on ``<url>/wp-json/wc/v3/`` authenticated with the consumer key and secret."""
    key, secret = profile.secret("consumer_key"), profile.secret("consumer_secret")
    query_auth = profile.option("auth", "basic") == "query"
    return ShopClient(
        f"{profile.url}/wp-json/wc/v3/",
        platform=PLATFORM,
        auth=None if query_auth else (key, secret),
        params={"consumer_key": key, "consumer_secret": secret} if query_auth else None,
        secret_params=("consumer_key", "consumer_secret"),
        timeout=float(profile.option("timeout", 30.0)),
        retry=retry,
        transport=transport,
    )


def options_of(profile: Profile) -> Options:
    rates = profile.option("tax_rates")
    return Options(
        shop=profile.shop,
        vat_meta_keys=tuple(profile.option("vat_meta_keys", DEFAULT_VAT_KEYS)),
        invoice_meta_key=profile.option("invoice_meta_key"),
        number_from_order=bool(profile.option("number_from_order", False)),
        invoice_date=str(profile.option("invoice_date", "paid")),
        tax_rates={str(k): Decimal(str(v)) for k, v in rates.items()} if rates else None,
    )


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _in_window(record: dict[str, Any], request: FetchRequest) -> bool:
    text = sid(record.get("date_created_gmt"))
    if not text:
        return True
    when = dt.datetime.fromisoformat(text[:19])
    return (request.since is None or when >= request.since) and (
        request.until is None or when <= request.until
    )


def fetch(
    profile: Profile, request: FetchRequest, client: ShopClient
) -> Iterator[Document | SetAside]:
    """For each modified order: its sale, its refunds, its payments — each exactly once."""
    opts = options_of(profile)
    per_page = int(profile.option("per_page", 100))
    statuses = request.statuses or profile.statuses or DEFAULT_STATUSES
    params: dict[str, Any] = {
        "per_page": per_page,
        "orderby": "id",
        "order": "asc",
        "status": ",".join(statuses),
    }
    if request.since or request.until:
        params["dates_are_gmt"] = "true"
    if request.since:
        params["modified_after"] = _iso(request.since)
    if request.until:
        params["modified_before"] = _iso(request.until)

    def page(number: int) -> tuple[list[dict[str, Any]], bool]:
        answer = client.get_json("orders", page=number, **params)
        client.stats.pages += 1
        if not isinstance(answer.data, list):
            raise Unmappable(f"orders page {number} is not a list")
        total_pages = int(answer.headers.get("X-WP-TotalPages", "1") or 1)
        return answer.data, number < total_pages

    seen: set[str] = set()
    for orders in numbered_pages(page):
        for order in orders:
            oid = sid(order.get("id"))
            if oid in seen:
                continue
            seen.add(oid)
            if "sale" in request.kinds:
                yield guard(PLATFORM, "sale", oid, lambda o=order: map_sale(o, opts))
            refunds: list[dict[str, Any]] = []
            if order.get("refunds") and request.kinds & {"refund", "payment"}:
                answer = client.get_json(f"orders/{oid}/refunds", per_page=100)
                client.stats.pages += 1
                refunds = [r for r in answer.data if _in_window(r, request)]
            if "refund" in request.kinds:
                for refund in refunds:
                    rid = sid(refund.get("id"))
                    yield guard(
                        PLATFORM, "refund", rid, lambda r=refund, o=order: map_refund(r, o, opts)
                    )
            if "payment" in request.kinds:
                result = guard(
                    PLATFORM, "payment", oid, lambda o=order, rs=refunds: map_payments(o, rs, opts)
                )
                if isinstance(result, SetAside):
                    yield result
                else:
                    yield from result
