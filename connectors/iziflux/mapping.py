"""Iziflux hourly order files → normalised sales and payments (pure, no I/O).

Why a file format and not an API: Iziflux publishes no API documentation.  The one public
trace of how it hands marketplace orders to a shop is a third-party PrestaShop module that
downloads, every hour, a pipe-delimited text file (first line = headers, one line per order
item, lines of one order together, ``NON-RENSEIGNE`` for an empty value, currency as an ISO
4217 *numeric* code).  The column positions below are the ones that module reads
(``shared/reference/shops/API-NOTES.md`` §5); the price, shipping, tax and address columns
were not visible there, so they have **no default** and must be set from a real file's
header (by position or by header name) before use.  **This format must be checked against a
real Iziflux file**: nothing here was tested on one.

Duplicates: the same (order id, marketplace product reference) seen again — the module's
own rule, e.g. when hourly windows overlap — is dropped; the importer remembers what it saw
across files.

Amounts: marketplaces show prices including VAT, so ``prices_include_tax`` defaults to true;
the excl. amount is derived per line (rounded to the cent) and the tax is the difference, so
each line's incl. amount is exactly the file's.  Iziflux exposes no refunds and no refund
payments (the product sheet marks bank entries for credit notes "indisponible sur
Iziflux"), so only sales and the marketplace payments that settle them are produced.

Each document is built as one dict and validated once by ``validate_document`` (the msgspec
mirror of the model).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter
from typing import TypeVar

import pycountry
from pydantic import ValidationError

from postingrules.connectors.profile import Document, Raw, SetAside, Unmappable, set_aside_reason
from postingrules.model.structs import validate_document

PLATFORM = "iziflux"
EMPTY = "NON-RENSEIGNE"
_EMPTY_LENGTH = len(EMPTY)
ZERO = Decimal(0)
CENT = Decimal("0.01")

_K = TypeVar("_K")
_V = TypeVar("_V")

Column = int | str
"""A 0-based position, or a header name looked up in the file's first line."""


@dataclass(frozen=True)
class ColumnMap:
    """Where each field is; defaults are the positions the public PrestaShop module reads."""

    order_id: Column = 0
    shop_reference: Column = 1
    marketplace_reference: Column = 2
    product_name: Column = 3
    order_date: Column = 4
    payment_label: Column = 6
    customer_name: tuple[Column, ...] = (7, 8, 9)
    email: Column = 18
    carrier: Column = 30
    marketplace: Column = 31
    quantity: Column = 32
    currency: Column = 39
    transaction_id: Column = 40
    # Not visible in any public source: set them from a real file.
    unit_price: Column | None = None
    shipping: Column | None = None
    tax_rate: Column | None = None
    country: Column | None = None
    postcode: Column | None = None
    city: Column | None = None
    vat_number: Column | None = None


@dataclass(frozen=True)
class Settings:
    """How to read one merchant's files."""

    shop: str
    columns: ColumnMap = field(default_factory=ColumnMap)
    prices_include_tax: bool = True
    default_tax_rate: Decimal | None = None
    """Used when the map has no ``tax_rate`` column (e.g. 20 for a French seller)."""
    default_country: str | None = None
    """Used when the map has no ``country`` column or the value is empty."""
    date_formats: tuple[str, ...] = (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
    )


# --------------------------------------------------------------------------- cells


def _number(text: str, what: str) -> Decimal:
    """A French or English decimal ("12,50", "12.50", "1 234,5"); never through float."""
    try:  # the usual "12.50" as it is; a comma or a space fails and is cleaned below
        value = Decimal(text)
    except InvalidOperation:
        pass
    else:
        if value.is_finite():
            return value
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Unmappable(f"{what}: not a number {text[:30]!r}") from None
    if not value.is_finite():
        raise Unmappable(f"{what}: not a number {text[:30]!r}")
    return value


