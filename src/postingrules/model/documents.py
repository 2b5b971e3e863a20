"""Normalised shop documents: the public contract between connectors and rules.

Every connector (and anyone feeding documents from a shop we do not support) produces these
models; rules never see a shop's raw JSON.  The JSON form is documented field by field in
``docs/documents.md`` and printed as JSON Schema by ``postingrules schema``.

Money is :class:`decimal.Decimal` end to end: JSON numbers are read straight into ``Decimal``
(never through ``float``; see :mod:`postingrules.model.reader`) and strings such as
``"61.800000"`` are accepted too.  The reader validates through msgspec mirrors of these
models (:mod:`postingrules.model.structs`) and falls back to them for anything the mirrors
refuse, so these definitions stay the single source of what a valid document is.

Sign convention: amounts are written as the shop shows them on the document.  A sale's
product lines are positive and its discount lines negative; a refund lists what was refunded
with positive amounts (the engine mirrors them); a payment's amount is positive and its
``direction`` says whether money came in (``in``) or went back to the customer (``out``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Money = Decimal
"""An exact amount in a document's currency, any number of decimals (PrestaShop sends 6); the
engine books to the cent.  pydantic's ``max_digits``/``decimal_places`` checks are left out on
purpose: they doubled the validation time of a document for no accounting benefit."""

Rate = Annotated[Decimal, Field(ge=0, le=100)]
"""A VAT rate in percent (20, 5.5, 0)."""

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code, upper case (FR, DE, RE, GB, XI…)."""

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""ISO 4217 alphabetic currency code (EUR, USD, GBP…)."""

LineKind = Literal["product", "shipping", "discount", "gift_wrap", "fee"]


class _Model(BaseModel):
    """Shared configuration: unknown fields are errors (a typo must not vanish), frozen.

    Text is taken as given (no whitespace stripping: it cost a sixth of validation time, and
    connectors normalise their own fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    """Where the document came from, for traceability back to the shop."""

    platform: str = Field(
        description="Shop platform: prestashop, woocommerce, magento, shopify, iziflux, manual…"
    )
    shop: str = Field(default="", description="Shop identifier (host name, store code).")
    raw_id: str = Field(default="", description="The shop's own id of the record.")


class Address(_Model):
    """A postal address; the country drives VAT regimes."""

    country: CountryCode
    postcode: str | None = None
    city: str | None = None
    region: str | None = Field(default=None, description="State, province or region code.")
    street: str | None = None
    company: str | None = None
    name: str | None = None


class Customer(_Model):
    """The buyer as the shop knows them."""

    id: str | None = Field(default=None, description="Shop customer id; empty for a guest.")
    name: str | None = None
    company: str | None = None
    email: str | None = None
    vat_number: str | None = Field(
        default=None, description="Intra-EU VAT number as typed by the customer."
    )
    vat_validated: bool | None = Field(
        default=None,
        description="True when the VAT number was confirmed in VIES, False when refused.",
    )
    group: str | None = Field(default=None, description="Customer group (B2B, wholesale…).")
    accounting_code: str | None = Field(
        default=None, description="The shop's own accounting code for this customer."
    )


class PaymentMethod(_Model):
    """How the customer paid: a stable code for rules, a label for people."""

    code: str = Field(description="Normalised method code: card, paypal, transfer, cheque, cod…")
    label: str | None = None


class Line(_Model):
    """One line of a sale or refund: a product, shipping, a discount, gift wrap or a fee."""

    kind: LineKind = "product"
    label: str = ""
    sku: str | None = None
    category: str | None = None
    quantity: Decimal = Decimal(1)
    unit_price_excl: Money | None = None
    total_excl: Money = Field(description="Line total excluding tax, after line discounts.")
    tax_rate: Rate = Field(description="VAT rate in percent applied by the shop.")
    tax_amount: Money = Field(description="VAT amount of the line as the shop computed it.")
    tax_country: CountryCode | None = Field(
        default=None,
        description="Country whose VAT applies; defaults to the shipping, then billing country.",
    )
    total_incl: Money | None = None


class Totals(_Model):
    """Totals as the shop reports them; the engine compares its own sums with these."""

    excl: Money
    tax: Money
    incl: Money
    paid: Money | None = None


class _Commercial(_Model):
    """Fields shared by sales and refunds."""

    key: str = Field(min_length=1, description="Stable key: platform:shop:kind:id.")
    number: str | None = Field(default=None, description="Invoice or credit-note number.")
    order_id: str | None = None
    order_reference: str | None = None
    order_date: dt.date | None = None
    delivery_date: dt.date | None = None
    status: str | None = Field(
        default=None, description="Normalised status: paid, shipped, delivered, cancelled…"
    )
    status_raw: str | None = Field(default=None, description="The shop's own status name.")
    currency: CurrencyCode = "EUR"
    exchange_rate: Decimal | None = Field(
        default=None, gt=0, description="Units of the ruleset currency for one unit of `currency`."
    )
    customer: Customer = Customer()
    billing: Address | None = None
    shipping: Address | None = None
    payment_method: PaymentMethod | None = None
    source: Source | None = None
    lines: tuple[Line, ...] = Field(min_length=1)
    totals: Totals


class Sale(_Commercial):
    """An invoiced (or at least confirmed) order."""

    kind: Literal["sale"] = "sale"
    invoice_date: dt.date | None = None


class Refund(_Commercial):
    """A credit note: what was actually refunded (some items, shipping only, an amount only)."""

    kind: Literal["refund"] = "refund"
    refund_date: dt.date | None = None
    sale_key: str | None = Field(default=None, description="Key of the sale this refund reverses.")
    sale_number: str | None = Field(
        default=None, description="Invoice number of the refunded sale."
    )
    reason: str | None = None


class Payment(_Model):
    """Money received from (or returned to) a customer, posted to a bank journal."""

    kind: Literal["payment"] = "payment"
    key: str = Field(min_length=1)
    id: str | None = None
    payment_date: dt.date
    method: PaymentMethod
    direction: Literal["in", "out"] = Field(
        default="in", description="`out` for a refund paid back."
    )
    amount: Money = Field(gt=0)
    fees: Money | None = Field(
        default=None, ge=0, description="Provider fees withheld, when reported."
    )
    transaction_id: str | None = None
    currency: CurrencyCode = "EUR"
    exchange_rate: Decimal | None = Field(default=None, gt=0)
    order_id: str | None = None
    order_reference: str | None = None
    settles: tuple[str, ...] = Field(
        default=(), description="Keys of the documents this payment settles."
    )
    customer: Customer = Customer()
    billing: Address | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _fees_below_amount(self) -> Payment:
        if self.fees is not None and self.fees > self.amount:
            raise ValueError(f"fees {self.fees} exceed the payment amount {self.amount}")
        return self


Document = Annotated[Sale | Refund | Payment, Field(discriminator="kind")]
"""Any normalised document, told apart by its ``kind``."""

DOCUMENT_ADAPTER: TypeAdapter[Sale | Refund | Payment] = TypeAdapter(Document)
"""Validates any document (``validate_python``) and gives the JSON Schema of the contract."""
