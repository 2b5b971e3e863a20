"""Shared HTTP layer for every shop connector: retries, paging, Decimal parsing, cursors.

Why one module: the five connectors hit different APIs but fail in the same ways (429 with
``Retry-After``, 5xx from an overloaded host, timeouts, half-sent bodies, HTML error pages
served with status 200).  Handling that once, with one tested policy, keeps each platform's
``client.py`` down to auth, URLs and the platform's paging rule.

Public API (stable; connectors build on it)
-------------------------------------------
``ShopClient(base_url, *, platform, auth=None, headers=None, params=None, secret_params=(),
timeout=30.0, retry=RetryPolicy(), limiter=None, transport=None)``
    A thin wrapper around :class:`httpx.Client`.  ``request_json(method, path, params=, json=,
    headers=, throttled=)`` returns a :class:`JSONResponse` (``data`` parsed with Decimals for
    every JSON fraction, ``headers``, ``status``, ``url`` with secrets masked).  ``request_bytes``
    is the same without JSON decoding (Iziflux files).  ``throttled`` is an optional hook called
    on a *successful* response that returns a delay in seconds when the body says "throttled"
    (Shopify GraphQL answers ``THROTTLED`` with status 200); the request is then retried.  It is
    also asked about a 429 whose body is JSON (Shopify may send ``THROTTLED`` with a 429 too):
    its delay, computed from the body's own figures, is used when longer than ``Retry-After``
    (or instead of the blind backoff when there is none).
    ``client.stats`` (:class:`FetchStats`) counts requests, retries (by reason), pages (the
    connector increments ``pages``) and records skipped on purpose (``note_skip``).  Use it as a
    context manager.  ``repr(client)`` never shows credentials; errors never contain
    ``auth`` or the query parameters named in ``secret_params`` (e.g. ``ws_key``).

``RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=30.0, max_retry_after=120.0,
retry_statuses=frozenset({429, 500, 502, 503, 504}), sleep=time.sleep, rng=random.random)``
    Exponential backoff with full jitter: attempt *n* waits ``uniform(0, min(max_delay,
    base_delay * 2**n))``; a ``Retry-After`` header (seconds or HTTP date) is honoured instead,
    unless it exceeds ``max_retry_after`` (then the error is raised).  Timeouts, transport
    errors (reset, truncated body) and undecodable JSON are retried too.  Tests inject
    ``sleep`` and ``rng``.

``RateLimiter(rate, burst, *, clock=time.monotonic, sleep=time.sleep)``
    Token bucket applied before every request (e.g. Shopify REST: rate=2, burst=40).

Paging helpers (pure; the connector supplies a ``fetch`` callable):
    ``offset_pages(fetch(offset, count) -> items, page_size)`` — stop on a short/empty page
    (PrestaShop ``limit=offset,count``);
    ``numbered_pages(fetch(page) -> (items, has_more), first=1)`` (WooCommerce
    ``X-WP-TotalPages``, Magento ``total_count``);
    ``cursor_pages(fetch(cursor) -> (items, next_cursor))`` (Shopify ``endCursor``/``Link``).
    All three stop after ``max_pages`` (default 100,000) to never loop forever on a shop
    that repeats its last page, and raise :class:`PagingError` when they do.

Decimal helpers: ``parse_json(body)`` (never through float), ``dec(value)`` (str, int, Decimal,
float via its repr; ``None``/"" raise), ``dec_or(value, default)``.

Cursors: ``CursorStore(path=None)`` keeps "since last time" per key in a small JSON file
outside the repository (``$POSTINGRULES_STATE_DIR`` or ``$XDG_STATE_HOME/postingrules`` or
``~/.local/state/postingrules``, file ``cursors.json``); ``get(key)``, ``set(key, value)``
(atomic replace).

Errors: :class:`ShopError` (base), :class:`ShopHTTPError` (non-retryable status or retries
exhausted; ``.status``), :class:`ShopTransportError` (timeouts/resets exhausted),
:class:`MalformedResponse` (body never decoded), :class:`PagingError`.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jiter

T = TypeVar("T")

DEFAULT_MAX_PAGES = 100_000


# --------------------------------------------------------------------------- errors


class ShopError(Exception):
    """Base of every error a connector raises about the shop's answers."""


