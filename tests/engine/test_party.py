"""An entry names the customer behind a personal auxiliary account, and only then.

The customers file creates each auxiliary account from the entry's party; a shared account
(CLIENTWEB) stands for no one, so it must carry no party at all.
"""

from __future__ import annotations

from pathlib import Path

from postingrules.model.entries import Entry, Party
from postingrules.model.reader import read_documents
from postingrules.ruleset import compile_source

ROOT = Path(__file__).resolve().parents[2]

RULES = """
ruleset "party" version "1"
currency EUR
account length 6
tolerance 0.05
journal VTE "Ventes"
journal BQ "Banque"
customer account "411000" aux {aux} name "{{customer.name|default(\\"?\\")}}"
vat by (tax.rate) {{
    20 -> sales "707200", tax "445720"
    *  -> sales "707000"
}}
payment by payment.method {{
    * -> bank "512000", fees "627800"
}}
sale {{
    journal VTE
    date invoice.date else order.date
}}
payment {{
    journal BQ
    date payment.date
}}
"""


def _post(aux: str, example: str) -> Entry:
    ruleset = compile_source(RULES.format(aux=aux))
    (doc,) = read_documents(ROOT / "examples" / example)
    entry = ruleset.post(doc)
    assert isinstance(entry, Entry), entry
    return entry


def test_a_personal_aux_account_carries_the_customer_and_billing_address() -> None:
    entry = _post('"C{customer.id:06}"', "sales/b2b-de-valid-vat.json")
    assert entry.lines[0].aux == "C002327"
    assert entry.party == Party(
        name="Katrin Vogel",
        company="Teehaus Nord GmbH",
        email="einkauf@teehaus-nord.example.de",
        vat_number="DE136695976",
        street="Mönckebergstraße 7",
        postcode="20095",
        city="Hamburg",
        country="DE",
    )


def test_a_shared_aux_account_carries_no_party() -> None:
    assert _post('"CLIENTWEB"', "sales/b2b-de-valid-vat.json").party is None


def test_payments_carry_the_party_too() -> None:
    entry = _post('"P{payment.method}"', "payments/card-with-fees.json")
    assert entry.party is not None
    assert entry.lines[-1].aux == "Pcard"