def currency_from_numeric(code: str) -> str:
    """ISO 4217 numeric ("978", "840", or "36" for 036) → alphabetic ("EUR", "USD", "AUD")."""
    text = code.strip()
    if not text:
        raise Unmappable("currency: missing")
    if text.isalpha() and len(text) == 3:
        return text.upper()  # tolerate files that already use the letters
    if not text.isdigit():
        raise Unmappable(f"currency: not an ISO 4217 code {code!r}")
    numeric = text.zfill(3)
    if numeric not in _CURRENCIES:  # pycountry's look-up is slow: once per code, not per order
        found = pycountry.currencies.get(numeric=numeric)
        _CURRENCIES[numeric] = None if found is None else found.alpha_3
    alpha = _CURRENCIES[numeric]
    if alpha is None:
        raise Unmappable(f"currency: unknown ISO 4217 numeric code {code!r}")
    return alpha


_CURRENCIES: dict[str, str | None] = {}
"""ISO 4217 numeric → alphabetic code (``None`` when unknown), filled as codes are met."""


_Row = tuple[int, tuple[str, str, str], str, str]
"""One item line as ``_read`` keeps it: its line number, then its cleaned cells: (quantity,
unit price, tax rate) together, as the key of the memo of their amounts, product name, sku
(the shop reference, else the marketplace one)."""

_NOWHERE = sys.maxsize
"""The position of a column the map leaves out: beyond every row, so it reads ``""``."""


class _Picker:
    """Reads a fixed list of columns from a row's cells in one go (one Python call per row
    instead of one per cell, ~30 per order): each text stripped, ``""`` for ``NON-RENSEIGNE``
    (any case), for a column the map leaves out and for a cell the row lacks."""

    __slots__ = ("_absent", "_get", "_positions", "_top")

    def __init__(self, positions: Sequence[int | None]) -> None:
        self._positions = [_NOWHERE if p is None else p for p in positions]
        self._absent = [i for i, p in enumerate(positions) if p is None]
        self._top = max([p for p in positions if p is not None], default=-1)
        # at least two positions, so the getter always returns a tuple
        self._get = itemgetter(*[0 if p is None else p for p in positions])

    def __call__(self, cells: list[str]) -> list[str]:
        if len(cells) > self._top:  # every mapped cell is there: one C-level fetch
            # _clean's test inlined: a call per cell would cost more than the test itself
            values = [
                "" if len(v) == _EMPTY_LENGTH and (v == EMPTY or v.upper() == EMPTY) else v
                for v in map(str.strip, self._get(cells))
            ]
            for i in self._absent:
                values[i] = ""
            return values
        count = len(cells)  # a short row: cell by cell, the missing ones read ""
        return [_clean(cells[p].strip()) if p < count else "" for p in self._positions]


def _clean(value: str) -> str:
    """``""`` for ``NON-RENSEIGNE`` in any case; ``upper()`` keeps the length of anything
    that could equal it, so the length is tested first (nearly every cell stops there)."""
    if len(value) != _EMPTY_LENGTH:
        return value
    return "" if value == EMPTY or value.upper() == EMPTY else value


def _resolve(columns: ColumnMap, header: Sequence[str]) -> dict[Column, int]:
    names = {name.strip().lower(): i for i, name in enumerate(header)}
    if columns.unit_price is None:
        raise Unmappable("column map has no unit_price column: set it from a real file")
    wanted: list[Column] = []
    for value in vars(columns).values():
        if isinstance(value, tuple):
            wanted.extend(value)
        elif value is not None:
            wanted.append(value)
    index: dict[Column, int] = {}
    for column in wanted:
        if isinstance(column, int):
            index[column] = column
        elif column.strip().lower() in names:
            index[column] = names[column.strip().lower()]
        else:
            raise Unmappable(f"column {column!r} is not in the file's header")
    return index


def _pickers(columns: ColumnMap, header: Sequence[str]) -> tuple[_Picker, _Picker]:
    """The column map resolved against a file's header (``Unmappable`` if it cannot be):
    a picker of every line's item cells (order id and marketplace reference first), and
    one of the order's own cells, read from its first line only."""
    index = _resolve(columns, header)

    def at(column: Column | None) -> int | None:
        return None if column is None else index[column]

    c = columns
    item = (
        c.order_id,
        c.marketplace_reference,
        c.quantity,
        c.unit_price,
        c.tax_rate,
        c.product_name,
        c.shop_reference,
    )
    head = (
        c.shipping,
        c.carrier,
        c.marketplace,
        c.country,
        c.postcode,
        c.city,
        c.email,
        c.vat_number,
        c.payment_label,
        c.currency,
        c.order_date,
        c.transaction_id,
        *c.customer_name,
    )
    return _Picker([at(x) for x in item]), _Picker([at(x) for x in head])


