"""Payments: the bank and fees on one side, the customer on the other, in both directions,
in the ruleset's currency or converted; and no line for fees that round to nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from postingrules.model.entries import Entry
from postingrules.model.reader import parse_json
from postingrules.model.structs import struct_from_json
from postingrules.ruleset import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULES = load_ruleset(ROOT / "rulesets" / "fr-ecommerce.rules")


def payment(**changes: object) -> Entry:
    raw = parse_json((ROOT / "examples" / "payments" / "card-with-fees.json").read_bytes())
    raw.update(changes)
    result = RULES.post(struct_from_json(msgspec.json.encode(raw)))  # amounts as exact text
    assert isinstance(result, Entry), result
    assert sum(line.debit for line in result.lines) == sum(line.credit for line in result.lines)
    return result


def sides(entry: Entry) -> list[tuple[str, str, str, str | None]]:
    return [
        (
            line.account,
            str(line.debit),
            str(line.credit),
            line.currency_amount and str(line.currency_amount),
        )
        for line in entry.lines
    ]


@pytest.mark.parametrize("direction", ["in", "out"])
def test_bank_and_fees_face_the_customer(direction: str) -> None:
    lines = sides(payment(direction=direction))
    received = [("51200000", "73.40", "0.00", None), ("62780000", "1.30", "0.00", None),
                ("41100000", "0.00", "74.70", None)]  # fmt: skip
    if direction == "out":
        received = [(a, c, d, o) for a, d, c, o in received]
    assert lines == received


def test_foreign_amounts_are_signed_debit_positive() -> None:
    lines = sides(payment(currency="USD", exchange_rate=Decimal("0.92"), direction="out"))
    # 74.70 USD at 0.92 = 68.72; fees 1.30 * 0.92 = 1.20; the bank gets the rest back.
    assert lines == [
        ("51200000", "0.00", "67.52", "-73.40"),
        ("62780000", "0.00", "1.20", "-1.30"),
        ("41100000", "68.72", "0.00", "74.70"),
    ]


def test_fees_that_round_to_nothing_make_no_line() -> None:
    lines = sides(payment(fees=Decimal("0.004")))
    assert lines == [("51200000", "74.70", "0.00", None), ("41100000", "0.00", "74.70", None)]


def test_fees_equal_to_the_amount_leave_no_bank_line() -> None:
    lines = sides(payment(fees=Decimal("74.70")))
    assert lines == [("62780000", "74.70", "0.00", None), ("41100000", "0.00", "74.70", None)]
