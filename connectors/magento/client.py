"""Magento 2 REST client: auth, ``searchCriteria`` paging, and the fetch of invoices/memos.

Why this shape: Magento's admin REST has no rate limit by default, so the work here is
paging correctly and authenticating the way 2.4.4+ expects:

* **paging** — ``searchCriteria[pageSize]``/``[currentPage]`` (1-based) with ``total_count``
  in the body.  A page past the end returns the *last page again* (magento/magento2 #3787,
  #8099, #26986), so the loop stops when ``page × size ≥ total_count``, never on an empty page;
* **auth** — an integration's access token is accepted as a plain bearer token only when
  "Allow OAuth Access Tokens to be used as standalone Bearer tokens" is on (off by default
  since 2.4.4); otherwise each request is signed with OAuth 1.0a (HMAC-SHA256) using the
  integration's four credentials.  Both read their secrets from environment variables;
* **context** — invoices and memos are fetched by ``updated_at``, then their orders in one
  ``entity_id in (…)`` search per page, so each sale knows its customer, addresses, payment
  method and item tax rates.

Retries (429/5xx/timeouts/truncated or malformed pages) are the shared policy of
:mod:`postingrules.connectors._http`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from postingrules.connectors._http import (
    MalformedResponse,
    RetryPolicy,
    ShopClient,
    numbered_pages,
)
from postingrules.connectors.profile import Document, FetchRequest, Profile, SetAside

from .mapping import CREDITMEMO_STATES, INVOICE_STATES, Context, map_batch

PAGE_SIZE = 100
DEFAULT_STATUSES = ("open", "paid", "refunded")
"""Invoice/memo states taken by default: everything but cancelled documents."""


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (admin token, or integration token when allowed)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def _enc(text: str) -> str:
    """RFC 3986 percent-encoding as OAuth 1.0a requires (only unreserved characters kept)."""
    return quote(text, safe="~-._")


class OAuth1Auth(httpx.Auth):
    """One-legged OAuth 1.0a request signing with an integration's four credentials."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        token: str,
        token_secret: str,
        *,
        method: str = "HMAC-SHA256",
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        if method not in ("HMAC-SHA256", "HMAC-SHA1"):
            raise ValueError(f"unsupported OAuth signature method {method!r}")
        self._keys = (consumer_key, consumer_secret, token, token_secret)
        self._method = method
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:
        return f"OAuth1Auth(method={self._method!r}, credentials=***)"

    def signature(self, request: httpx.Request, oauth: Mapping[str, str]) -> str:
        _, consumer_secret, _, token_secret = self._keys
        params = list(request.url.params.multi_items()) + list(oauth.items())
        normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
        url = request.url.copy_with(query=None, fragment=None)
        base = "&".join([request.method.upper(), _enc(str(url)), _enc(normalized)])
        key = f"{_enc(consumer_secret)}&{_enc(token_secret)}".encode()
        digest = hashlib.sha256 if self._method == "HMAC-SHA256" else hashlib.sha1
        return base64.b64encode(hmac.new(key, base.encode(), digest).digest()).decode()

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        consumer_key, _, token, _ = self._keys
        oauth = {
            "oauth_consumer_key": consumer_key,
            "oauth_nonce": self._nonce(),
            "oauth_signature_method": self._method,
            "oauth_timestamp": str(int(self._clock())),
            "oauth_token": token,
            "oauth_version": "1.0",
        }
        oauth["oauth_signature"] = self.signature(request, oauth)
        request.headers["Authorization"] = "OAuth " + ",".join(
            f'{k}="{_enc(v)}"' for k, v in oauth.items()
        )
        yield request


def auth_from_profile(profile: Profile) -> httpx.Auth:
    """OAuth 1.0a when the profile names the four integration credentials, else a bearer token.

    Credential roles: ``consumer_key``, ``consumer_secret``, ``access_token``,
    ``access_token_secret`` (OAuth), or ``token`` (bearer).  Values come from the environment
    variables the profile names; errors name the variables, never the values.
    """
    roles = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    if all(role in profile.credentials for role in roles):
        method = str(profile.option("oauth_signature", "HMAC-SHA256"))
        return OAuth1Auth(*(profile.secret(role) for role in roles), method=method)
    return BearerAuth(profile.secret("token"))


def search_params(
    filters: Sequence[tuple[str, str, str]], page: int, size: int, sort: str = "entity_id"
) -> dict[str, str]:
    """``searchCriteria`` query parameters; each filter is its own group (groups are ANDed)."""
    params = {
        "searchCriteria[pageSize]": str(size),
        "searchCriteria[currentPage]": str(page),
        "searchCriteria[sortOrders][0][field]": sort,
        "searchCriteria[sortOrders][0][direction]": "ASC",
        # a unique tie-breaker, so equal updated_at values cannot straddle pages unstably
        "searchCriteria[sortOrders][1][field]": "entity_id",
        "searchCriteria[sortOrders][1][direction]": "ASC",
    }
    for group, (name, condition, value) in enumerate(filters):
        stem = f"searchCriteria[filter_groups][{group}][filters][0]"
        params[f"{stem}[field]"] = name
        params[f"{stem}[value]"] = value
        params[f"{stem}[condition_type]"] = condition
    return params


