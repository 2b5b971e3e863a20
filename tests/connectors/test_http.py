"""The shared HTTP layer against a real loopback server: retries, faults, paging, secrets."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from fakes import FakeRequest, FakeResponse, Fault, LoopbackServer, json_response

from postingrules.connectors._http import (
    CursorStore,
    MalformedResponse,
    PagingError,
    RateLimiter,
    RetryPolicy,
    ShopClient,
    ShopHTTPError,
    ShopTransportError,
    cursor_pages,
    dec,
    dec_or,
    mask_url,
    numbered_pages,
    offset_pages,
    parse_json,
    retry_after_seconds,
)

BODY = b'{"total": 61.80, "n": 3, "s": "20.230000"}'


def _ok(_: FakeRequest) -> FakeResponse:
    return FakeResponse(200, BODY, {"Content-Type": "application/json"})


@pytest.fixture
def server():
    with LoopbackServer(_ok) as srv:
        yield srv


def _client(server: LoopbackServer, policy: RetryPolicy, **kw) -> ShopClient:
    return ShopClient(server.url, platform="test", retry=policy, timeout=0.15, **kw)


def test_decimals_never_go_through_float(server, fast_retry):
    with _client(server, fast_retry) as client:
        answer = client.get_json("/x")
    assert answer.data == {"total": Decimal("61.80"), "n": 3, "s": "20.230000"}
    assert isinstance(answer.data["total"], Decimal)
    assert str(answer.data["total"]) == "61.80"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(status=429, headers={"Retry-After": "2"}), "429"),
        (Fault(status=500, body=b"oops"), "500"),
        (Fault(status=503), "503"),
        (Fault(delay=0.3), "timeout"),
        (Fault(body=b"<html>maintenance</html>"), "malformed"),
        (Fault(truncate=True), "transport"),
    ],
)
def test_each_fault_is_retried_once_then_succeeds(server, fast_retry, sleeps, fault, reason):
    server.faults.append(fault)
    with _client(server, fast_retry) as client:
        answer = client.get_json("/x")
        assert answer.data["n"] == 3
        assert client.stats.retries == 1
        assert client.stats.retry_reasons == {reason: 1}
        assert client.stats.requests == 2
    assert len(server.requests) == 2
    # Retry-After is honoured exactly; otherwise backoff 0.5 * 2**0 * jitter 0.5.
    assert sleeps.delays == ([2.0] if reason == "429" else [0.25])


def test_backoff_grows_exponentially_and_is_capped(server, sleeps):
    policy = RetryPolicy(max_attempts=6, base_delay=1, max_delay=5, sleep=sleeps, rng=lambda: 1.0)
    server.faults.extend(Fault(status=502) for _ in range(5))
    with _client(server, policy) as client:
        client.get_json("/x")
    assert sleeps.delays == [1, 2, 4, 5, 5]


def test_retries_are_bounded(server, fast_retry, sleeps):
    server.faults.extend(Fault(status=500) for _ in range(10))
    with _client(server, fast_retry) as client, pytest.raises(ShopHTTPError) as err:
        client.get_json("/x")
    assert err.value.status == 500
    assert "after 5 attempts" in str(err.value)
    assert len(server.requests) == 5
    assert len(sleeps.delays) == 4


def test_persistent_timeouts_and_garbage_are_reported(server, fast_retry):
    two = RetryPolicy(max_attempts=2, sleep=fast_retry.sleep)
    server.faults.extend(Fault(delay=0.3) for _ in range(2))
    with _client(server, two) as client, pytest.raises(ShopTransportError, match="timeout"):
        client.get_json("/x")
    server.faults.extend(Fault(body=b"{trunc") for _ in range(5))
    with _client(server, fast_retry) as client, pytest.raises(MalformedResponse):
        client.get_json("/x")


def test_client_errors_are_not_retried(server, fast_retry, sleeps):
    server.faults.append(Fault(status=401, body=b'{"errors":[{"message":"bad key"}]}'))
    with _client(server, fast_retry) as client, pytest.raises(ShopHTTPError) as err:
        client.get_json("/x")
    assert err.value.status == 401
    assert "bad key" in str(err.value)
    assert sleeps.delays == []


def test_retry_after_too_long_is_an_error_not_a_hang(server, fast_retry, sleeps):
    server.faults.append(Fault(status=429, headers={"Retry-After": "3600"}))
    with _client(server, fast_retry) as client, pytest.raises(ShopHTTPError, match="Retry-After"):
        client.get_json("/x")
    assert sleeps.delays == []


def test_retry_after_http_date():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_throttled_hook_retries_a_200(server, fast_retry, sleeps):
    calls = []

    def throttled(answer):
        calls.append(answer.status)
        return 0.75 if len(calls) == 1 else None

    with _client(server, fast_retry) as client:
        client.request_json("POST", "/graphql.json", json_body={"q": 1}, throttled=throttled)
        assert client.stats.retry_reasons == {"throttled": 1}
    assert sleeps.delays == [0.75]
    assert json.loads(server.requests[0].body) == {"q": 1}


def test_throttled_hook_sets_the_wait_of_a_429_with_a_throttled_body(server, fast_retry, sleeps):
    throttled_body = json.dumps(
        {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    ).encode()
    server.faults += [
        Fault(status=429, body=throttled_body),  # no Retry-After: the body decides
        Fault(status=429, body=throttled_body, headers={"Retry-After": "4"}),  # longer wins
        Fault(status=429, body=b"<html>slow down</html>"),  # not JSON: blind backoff
    ]
    seen = []

    def throttled(answer):
        seen.append(answer.status)
        return 1.5 if answer.status == 429 else None

    with _client(server, fast_retry) as client:
        client.request_json("POST", "/graphql.json", json_body={"q": 1}, throttled=throttled)
        assert client.stats.retry_reasons == {"429": 3}
    assert sleeps.delays == [1.5, 4.0, 0.5 * 0.5 * 4]  # backoff(2) = min(8, 0.5 * 2**2) * 0.5
    assert seen == [429, 429, 200]


def test_secrets_never_appear(server, fast_retry):
    server.faults.extend(Fault(status=403) for _ in range(1))
    client = ShopClient(
        server.url,
        platform="test",
        auth=("KEY-SECRET-123", ""),
        params={"ws_key": "KEY-SECRET-123"},
        secret_params=("ws_key",),
        retry=fast_retry,
    )
    with client, pytest.raises(ShopHTTPError) as err:
        client.get_json("/api/orders", display="full")
    assert "KEY-SECRET-123" not in str(err.value)
    assert "ws_key=%2A%2A%2A" in str(err.value) or "ws_key=***" in str(err.value)
    assert "KEY-SECRET-123" not in repr(client)
    # the secret did reach the server: masking is for display only
    assert server.requests[0].query["ws_key"] == "KEY-SECRET-123"
    assert server.requests[0].basic_auth == ("KEY-SECRET-123", "")


def test_mask_url_drops_userinfo():
    assert "pw" not in mask_url(
        "https://u:pw@shop.example/api?a=1&consumer_secret=pw", ["consumer_secret"]
    )


def test_rate_limiter_spaces_requests_after_the_burst():
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert waits == [0.5, 0.5]
    now[0] += 10  # idle: bucket refills only up to the burst
    for _ in range(3):
        limiter.acquire()
    assert waits == [0.5, 0.5]


def test_offset_pages_stop_on_short_or_empty_page():
    data = list(range(7))
    calls = []

    def fetch(offset, count):
        calls.append((offset, count))
        return data[offset : offset + count]

    assert [list(p) for p in offset_pages(fetch, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert calls == [(0, 3), (3, 3), (6, 3)]
    # an exact multiple needs one more (empty) request to know it is the end
    assert [list(p) for p in offset_pages(lambda o, c: data[o : o + c], 7)] == [data]
    assert list(offset_pages(lambda o, c: [], 3)) == []


def test_numbered_pages_and_repeating_shops():
    pages = {1: ["a", "b"], 2: ["c"]}
    assert list(numbered_pages(lambda p: (pages[p], p < 2))) == [["a", "b"], ["c"]]
    with pytest.raises(PagingError):
        list(numbered_pages(lambda p: (["same"], True), max_pages=5))


def test_cursor_pages_detect_loops():
    chain = {None: (["a"], "c1"), "c1": (["b"], None)}
    assert list(cursor_pages(lambda c: chain[c])) == [["a"], ["b"]]
    with pytest.raises(PagingError, match="twice"):
        list(cursor_pages(lambda c: (["x"], "again")))


def test_dec_helpers():
    assert dec("61.800000") == Decimal("61.8")
    assert dec(3) == Decimal(3)
    assert dec(17.647059) == Decimal("17.647059")
    assert dec(0.1) == Decimal("0.1")  # not 0.1000000000000000055…
    for bad in (None, "", "  ", "abc", True, "NaN"):
        with pytest.raises(ValueError):
            dec(bad)
    assert dec_or(None, Decimal(0)) == 0
    assert dec_or("", Decimal(0)) == 0
    assert parse_json("[1.10]") == [Decimal("1.10")]


def test_cursor_store_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTINGRULES_STATE_DIR", str(tmp_path / "state"))
    store = CursorStore()
    assert store.get("k") is None
    store.set("k", "2024-01-01T00:00:00")
    store.set("j", "x")
    assert CursorStore().get("k") == "2024-01-01T00:00:00"
    assert json.loads((tmp_path / "state" / "cursors.json").read_text()) == {
        "j": "x",
        "k": "2024-01-01T00:00:00",
    }


def test_transport_is_injectable():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"a": 1}))
    with ShopClient("http://shop.test", platform="t", transport=transport) as client:
        assert client.get_json("/").data == {"a": 1}


def test_json_response_helper_roundtrip():
    assert json.loads(json_response({"a": Decimal("1.50")}).body) == {"a": "1.50"}
