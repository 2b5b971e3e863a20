"""beancount export: golden file, bean-check, balances read by beancount itself, round trip."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from plain_entries import ENTRIES, SALE_FR, SALE_USD

from postingrules.formats.base import FormatError, OptionError
from postingrules.formats.beancount import Beancount, read
from postingrules.model.entries import Entry, EntryLine

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "formats" / "beancount"
BEAN_CHECK = shutil.which("bean-check")
needs_bean_check = pytest.mark.skipif(
    BEAN_CHECK is None, reason="bean-check not installed (`pip install beancount`)"
)


def render(entries: tuple[Entry, ...] = ENTRIES, **options: object) -> str:
    buf = io.BytesIO()
    assert Beancount(**options).write(entries, buf) == len(entries)
    return buf.getvalue().decode("utf-8")


def test_golden(snapshot) -> None:  # type: ignore[no-untyped-def]
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(render(), "all-entries.beancount")


@needs_bean_check
def test_bean_check_passes(tmp_path: Path) -> None:
    path = tmp_path / "export.beancount"
    path.write_text(render(), encoding="utf-8")
    result = subprocess.run(
        ["bean-check", str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_bean_check
def test_bean_check_fails_on_a_cent_off(tmp_path: Path) -> None:
    path = tmp_path / "export.beancount"
    path.write_text(render().replace("-17.42 EUR", "-17.43 EUR", 1), encoding="utf-8")
    result = subprocess.run(
        ["bean-check", str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode != 0
    assert "does not balance" in result.stdout + result.stderr


def test_balances_read_by_beancount_equal_entry_sums() -> None:
    pytest.importorskip("beancount", reason="`pip install beancount`")
    from beancount import loader
    from beancount.core import convert, data

    directives, errors, _ = loader.load_string(render())
    assert not errors
    balances: dict[str, Decimal] = {}
    for txn in directives:
        if isinstance(txn, data.Transaction):
            for posting in txn.postings:
                weight = convert.get_weight(posting)
                assert weight.currency == "EUR"
                balances[posting.account] = (
                    balances.get(posting.account, Decimal(0)) + weight.number
                )
    fmt = Beancount()
    expected: dict[str, Decimal] = {}
    for entry in ENTRIES:
        for line in entry.lines:
            name = fmt.account(entry, line)
            expected[name] = expected.get(name, Decimal(0)) + line.debit - line.credit
    assert balances == expected
    assert balances["Assets:Clients:C411000:CLIENTWEB"] == Decimal("83.50")
    assert balances["Liabilities:TVA:C445720"] == Decimal("-13.11")


def test_round_trip_recovers_entries() -> None:
    pytest.importorskip("beancount", reason="`pip install beancount`")
    back = list(read(render()))
    assert back == list(ENTRIES)


def test_pcg_mapping() -> None:
    fmt = Beancount()

    def name(account: str, aux: str | None = None) -> str:
        line = EntryLine(account=account, aux=aux, debit=Decimal(1), credit=Decimal(0))
        return fmt.account(SALE_FR, line)

    assert name("411000", "client_1") == "Assets:Clients:C411000:CLIENT-1"
    assert name("445660") == "Assets:TVA:C445660"  # deductible VAT
    assert name("401000") == "Liabilities:Fournisseurs:C401000"
    assert name("164000") == "Liabilities:Emprunts:C164000"
    assert name("101300") == "Equity:Capitaux:C101300"
    assert name("658000") == "Expenses:Charges:C658000"


def test_unmapped_account_is_refused_and_roots_option_maps_it() -> None:
    line = EntryLine(account="Sales", debit=Decimal(0), credit=Decimal("26.90"))
    bad = msgspec.structs.replace(SALE_FR, lines=(SALE_FR.lines[0], line))
    with pytest.raises(FormatError) as info:
        render((bad,))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "account")
    text = render((bad,), roots={"411": "Assets:Clients", "S": "Income:Sales"})
    assert "Income:Sales:CSales  " in text


def test_bad_roots_option_is_refused() -> None:
    with pytest.raises(OptionError, match="not a beancount account prefix"):
        Beancount(roots={"7": "Revenue:Ventes"})


def test_colliding_aux_codes_are_refused() -> None:
    twin = msgspec.structs.replace(SALE_FR.lines[0], aux="clientweb", debit=Decimal(0))
    bad = msgspec.structs.replace(SALE_FR, lines=(*SALE_FR.lines, twin))
    with pytest.raises(FormatError, match="both become"):
        render((bad,))


def test_foreign_line_is_written_at_price() -> None:
    assert "110.00 USD @@ 101.45 EUR" in render((SALE_USD,))


def test_unbalanced_entry_is_refused() -> None:
    first = msgspec.structs.replace(SALE_FR.lines[0], debit=SALE_FR.lines[0].debit + 2)
    bad = msgspec.structs.replace(SALE_FR, lines=(first, *SALE_FR.lines[1:]))
    with pytest.raises(FormatError, match=r"not balanced: debit 28\.90 != credit 26\.90") as info:
        render((bad,))
    assert (info.value.document_key, info.value.field) == ("prestashop/order/5", "lines")


@pytest.mark.parametrize(
    ("roots", "message"),
    [
        (["7"], "option 'roots' must be a mapping"),
        ("Income:Ventes", "option 'roots' must be a mapping"),
        ({7: "Income:Ventes"}, "non-empty text key"),
        ({"7": None}, "non-empty text key"),
        ({"": "Income:Ventes"}, "non-empty text key"),
    ],
)
def test_ill_typed_roots_option_is_an_option_error(roots: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        Beancount(roots=roots)
