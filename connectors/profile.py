"""Connection files, fetch requests and set-aside records shared by every connector.

Why a file and not command-line flags: a shop is fetched again and again with the same URL,
statuses and options, and its credentials must never sit in shell history or in git.  The
connection file is TOML and names *environment variables* that hold the secrets::

    platform = "prestashop"            # prestashop | woocommerce | magento | shopify | iziflux
    url = "https://shop.example"
    shop = "shop.example"              # optional: the shop part of document keys (default: host)
    statuses = ["paid", "shipped"]     # optional: which orders make sales (platform vocabulary)
    since = "2024-01-01"               # optional: ISO date/time, or "last" = since last fetch
    until = "2024-12-31T23:59:59"      # optional
    [credentials]                      # role = NAME of the environment variable
    key = "PS_WEBSERVICE_KEY"
    [options]                          # platform specific, see docs/connectors.md
    timezone = "Europe/Paris"

Connector contract (each ``postingrules.connectors.<platform>`` package exposes):
    ``make_client(profile, *, retry=None, transport=None) -> ShopClient`` and
    ``fetch(profile, request, client) -> Iterator[Sale | Refund | Payment | SetAside]``.
Mappings raise :class:`Unmappable` with a reason; ``fetch`` turns that into a
:class:`SetAside` and goes on with the next payload.

Mappings build each document as one plain dict (:data:`Raw`) and validate it once with
:func:`postingrules.model.structs.validate_document`: a :data:`Document` is therefore the
msgspec mirror of ``Sale``/``Refund``/``Payment`` (or the pydantic model when only pydantic's
lax rules accept it).  Both have the same attributes; ``kind`` tells documents apart.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from postingrules.connectors._http import dec

Raw = dict[str, Any]
"""A document (or one of its parts) as plain Python values, before validation."""

Document = Any
"""A validated document: a msgspec mirror or a pydantic model (see the module docstring)."""

PLATFORMS = ("prestashop", "woocommerce", "magento", "shopify", "iziflux")
KINDS = frozenset({"sale", "refund", "payment"})


class ProfileError(ValueError):
    """The connection file is invalid or a credential variable is not set."""


class Unmappable(ValueError):
    """A payload cannot become a document; the message is the reason shown to the user."""


@dataclass(frozen=True)
class SetAside:
    """A payload that was not mapped: where it came from and why."""

    platform: str
    raw_id: str
    reason: str
    kind: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "platform": self.platform,
            "raw_id": self.raw_id,
            "kind": self.kind,
            "reason": self.reason,
        }


def amount(record: Mapping[str, Any], name: str) -> Decimal:
    """``record[name]`` as an amount, absent or blank meaning 0; anything else that is not a
    number is :class:`Unmappable`, naming the field."""
    value = record.get(name)
    if value is None:
        return _ZERO
    try:  # dec() directly, not dec_or(): one call less on every amount of every document
        return dec(value)
    except ValueError:
        if isinstance(value, str) and not value.strip():
            return _ZERO
        raise Unmappable(f"{name} is not an amount: {str(value).strip()[:30]!r}") from None


_ZERO = Decimal(0)


def line(kind: str, label: str, excl: Decimal, tax: Decimal, rate: Decimal) -> Raw:
    """A document line as the mappings hand it to ``validate_document``: the total including
    tax is the shop's excl + tax, never recomputed from the rate."""
    return {
        "kind": kind,
        "label": label,
        "total_excl": excl,
        "tax_rate": rate,
        "tax_amount": tax,
        "total_incl": excl + tax,
    }


def product_line(
    label: str,
    sku: str | None,
    quantity: Decimal,
    unit_excl: Decimal | None,
    excl: Decimal,
    tax: Decimal,
    rate: Decimal,
) -> Raw:
    """A product line (:func:`line` with the article's SKU, quantity and unit price excluding
    tax, None where the shop states prices including tax), its keys in the order of
    ``Line``'s fields: the order the validator reads fastest."""
    return {
        "kind": "product",
        "label": label,
        "sku": sku,
        "quantity": quantity,
        "unit_price_excl": unit_excl,
        "total_excl": excl,
        "tax_rate": rate,
        "tax_amount": tax,
        "total_incl": excl + tax,
    }


