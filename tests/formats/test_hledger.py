"""hledger/ledger export: golden file, independent checks by hledger and ledger, round trip."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from plain_entries import ENTRIES, SALE_FR, SALE_USD, account_sums

from postingrules.formats.base import FormatError
from postingrules.formats.hledger import Hledger, read
from postingrules.model.entries import Entry, EntryLine

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "formats" / "hledger"
HLEDGER = shutil.which("hledger")
LEDGER = shutil.which("ledger")
needs_hledger = pytest.mark.skipif(
    HLEDGER is None, reason="hledger not installed (Debian package `hledger`)"
)
needs_ledger = pytest.mark.skipif(
    LEDGER is None, reason="ledger not installed (Debian package `ledger`)"
)


def render(entries: tuple[Entry, ...] = ENTRIES) -> str:
    buf = io.BytesIO()
    assert Hledger().write(entries, buf) == len(entries)
    return buf.getvalue().decode("utf-8")


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "export.journal"
    path.write_text(render(), encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)


def test_golden(snapshot) -> None:  # type: ignore[no-untyped-def]
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(render(), "all-entries.journal")


@needs_hledger
def test_hledger_strict_check_passes(journal: Path) -> None:
    result = run("hledger", "-f", str(journal), "check", "-s", "ordereddates")
    assert result.returncode == 0, result.stderr


@needs_hledger
def test_hledger_check_fails_on_a_cent_off(journal: Path) -> None:
    text = journal.read_text(encoding="utf-8")
    journal.write_text(text.replace("-17.42 EUR", "-17.43 EUR", 1), encoding="utf-8")
    result = run("hledger", "-f", str(journal), "check")
    assert result.returncode != 0
    assert "0.01" in result.stderr or "0.01" in result.stdout


@needs_hledger
def test_hledger_balances_equal_entry_sums(journal: Path) -> None:
    result = run("hledger", "-f", str(journal), "bal", "-B", "--flat", "-O", "csv")
    assert result.returncode == 0, result.stderr
    balances: dict[str, Decimal] = {}
    for row in result.stdout.splitlines()[1:]:
        account, amount = (cell.strip('"') for cell in row.split('","'))
        if account != "total":
            number, _, commodity = amount.partition(" ")
            assert commodity == "EUR", row
            balances[account] = Decimal(number)
    assert balances == account_sums(ENTRIES)


@needs_hledger
def test_hledger_reads_tags(journal: Path) -> None:
    result = run("hledger", "-f", str(journal), "reg", "tag:doc=prestashop/order/9", "-O", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("FA000009") == 2  # both postings of that one entry
    rule = run("hledger", "-f", str(journal), "reg", "tag:rule=vat FR;20", "-O", "csv")
    assert rule.stdout.count("\n") == 1 + 6  # header + the 6 postings made by that rule


@needs_ledger
def test_ledger_pedantic_passes(journal: Path) -> None:
    result = run("ledger", "--pedantic", "-f", str(journal), "bal")
    assert result.returncode == 0, result.stderr


def normalised(entry: Entry) -> Entry:
    """What the journal keeps: label ';' as ',', tag commas as ';', empty line labels."""
    lines = tuple(
        msgspec.structs.replace(
            line,
            label=line.label.replace(",", ";")
            if line.label and line.label != entry.label
            else entry.label.replace(";", ","),
            provenance=line.provenance.replace(",", ";"),
            aux_name=None if line.aux_name is None else line.aux_name.replace(",", ";"),
        )
        for line in entry.lines
    )
    return msgspec.structs.replace(entry, label=entry.label.replace(";", ","), lines=lines)


def test_round_trip_recovers_entries() -> None:
    back = list(read(io.StringIO(render())))
    assert [normalised(e) for e in back] == [normalised(e) for e in ENTRIES]


def test_foreign_line_is_written_at_cost() -> None:
    text = render((SALE_USD,))
    assert "110.00 USD @@ 101.45 EUR" in text
    assert "-110.00 USD @@ 101.45 EUR" in text


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (EntryLine(account="411;000", debit=Decimal("26.90"), credit=Decimal(0)), "account"),
        (EntryLine(account="411000", aux="A:B", debit=Decimal("26.90"), credit=Decimal(0)), "aux"),
        (
            EntryLine(
                account="411000",
                debit=Decimal("26.90"),
                credit=Decimal(0),
                currency_amount=Decimal("-30"),
                currency="USD",
            ),
            "currency_amount",
        ),
    ],
)
def test_unrepresentable_line_is_refused_with_location(line: EntryLine, field: str) -> None:
    bad = msgspec.structs.replace(SALE_FR, lines=(line, *SALE_FR.lines[1:]))
    with pytest.raises(FormatError) as info:
        render((bad,))
    assert info.value.document_key == "prestashop/order/5"
    assert info.value.field == field


def test_bad_metadata_key_is_refused() -> None:
    bad = msgspec.structs.replace(SALE_FR, metadata={"Order No": "5"})
    with pytest.raises(FormatError, match="metadata key 'Order No'"):
        render((bad,))


def test_unbalanced_entry_is_refused() -> None:
    """hledger would reject the whole file; the export names the entry instead."""
    first = msgspec.structs.replace(SALE_FR.lines[0], debit=SALE_FR.lines[0].debit + 2)
    bad = msgspec.structs.replace(SALE_FR, lines=(first, *SALE_FR.lines[1:]))
    with pytest.raises(FormatError, match=r"not balanced: debit 28\.90 != credit 26\.90") as info:
        render((bad,))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "lines")
