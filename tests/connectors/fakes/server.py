"""A tiny threaded HTTP server on 127.0.0.1 for connector tests.

Why not httpx.MockTransport: the issue asks for real HTTP so that timeouts, truncated bodies
(Content-Length larger than what is sent, then a closed socket) and headers go through the
same httpx code paths as in production.

Usage::

    def handler(req: FakeRequest) -> FakeResponse:
        return json_response({"orders": []})

    with LoopbackServer(handler) as server:
        server.faults.append(Fault(status=429, headers={"Retry-After": "0"}))
        httpx.get(server.url + "/api/orders")
        server.requests  # every FakeRequest received, faults included

A :class:`Fault` applies to the next request whose path contains ``path`` (all requests when
empty), then is consumed.  Kinds: an HTTP ``status`` with ``body``/``headers``, ``delay``
(seconds before answering, to trigger client timeouts), ``truncate`` (announce the full
length, send half, close), ``body`` alone with status 200 (a malformed page).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class FakeRequest:
    """What the server received."""

    method: str
    path: str
    query: dict[str, str]
    query_list: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """Decoded ``Authorization: Basic`` credentials, if any."""
        value = self.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> FakeResponse:
    """Serialise ``data`` into a JSON response (Decimals become strings, as shops send money)."""
    body = json.dumps(data, default=str).encode()
    return FakeResponse(status, body, {"Content-Type": "application/json", **(headers or {})})


@dataclass
class Fault:
    """One injected failure; see the module docstring."""

    path: str = ""
    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False


class LoopbackServer:
    """Threaded HTTP server on an ephemeral loopback port."""

    def __init__(self, handler: Callable[[FakeRequest], FakeResponse]) -> None:
        self.handler = handler
        self.faults: list[Fault] = []
        self.requests: list[FakeRequest] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave in separate writes

            def log_message(self, *args: object) -> None:
                """Silence the default stderr log."""

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    query_list=parse_qsl(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with outer._lock:
                    outer.requests.append(request)
                    fault = outer._take_fault(request.path)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and (fault.status != 200 or fault.body is not None):
                    response = FakeResponse(fault.status, fault.body or b"", dict(fault.headers))
                else:
                    response = outer.handler(request)
                body = response.body
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                if fault is not None and fault.truncate:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.end_headers()
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def _take_fault(self, path: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.path in path:
                return self.faults.pop(index)
        return None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
