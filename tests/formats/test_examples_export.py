"""The example documents (all of ``examples/``) exported in every format: golden snapshots and
independent checks on that export (issue 3 §4).

The entries come from the engine (``rulesets/fr-ecommerce.rules`` on ``examples/all.jsonl``),
not from hand-made fixtures, so these files show what a merchant's accountant would receive.
Every registered format is exported with the options an accountant would set for this shop
(:data:`ACCOUNTANT_OPTIONS`; a format not listed there is exported with its defaults), so a new
format needs a snapshot here before the suite passes.  The checks beside the snapshots do not
trust the writers: the FEC goes through the tests' own validator, the hledger and beancount
files through ``hledger``/``ledger``/``bean-check`` and beancount's loader, and every text
layout, the FEC, IIF, QuickBooks bodies and JSON Lines are read back and compared with the
entries line by line.  A few figures of ``examples/README.md`` are asserted on the FEC.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fec_validator import validate_fec
from plain_entries import account_sums

from postingrules import formats, load_ruleset
from postingrules.formats import TextExport
from postingrules.formats.beancount import Beancount
from postingrules.formats.fec import fec_file_name
from postingrules.model.entries import Entry, Refusal, Skipped, decode_entry
from postingrules.model.reader import read_documents

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "snapshots" / "formats" / "examples"
SIREN = "123456782"  # Luhn-valid demo SIREN, as in the FEC tests
CLOSING = dt.date(2026, 12, 31)
ZERO = Decimal(0)

HLEDGER = shutil.which("hledger")
LEDGER = shutil.which("ledger")
BEAN_CHECK = shutil.which("bean-check")

# The chart of accounts of the demo shop (PCG, 8 digits as the ruleset's `account length 8`):
# what the accountant's software calls each account the examples use.  Given to the FEC as
# `account_labels`: CompteLib is the account's name in the merchant's chart, which is finer
# than the names of the PCG accounts the writer falls back to (44572000 "TVA collectée 20 %",
# not 4457's "Taxes sur le chiffre d'affaires collectées par l'entreprise").
ACCOUNT_LABELS = {
    "41100000": "Clients",
    "44570500": "TVA collectée 5,5 %",
    "44571000": "TVA collectée 10 %",
    "44572000": "TVA collectée 20 %",
    "44573000": "TVA collectée OSS",
    "51200000": "Banque",
    "51210000": "PayPal",
    "62780000": "Commissions et frais bancaires",
    "70700000": "Ventes de marchandises exonérées",
    "70705500": "Ventes de marchandises TVA 5,5 %",
    "70710000": "Ventes de marchandises TVA 10 %",
    "70720000": "Ventes de marchandises TVA 20 %",
    "70730000": "Ventes de marchandises OSS",
    "70850000": "Port facturé sans TVA",
    "70852000": "Port facturé avec TVA",
    "70880000": "Emballages cadeaux",
    "70900000": "Rabais, remises et ristournes accordés",
    "75800000": "Produits divers de gestion courante",
}

# Layouts without a foreign-amount column: the books are kept in EUR and the accountant's
# ledger imports book amounts; the USD/GBP amounts stay in the FEC, the `text` layout and the
# journals.  So an accountant sets foreign_currency = "ignore" rather than refuse the USD and
# GBP documents.  Ciel's and Quadratus' journal codes are 2 characters: VTE/BQ1 become VT/BQ,
# the codes these ledgers' default charts use.
BOOK_AMOUNTS_ONLY: dict[str, Any] = {"foreign_currency": "ignore"}
TWO_LETTER_JOURNALS: dict[str, Any] = {"journal_map": {"VTE": "VT", "BQ1": "BQ"}}

ACCOUNTANT_OPTIONS: dict[str, dict[str, Any]] = {
    # Fiscal year = calendar year 2026: the writer refuses an entry outside it.
    "fec": {
        "account_labels": ACCOUNT_LABELS,
        "fiscal_year_start": dt.date(2026, 1, 1),
        "fiscal_year_end": CLOSING,
    },
    "ebp": BOOK_AMOUNTS_ONLY,
    "sage-coala": BOOK_AMOUNTS_ONLY,
    "cegid": BOOK_AMOUNTS_ONLY,
    "ciel-ximport": {**BOOK_AMOUNTS_ONLY, **TWO_LETTER_JOURNALS, "account_labels": ACCOUNT_LABELS},
    "quadratus": {**BOOK_AMOUNTS_ONLY, **TWO_LETTER_JOURNALS},
    # A French company: the FR edition (global tax model, JournalCodeRef) is the one to set.
    "qbo": {"edition": "FR"},
    # IIF: QuickBooks Desktop matches ACCNT by name; without a company's own chart to map to,
    # the PCG numbers are the names (a chart imported with its numbers as names).
    # hledger, beancount, customers, text, json: the defaults carry every example entry.
}


def _cases() -> Iterator[Any]:
    """(snapshot name, format name, options) for every registered format, plus variants."""
    for name in formats.names():
        yield pytest.param(name, name, ACCOUNTANT_OPTIONS.get(name, {}), id=name)
    # The US edition writes every line as it is (VAT posted to its account explicitly).
    yield pytest.param("qbo-US", "qbo", {"edition": "US"}, id="qbo-US")


CASES = list(_cases())
WORKING = [(p.values[0], p.values[1], p.values[2]) for p in CASES if not p.marks]


def compute_entries() -> tuple[Entry, ...]:
    ruleset = load_ruleset(ROOT / "rulesets" / "fr-ecommerce.rules")
    results = [ruleset.post(doc) for doc in read_documents(ROOT / "examples" / "all.jsonl")]
    refused = [r.document_key for r in results if isinstance(r, Refusal)]
    skipped = [r.document_key for r in results if isinstance(r, Skipped)]
    assert refused == ["prestashop:demo:sale:1060"]  # gap-beyond-tolerance: 0.12 > 0.05
    assert skipped == ["prestashop:demo:sale:1061"]  # pending-order: not selected
    entries = tuple(r for r in results if isinstance(r, Entry))
    assert len(entries) == 28
    return entries


@pytest.fixture(scope="module")
def examples() -> tuple[Entry, ...]:
    return compute_entries()


def export(name: str, entries: tuple[Entry, ...], **options: Any) -> bytes:
    out = io.BytesIO()
    count = formats.get(name)(**options).write(entries, out)
    if name == "customers":
        assert count == len({ln.aux for e in entries for ln in e.lines if ln.aux})
    else:
        assert count == len(entries)
    return out.getvalue()


def export_case(case: str, entries: tuple[Entry, ...]) -> bytes:
    _, name, options = next(c for c in WORKING if c[0] == case)
    return export(name, entries, **options)


# --- golden snapshots ---------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "name", "options"), CASES)
def test_examples_snapshot(
    case: str, name: str, options: dict[str, Any], examples: tuple[Entry, ...], snapshot: Any
) -> None:
    data = export(name, examples, **options)
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(data, f"{case}{formats.get(name).extension}")


def test_every_account_has_a_label_for_the_fec(examples: tuple[Entry, ...]) -> None:
    used = {ln.account for e in examples for ln in e.lines}
    assert used == set(ACCOUNT_LABELS)


def test_exporting_twice_gives_identical_bytes(examples: tuple[Entry, ...]) -> None:
    again = compute_entries()  # the engine run again, from the files
    assert again == examples
    for case, name, options in WORKING:
        assert export(name, again, **options) == export(name, examples, **options), case


# --- FEC ----------------------------------------------------------------------------------------

FEC_NAME = fec_file_name(SIREN, CLOSING)


def fec_rows(data: bytes) -> list[dict[str, str]]:
    lines = data.decode("utf-8").split("\r\n")
    assert lines[-1] == ""
    head, *body = (line.split("\t") for line in lines[:-1])
    return [dict(zip(head, row, strict=True)) for row in body]


def fec_amount(value: str) -> Decimal:
    return Decimal(value.replace(",", "."))


def test_fec_passes_the_validator(examples: tuple[Entry, ...]) -> None:
    data = export_case("fec", examples)
    assert FEC_NAME == "123456782FEC20261231.txt"
    assert validate_fec(data, FEC_NAME) == []


def test_fec_without_a_chart_names_accounts_by_the_pcg(examples: tuple[Entry, ...]) -> None:
    """Without account_labels, CompteLib is the name of the PCG account each account
    subdivides, one per account across the file (the validator's account-name rule), never
    the entries' labels."""
    options = {**ACCOUNTANT_OPTIONS["fec"], "account_labels": {}}
    data = export("fec", examples, **options)
    assert validate_fec(data, FEC_NAME) == []
    names = {r["CompteNum"]: r["CompteLib"] for r in fec_rows(data)}
    assert names["41100000"] == "Clients"
    assert names["44572000"] == "Taxes sur le chiffre d'affaires collectées par l'entreprise"
    assert names["51210000"] == "Banques"
    assert names["70852000"] == "Ports et frais accessoires facturés"


def test_fec_reads_back_to_the_entries(examples: tuple[Entry, ...]) -> None:
    rows = fec_rows(export_case("fec", examples))
    got = Counter(
        (dt.datetime.strptime(r["EcritureDate"], "%Y%m%d").date(), r["PieceRef"],
         r["CompteNum"], r["CompAuxNum"] or None, fec_amount(r["Debit"]),
         fec_amount(r["Credit"]),
         fec_amount(r["Montantdevise"]) if r["Montantdevise"] else None, r["Idevise"] or None)
        for r in rows
    )  # fmt: skip
    expected = Counter(
        (e.date, e.piece, ln.account, ln.aux, ln.debit, ln.credit, ln.currency_amount,
         ln.currency)
        for e in examples for ln in e.lines
    )  # fmt: skip
    assert got == expected
    assert {(r["CompteNum"], r["CompteLib"]) for r in rows} == set(ACCOUNT_LABELS.items())


def test_fec_figures_of_the_examples_readme(examples: tuple[Entry, ...]) -> None:
    """Figures computed by hand in examples/README.md, found in the FEC as written."""
    rows = fec_rows(export_case("fec", examples))

    def lines_of(piece: str) -> list[tuple[str, str, str, str, str, str]]:
        return [
            (r["CompteNum"], r["CompAuxNum"], r["Debit"], r["Credit"], r["Montantdevise"],
             r["Idevise"])
            for r in rows if r["PieceRef"] == piece
        ]  # fmt: skip

    # fr-vat-20: 62.25 excl. + 12.45 VAT = 74.70.
    assert lines_of("FA000123") == [
        ("41100000", "CLIENTWEB", "74,70", "0,00", "", ""),
        ("70720000", "", "0,00", "62,25", "", ""),
        ("44572000", "", "0,00", "12,45", "", ""),
    ]
    # currency-usd-export: USD 78.00 at 0.92 = EUR 71.76 (teapot 45.08 + shipping 26.68).
    assert lines_of("FA000138") == [
        ("41100000", "CLIENTWEB", "71,76", "0,00", "78,00", "USD"),
        ("70700000", "", "0,00", "45,08", "-49,00", "USD"),
        ("70850000", "", "0,00", "26,68", "-29,00", "USD"),
    ]
    # rounding-gap-one-cent: shop total 29.41, lines 24.51 + 4.89 = 29.40, gap 0.01 to 758.
    assert lines_of("FA000140") == [
        ("41100000", "CLIENTWEB", "29,41", "0,00", "", ""),
        ("70720000", "", "0,00", "24,51", "", ""),
        ("44572000", "", "0,00", "4,89", "", ""),
        ("75800000", "", "0,00", "0,01", "", ""),
    ]
    # partial-one-item: refund AV000012 of the teapot, 30.00 + 6.00 VAT = 36.00.
    assert lines_of("AV000012") == [
        ("41100000", "CLIENTWEB", "0,00", "36,00", "", ""),
        ("70720000", "", "30,00", "0,00", "", ""),
        ("44572000", "", "6,00", "0,00", "", ""),
    ]
    # paypal-usd: USD 78.00 = 74.79 net + 3.21 fees, at 0.92: 68.81 + 2.95 = 71.76 EUR.
    assert lines_of("505") == [
        ("51210000", "", "68,81", "0,00", "74,79", "USD"),
        ("62780000", "", "2,95", "0,00", "3,21", "USD"),
        ("41100000", "CLIENTWEB", "0,00", "71,76", "-78,00", "USD"),
    ]
    # Chronological, numbered per journal: 23 sales and credit notes, 5 payments.
    numbers = {j: sorted({r["EcritureNum"] for r in rows if r["JournalCode"] == j})
               for j in ("VTE", "BQ1")}  # fmt: skip
    assert numbers == {"VTE": [f"VTE-{n:06d}" for n in range(1, 24)],
                       "BQ1": [f"BQ1-{n:06d}" for n in range(1, 6)]}  # fmt: skip
    dates = [r["EcritureDate"] for r in rows]
    assert dates == sorted(dates)
    assert (dates[0], dates[-1]) == ("20260112", "20260213")


# --- hledger / ledger ---------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def journal(examples: tuple[Entry, ...], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("examples") / "examples.journal"
    path.write_bytes(export_case("hledger", examples))
    return path


@pytest.mark.skipif(HLEDGER is None, reason="hledger not installed: apt-get install hledger")
def test_hledger_check_passes(journal: Path) -> None:
    result = run("hledger", "-f", str(journal), "check", "-s")  # strict: declared names
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(HLEDGER is None, reason="hledger not installed: apt-get install hledger")
def test_hledger_balances_equal_the_entries(journal: Path, examples: tuple[Entry, ...]) -> None:
    result = run("hledger", "-f", str(journal), "bal", "-B", "--flat", "-E", "-O", "csv")
    assert result.returncode == 0, result.stderr
    balances: dict[str, Decimal] = {}
    for account, amount in list(csv.reader(io.StringIO(result.stdout)))[1:]:
        if account == "total":
            assert amount == "0"
            continue
        number, _, commodity = amount.partition(" ")
        assert commodity == "EUR", (account, amount)  # USD lines valued at cost (-B)
        balances[account] = Decimal(number)
    expected = account_sums(examples)
    assert balances == expected
    # By hand: fees 1.30 + 2.73 + 2.95; bank 561.00 + 73.40 - 36.00; PayPal 79.44 + 68.81.
    assert expected["62780000"] == Decimal("6.98")
    assert expected["51200000"] == Decimal("598.40")
    assert expected["51210000"] == Decimal("148.25")


@pytest.mark.skipif(LEDGER is None, reason="ledger not installed: apt-get install ledger")
def test_ledger_pedantic_reads_the_journal(journal: Path) -> None:
    result = run("ledger", "--pedantic", "-f", str(journal), "bal")
    assert result.returncode == 0, result.stderr


# --- beancount ----------------------------------------------------------------------------------


@pytest.mark.skipif(BEAN_CHECK is None, reason="bean-check not installed: pip install beancount")
def test_bean_check_passes(examples: tuple[Entry, ...], tmp_path: Path) -> None:
    path = tmp_path / "examples.beancount"
    path.write_bytes(export_case("beancount", examples))
    result = run("bean-check", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_beancount_balances_equal_the_entries(examples: tuple[Entry, ...]) -> None:
    pytest.importorskip("beancount", reason="beancount not installed: pip install beancount")
    from beancount import loader
    from beancount.core import convert, data

    directives, errors, _ = loader.load_string(export_case("beancount", examples).decode())
    assert not errors
    balances: Counter[str] = Counter()
    for txn in directives:
        if isinstance(txn, data.Transaction):
            for posting in txn.postings:
                weight = convert.get_weight(posting)
                assert weight.currency == "EUR"
                balances[posting.account] += weight.number
    fmt = Beancount()
    expected: Counter[str] = Counter()
    for entry in examples:
        for line in entry.lines:
            expected[fmt.account(entry, line)] += line.debit - line.credit
    assert dict(balances) == dict(expected)
    assert balances["Assets:Clients:C41100000:411MOTSPA"] == Decimal("160.04")


# --- reading the files back ---------------------------------------------------------------------

TEXT_LAYOUTS = [n for n in formats.names() if issubclass(formats.get(n), TextExport)
                and formats.get(n).layout.kind == "entries"]  # fmt: skip


def test_every_text_layout_is_read_back() -> None:
    # The filter above must find the predefined layouts (a new one is read back automatically).
    assert set(TEXT_LAYOUTS) >= {"text", "ebp", "sage-coala", "ciel-ximport", "cegid",
                                 "quadratus"}  # fmt: skip


def _debit_credit(row: dict[str, str], fmt: TextExport) -> tuple[Decimal, Decimal]:
    p = fmt.profile

    def dec(value: str) -> Decimal:
        return Decimal(value.replace(p.decimal_mark, ".")) if value else ZERO

    if "debit" in row:
        return dec(row["debit"]), dec(row["credit"])
    amount = Decimal(row["amount_cents"]) / 100 if "amount_cents" in row else dec(row["amount"])
    assert row["sense"] in (p.sense_debit, p.sense_credit)
    return (amount, ZERO) if row["sense"] == p.sense_debit else (ZERO, amount)


@pytest.mark.parametrize("name", TEXT_LAYOUTS)
def test_text_layout_reads_back_to_the_entries(name: str, examples: tuple[Entry, ...]) -> None:
    fmt = formats.get(name)(**ACCOUNTANT_OPTIONS.get(name, {}))
    assert isinstance(fmt, TextExport)
    p = fmt.profile
    rows = list(fmt.read_rows(export_case(name, examples)))
    journals = dict(p.journal_map)
    with_aux = p.has_field("aux")

    def key(date: dt.date, journal: str, account: str, aux: str | None,
            debit: Decimal, credit: Decimal) -> tuple[Any, ...]:  # fmt: skip
        return (date, journal, account, aux if with_aux else None, debit, credit)

    got = Counter(
        key(dt.datetime.strptime(r["date"], p.date_format).date(), r["journal"], r["account"],
            r.get("aux") or None, *_debit_credit(r, fmt))
        for r in rows
    )  # fmt: skip
    # The layout's own transformations: journal codes mapped (Ciel, Quadratus); accounts are
    # 8 digits already, so no padding applies and none is truncated.
    expected = Counter(
        key(e.date, journals.get(e.journal, e.journal), ln.account, ln.aux, ln.debit, ln.credit)
        for e in examples for ln in e.lines
    )  # fmt: skip
    assert got == expected


def test_customers_file_lists_each_auxiliary_once(examples: tuple[Entry, ...]) -> None:
    fmt = formats.get("customers")()
    assert isinstance(fmt, TextExport)
    rows = list(fmt.read_rows(export_case("customers", examples)))
    nobody = dict.fromkeys(("company", "street", "postcode", "city", "country", "email"), "")
    assert rows == [
        {"aux": "CLIENTWEB", "aux_name": "CLIENT WEB", "account": "41100000", **nobody,
         "vat_number": ""},
        {"aux": "411MOTSPA", "aux_name": "LIBRAIRIE LES MOTS PASSANTS", "account": "41100000",
         "company": "Librairie Les Mots Passants", "street": "4 rue des Halles",
         "postcode": "35000", "city": "Rennes", "country": "FR",
         "email": "commandes@motspassants.example.fr", "vat_number": "FR40303265045"},
    ]  # fmt: skip


def test_json_lines_read_back_exactly(examples: tuple[Entry, ...]) -> None:
    data = export_case("json", examples)
    back = tuple(decode_entry(line) for line in data.splitlines())
    assert back == examples


def test_iif_reads_back_to_the_entries(examples: tuple[Entry, ...]) -> None:
    from postingrules.formats.iif import read

    back = list(read(export_case("iif", examples)))
    got = Counter((t.date, t.docnum, li.account, li.amount) for t in back for li in t.lines)
    expected = Counter(
        (e.date, e.piece, ln.account, ln.debit - ln.credit) for e in examples for ln in e.lines
    )
    assert got == expected
    assert all(sum(li.amount for li in t.lines) == 0 for t in back)


def test_qbo_us_bodies_read_back_to_the_entries(examples: tuple[Entry, ...]) -> None:
    from postingrules.formats.qbo import read

    bodies = list(read(export_case("qbo-US", examples)))
    got = Counter(
        (dt.date.fromisoformat(b["TxnDate"]), b["DocNumber"],
         li["JournalEntryLineDetail"]["AccountRef"]["value"],
         li["Amount"] if li["JournalEntryLineDetail"]["PostingType"] == "Debit" else -li["Amount"])
        for b in bodies for li in b["Line"]
    )  # fmt: skip
    expected = Counter(
        (e.date, e.piece, ln.account, ln.debit - ln.credit) for e in examples for ln in e.lines
    )
    assert got == expected
