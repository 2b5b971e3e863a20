"""A fake WooCommerce REST v3: basic or query auth, ``page``/``per_page``, X-WP-Total(Pages).

Like WordPress, a page past the last one is a 400 ``rest_post_invalid_page_number``; ``status``
takes a comma list; ``modified_after``/``modified_before`` compare with ``date_modified_gmt``.
"""

from __future__ import annotations

import math
from typing import Any

from .server import FakeRequest, FakeResponse, json_response


class FakeWooCommerce:
    """Handler for :class:`LoopbackServer`: ``orders`` list and ``refunds`` by order id."""

    def __init__(
        self,
        orders: list[dict[str, Any]],
        refunds: dict[str, list[dict[str, Any]]],
        key: str,
        secret: str,
    ):
        self.orders = orders
        self.refunds = refunds
        self.credentials = (key, secret)

    def __call__(self, req: FakeRequest) -> FakeResponse:
        given = req.basic_auth or (
            req.query.get("consumer_key", ""),
            req.query.get("consumer_secret", ""),
        )
        if given != self.credentials:
            return json_response(
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                },
                401,
            )
        path = req.path.removeprefix("/wp-json/wc/v3/").strip("/")
        parts = path.split("/")
        if parts == ["orders"]:
            return self._orders(req)
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "refunds":
            return json_response(self.refunds.get(parts[1], []))
        return json_response(
            {"code": "rest_no_route", "message": "No route", "data": {"status": 404}}, 404
        )

    def _orders(self, req: FakeRequest) -> FakeResponse:
        rows = list(self.orders)
        statuses = [s for s in req.query.get("status", "any").split(",") if s]
        if "any" not in statuses:
            rows = [o for o in rows if o["status"] in statuses]
        if "modified_after" in req.query:
            rows = [o for o in rows if o["date_modified_gmt"] > req.query["modified_after"]]
        if "modified_before" in req.query:
            rows = [o for o in rows if o["date_modified_gmt"] < req.query["modified_before"]]
        rows.sort(key=lambda o: o["id"], reverse=req.query.get("order", "desc") == "desc")
        per_page = min(int(req.query.get("per_page", 10)), 100)
        page = int(req.query.get("page", 1))
        total_pages = math.ceil(len(rows) / per_page)
        if page > max(total_pages, 1):
            return json_response(
                {
                    "code": "rest_post_invalid_page_number",
                    "message": "The page number requested is larger than the number of pages available.",
                    "data": {"status": 400},
                },
                400,
            )
        headers = {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(total_pages)}
        if page < total_pages:
            headers["Link"] = f'<{req.path}?page={page + 1}>; rel="next"'
        return json_response(rows[(page - 1) * per_page : page * per_page], headers=headers)
