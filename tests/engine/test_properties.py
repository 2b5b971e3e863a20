"""Property: any valid document yields a balanced entry matching its totals, or a refusal.

Hypothesis generates sales, refunds and payments with arbitrary countries, rates, line
kinds, currencies, statuses and shop totals (sometimes off by a gap), then posts them with
every shipped ruleset.  The engine must never raise, and the document's msgspec mirror (what
the reader produces) must post to exactly the same result.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postingrules import load_ruleset
from postingrules.engine.post import cents
from postingrules.model.documents import (
    Address,
    Customer,
    Line,
    Payment,
    PaymentMethod,
    Refund,
    Sale,
    Totals,
)
from postingrules.model.entries import Entry, Refusal, Skipped
from postingrules.model.structs import struct_from_json

ROOT = Path(__file__).resolve().parents[2]
RULESETS = [load_ruleset(p) for p in sorted((ROOT / "rulesets").glob("*.rules"))]

countries = st.sampled_from(["FR", "BE", "DE", "IT", "ES", "GB", "US", "RE", "CH", "MC", "PL"])
rates = st.sampled_from([Decimal(r) for r in ("0", "5.5", "10", "20", "21", "19", "22", "2.1")])
amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=2)
methods = st.sampled_from(["card", "paypal", "transfer", "cheque"])


@st.composite
def lines(draw: st.DrawFn) -> Line:
    rate = draw(rates)
    excl = draw(amounts)
    tax = cents(excl * rate / 100) + draw(st.sampled_from([Decimal(0), Decimal("0.01")]))
    return Line(
        kind=draw(st.sampled_from(["product", "shipping", "discount", "gift_wrap", "fee"])),
        label=draw(st.text(max_size=10)),
        total_excl=excl,
        tax_rate=rate,
        tax_amount=tax,
        tax_country=draw(st.none() | countries),
    )


@st.composite
def commercial(draw: st.DrawFn) -> Sale | Refund:
    body = draw(st.lists(lines(), min_size=1, max_size=6))
    excl = sum((ln.total_excl for ln in body), Decimal(0))
    tax = sum((ln.tax_amount for ln in body), Decimal(0))
    gap = draw(
        st.sampled_from([Decimal(0), Decimal(0), Decimal("0.01"), Decimal("-0.03"), Decimal("0.2")])
    )
    currency = draw(st.sampled_from(["EUR", "EUR", "USD"]))
    common = {
        "key": f"test:h:{draw(st.integers(1, 10**6))}",
        "number": draw(st.none() | st.just("FA1")),
        "order_id": "1",
        "order_reference": draw(st.none() | st.just("REF")),
        "order_date": draw(st.none() | st.dates()),
        "status": draw(st.sampled_from(["paid", "pending", "shipped", None])),
        "currency": currency,
        "exchange_rate": draw(st.none() | st.just(Decimal("0.92"))) if currency != "EUR" else None,
        "customer": Customer(
            name=draw(st.none() | st.text(max_size=8)),
            vat_number=draw(st.none() | st.sampled_from(["DE136695976", "ESB12345678"])),
            vat_validated=draw(st.none() | st.booleans()),
            accounting_code=draw(st.none() | st.sampled_from(["411X", "C00042"])),
        ),
        "billing": Address(country=draw(countries)),
        "shipping": draw(st.none() | st.builds(Address, country=countries)),
        "payment_method": draw(st.none() | st.builds(PaymentMethod, code=methods)),
        "lines": tuple(body),
        "totals": Totals(excl=excl, tax=tax, incl=excl + tax + gap),
    }
    if draw(st.booleans()):
        return Sale(**common, invoice_date=draw(st.none() | st.dates()))
    return Refund(**common, refund_date=draw(st.none() | st.dates()))


@st.composite
def payments(draw: st.DrawFn) -> Payment:
    amount = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999"), places=2))
    fees = draw(st.none() | st.decimals(min_value=Decimal(0), max_value=amount, places=2))
    currency = draw(st.sampled_from(["EUR", "USD"]))
    return Payment(
        key="test:p:1",
        payment_date=draw(st.dates()),
        method=PaymentMethod(code=draw(methods)),
        direction=draw(st.sampled_from(["in", "out"])),
        amount=amount,
        fees=fees,
        currency=currency,
        exchange_rate=Decimal("1.1") if currency != "EUR" else None,
    )


def _check(doc: Sale | Refund | Payment) -> None:
    # The reader hands the engine msgspec mirrors: they must post exactly like the models.
    mirrored = struct_from_json(doc.model_dump_json())
    for ruleset in RULESETS:
        result = ruleset.post(doc)
        assert ruleset.post(mirrored) == result
        if isinstance(result, Entry):
            assert result.total_debit == result.total_credit
            assert all(ln.debit >= 0 and ln.credit >= 0 for ln in result.lines)
            assert all(not (ln.debit and ln.credit) for ln in result.lines)
            rate = getattr(doc, "exchange_rate", None) or Decimal(1)
            if isinstance(doc, Payment):
                expected = cents(doc.amount * rate)
                customer = result.lines[-1]
            else:
                expected = cents(doc.totals.incl * rate)
                customer = result.lines[0]
            assert abs(customer.debit - customer.credit) == abs(expected)
        else:
            assert isinstance(result, Refusal | Skipped)
            assert result.reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commercial())
def test_sales_and_refunds_balance_or_are_refused(doc: Sale | Refund) -> None:
    _check(doc)


@settings(max_examples=200, deadline=None)
@given(payments())
def test_payments_balance_or_are_refused(doc: Payment) -> None:
    _check(doc)
