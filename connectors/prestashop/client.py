"""PrestaShop webservice client: auth, ``limit=offset,count`` paging, joins, the fetch loop.

Why joins here: the webservice returns one resource per call, so a sale needs its
``order_details``, ``order_invoices``, ``order_cart_rules``, customer and addresses; they are
fetched per page of orders with ``filter[id_order]=[1|2|…]`` (one call per resource per page,
not per order).  Reference tables (order states, taxes, countries, currencies, prefixes) are
read once.  Windows use ``filter[date_upd]`` / ``filter[date_add]`` with ``date=1``, in the
shop's local time (option ``timezone``, default UTC).

Options (``[options]`` of the connection file): ``auth`` = "basic" (default) or "query"
(``ws_key=`` for hosts that strip ``Authorization``), ``page_size`` (default 50),
``timezone``, ``invoice_prefix`` / ``slip_prefix`` (default: read from ``configurations``),
``timeout`` seconds.  Credential role: ``key`` (the webservice key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from postingrules.connectors._http import RetryPolicy, ShopClient, ShopHTTPError, offset_pages
from postingrules.connectors.profile import (
    Document,
    FetchRequest,
    Profile,
    SetAside,
    guard,
)

from .mapping import PLATFORM, Lookups, as_list, map_payment, map_refund, map_sale, sid, status_of

DEFAULT_STATUSES = ("confirmed", "paid", "shipped", "delivered", "refunded")
ID_CHUNK = 50


def make_client(
    profile: Profile,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ShopClient:
    """A client on ``<url>/api/`` with JSON output and the webservice key as auth."""
    key = profile.secret("key")
    query_auth = profile.option("auth", "basic") == "query"
    params = {"output_format": "JSON"}
    if query_auth:
        params["ws_key"] = key
    return ShopClient(
        f"{profile.url}/api/",
        platform=PLATFORM,
        auth=None if query_auth else (key, ""),
        params=params,
        secret_params=("ws_key",),
        timeout=float(profile.option("timeout", 30.0)),
        retry=retry,
        transport=transport,
    )


class _Reader:
    """Paged reads of one shop's resources."""

    def __init__(self, client: ShopClient, page_size: int) -> None:
        self.client = client
        self.page_size = page_size

    def pages(self, resource: str, params: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
        def fetch(offset: int, count: int) -> list[dict[str, Any]]:
            answer = self.client.get_json(
                resource, display="full", limit=f"{offset},{count}", **params
            )
            self.client.stats.pages += 1
            return as_list(answer.data, resource)

        for page in offset_pages(fetch, self.page_size):
            yield list(page)

    def all(self, resource: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return [r for page in self.pages(resource, params or {}) for r in page]

    def by(self, resource: str, field: str, values: Sequence[str]) -> list[dict[str, Any]]:
        wanted = sorted({v for v in values if v})
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = "|".join(wanted[start : start + ID_CHUNK])
            found.extend(self.all(resource, {f"filter[{field}]": f"[{chunk}]"}))
        return found


def _window(profile: Profile, request: FetchRequest) -> str | None:
    if request.since is None and request.until is None:
        return None
    zone = ZoneInfo(str(profile.option("timezone", "UTC")))

    def local(moment: dt.datetime) -> str:
        return moment.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    since = local(request.since) if request.since else "1970-01-01 00:00:00"
    until = local(request.until) if request.until else "9999-12-31 23:59:59"
    return f"[{since},{until}]"


def _prefixes(profile: Profile, reader: _Reader) -> tuple[str, str]:
    invoice, slip = profile.option("invoice_prefix"), profile.option("slip_prefix")
    if invoice is not None and slip is not None:
        return str(invoice), str(slip)
    try:
        rows = reader.all(
            "configurations", {"filter[name]": "[PS_INVOICE_PREFIX|PS_CREDIT_SLIP_PREFIX]"}
        )
    except ShopHTTPError as exc:
        if exc.status not in (401, 403, 404):
            raise
        rows = []
    values = {}
    for row in rows:
        value = row.get("value")
        if isinstance(value, list):  # multilingual
            value = value[0].get("value") if value else ""
        values[sid(row.get("name"))] = sid(value)
    return (
        str(invoice if invoice is not None else values.get("PS_INVOICE_PREFIX", "")),
        str(slip if slip is not None else values.get("PS_CREDIT_SLIP_PREFIX", "")),
    )


def _index(rows: Sequence[dict[str, Any]], field: str = "id") -> dict[str, dict[str, Any]]:
    return {sid(r.get(field)): r for r in rows}


def _group(rows: Sequence[dict[str, Any]], field: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(sid(row.get(field)), []).append(row)
    return grouped


def fetch(
    profile: Profile, request: FetchRequest, client: ShopClient
) -> Iterator[Document | SetAside]:
    """Sales, then refunds (credit slips), then payments, each exactly once."""
    reader = _Reader(client, int(profile.option("page_size", 50)))
    invoice_prefix, slip_prefix = _prefixes(profile, reader)
    lk = Lookups(
        shop=profile.shop,
        order_states=_index(reader.all("order_states")),
        taxes=_index(reader.all("taxes")),
        countries=_index(reader.all("countries")),
        currencies=_index(reader.all("currencies")),
        customers={},
        addresses={},
        invoice_prefix=invoice_prefix,
        slip_prefix=slip_prefix,
    )
    statuses = set(request.statuses or profile.statuses or DEFAULT_STATUSES)
    window = _window(profile, request)

    def load_people(orders: Sequence[dict[str, Any]]) -> None:
        customers = [
            sid(o.get("id_customer"))
            for o in orders
            if sid(o.get("id_customer")) not in lk.customers
        ]
        addresses = [
            sid(o.get(f))
            for o in orders
            for f in ("id_address_invoice", "id_address_delivery")
            if sid(o.get(f)) not in lk.addresses
        ]
        lk.customers.update(_index(reader.by("customers", "id", customers)))
        lk.addresses.update(_index(reader.by("addresses", "id", addresses)))

    def filtered(field: str, sort: str) -> dict[str, str]:
        params = {"sort": f"[{sort}_ASC,id_ASC]", "date": "1"}
        if window:
            params[f"filter[{field}]"] = window
        return params

    if "sale" in request.kinds:
        seen: set[str] = set()
        for page in reader.pages("orders", filtered("date_upd", "date_upd")):
            page = [o for o in page if sid(o.get("id")) not in seen]
            seen.update(sid(o.get("id")) for o in page)
            taken = []
            for order in page:
                status = status_of(lk.order_states.get(sid(order.get("current_state"))))
                if status in statuses:
                    taken.append(order)
                else:
                    client.stats.note_skip(f"order status {status}")
            if not taken:
                continue
            ids = [sid(o.get("id")) for o in taken]
            details = _group(reader.by("order_details", "id_order", ids), "id_order")
            invoices = _group(reader.by("order_invoices", "id_order", ids), "id_order")
            rules = _group(reader.by("order_cart_rules", "id_order", ids), "id_order")
            load_people(taken)
            for order in taken:
                oid = sid(order.get("id"))
                yield guard(
                    PLATFORM,
                    "sale",
                    oid,
                    partial(
                        map_sale,
                        lk,
                        order,
                        details.get(oid, []),
                        invoices.get(oid, []),
                        rules.get(oid, []),
                    ),
                )

    if "refund" in request.kinds:
        seen = set()
        for page in reader.pages("order_slip", filtered("date_add", "date_add")):
            page = [s for s in page if sid(s.get("id")) not in seen]
            seen.update(sid(s.get("id")) for s in page)
            order_ids = [sid(s.get("id_order")) for s in page]
            orders = _index(reader.by("orders", "id", order_ids))
            details = _index(reader.by("order_details", "id_order", order_ids))
            invoices = _group(reader.by("order_invoices", "id_order", order_ids), "id_order")
            load_people(list(orders.values()))
            for slip in page:
                slip_id, oid = sid(slip.get("id")), sid(slip.get("id_order"))
                order = orders.get(oid)
                if order is None:
                    yield SetAside(
                        PLATFORM, slip_id, f"credit slip for unknown order {oid}", "refund"
                    )
                    continue
                yield guard(
                    PLATFORM,
                    "refund",
                    slip_id,
                    partial(map_refund, lk, slip, order, details, invoices.get(oid, [])),
                )

    if "payment" in request.kinds:
        seen = set()
        for page in reader.pages("order_payments", filtered("date_add", "date_add")):
            page = [p for p in page if sid(p.get("id")) not in seen]
            seen.update(sid(p.get("id")) for p in page)
            by_reference = _group(
                reader.by("orders", "reference", [sid(p.get("order_reference")) for p in page]),
                "reference",
            )
            load_people([o for group in by_reference.values() for o in group])
            for payment in page:
                pid = sid(payment.get("id"))
                linked = by_reference.get(sid(payment.get("order_reference")), [])
                yield guard(PLATFORM, "payment", pid, partial(map_payment, lk, payment, linked))
