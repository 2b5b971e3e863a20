"""Shopify Admin API client: GraphQL first, REST as fallback, both paced to the shop's limits.

Why two paths: Shopify made REST legacy in October 2024 and new apps must use GraphQL, but
merchant-installed custom apps still read REST.  Both feed the same mapping
(:func:`.mapping.rest_order_to_node` rewrites REST orders into GraphQL nodes).

Throttling — the goal is to run *at* the shop's limit, never over it:

* **GraphQL** is cost-based: each answer reports ``extensions.cost.throttleStatus``
  (``currentlyAvailable`` points, ``restoreRate`` points/s).  Before the next page the client
  waits until the bucket holds the last page's requested cost; if Shopify still answers
  ``THROTTLED`` (HTTP 200 or 429), the shared retry layer waits
  ``(requested − available) / restoreRate`` and asks again;
* **REST** is a leaky bucket (40 requests, leaking 2/s on standard plans) reported as
  ``X-Shopify-Shop-Api-Call-Limit: used/size``.  The client tracks it and waits just long
  enough for one slot before each request; a 429 (another app drained the bucket) is retried
  after ``Retry-After`` by the shared layer.

Paging: GraphQL ``first``/``after: endCursor`` while ``hasNextPage``; REST ``Link: …
page_info=…; rel="next"`` (with ``page_info`` only ``limit`` may be sent).  Orders come
with ``status=any`` (REST's default is open orders only).  Nested connections are read
with ``first: 100`` line items / 20 refunds: an order beyond that is set aside, not cut.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from postingrules.connectors._http import (
    JSONResponse,
    MalformedResponse,
    RetryPolicy,
    ShopClient,
    cursor_pages,
    dec_or,
)
from postingrules.connectors.profile import Document, FetchRequest, Profile, SetAside

from .mapping import Context, map_batch, rest_order_to_node

API_VERSION = "2024-04"
PAGE_SIZE = 50

_MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
_TAX = f"title rate ratePercentage priceSet {{ {_MONEY} }}"
ORDERS_QUERY = f"""
query Orders($first: Int!, $cursor: String, $query: String) {{
  orders(first: $first, after: $cursor, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id legacyResourceId name createdAt processedAt updatedAt cancelledAt
      displayFinancialStatus currencyCode presentmentCurrencyCode taxesIncluded email
      paymentGatewayNames
      customAttributes {{ key value }}
      customer {{ id legacyResourceId email firstName lastName }}
      purchasingEntity {{ ... on PurchasingCompany {{
        company {{ name }} location {{ taxRegistrationId }} }} }}
      billingAddress {{ name company address1 address2 city zip provinceCode countryCodeV2 }}
      shippingAddress {{ name company address1 address2 city zip provinceCode countryCodeV2 }}
      totalPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      lineItems(first: 100) {{
        pageInfo {{ hasNextPage }}
        nodes {{ id name sku quantity
          originalUnitPriceSet {{ {_MONEY} }}
          taxLines {{ {_TAX} }}
          discountAllocations {{ allocatedAmountSet {{ {_MONEY} }} }} }}
      }}
      shippingLines(first: 10) {{
        nodes {{ title originalPriceSet {{ {_MONEY} }} taxLines {{ {_TAX} }}
          discountAllocations {{ allocatedAmountSet {{ {_MONEY} }} }} }}
      }}
      transactions(first: 50) {{
        id kind status gateway processedAt authorizationCode amountSet {{ {_MONEY} }}
      }}
      refunds(first: 20) {{
        id createdAt note totalRefundedSet {{ {_MONEY} }}
        refundLineItems(first: 100) {{ nodes {{ quantity lineItem {{ id name sku }}
          subtotalSet {{ {_MONEY} }} totalTaxSet {{ {_MONEY} }} }} }}
        refundShippingLines(first: 10) {{ nodes {{ subtotalAmountSet {{ {_MONEY} }}
          taxAmountSet {{ {_MONEY} }} shippingLine {{ title taxLines {{ {_TAX} }} }} }} }}
        orderAdjustments(first: 10) {{ nodes {{ reason amountSet {{ {_MONEY} }}
          taxAmountSet {{ {_MONEY} }} }} }}
        transactions(first: 10) {{ nodes {{ id }} }}
      }}
    }}
  }}
}}
"""

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def make_client(
    profile: Profile,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ShopClient:
    """A client on ``https://<shop>.myshopify.com`` with the custom app's Admin API token.

    Credential role: ``access_token`` (the ``shpat_…`` token, read from the environment
    variable the profile names).  It travels in ``X-Shopify-Access-Token``, never in a URL.
    """
    return ShopClient(
        profile.url,
        platform="shopify",
        headers={"X-Shopify-Access-Token": profile.secret("access_token")},
        timeout=float(profile.option("timeout", 30.0)),
        retry=retry,
        transport=transport,
    )


def graphql_throttle_wait(answer: JSONResponse) -> float | None:
    """Seconds to wait when Shopify says ``THROTTLED``; ``None`` for a usable answer."""
    body = answer.data if isinstance(answer.data, dict) else {}
    errors = body.get("errors") or []
    codes = [((e or {}).get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)]
    if "THROTTLED" not in codes:
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    requested = dec_or(cost.get("requestedQueryCost"), Decimal(0))
    available = dec_or(status.get("currentlyAvailable"), Decimal(0))
    rate = dec_or(status.get("restoreRate"), Decimal(50))
    return _ms_up(float(max(Decimal(0), requested - available) / rate)) if rate > 0 else 1.0


@dataclass
class LeakyBucket:
    """Client-side view of REST's bucket, kept in step with ``X-Shopify-Shop-Api-Call-Limit``."""

    size: float = 40.0
    leak_rate: float = 2.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    used: float = 0.0
    at: float | None = None

    def before_request(self) -> float:
        """Wait until one more request fits; returns the seconds waited."""
        now = self.clock()
        level = (
            max(0.0, self.used - (now - self.at) * self.leak_rate) if self.at is not None else 0.0
        )
        wait = (level + 1 - self.size) / self.leak_rate if level + 1 > self.size else 0.0
        if wait > 0:
            self.sleep(wait)
            now = self.clock()
            level = self.size - 1
        self.used, self.at = level + 1, now
        return wait

    def observe(self, header: str | None) -> None:
        """Adopt the shop's own count (``"32/40"``) when it reports one."""
        if not header or "/" not in header:
            return
        used, _, size = header.partition("/")
        try:
            self.used, self.size = float(used), float(size)
        except ValueError:
            return
        self.at = self.clock()


