"""Loopback fake shops for connector tests (real HTTP on 127.0.0.1, no network).

Reusable by every platform: ``LoopbackServer(handler)`` serves ``handler(FakeRequest) ->
FakeResponse`` on an ephemeral port in a thread; ``server.faults`` injects failures.
"""

from .server import FakeRequest, FakeResponse, Fault, LoopbackServer, json_response

__all__ = ["FakeRequest", "FakeResponse", "Fault", "LoopbackServer", "json_response"]
