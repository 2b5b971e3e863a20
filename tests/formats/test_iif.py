"""IIF export: golden file, the research notes' worked example, round trip, safety rules."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from plain_entries import ENTRIES, ORDER5, SALE_FR, SALE_TEXT

from postingrules.formats.base import FormatError, OptionError
from postingrules.formats.iif import Iif, read
from postingrules.model.entries import Entry

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "formats" / "iif"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "formats"
QB_NAMES = {"411": "Accounts Receivable", "707": "Sales", "445": "VAT Payable"}


# QuickBooks matches NAME exactly against its customer list, so a name starting with a formula
# character is refused (test below), not altered: the golden file uses SALE_TEXT's customer
# name without its leading "@".
TEXT_NAME = SALE_TEXT.lines[0].aux_name
SALE_TEXT_IIF = msgspec.structs.replace(
    SALE_TEXT,
    lines=(
        msgspec.structs.replace(SALE_TEXT.lines[0], aux_name=TEXT_NAME.lstrip("@")),
        *SALE_TEXT.lines[1:],
    ),
)
IIF_ENTRIES = tuple(SALE_TEXT_IIF if entry is SALE_TEXT else entry for entry in ENTRIES)


def render(entries: tuple[Entry, ...] = IIF_ENTRIES, **options: object) -> bytes:
    buf = io.BytesIO()
    assert Iif(**options).write(entries, buf) == len(entries)
    return buf.getvalue()


def test_golden(snapshot) -> None:  # type: ignore[no-untyped-def]
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(render(), "all-entries.iif")


def test_worked_example_is_reproduced_byte_for_byte() -> None:
    expected = (REFERENCE / "iif" / "worked-example-order5.iif").read_bytes()
    assert render((ORDER5,), accounts=QB_NAMES) == expected


def test_round_trip_recovers_accounts_amounts_dates() -> None:
    back = list(read(render()))
    assert len(back) == len(IIF_ENTRIES)
    for txn, entry in zip(back, IIF_ENTRIES, strict=True):
        assert txn.trnstype == "GENERAL JOURNAL"
        assert (txn.date, txn.docnum) == (entry.date, entry.piece)
        assert [(li.account, li.amount) for li in txn.lines] == [
            (line.account, line.debit - line.credit) for line in entry.lines
        ]
        assert sum(li.amount for li in txn.lines) == 0
        assert [li.name for li in txn.lines if li.name] == [
            line.aux_name or line.aux for line in entry.lines if line.aux
        ]


def test_formula_starts_are_neutralised_and_encoding_is_cp1252() -> None:
    text = render((SALE_TEXT_IIF,)).decode("cp1252")
    rows = [row.split("\t") for row in text.split("\r\n")]
    assert rows[3][5] == 'Éloïse "Zoé" O\'Brien, Café'  # NAME, as it is in QuickBooks
    assert rows[4][8] == '\'=HYPERLINK("http://x")'  # MEMO
    assert rows[5][8] == "'-TVA 20 %"
    assert rows[5][6] == "-4.80"  # amounts are numbers, never neutralised


def test_untranslatable_character_is_refused_and_others_transliterated() -> None:
    ok = msgspec.structs.replace(SALE_FR, label="Cde Łódź ą")
    assert "Cde Lódz a" in render((ok,)).decode("cp1252")  # ó is in cp1252, Ł and ą are not
    bad = msgspec.structs.replace(SALE_FR, label="Cde 漢字")
    with pytest.raises(FormatError) as info:
        render((bad,))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "label")


def test_quickbooks_limits_are_located_errors() -> None:
    long_piece = msgspec.structs.replace(SALE_FR, piece="FA0000000005")
    with pytest.raises(FormatError, match="11 characters") as info:
        render((long_piece,))
    assert info.value.field == "piece"
    long_name = msgspec.structs.replace(
        SALE_FR,
        lines=(msgspec.structs.replace(SALE_FR.lines[0], aux_name="N" * 42), *SALE_FR.lines[1:]),
    )
    with pytest.raises(FormatError, match="41 characters"):
        render((long_name,))


def test_formula_like_account_name_is_refused() -> None:
    with pytest.raises(OptionError, match=r"'accounts': '707'.*'=Sales'"):
        Iif(accounts={"707": "=Sales"})  # a mapped name: refused when the format is built
    odd = msgspec.structs.replace(
        SALE_FR,
        lines=(
            *SALE_FR.lines[:1],
            msgspec.structs.replace(SALE_FR.lines[1], account="=707"),
            *SALE_FR.lines[2:],
        ),
    )
    with pytest.raises(FormatError) as info:
        render((odd,))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "account")


@pytest.mark.parametrize(
    ("aux_name", "aux", "field"),
    [
        (TEXT_NAME, "ZOE", "aux_name"),  # '@Éloïse…': an apostrophe would make another name
        ("Zoé\tB", "ZOE", "aux_name"),  # a TAB made a space: another name too
        (None, "=ZOE", "aux"),  # no name: NAME is the auxiliary code
    ],
)
def test_customer_name_is_refused_not_altered(aux_name: str | None, aux: str, field: str) -> None:
    """QuickBooks matches NAME exactly, as ACCNT: the name is written as it is, or refused."""
    line = msgspec.structs.replace(SALE_TEXT.lines[0], aux_name=aux_name, aux=aux)
    entry = msgspec.structs.replace(SALE_TEXT, lines=(line, *SALE_TEXT.lines[1:]))
    with pytest.raises(FormatError, match="list name") as info:
        render((entry,))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/11", field)


def test_tabs_and_newlines_in_text_do_not_break_rows() -> None:
    messy = msgspec.structs.replace(SALE_FR, label="Cde\t5\r\nsuite")
    back = list(read(render((messy,))))
    assert back[0].lines[0].memo == "Cde 5  suite"
    assert sum(li.amount for li in back[0].lines) == Decimal(0)


def test_date_format_option() -> None:
    assert b"\t14/03/2025\t" in render((SALE_FR,), date_format="%d/%m/%Y")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"accounts": "foo"}, "option 'accounts' must be a mapping"),
        ({"accounts": {"411": 12}}, "option 'accounts': '411': 12"),
        ({"date_format": 12}, "option 'date_format' must be a strftime pattern"),
        ({"date_format": ""}, "option 'date_format' must be a strftime pattern"),
        ({"date_format": "%m\t%d"}, "option 'date_format' must be a strftime pattern"),
        ({"encoding": 1252}, "option 'encoding' must be text"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"encoding": "utf-16"}, "does not write ASCII as ASCII"),  # a BOM before every block
        ({"encoding": "utf-8-sig"}, "does not write ASCII as ASCII"),
        ({"on_unencodable": "drop"}, "on_unencodable must be"),
    ],
)
def test_ill_typed_options_are_option_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        Iif(**options)
