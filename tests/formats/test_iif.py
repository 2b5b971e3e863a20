"""IIF export: golden file, the research notes' worked example, round trip, safety rules."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from plain_entries import ENTRIES, ORDER5, SALE_FR, SALE_TEXT

from postingrules.formats.base import FormatError
from postingrules.formats.iif import Iif, read
from postingrules.model.entries import Entry

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "formats" / "iif"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "formats"
QB_NAMES = {"411": "Accounts Receivable", "707": "Sales", "445": "VAT Payable"}


def render(entries: tuple[Entry, ...] = ENTRIES, **options: object) -> bytes:
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
    assert len(back) == len(ENTRIES)
    for txn, entry in zip(back, ENTRIES, strict=True):
        assert txn.trnstype == "GENERAL JOURNAL"
        assert (txn.date, txn.docnum) == (entry.date, entry.piece)
        assert [(li.account, li.amount) for li in txn.lines] == [
            (line.account, line.debit - line.credit) for line in entry.lines
        ]
        assert sum(li.amount for li in txn.lines) == 0
        assert [li.name for li in txn.lines if li.name] == [
            neutral(line.aux_name or "") for line in entry.lines if line.aux
        ]


def neutral(text: str) -> str:
    return "'" + text if text[:1] in "=+-@" else text


def test_formula_starts_are_neutralised_and_encoding_is_cp1252() -> None:
    text = render((SALE_TEXT,)).decode("cp1252")
    rows = [row.split("\t") for row in text.split("\r\n")]
    assert rows[3][5] == "'@Éloïse \"Zoé\" O'Brien, Café"  # NAME
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
    with pytest.raises(FormatError) as info:
        render((SALE_FR,), accounts={"707": "=Sales"})
    assert info.value.field == "account"


def test_tabs_and_newlines_in_text_do_not_break_rows() -> None:
    messy = msgspec.structs.replace(SALE_FR, label="Cde\t5\r\nsuite")
    back = list(read(render((messy,))))
    assert back[0].lines[0].memo == "Cde 5  suite"
    assert sum(li.amount for li in back[0].lines) == Decimal(0)


def test_date_format_option() -> None:
    assert b"\t14/03/2025\t" in render((SALE_FR,), date_format="%d/%m/%Y")