class ShopHTTPError(ShopError):
    """The shop answered with an error status we do not (or no longer) retry."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ShopTransportError(ShopError):
    """Timeouts or broken connections persisted after every retry."""


class MalformedResponse(ShopError):
    """The body could not be decoded as JSON after every retry."""


class PagingError(ShopError):
    """A paginator went past ``max_pages``: the shop probably repeats its last page."""


# --------------------------------------------------------------------------- decimals


def parse_json(body: bytes | str) -> Any:
    """Parse JSON with every fraction as :class:`Decimal` (ints stay ints, never floats)."""
    if isinstance(body, str):
        body = body.encode()
    return jiter.from_json(body, float_mode="decimal")


def dec(value: Any) -> Decimal:
    """Coerce a shop scalar ("61.800000", 3, Decimal, or a float such as WooCommerce ``price``).

    Floats go through ``str`` (their shortest repr), never ``Decimal(float)``.
    Raises :class:`ValueError` for ``None``, ``""``, booleans or text that is not a number.
    """
    # Fast paths for the usual shop scalars: a well-formed numeric string (``Decimal`` ignores
    # surrounding whitespace itself), a JSON fraction already parsed as a Decimal, an integer
    # quantity (``type`` excludes ``bool``); anything else takes the checked path below.
    kind = type(value)
    if kind is str:
        try:
            result = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if result.is_finite():
                return result
    elif kind is Decimal:
        return value
    elif kind is int:
        return Decimal(value)
    return _dec_checked(value)


def _dec_checked(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip()
    if not text:
        raise ValueError("not an amount: empty string")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text[:40]!r}") from None
    if not result.is_finite():
        raise ValueError(f"not an amount: {text[:40]!r}")
    return result


def dec_or(value: Any, default: Decimal) -> Decimal:
    """Like :func:`dec` but ``None`` and blank text give ``default`` (absent means zero, say)."""
    if value is None:
        return default
    try:
        return dec(value)
    except ValueError:
        if isinstance(value, str) and not value.strip():
            return default
        raise


# --------------------------------------------------------------------------- retry policy


def _default_sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter; see the module docstring."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    sleep: Callable[[float], None] = _default_sleep
    rng: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (0-based), jittered in [0, cap)."""
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return cap * self.rng()


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header: delta seconds or an HTTP date; ``None`` if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class RateLimiter:
    """Token bucket: at most ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = _default_sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping if needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                self._sleep(wait)
                self._tokens = 1.0
                self._last = self._clock()
            self._tokens -= 1
            return wait


# --------------------------------------------------------------------------- client


@dataclass
class FetchStats:
    """Counters a fetch reports in its summary."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    bytes: int = 0
    waited: float = 0.0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    """Records left out on purpose (e.g. ``status cancelled``), counted for the summary."""

    def note_retry(self, reason: str) -> None:
        self.retries += 1
        self.retry_reasons[reason] = self.retry_reasons.get(reason, 0) + 1

    def note_skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass(frozen=True)
class JSONResponse:
    """A decoded answer: ``data`` (Decimals for fractions), headers, status, masked URL."""

    data: Any
    headers: httpx.Headers
    status: int
    url: str


def mask_url(url: httpx.URL | str, secret_params: Sequence[str]) -> str:
    """The URL with user info removed and the values of ``secret_params`` replaced by ***."""
    url = httpx.URL(str(url))
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    if secret_params:
        params = [(k, "***" if k in secret_params else v) for k, v in url.params.multi_items()]
        url = url.copy_with(params=params)
    return str(url)


