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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry
from pydantic import ValidationError

from postingrules.connectors.profile import Document, Raw, SetAside, Unmappable, set_aside_reason
from postingrules.model.structs import validate_document

PLATFORM = "iziflux"
EMPTY = "NON-RENSEIGNE"
_EMPTY_LENGTH = len(EMPTY)
ZERO = Decimal(0)
CENT = Decimal("0.01")

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


class _Row:
    """One file line with the column map resolved against the header."""

    __slots__ = ("cells", "index", "number", "reference")

    def __init__(self, cells: Sequence[str], index: dict[Column, int], number: int) -> None:
        self.cells = cells
        self.index = index
        self.number = number
        self.reference = ""  # marketplace reference, read once by _read (dedup, sku fallback)

    def get(self, column: Column | None) -> str:
        """The cell's text, ``""`` for ``NON-RENSEIGNE``, for an absent column or cell."""
        if column is None:
            return ""
        position = self.index[column]
        cells = self.cells
        if position >= len(cells):
            return ""
        value = cells[position].strip()
        # upper() keeps the length of anything that could equal EMPTY: test the length first
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


# --------------------------------------------------------------------------- documents


_SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"
_SECONDS = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)", re.ASCII)


def _date(text: str, settings: Settings) -> dt.date:
    # Fast path for the usual first format (strptime is slow): the same fields, the same
    # checks; anything else, or an invalid date or time, goes through strptime.
    if settings.date_formats and settings.date_formats[0] == _SECONDS_FORMAT:
        match = _SECONDS.fullmatch(text)
        if match is not None:
            year, month, day, hour, minute, second = map(int, match.groups())
            if hour <= 23 and minute <= 59 and second <= 59:
                try:
                    return dt.date(year, month, day)
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


def _rate(row: _Row, settings: Settings) -> Decimal:
    text = row.get(settings.columns.tax_rate)
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


def _line(row: _Row, settings: Settings) -> Raw:
    cols = settings.columns
    quantity = _number(row.get(cols.quantity) or "1", "quantity")
    if quantity <= 0:
        raise Unmappable(f"line {row.number}: quantity {quantity} on a sale")
    unit = _number(row.get(cols.unit_price), "unit price")
    rate = _rate(row, settings)
    excl, tax = _split_tax(unit * quantity, rate, settings.prices_include_tax)
    return {
        "kind": "product",
        "label": row.get(cols.product_name),
        "sku": row.get(cols.shop_reference) or row.reference or None,
        "quantity": quantity,
        "unit_price_excl": None if settings.prices_include_tax else unit,
        "total_excl": excl,
        "tax_rate": rate,
        "tax_amount": tax,
        "total_incl": excl + tax,
    }


def _order_documents(order_id: str, rows: list[_Row], settings: Settings) -> list[Document]:
    cols = settings.columns
    first = rows[0]
    lines = [_line(row, settings) for row in rows]
    shipping_text = first.get(cols.shipping)
    if shipping_text:
        shipping = _number(shipping_text, "shipping")
        if shipping:
            rate = _rate(first, settings)
            excl, tax = _split_tax(shipping, rate, settings.prices_include_tax)
            label = first.get(cols.carrier) or "Shipping"
            lines.append(
                {
                    "kind": "shipping",
                    "label": label,
                    "total_excl": excl,
                    "tax_rate": rate,
                    "tax_amount": tax,
                    "total_incl": excl + tax,
                }
            )
    excl = tax = ZERO
    for line in lines:
        excl += line["total_excl"]
        tax += line["tax_amount"]
    marketplace = first.get(cols.marketplace) or "marketplace"
    country = (first.get(cols.country) or settings.default_country or "").upper()
    billing = (
        {
            "country": country,
            "postcode": first.get(cols.postcode) or None,
            "city": first.get(cols.city) or None,
        }
        if country
        else None
    )
    name = " ".join([part for part in map(first.get, cols.customer_name) if part])
    customer = {
        "name": name or None,
        "email": first.get(cols.email) or None,
        "vat_number": first.get(cols.vat_number) or None,
        "group": marketplace,
    }
    method = {"code": "marketplace", "label": first.get(cols.payment_label) or marketplace}
    currency = currency_from_numeric(first.get(cols.currency))
    order_date = _date(first.get(cols.order_date), settings)
    sale_key = f"{PLATFORM}:{settings.shop}:sale:{order_id}"
    source = {"platform": PLATFORM, "shop": settings.shop, "raw_id": order_id}
    transaction_id = first.get(cols.transaction_id)
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
            "totals": {"excl": excl, "tax": tax, "incl": excl + tax, "paid": excl + tax},
        }
    )
    documents: list[Document] = [sale]
    if excl + tax > 0:
        documents.append(
            validate_document(
                {
                    "kind": "payment",
                    "key": f"{PLATFORM}:{settings.shop}:payment:{order_id}",
                    "id": order_id,
                    "payment_date": order_date,
                    "method": method,
                    "amount": excl + tax,
                    "transaction_id": transaction_id or None,
                    "currency": currency,
                    "order_id": order_id,
                    "order_reference": transaction_id or order_id,
                    "settles": (sale_key,),
                    "customer": customer,
                    "billing": billing,
                    "source": source,
                }
            )
        )
    return documents


class Importer:
    """Reads successive hourly files; remembers the (order id, marketplace reference) pairs
    of the orders it mapped, so overlapping files do not import a line twice."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seen: set[tuple[str, str]] = set()
        self.orders_seen: set[str] = set()
        self.duplicates = 0

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
            index = _resolve(self.settings.columns, header)
        except Unmappable as exc:
            return [], [SetAside(PLATFORM, name or "file", str(exc), "sale")]
        cols = self.settings.columns
        orders: dict[str, list[_Row]] = {}
        pairs: set[tuple[str, str]] = set()
        aside: list[SetAside] = []
        for number, raw in enumerate(lines[1:], start=2):
            row = _Row(raw.split("|"), index, number)
            order_id = row.get(cols.order_id)
            if not order_id:
                aside.append(
                    SetAside(PLATFORM, f"{name}:{number}", "line without an order id", "sale")
                )
                continue
            row.reference = row.get(cols.marketplace_reference)
            pair = (order_id, row.reference)
            if pair in self.seen or pair in pairs:
                self.duplicates += 1
                continue
            pairs.add(pair)
            orders.setdefault(order_id, []).append(row)
        documents: list[Document] = []
        for order_id, rows in orders.items():
            try:
                if order_id in self.orders_seen:
                    raise Unmappable("order already imported from an earlier file, new lines")
                documents.extend(_order_documents(order_id, rows, self.settings))
                self.orders_seen.add(order_id)
                # only mapped lines count as seen: a corrected resend of a set-aside order
                # is read again, not dropped as a duplicate
                self.seen.update((order_id, row.reference) for row in rows)
            except (Unmappable, ValidationError, ValueError) as exc:
                aside.append(SetAside(PLATFORM, order_id, set_aside_reason(exc), "sale"))
        return documents, aside

    def read_all(self, texts: Iterable[tuple[str, str]]) -> tuple[list[Document], list[SetAside]]:
        """Map several ``(name, text)`` files in order."""
        documents: list[Document] = []
        aside: list[SetAside] = []
        for name, text in texts:
            found, left = self.read(text, name)
            documents.extend(found)
            aside.extend(left)
        return documents, aside