# --------------------------------------------------------------------------- documents


_SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"
_SECONDS = re.compile(r"\d{4}-\d\d-\d\d (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d", re.ASCII)
"""``_SECONDS_FORMAT`` with a valid time of day (its date is checked by ``fromisoformat``)."""


def _date(text: str, settings: Settings) -> dt.date:
    # Fast path for the usual first format (strptime is slow): the same fields, the same
    # checks (the time's in the pattern, the date's in fromisoformat, which reads this
    # YYYY-MM-DD shape as strptime does); anything else, or an invalid date, goes through
    # strptime.
    formats = settings.date_formats
    if formats and formats[0] == _SECONDS_FORMAT and _SECONDS.fullmatch(text) is not None:
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    for fmt in settings.date_formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Unmappable(f"order date: unreadable {text[:30]!r}")


_DIVISORS: dict[Decimal, Decimal] = {}
"""``1 + rate / 100`` by rate: a file has a handful of rates and thousands of lines."""


def _split_tax(incl_or_excl: Decimal, rate: Decimal, include: bool) -> tuple[Decimal, Decimal]:
    """(excl, tax) of an amount at ``rate`` %, rounded to the cent."""
    if include:
        divisor = _DIVISORS.get(rate)
        if divisor is None:
            if len(_DIVISORS) > 256:
                _DIVISORS.clear()
            divisor = _DIVISORS[rate] = 1 + rate / 100
        excl = (incl_or_excl / divisor).quantize(CENT, ROUND_HALF_UP)
        return excl, incl_or_excl - excl
    tax = (incl_or_excl * rate / 100).quantize(CENT, ROUND_HALF_UP)
    return incl_or_excl, tax


_RATES: dict[str, Decimal] = {}
"""Tax rate cells already read ("20", "5,5 %", "0.2") and their rate in percent."""


def _rate(text: str, settings: Settings) -> Decimal:
    if text:
        rate = _RATES.get(text)
        if rate is None:
            rate = _number(text.rstrip("%"), "tax rate")
            rate = rate * 100 if 0 < rate < 1 else rate  # "0.2" and "20" both mean 20 %
            if len(_RATES) > 256:
                _RATES.clear()
            _RATES[text] = rate
        return rate
    if settings.default_tax_rate is None:
        raise Unmappable("no tax rate column and no default_tax_rate (unknown tax rate)")
    return settings.default_tax_rate


_ItemAmounts = tuple[Decimal, Decimal | None, Decimal, Decimal, Decimal, Decimal]
"""(quantity, unit price excl. or ``None`` if the file's are incl., tax rate, total excl.,
tax, total incl.) of an item line."""


def _item_amounts(row: _Row, settings: Settings) -> _ItemAmounts:
    number, (quantity_text, unit_text, rate_text), _, _ = row
    quantity = _number(quantity_text or "1", "quantity")
    if quantity <= 0:
        raise Unmappable(f"line {number}: quantity {quantity} on a sale")
    unit = _number(unit_text, "unit price")
    rate = _rate(rate_text, settings)
    include = settings.prices_include_tax
    excl, tax = _split_tax(unit * quantity, rate, include)
    return quantity, None if include else unit, rate, excl, tax, excl + tax


def _shipping_amounts(text: str, rate: Decimal, include: bool) -> tuple[Decimal, ...]:
    """(excl., tax, incl.) of the shipping cell at ``rate``; empty when it is zero (the
    order then has no shipping line)."""
    shipping = _number(text, "shipping")
    if not shipping:
        return ()
    excl, tax = _split_tax(shipping, rate, include)
    return excl, tax, excl + tax