@dataclass
class ShopifyReader:
    """Reads one shop's orders through the Admin API, over a :class:`ShopClient`.

    ``sleep`` defaults to the client's retry policy's, so a test that injects a clock into
    the policy drives the pacing waits too.
    """

    http: ShopClient
    version: str = API_VERSION
    page_size: int = PAGE_SIZE
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] | None = None
    bucket: LeakyBucket = field(init=False)

    def __post_init__(self) -> None:
        if self.sleep is None:
            self.sleep = self.http.retry.sleep
        self.bucket = LeakyBucket(clock=self.clock, sleep=self.sleep)

    def __enter__(self) -> ShopifyReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    # -- GraphQL --------------------------------------------------------------------

    def graphql_orders(self, search: str | None = None) -> Iterator[dict[str, Any]]:
        """Order nodes matching a Shopify search string (e.g. ``updated_at:>='…'``)."""
        path = f"/admin/api/{self.version}/graphql.json"
        wait_for: list[float] = [0.0]

        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            if wait_for[0] > 0:
                self.bucket.sleep(wait_for[0])
                self.http.stats.waited += wait_for[0]
            variables = {"first": self.page_size, "cursor": cursor, "query": search}
            answer = self.http.request_json(
                "POST",
                path,
                json_body={"query": ORDERS_QUERY, "variables": variables},
                throttled=graphql_throttle_wait,
            )
            self.http.stats.pages += 1
            body = answer.data
            if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
                errors = body.get("errors") if isinstance(body, dict) else None
                raise MalformedResponse(f"GraphQL error from {answer.url}: {str(errors)[:200]}")
            wait_for[0] = _pace(body)
            orders = body["data"]["orders"]
            info = orders.get("pageInfo") or {}
            return orders.get("nodes") or [], info.get("endCursor") if info.get(
                "hasNextPage"
            ) else None

        for nodes in cursor_pages(fetch):
            yield from nodes

    # -- REST -----------------------------------------------------------------------

    def _rest_get(self, path: str, params: Mapping[str, Any]) -> JSONResponse:
        self.http.stats.waited += self.bucket.before_request()
        answer = self.http.get_json(path, **params)
        self.bucket.observe(answer.headers.get("X-Shopify-Shop-Api-Call-Limit"))
        return answer

    def rest_orders(
        self, updated_at_min: str | None = None, updated_at_max: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """REST orders (``status=any``) each with its ``transactions`` list, as GraphQL nodes."""
        base = f"/admin/api/{self.version}"

        def fetch(page_info: str | None) -> tuple[list[dict[str, Any]], str | None]:
            if page_info is None:
                params: dict[str, Any] = {"status": "any", "limit": self.page_size}
                if updated_at_min:
                    params["updated_at_min"] = updated_at_min
                if updated_at_max:
                    params["updated_at_max"] = updated_at_max
            else:  # with page_info Shopify refuses every filter but limit
                params = {"limit": self.page_size, "page_info": page_info}
            answer = self._rest_get(f"{base}/orders.json", params)
            self.http.stats.pages += 1
            if not isinstance(answer.data, dict) or not isinstance(answer.data.get("orders"), list):
                raise MalformedResponse(f"unexpected page shape from {answer.url}")
            match = _NEXT.search(answer.headers.get("Link", ""))
            following = httpx.URL(match.group(1)).params.get("page_info") if match else None
            return answer.data["orders"], following

        for orders in cursor_pages(fetch):
            for order in orders:
                txns = self._rest_get(f"{base}/orders/{order['id']}/transactions.json", {})
                yield rest_order_to_node(order, (txns.data or {}).get("transactions") or [])

    # -- fetch ----------------------------------------------------------------------

    def fetch(
        self,
        ctx: Context,
        *,
        since: str | None = None,
        until: str | None = None,
        kinds: Iterable[str] = ("sale", "refund", "payment"),
        api: str = "graphql",
        statuses: Sequence[str] = (),
    ) -> tuple[list[Document], list[SetAside]]:
        """Documents of the orders updated since ``since`` (ISO 8601), by GraphQL or REST."""
        if api == "graphql":
            terms = [
                f"updated_at:>='{since}'" if since else "",
                f"updated_at:<='{until}'" if until else "",
            ]
            nodes = list(self.graphql_orders(" ".join(t for t in terms if t) or None))
        else:
            nodes = list(self.rest_orders(since, until))
        complete, aside = [], []
        for node in nodes:
            items = node.get("lineItems")
            if isinstance(items, dict) and (items.get("pageInfo") or {}).get("hasNextPage"):
                aside.append(
                    SetAside(
                        "shopify",
                        f"order {node.get('legacyResourceId')}",
                        "more than 100 line items: not read in full",
                    )
                )
            else:
                complete.append(node)
        documents, bad = map_batch(complete, ctx)
        kinds = set(kinds)
        return [d for d in documents if d.kind in kinds and _taken(d, statuses)], aside + bad


def _taken(document: Document, statuses: Sequence[str]) -> bool:
    """Sales are filtered on their normalised status when the profile lists statuses."""
    return not statuses or document.kind != "sale" or document.status in statuses


def fetch(
    profile: Profile, request: FetchRequest, client: ShopClient
) -> Iterator[Document | SetAside]:
    """The connector contract: documents then set-aside records of the requested window.

    Options: ``api`` (``graphql``, default, or ``rest``), ``version`` (Admin API version,
    default ``2024-04``), ``money`` (``shop``, default, or ``presentment``), ``vat_attribute``
    (order custom attribute holding a VAT number), ``page_size`` (default 50).
    """
    reader = ShopifyReader(
        client,
        version=str(profile.option("version", API_VERSION)),
        page_size=int(profile.option("page_size", PAGE_SIZE)),
    )
    ctx = Context(
        shop=profile.shop,
        money=profile.option("money", "shop"),
        vat_attribute=str(profile.option("vat_attribute", "vat_number")),
    )
    documents, aside = reader.fetch(
        ctx,
        since=request.since.strftime("%Y-%m-%dT%H:%M:%SZ") if request.since else None,
        until=request.until.strftime("%Y-%m-%dT%H:%M:%SZ") if request.until else None,
        kinds=request.kinds,
        api=str(profile.option("api", "graphql")),
        statuses=request.statuses or profile.statuses,
    )
    yield from documents
    yield from aside


def _pace(body: Mapping[str, Any]) -> float:
    """Seconds to wait so that the next page (same cost) fits in the bucket."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    requested = float(cost.get("requestedQueryCost") or 0)
    available = float(status.get("currentlyAvailable") or 0)
    rate = float(status.get("restoreRate") or 0)
    if not rate or available >= requested:
        return 0.0
    return _ms_up((requested - available) / rate)


def _ms_up(seconds: float) -> float:
    """Round a wait up to the millisecond, so the bucket has refilled when we come back."""
    return math.ceil(seconds * 1000) / 1000
