"""Parenthesised conditions are checked and compiled like any other.

They used to leave a raw parse tree in the AST: the fields inside went unchecked and the
compiler stopped on an assertion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postingrules.dsl.diagnostics import RulesError
from postingrules.model.entries import Entry
from postingrules.model.reader import read_documents
from postingrules.ruleset import compile_source

ROOT = Path(__file__).resolve().parents[2]

RULES = """
ruleset "parentheses" version "1"
currency EUR
account length 6
tolerance 0.05
journal VTE "Ventes"
customer account "411000"
vat by (tax.rate) {{
    *  -> sales "707000", tax "445700"
}}
rule "pro" when ({condition}) and document.kind == "sale" {{
    customer account "411100"
}}
sale {{
    journal VTE
    date invoice.date else order.date
}}
"""


def _customer_account(condition: str, example: str) -> str:
    ruleset = compile_source(RULES.format(condition=condition))
    (doc,) = read_documents(ROOT / "examples" / "sales" / example)
    entry = ruleset.post(doc)
    assert isinstance(entry, Entry), entry
    return entry.lines[0].account


@pytest.mark.parametrize(
    ("example", "account"),
    [("b2b-de-valid-vat.json", "411100"), ("fr-vat-20.json", "411000")],
)
def test_a_parenthesised_or_inside_an_and(example: str, account: str) -> None:
    condition = 'customer.group == "B2B" or customer.vat_number'
    assert _customer_account(condition, example) == account


def test_fields_inside_parentheses_are_checked() -> None:
    with pytest.raises(RulesError) as err:
        compile_source(RULES.format(condition='customer.grup == "B2B" or customer.vat_number'))
    message = str(err.value.diagnostics[0])
    assert "customer.grup" in message and "customer.group" in message