_MEMO_SIZE = 4096
"""Bound of each per-importer memo of cell conversions (a few MB at most)."""


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
    """Store a conversion; a memo that outgrows ``_MEMO_SIZE`` starts again empty."""
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


class Importer:
    """Reads successive hourly files; remembers the (order id, marketplace reference) pairs
    of the orders it mapped, so overlapping files do not import a line twice.

    It also remembers what cells converted to (amounts, dates, currencies), keyed by their
    text: an hourly file repeats its catalogue's prices, a few rates and shipping fees, one
    currency (and an order date whenever two orders share the same second) over thousands of
    lines, and each conversion (Decimal parsing, VAT split, date checks) is a pure function
    of the texts under these settings.  Failures are not remembered: each bad cell raises
    again, with its own line number."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seen: set[tuple[str, str]] = set()
        self.orders_seen: set[str] = set()
        self.duplicates = 0
        self._items: dict[tuple[str, str, str], _ItemAmounts] = {}
        self._shipping: dict[tuple[str, str], tuple[Decimal, ...]] = {}
        self._dates: dict[str, dt.date] = {}
        self._currencies: dict[str, str] = {}

    def read(self, text: str, name: str = "") -> tuple[list[Document], list[SetAside]]:
        """Map one file's text; malformed lines and unmappable orders are set aside.

        The cyclic garbage collector is paused meanwhile: a file's rows and documents are
        tens of thousands of acyclic objects, all alive until the end, that every collection
        would scan again for nothing (half the mapping time in ``bench_connectors.py``).
        Reference counting still frees everything; nothing read here makes a cycle."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._read(text, name)
        finally:
            if enabled:
                gc.enable()

    def _read(self, text: str, name: str) -> tuple[list[Document], list[SetAside]]:
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return [], []
        header = lines[0].split("|")
        try:
            item, head = _pickers(self.settings.columns, header)
        except Unmappable as exc:
            return [], [SetAside(PLATFORM, name or "file", str(exc), "sale")]
        # Only what is picked is kept: a line's cells are freed as soon as it is read
        # (keeping tens of thousands of lists of ~45 strings alive made splitting 2x slower).
        orders: dict[str, list[_Row]] = {}
        heads: dict[str, list[str]] = {}
        pairs: dict[str, set[tuple[str, str]]] = {}  # by order: its (order id, reference)
        aside: list[SetAside] = []
        seen = self.seen
        for number, raw in enumerate(lines[1:], start=2):
            cells = raw.split("|")
            order_id, reference, quantity, unit, rate, label, sku = item(cells)
            if not order_id:
                aside.append(
                    SetAside(PLATFORM, f"{name}:{number}", "line without an order id", "sale")
                )
                continue
            pair = (order_id, reference)
            known = pairs.get(order_id)
            if pair in seen or (known is not None and pair in known):
                self.duplicates += 1
                continue
            row = (number, (quantity, unit, rate), label, sku or reference)
            if known is None:  # the order's first line: its own fields are read from it
                pairs[order_id] = {pair}
                orders[order_id] = [row]
                heads[order_id] = head(cells)
            else:
                known.add(pair)
                orders[order_id].append(row)
        documents: list[Document] = []
        for order_id, rows in orders.items():
            try:
                if order_id in self.orders_seen:
                    raise Unmappable("order already imported from an earlier file, new lines")
                documents.extend(self._documents(order_id, rows, heads[order_id]))
                self.orders_seen.add(order_id)
                # only mapped lines count as seen: a corrected resend of a set-aside order
                # is read again, not dropped as a duplicate
                seen.update(pairs[order_id])
            except (Unmappable, ValidationError, ValueError) as exc:
                aside.append(SetAside(PLATFORM, order_id, set_aside_reason(exc), "sale"))
        return documents, aside

    def _documents(self, order_id: str, rows: list[_Row], fields: list[str]) -> list[Document]:
        """The sale of one order and the payment settling it (none if nothing is due), or
        the first reason not to map it; ``fields`` are the order's cells read from its first
        line, in ``_pickers``' order."""
        settings = self.settings
        (
            shipping_text,
            carrier,
            marketplace,
            country,
            postcode,
            city,
            email,
            vat_number,
            payment_label,
            currency_text,
            date_text,
            transaction_id,
        ) = fields[:12]
        include = settings.prices_include_tax
        lines: list[Raw] = []
        for row in rows:
            amounts = self._items.get(row[1])
            if amounts is None:
                amounts = _remember(self._items, row[1], _item_amounts(row, settings))
            quantity, unit, rate, excl, tax, incl = amounts
            lines.append(
                {
                    "kind": "product",
                    "label": row[2],
                    "sku": row[3] or None,
                    "quantity": quantity,
                    "unit_price_excl": unit,
                    "total_excl": excl,
                    "tax_rate": rate,
                    "tax_amount": tax,
                    "total_incl": incl,
                }
            )
        if shipping_text:
            rate = lines[0]["tax_rate"]  # the first line's rate, as for its item
            ship_key = (shipping_text, rows[0][1][2])  # keyed by texts, as every memo
            split = self._shipping.get(ship_key)
            if split is None:
                split = _remember(
                    self._shipping, ship_key, _shipping_amounts(shipping_text, rate, include)
                )
            if split:
                excl, tax, incl = split
                lines.append(
                    {
                        "kind": "shipping",
                        "label": carrier or "Shipping",
                        "total_excl": excl,
                        "tax_rate": rate,
                        "tax_amount": tax,
                        "total_incl": incl,
                    }
                )
        excl = tax = ZERO
        for line in lines:
            excl += line["total_excl"]
            tax += line["tax_amount"]
        marketplace = marketplace or "marketplace"
        country = (country or settings.default_country or "").upper()
        billing = (
            {"country": country, "postcode": postcode or None, "city": city or None}
            if country
            else None
        )
        name = " ".join([part for part in fields[12:] if part])
        customer = {
            "name": name or None,
            "email": email or None,
            "vat_number": vat_number or None,
            "group": marketplace,
        }
        method = {"code": "marketplace", "label": payment_label or marketplace}
        currency = self._currencies.get(currency_text)
        if currency is None:
            currency = _remember(
                self._currencies, currency_text, currency_from_numeric(currency_text)
            )
        order_date = self._dates.get(date_text)
        if order_date is None:
            order_date = _remember(self._dates, date_text, _date(date_text, settings))
        sale_key = f"{PLATFORM}:{settings.shop}:sale:{order_id}"
        source = {"platform": PLATFORM, "shop": settings.shop, "raw_id": order_id}
        total = excl + tax
        sale = validate_document(
            {
                "kind": "sale",
                "key": sale_key,
                "number": order_id,  # no invoice number in the file: the marketplace order id
                "order_id": order_id,
                "order_reference": transaction_id or order_id,
                "order_date": order_date,
                "invoice_date": order_date,
                "status": "paid",
                "status_raw": marketplace,
                "currency": currency,
                "customer": customer,
                "billing": billing,
                "shipping": billing,
                "payment_method": method,
                "source": source,
                "lines": lines,
                "totals": {"excl": excl, "tax": tax, "incl": total, "paid": total},
            }
        )
        if total <= 0:
            return [sale]
        return [
            sale,
            validate_document(
                {
                    "kind": "payment",
                    "key": f"{PLATFORM}:{settings.shop}:payment:{order_id}",
                    "id": order_id,
                    "payment_date": order_date,
                    "method": method,
                    "amount": total,
                    "transaction_id": transaction_id or None,
                    "currency": currency,
                    "order_id": order_id,
                    "order_reference": transaction_id or order_id,
                    "settles": (sale_key,),
                    "customer": customer,
                    "billing": billing,
                    "source": source,
                }
            ),
        ]

    def read_all(self, texts: Iterable[tuple[str, str]]) -> tuple[list[Document], list[SetAside]]:
        """Map several ``(name, text)`` files in order."""
        documents: list[Document] = []
        aside: list[SetAside] = []
        for name, text in texts:
            found, left = self.read(text, name)
            documents.extend(found)
            aside.extend(left)
        return documents, aside
