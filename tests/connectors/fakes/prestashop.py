"""A fake PrestaShop webservice: JSON output, ``limit=offset,count``, filters, ``[]`` when empty.

Behaviour copied from the webservice as API-NOTES.md describes it: the key is the basic-auth
user (or ``ws_key=``), 401 otherwise; without ``output_format=JSON`` it answers XML; without
``display=full`` only ids; ``filter[f]=[a|b]`` is OR, ``filter[f]=[a,b]`` an interval (refused
on date fields unless ``date=1``); ``sort=[f_ASC,id_ASC]``; an empty list is ``[]``.
"""

from __future__ import annotations

import json
from typing import Any

from .server import FakeRequest, FakeResponse, json_response

DATE_FIELDS = {"date_add", "date_upd", "invoice_date", "delivery_date"}


class FakePrestaShop:
    """Handler for :class:`LoopbackServer`; ``data`` maps resource → list of records."""

    def __init__(self, data: dict[str, list[dict[str, Any]]], key: str) -> None:
        self.data = data
        self.key = key

    def __call__(self, req: FakeRequest) -> FakeResponse:
        auth = req.basic_auth
        if (auth is None or auth[0] != self.key) and req.query.get("ws_key") != self.key:
            return json_response({"errors": [{"code": 25, "message": "Can't authenticate"}]}, 401)
        resource = req.path.removeprefix("/api/").strip("/")
        if req.query.get("output_format") != "JSON":
            return FakeResponse(
                200, b"<?xml version='1.0'?><prestashop/>", {"Content-Type": "text/xml"}
            )
        if resource not in self.data:
            return json_response(
                {"errors": [{"code": 22, "message": f"Resource {resource} not found"}]}, 400
            )
        rows = list(self.data[resource])
        for name, value in req.query.items():
            if not name.startswith("filter["):
                continue
            field = name[7:-1]
            inner = value.strip("[]")
            if "," in inner and "|" not in inner:
                if field in DATE_FIELDS and req.query.get("date") != "1":
                    return json_response(
                        {"errors": [{"code": 90, "message": "date=1 needed"}]}, 400
                    )
                low, high = inner.split(",", 1)
                rows = [r for r in rows if low <= str(r.get(field, "")) <= high]
            else:
                wanted = set(inner.split("|"))
                rows = [r for r in rows if str(r.get(field, "")) in wanted]
        sort = req.query.get("sort", "").strip("[]")
        for key in reversed([k for k in sort.split(",") if k]):
            field, _, direction = key.rpartition("_")
            rows.sort(
                key=lambda r, f=field: str(r.get(f, "")).zfill(20), reverse=direction == "DESC"
            )
        if "limit" in req.query:
            offset, _, count = req.query["limit"].rpartition(",")
            start = int(offset or 0)
            rows = rows[start : start + int(count)]
        if req.query.get("display") != "full":
            rows = [{"id": r["id"]} for r in rows]
        body = json.dumps({resource: rows} if rows else []).encode()
        headers = {"Content-Type": "application/json", "PSWS-Version": "8.1.0"}
        return FakeResponse(200, body, headers)
