"""QuickBooks Online JournalEntry bodies: golden files per edition, worked examples, round trip."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from plain_entries import ENTRIES, ORDER5, SALE_FR

from postingrules.formats.base import FormatError, OptionError
from postingrules.formats.qbo import QuickBooksOnline, read
from postingrules.model.entries import Entry

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "formats" / "qbo"
REFERENCE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "reference"
    / "formats"
    / "quickbooks-online"
)
# The placeholders the worked examples use instead of a real company's Ids.
PLACEHOLDER_IDS: dict[str, Any] = {
    "accounts": {
        "411": "<A/R account Id>",
        "707": "<Sales income account Id>",
        "445": "<Sales tax / VAT liability account Id>",
    },
    "customers": {"CLIENTWEB": "<Customer Id of CLIENT WEB>"},
    "tax_codes": {"C20": "<TaxCode Id of the 20% sales code>"},
    "tax_rates": {"C20": "<TaxRate Id of the 20% sales rate>"},
    "journals": {"VTE": "<JournalCode Id of VTE - FR companies only>"},
}


def render(entries: tuple[Entry, ...] = ENTRIES, **options: object) -> bytes:
    buf = io.BytesIO()
    assert QuickBooksOnline(**options).write(entries, buf) == len(entries)
    return buf.getvalue()


@pytest.mark.parametrize("edition", ["FR", "GB", "US"])
def test_golden(snapshot, edition: str) -> None:  # type: ignore[no-untyped-def]
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(render(edition=edition).decode("utf-8"), f"all-entries-{edition}.jsonl")


@pytest.mark.parametrize(
    ("edition", "reference"),
    [
        ("FR", "worked-example-order5-journalentry-fr-gb-ca.json"),
        ("US", "worked-example-order5-journalentry-us.json"),
    ],
)
def test_worked_example_is_reproduced(edition: str, reference: str) -> None:
    expected = json.loads((REFERENCE / reference).read_text(), parse_float=Decimal)
    (body,) = read(render((ORDER5,), edition=edition, **PLACEHOLDER_IDS))
    assert body == expected


def test_amounts_are_exact_decimal_text() -> None:
    text = render((SALE_FR,)).decode("utf-8")
    assert '"Amount":26.90,' in text
    assert '"TaxAmount":3.48,' in text and '"TaxAmount":1.00,' in text  # 4.48 shared pro rata


def signed(line: dict[str, Any]) -> Decimal:
    detail = line["JournalEntryLineDetail"]
    return line["Amount"] if detail["PostingType"] == "Debit" else -line["Amount"]


def test_round_trip_us_recovers_every_line() -> None:
    for body, entry in zip(read(render(edition="US")), ENTRIES, strict=True):
        assert body["TxnDate"] == entry.date.isoformat()
        assert body["DocNumber"] == entry.piece
        assert [
            (li["JournalEntryLineDetail"]["AccountRef"]["value"], signed(li)) for li in body["Line"]
        ] == [(line.account, line.debit - line.credit) for line in entry.lines]


@pytest.mark.parametrize("edition", ["FR", "GB", "CA"])
def test_round_trip_global_model_recovers_lines_and_tax(edition: str) -> None:
    for body, entry in zip(read(render(edition=edition)), ENTRIES, strict=True):
        assert body["TxnDate"] == entry.date.isoformat()
        kept = [line for line in entry.lines if not line.account.startswith("445")]
        assert [
            (li["JournalEntryLineDetail"]["AccountRef"]["value"], signed(li)) for li in body["Line"]
        ] == [(line.account, line.debit - line.credit) for line in kept]
        vat = [line for line in entry.lines if line.account.startswith("445")]
        tax = body.get("TxnTaxDetail", {"TotalTax": Decimal(0), "TaxLine": []})
        assert tax["TotalTax"] == sum((abs(v.debit - v.credit) for v in vat), Decimal(0))
        for tax_line in tax["TaxLine"]:
            shares = [
                li["JournalEntryLineDetail"]["TaxAmount"]
                for li in body["Line"]
                if "TaxAmount" in li["JournalEntryLineDetail"]
                and li["JournalEntryLineDetail"]["TaxCodeRef"]["value"]
                == tax_line["TaxLineDetail"]["TaxRateRef"]["value"]
            ]
            assert sum(shares) == tax_line["Amount"]
        # QuickBooks adds the tax on the taxable lines' side: the entry then balances.
        taxable_side = [
            signed(li) for li in body["Line"] if "TaxAmount" in li["JournalEntryLineDetail"]
        ]
        tax_sign = -1 if taxable_side and taxable_side[0] < 0 else 1
        assert sum(signed(li) for li in body["Line"]) + tax_sign * tax["TotalTax"] == 0
        journal_refs = ["JournalCodeRef" in li["JournalEntryLineDetail"] for li in body["Line"]]
        assert all(journal_refs) if edition == "FR" else not any(journal_refs)


def test_entity_on_aux_lines_only() -> None:
    (body,) = read(render((SALE_FR,)))
    entities = [li["JournalEntryLineDetail"].get("Entity") for li in body["Line"]]
    assert entities == [{"Type": "Customer", "EntityRef": {"value": "CLIENTWEB"}}, None, None]


def test_long_doc_number_is_refused() -> None:
    with pytest.raises(FormatError) as info:
        render((msgspec.structs.replace(SALE_FR, piece="F" * 22),))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "piece")


def test_vat_line_without_taxable_line_is_refused() -> None:
    lines = tuple(msgspec.structs.replace(li, tax_code=None) for li in SALE_FR.lines[:3])
    orphan = msgspec.structs.replace(SALE_FR, lines=(*lines, SALE_FR.lines[3]))
    with pytest.raises(FormatError, match="no taxable line") as info:
        render((orphan,))
    assert info.value.field == "tax_code"
    render((orphan,), edition="US")  # the US model writes the VAT line as it is


def test_unknown_edition_is_refused() -> None:
    with pytest.raises(OptionError, match="edition must be one of"):
        QuickBooksOnline(edition="DE")


@pytest.mark.parametrize("edition", ["FR", "US"])
def test_unbalanced_entry_is_refused(edition: str) -> None:
    first = msgspec.structs.replace(SALE_FR.lines[0], debit=SALE_FR.lines[0].debit + 2)
    bad = msgspec.structs.replace(SALE_FR, lines=(first, *SALE_FR.lines[1:]))
    with pytest.raises(FormatError, match=r"not balanced: debit 28\.90 != credit 26\.90") as info:
        render((bad,), edition=edition)
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "lines")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # "445" was read as the prefixes 4, 4, 5: the A/R line was taken for tax, silently.
        ({"tax_accounts": "445"}, "'tax_accounts' must be a non-empty list"),
        ({"tax_accounts": 4457}, "'tax_accounts' must be a non-empty list"),  # --option ...=4457
        ({"tax_accounts": []}, "'tax_accounts' must be a non-empty list"),
        ({"tax_accounts": ["445", 4457]}, "'tax_accounts' must be a non-empty list"),
        ({"accounts": ["7"]}, "option 'accounts' must be a mapping"),
        ({"customers": "CLIENTWEB"}, "option 'customers' must be a mapping"),
        ({"tax_codes": {"C20": 12}}, "option 'tax_codes': 'C20': 12"),
        ({"journals": {"VTE": ""}}, "option 'journals'"),
        ({"tax_rates": {1: "x"}}, "option 'tax_rates'"),
        ({"edition": ["FR"]}, "edition must be one of"),
    ],
)
def test_ill_typed_options_are_option_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        QuickBooksOnline(**options)


def test_tax_accounts_option_takes_a_list() -> None:
    """A list from JSON (`--option tax_accounts=["4457"]`) works like the default tuple."""
    (body,) = read(render((SALE_FR,), tax_accounts=["4457"]))
    assert body["TxnTaxDetail"]["TotalTax"] == Decimal("4.48")


def _with_lines(*changes: dict[str, Any], extra: tuple[Any, ...] = ()) -> Entry:
    """SALE_FR (411 26.90 / 707 17.42 C20 / 708 5.00 C20 / 445 4.48) with line changes."""
    lines = [
        msgspec.structs.replace(li, **ch) for li, ch in zip(SALE_FR.lines, changes, strict=False)
    ]
    return msgspec.structs.replace(SALE_FR, lines=(*lines, *SALE_FR.lines[len(lines) :], *extra))


def test_taxable_lines_of_one_code_on_both_sides_share_the_tax_signed() -> None:
    """A discount debited at the sales' code: accepted, its share of the tax is negative."""
    discount = msgspec.structs.replace(
        SALE_FR.lines[1], account="709000", debit=Decimal("2.42"), credit=Decimal(0), label="Remise"
    )
    # 26.90 - 2.90 = 24.00 TTC; VAT 4.48 - 0.48 = 4.00 on 17.42 + 5.00 - 2.42 = 20.00.
    entry = _with_lines(
        {"debit": Decimal("24.00")},
        {},
        {},
        {"credit": Decimal("4.00")},
        extra=(discount,),
    )
    (body,) = read(render((entry,)))
    lines = [li["JournalEntryLineDetail"] for li in body["Line"]]
    assert [(d["PostingType"], d.get("TaxAmount")) for d in lines] == [
        ("Debit", None),
        ("Credit", Decimal("3.48")),
        ("Credit", Decimal("1.00")),
        ("Debit", Decimal("0.48")),
    ]
    (tax_line,) = body["TxnTaxDetail"]["TaxLine"]
    assert tax_line["Amount"] == Decimal("4.00")
    assert tax_line["TaxLineDetail"]["NetAmountTaxable"] == Decimal("20.00")


def test_a_taxable_line_may_leave_out_the_rate_its_code_gives() -> None:
    (body,) = read(render((_with_lines({}, {}, {"tax_rate": None}),)))
    assert body["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxPercent"] == 20


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (({}, {"tax_rate": None}, {"tax_rate": None}), "have no tax rate"),
        (({}, {}, {"tax_rate": Decimal("10")}), "have different rates: 10, 20"),
    ],
)
def test_tax_code_without_one_rate_is_refused(
    changes: tuple[dict[str, Any], ...], message: str
) -> None:
    with pytest.raises(FormatError, match=message) as info:
        render((_with_lines(*changes),))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "tax_rate")