def make_client(
    profile: Profile,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ShopClient:
    """A client on the shop's URL with bearer or OAuth 1.0a auth (see :func:`auth_from_profile`)."""
    return ShopClient(
        profile.url,
        platform="magento",
        auth=auth_from_profile(profile),
        timeout=float(profile.option("timeout", 30.0)),
        retry=retry,
        transport=transport,
    )


@dataclass
class MagentoReader:
    """Reads one Magento store view over REST through a :class:`ShopClient`."""

    http: ShopClient
    store: str = "default"
    page_size: int = PAGE_SIZE

    def __enter__(self) -> MagentoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def search(
        self, resource: str, filters: Sequence[tuple[str, str, str]] = (), sort: str = "entity_id"
    ) -> Iterator[dict[str, Any]]:
        """Every record of ``/V1/<resource>`` matching ``filters``, each exactly once."""
        path = f"/rest/{self.store}/V1/{resource}"

        def fetch(page: int) -> tuple[list[dict[str, Any]], bool]:
            answer = self.http.get_json(path, **search_params(filters, page, self.page_size, sort))
            self.http.stats.pages += 1
            body = answer.data
            if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
                raise MalformedResponse(f"unexpected page shape from {answer.url}")
            total = int(body.get("total_count") or 0)
            # Past the end Magento repeats the last page: trust total_count, not emptiness.
            return body.get("items") or [], page * self.page_size < total

        seen: set[Any] = set()
        for items in numbered_pages(fetch):
            for item in items:
                if item.get("entity_id") not in seen:  # a record moved between two pages
                    seen.add(item.get("entity_id"))
                    yield item

    def orders_by_id(self, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
        """Orders for context, one ``entity_id in (…)`` search per page of ids."""
        orders: dict[Any, dict[str, Any]] = {}
        wanted = sorted({i for i in ids if i is not None})
        for start in range(0, len(wanted), self.page_size):
            chunk = ",".join(str(i) for i in wanted[start : start + self.page_size])
            for order in self.search("orders", [("entity_id", "in", chunk)]):
                orders[order["entity_id"]] = order
        return orders

    def fetch(
        self,
        ctx: Context,
        *,
        since: str | None = None,
        until: str | None = None,
        kinds: Iterable[str] = ("sale", "refund", "payment"),
        statuses: Sequence[str] = DEFAULT_STATUSES,
    ) -> tuple[list[Document], list[SetAside]]:
        """Invoices and credit memos updated in ``[since, until]`` (``YYYY-MM-DD HH:MM:SS``, UTC).

        ``statuses`` are the normalised invoice/memo states to keep (open, paid, refunded,
        cancelled); the others are left out on purpose, as the connection file says.
        """
        kinds = set(kinds)
        filters = []
        if since:
            filters.append(("updated_at", "gteq", since))
        if until:
            filters.append(("updated_at", "lteq", until))
        wants_payments = "payment" in kinds
        invoices = (
            list(self.search("invoices", filters, "updated_at"))
            if "sale" in kinds or wants_payments
            else []
        )
        memos = (
            list(self.search("creditmemos", filters, "updated_at"))
            if "refund" in kinds or wants_payments
            else []
        )
        invoices = [i for i in invoices if INVOICE_STATES.get(i.get("state")) in statuses]
        memos = [m for m in memos if CREDITMEMO_STATES.get(m.get("state")) in statuses]
        orders = self.orders_by_id([d.get("order_id") for d in invoices + memos])
        documents, aside = map_batch(invoices, memos, orders, ctx)
        return [d for d in documents if d.kind in kinds], aside


def fetch(
    profile: Profile, request: FetchRequest, client: ShopClient
) -> Iterator[Document | SetAside]:
    """The connector contract: documents then set-aside records of the requested window.

    Options: ``store`` (store view code, default ``default``), ``page_size`` (default 100),
    ``book_currency`` (the ruleset currency: amounts stay in the order currency and the rate
    to the base currency is recorded when they differ).
    """
    reader = MagentoReader(
        client, str(profile.option("store", "default")), int(profile.option("page_size", PAGE_SIZE))
    )
    ctx = Context(shop=profile.shop, book_currency=profile.option("book_currency"))
    documents, aside = reader.fetch(
        ctx,
        since=request.since.strftime("%Y-%m-%d %H:%M:%S") if request.since else None,
        until=request.until.strftime("%Y-%m-%d %H:%M:%S") if request.until else None,
        kinds=request.kinds,
        statuses=request.statuses or profile.statuses or DEFAULT_STATUSES,
    )
    yield from documents
    yield from aside