def joined(first: str | None, second: str | None, separator: str = " ") -> str:
    """The non-empty of two parts joined (first and last name, two street lines): what
    ``separator.join(p for p in (first, second) if p)`` gives, without a generator, since
    every document needs a few."""
    if first and second:
        return f"{first}{separator}{second}"
    return first or second or ""


def set_aside_reason(exc: Exception) -> str:
    """The reason a payload is set aside, in words: the first validation error, a missing field."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"invalid document: {where}: {first.get('msg')}"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)


def guard(platform: str, kind: str, raw_id: str, build: Callable[[], Any]) -> Any:
    """``build()``'s document, or the payload set aside with its reason: a bad payload
    (invalid document, missing field, unmappable value) never stops the fetch."""
    try:
        return build()
    except (ValidationError, Unmappable, ValueError, KeyError, TypeError) as exc:
        return SetAside(platform, raw_id, set_aside_reason(exc) or type(exc).__name__, kind)


def parse_when(value: str | dt.date | dt.datetime, *, end: bool = False) -> dt.datetime:
    """ISO date or date-time → naive UTC datetime; a bare date as ``until`` means end of day."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.max if end else dt.time.min)
    else:
        text = value.strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ProfileError(f"not an ISO date or date-time: {text!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class FetchRequest:
    """What to fetch: UTC window (naive datetimes), statuses (empty = connector default), kinds."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    statuses: tuple[str, ...] = ()
    kinds: frozenset[str] = KINDS


@dataclass(frozen=True)
class Profile:
    """A parsed connection file.  Holds environment variable *names*, never secret values."""

    name: str
    platform: str
    url: str
    shop: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def secret(self, role: str) -> str:
        """The credential for ``role`` read from its environment variable."""
        variable = self.credentials.get(role)
        if not variable:
            raise ProfileError(f'profile {self.name!r}: no [credentials] {role} = "ENV_VAR_NAME"')
        value = os.environ.get(variable)
        if not value:
            raise ProfileError(
                f"profile {self.name!r}: environment variable {variable} "
                f"(credential {role!r}) is not set"
            )
        return value

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    def cursor_key(self, kind: str) -> str:
        return f"{self.platform}:{self.shop}:{kind}"


def load_profile(path: str | Path) -> Profile:
    """Read and check a connection file (see the module docstring)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}: {exc}") from None
    unknown = set(data) - {
        "platform",
        "url",
        "shop",
        "credentials",
        "statuses",
        "since",
        "until",
        "options",
    }
    if unknown:
        raise ProfileError(f"{path}: unknown keys {sorted(unknown)}")
    platform = data.get("platform")
    if platform not in PLATFORMS:
        raise ProfileError(f"{path}: platform must be one of {', '.join(PLATFORMS)}")
    url = str(data.get("url", "")).rstrip("/")
    if not url:
        raise ProfileError(f"{path}: url is required")
    credentials = data.get("credentials", {})
    if not isinstance(credentials, dict) or not all(
        isinstance(v, str) for v in credentials.values()
    ):
        raise ProfileError(f"{path}: [credentials] maps roles to environment variable names")
    statuses = data.get("statuses", [])
    if isinstance(statuses, str):
        statuses = [s.strip() for s in statuses.split(",") if s.strip()]
    for key in ("since", "until"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, str) and value == "last" and key == "since"
        ):
            parse_when(value if isinstance(value, str | dt.date) else str(value))
    return Profile(
        name=path.stem,
        platform=platform,
        url=url,
        shop=str(data.get("shop") or urlsplit(url).hostname or path.stem),
        credentials=dict(credentials),
        statuses=tuple(statuses),
        since=None if data.get("since") is None else str(data["since"]),
        until=None if data.get("until") is None else str(data["until"]),
        options=dict(data.get("options", {})),
    )