class ShopClient:
    """httpx client with the shared retry policy; one instance per shop and fetch."""

    def __init__(
        self,
        base_url: str,
        *,
        platform: str,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        secret_params: Sequence[str] = (),
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url
        self.retry = retry or RetryPolicy()
        self.limiter = limiter
        self.secret_params = tuple(secret_params)
        self.stats = FetchStats()
        self._http = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers=dict(headers or {}),
            params=dict(params or {}),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ShopClient(platform={self.platform!r}, base_url={mask_url(self.base_url, ())!r})"

    def __enter__(self) -> ShopClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- requests -----------------------------------------------------------------

    def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[bytes, httpx.Response]:
        """Send with retries; return the body and the response (status < 400)."""
        body, response, _ = self._send(method, path, params, json_body, headers, decode=False)
        return body, response

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        throttled: Callable[[JSONResponse], float | None] | None = None,
    ) -> JSONResponse:
        """Send with retries and decode JSON; see the module docstring for ``throttled``."""
        _, _, decoded = self._send(
            method, path, params, json_body, headers, decode=True, throttled=throttled
        )
        assert decoded is not None
        return decoded

    def get_json(self, path: str, **params: Any) -> JSONResponse:
        """``GET path?params`` decoded as JSON."""
        return self.request_json("GET", path, params=params)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        *,
        decode: bool,
        throttled: Callable[[JSONResponse], float | None] | None = None,
    ) -> tuple[bytes, httpx.Response, JSONResponse | None]:
        policy = self.retry
        last_error = ""
        for attempt in range(policy.max_attempts):
            final = attempt == policy.max_attempts - 1
            if self.limiter is not None:
                self.stats.waited += self.limiter.acquire()
            self.stats.requests += 1
            request = self._http.build_request(
                method, path, params=params, json=json_body, headers=headers
            )
            shown = mask_url(request.url, self.secret_params)
            try:
                response = self._http.send(request)
                body = response.read()
            except httpx.TimeoutException:
                last_error = f"timeout on {method} {shown}"
                reason, delay = "timeout", policy.backoff(attempt)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__} on {method} {shown}"
                reason, delay = "transport", policy.backoff(attempt)
            else:
                self.stats.bytes += len(body)
                status = response.status_code
                if status in policy.retry_statuses:
                    last_error = f"HTTP {status} on {method} {shown}"
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if status == 429 and throttled is not None:
                        hinted = _throttle_hint(body, response, shown, throttled)
                        if hinted is not None:
                            wait = hinted if wait is None else max(wait, hinted)
                    if wait is not None and wait > policy.max_retry_after:
                        raise ShopHTTPError(
                            f"{last_error}: Retry-After {wait:.0f}s exceeds the "
                            f"{policy.max_retry_after:.0f}s limit",
                            status,
                        )
                    reason = str(status)
                    delay = wait if wait is not None else policy.backoff(attempt)
                    if final:
                        raise ShopHTTPError(
                            f"{last_error} after {policy.max_attempts} attempts", status
                        )
                elif status >= 400:
                    raise ShopHTTPError(
                        f"HTTP {status} on {method} {shown}: {_excerpt(body)}", status
                    )
                elif not decode:
                    return body, response, None
                else:
                    try:
                        data = parse_json(body)
                    except ValueError as exc:
                        last_error = f"malformed JSON on {method} {shown}: {exc}"
                        reason, delay = "malformed", policy.backoff(attempt)
                        if final:
                            raise MalformedResponse(
                                f"{last_error} after {policy.max_attempts} attempts"
                            ) from None
                    else:
                        decoded = JSONResponse(data, response.headers, status, shown)
                        wait = throttled(decoded) if throttled is not None else None
                        if wait is None:
                            return body, response, decoded
                        last_error = f"throttled on {method} {shown}"
                        reason, delay = "throttled", wait
                        if final:
                            raise ShopHTTPError(
                                f"{last_error} after {policy.max_attempts} attempts", status
                            )
            if final:
                raise ShopTransportError(f"{last_error} after {policy.max_attempts} attempts")
            self.stats.note_retry(reason)
            self.stats.waited += delay
            policy.sleep(delay)
        raise AssertionError("unreachable: the loop always returns or raises")


def _throttle_hint(
    body: bytes,
    response: httpx.Response,
    shown: str,
    throttled: Callable[[JSONResponse], float | None],
) -> float | None:
    """The ``throttled`` hook's delay for a 429 whose body is JSON, else ``None``."""
    try:
        data = parse_json(body)
    except ValueError:
        return None
    return throttled(JSONResponse(data, response.headers, response.status_code, shown))


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ")
    return text + ("…" if len(body) > limit else "")


# --------------------------------------------------------------------------- paging


def offset_pages(
    fetch: Callable[[int, int], Sequence[T]],
    page_size: int,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[Sequence[T]]:
    """Yield pages from ``fetch(offset, count)`` until a page is shorter than ``page_size``."""
    offset = 0
    for _ in range(max_pages):
        items = fetch(offset, page_size)
        if items:
            yield items
        if len(items) < page_size:
            return
        offset += page_size
    raise PagingError(f"more than {max_pages} pages of {page_size}")


def numbered_pages(
    fetch: Callable[[int], tuple[Sequence[T], bool]],
    *,
    first: int = 1,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[Sequence[T]]:
    """Yield pages from ``fetch(page) -> (items, has_more)`` starting at ``first``."""
    page = first
    for _ in range(max_pages):
        items, has_more = fetch(page)
        if items:
            yield items
        if not has_more or not items:
            return
        page += 1
    raise PagingError(f"more than {max_pages} numbered pages")


def cursor_pages(
    fetch: Callable[[str | None], tuple[Sequence[T], str | None]],
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[Sequence[T]]:
    """Yield pages from ``fetch(cursor) -> (items, next_cursor)`` until the cursor is None."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        items, cursor = fetch(cursor)
        if items:
            yield items
        if cursor is None:
            return
        if cursor in seen:
            raise PagingError(f"cursor {cursor[:40]!r} returned twice")
        seen.add(cursor)
    raise PagingError(f"more than {max_pages} cursor pages")


# --------------------------------------------------------------------------- cursors


def default_state_dir() -> Path:
    """Where cursors live: never inside the repository."""
    explicit = os.environ.get("POSTINGRULES_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "postingrules"


class CursorStore:
    """Keeps "since last time" values per key (e.g. ``prestashop:shop.example:orders``) in JSON."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_state_dir() / "cursors.json"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, value: str) -> None:
        data = self._load()
        data[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cursors.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)
