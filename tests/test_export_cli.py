"""`postingrules export` to files: one file, --out-dir names, --split parts, safety."""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from postingrules import formats
from postingrules.cli import main
from postingrules.export import customers_format
from postingrules.model.entries import Entry, EntryLine

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = str(ROOT / "rulesets" / "fr-ecommerce.rules")
ALL = str(ROOT / "examples" / "all.jsonl")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_split_writes_one_file_per_part_named_by_the_profile(tmp_path: Path) -> None:
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "text", "--out-dir", str(tmp_path),
        "--split", "sales,refunds,payments,customers", "--date", "2026-02-28",
    )  # fmt: skip
    assert code == 1  # the example beyond the tolerance is refused, the rest exported
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "avoirs_20260228.txt",
        "clients_20260228.txt",
        "reglements_20260228.txt",
        "ventes_20260228.txt",
    ]
    assert "(sales: 20 entries)" in out and "(refunds: 3 entries)" in out
    assert "(payments: 5 entries)" in out and "(customers: 2 accounts)" in out
    sales = (tmp_path / "ventes_20260228.txt").read_text(encoding="utf-8")
    assert "FA000123" in sales and "AV000012" not in sales
    customers = (tmp_path / "clients_20260228.txt").read_text(encoding="utf-8").splitlines()
    assert customers[1:] == [
        "CLIENTWEB;CLIENT WEB;41100000;;;;;;;",
        "411MOTSPA;LIBRAIRIE LES MOTS PASSANTS;41100000;Librairie Les Mots Passants;"
        "4 rue des Halles;35000;Rennes;FR;commandes@motspassants.example.fr;FR40303265045",
    ]
    mode = (tmp_path / "ventes_20260228.txt").stat().st_mode & 0o777
    assert mode == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_refusing_format_writes_nothing(tmp_path: Path) -> None:
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "ebp", "--out-dir", str(tmp_path),
        "--split", "sales,payments", "--date", "2026-02-28",
    )  # fmt: skip
    assert code == 1
    assert "export refused, nothing written: prestashop:demo:sale:1058" in out
    assert "foreign_currency = 'ignore'" in out
    assert list(tmp_path.iterdir()) == []
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "ebp", "--out-dir", str(tmp_path),
        "--split", "sales,payments", "--date", "2026-02-28", "--option", "foreign_currency=ignore",
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "payments_20260228.txt",
        "sales_20260228.txt",
    ]


def test_a_refusal_in_a_later_part_leaves_no_earlier_part(tmp_path: Path) -> None:
    """The refunds file is complete before the payments' foreign-currency line is refused:
    it is removed with the rest, as a scheduled import would otherwise take it alone."""
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "ebp", "--out-dir", str(tmp_path),
        "--split", "refunds,payments", "--date", "2026-02-28",
    )  # fmt: skip
    assert code == 1 and "export refused, nothing written: prestashop:demo:payment:505" in out
    assert list(tmp_path.iterdir()) == []
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "ebp", "--out-dir", str(tmp_path),
        "--split", "refunds,payments", "--date", "2026-02-28", "--option", "foreign_currency=ignore",
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "payments_20260228.txt",
        "refunds_20260228.txt",
    ]


def test_split_summary_counts_the_entries_in_no_file(tmp_path: Path) -> None:
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "hledger", "--out-dir", str(tmp_path),
        "--split", "refunds,refunds,customers", "--date", "2026-02-28",
    )  # fmt: skip
    assert code == 1  # the example beyond the tolerance
    assert "28 entries posted, 97 lines" in out and "; 25 entries in no part asked for;" in out
    assert "(refunds: 3 entries)" in out
    # The customers file is a `;`-separated text file: not named .journal beside the journal,
    # where `hledger -f 'out/*.journal'` would read it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "customers_20260228.txt",
        "refunds_20260228.journal",
    ]


def test_siren_in_a_name_template(tmp_path: Path) -> None:
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "text", "--out-dir", str(tmp_path),
        "--name", "{siren}_ecritures_{date:%Y}.txt", "--siren", "732829320", "--date", "2026-02-28",
    )  # fmt: skip
    assert "732829320_ecritures_2026.txt (28 entries)" in out
    assert code == 1 and [p.name for p in tmp_path.iterdir()] == ["732829320_ecritures_2026.txt"]


def test_options_that_would_be_ignored_are_usage_errors(tmp_path: Path) -> None:
    code, out = invoke("export", DEFAULT, ALL, "-o", str(tmp_path / "x"), "--name", "y.txt")
    assert code == 2 and "--name names the one file written in --out-dir" in out
    code, out = invoke(
        "export", DEFAULT, ALL, "--out-dir", str(tmp_path), "--split", "sales", "--name", "y.txt"
    )
    assert code == 2 and "--name names the one file written in --out-dir" in out
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "text", "-o", str(tmp_path / "x"),
        "--closing-date", "2026-12-31",
    )  # fmt: skip
    assert code == 2 and "--closing-date is the FEC's closing date" in out
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_never_replaced_unless_forced(tmp_path: Path) -> None:
    args = ["export", DEFAULT, ALL, "--format", "text", "--out-dir", str(tmp_path)]
    args += ["--split", "sales", "--date", "2026-02-28"]
    invoke(*args)
    before = (tmp_path / "ventes_20260228.txt").read_bytes()
    (tmp_path / "ventes_20260228.txt").write_bytes(b"accountant's edits")
    code, out = invoke(*args)
    assert code == 1 and "already exists (use --force to replace it)" in out
    assert (tmp_path / "ventes_20260228.txt").read_bytes() == b"accountant's edits"
    invoke(*args, "--force")
    assert (tmp_path / "ventes_20260228.txt").read_bytes() == before


def test_fec_named_from_siren_and_closing_date(tmp_path: Path) -> None:
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "--out-dir", str(tmp_path),
        "--siren", "732829320", "--closing-date", "2026-12-31",
    )  # fmt: skip
    assert code == 1
    (fec,) = tmp_path.iterdir()
    assert fec.name == "732829320FEC20261231.txt"
    assert fec.read_text(encoding="utf-8").startswith("JournalCode\tJournalLib\tEcritureNum")
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "--out-dir", str(tmp_path), "--split", "sales"
    )
    assert code == 2 and "no --split" in out
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "--out-dir", str(tmp_path),
        "--siren", "123", "--closing-date", "2026-12-31",
    )  # fmt: skip
    assert code == 2 and "SIREN '123' is not valid" in out


def test_usage_errors(tmp_path: Path) -> None:
    code, out = invoke("export", DEFAULT, ALL, "--format", "text")
    assert code == 2 and "give either -o FILE or --out-dir DIR" in out
    code, out = invoke("export", DEFAULT, ALL, "-o", str(tmp_path / "x"), "--split", "sales")
    assert code == 2 and "--split writes several files" in out
    code, out = invoke("export", DEFAULT, ALL, "--out-dir", str(tmp_path), "--split", "sale")
    assert code == 2 and "unknown part 'sale'; did you mean 'sales'?" in out
    code, out = invoke("export", DEFAULT, ALL, "-o", str(tmp_path / "x"), "--option", "oops")
    assert code == 2 and "is not KEY=VALUE" in out
    code, out = invoke(
        "export", DEFAULT, ALL, "--format", "text", "--out-dir", str(tmp_path), "--name", "../x.txt"
    )
    assert code == 2 and "not allowed in a name" in out
    assert list(tmp_path.iterdir()) == []


def test_fec_closing_date_bounds_its_entries(tmp_path: Path) -> None:
    """The closing date in a FEC's name is its fiscal_year_end: an entry after it is refused
    and nothing is written, in --out-dir or with -o."""
    out = tmp_path / "out"
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "--out-dir", str(out),
        "--siren", "732829320", "--closing-date", "2026-01-31",
    )  # fmt: skip
    assert code == 1 and "export refused, nothing written" in text
    assert "outside the fiscal year: after its end 2026-01-31" in text
    assert list(out.iterdir()) == []
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "-o", str(tmp_path / "fec.txt"),
        "--closing-date", "2026-01-31",
    )  # fmt: skip
    assert code == 1 and "outside the fiscal year" in text
    assert not (tmp_path / "fec.txt").exists()
    # The same date given both ways is one; two dates are a usage error.
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "-o", str(tmp_path / "fec.txt"),
        "--closing-date", "2026-12-31", "--option", "fiscal_year_end=2026-12-31",
    )  # fmt: skip
    assert code == 1 and "files written" in text  # 1: the example beyond the tolerance
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "-o", str(tmp_path / "other.txt"),
        "--closing-date", "2026-12-31", "--option", "fiscal_year_end=2026-06-30",
    )  # fmt: skip
    assert code == 2 and "--closing-date 2026-12-31 and fiscal_year_end 2026-06-30 differ" in text
    assert not (tmp_path / "other.txt").exists()


def test_fec_date_options_from_the_command_line(tmp_path: Path) -> None:
    target = tmp_path / "fec.txt"
    args = ["export", DEFAULT, ALL, "--format", "fec", "-o", str(target)]
    code, text = invoke(*args, "--option", "fiscal_year_end=2026-01-31")
    assert code == 1 and "outside the fiscal year: after its end 2026-01-31" in text
    assert not target.exists()
    code, text = invoke(*args, "--option", "validation_date=2026-03-01")
    assert code == 1 and "files written" in text
    rows = target.read_text(encoding="utf-8").splitlines()[1:]
    assert {row.split("\t")[15] for row in rows} == {"20260301"}
    code, text = invoke(*args, "--option", "fiscal_year_start=31/01/2026", "--force")
    assert code == 2 and "FEC option fiscal_year_start must be a date" in text
    code, text = invoke(
        *args, "--option", "fiscal_year_start=2026-02-01", "--option", "fiscal_year_end=2026-01-31"
    )
    assert code == 2 and "is after fiscal_year_end" in text


def _compte_libs(path: Path) -> dict[str, str]:
    rows = [r.split("\t") for r in path.read_text(encoding="utf-8").splitlines()[1:]]
    return {r[4]: r[5] for r in rows}


def test_accounts_file_names_the_fec_accounts(tmp_path: Path) -> None:
    chart = tmp_path / "plan.csv"
    chart.write_text("Compte;Intitulé\n411000;Clients web\n44572000;TVA collectée 20 %\n")
    target = tmp_path / "fec.txt"
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "fec", "-o", str(target), "--accounts", str(chart)
    )
    assert code == 1 and "files written" in text
    names = _compte_libs(target)
    assert names["41100000"] == "Clients web"  # 411000 names 41100000
    assert names["44572000"] == "TVA collectée 20 %"
    assert names["70720000"] == "Ventes de marchandises"  # the PCG's 707
    # Without a chart, every account is named by the PCG, one name per account.
    code, _ = invoke("export", DEFAULT, ALL, "--format", "fec", "-o", str(target), "--force")
    assert _compte_libs(target)["41100000"] == "Clients"


def test_accounts_file_names_a_text_layouts_accounts(tmp_path: Path) -> None:
    chart = tmp_path / "plan.csv"
    chart.write_text("707000;Ventes web\n")
    target = tmp_path / "XIMPORT.TXT"
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "ciel-ximport", "-o", str(target),
        "--accounts", str(chart), "--option", "foreign_currency=ignore",
        "--option", 'journal_map={"VTE": "VT", "BQ1": "BQ"}',
    )  # fmt: skip
    assert code == 1 and "files written" in text
    rows = [r for r in target.read_text(encoding="ascii").splitlines() if "70700000" in r]
    assert rows and all("Ventes web" in r for r in rows)


def test_accounts_file_errors(tmp_path: Path) -> None:
    chart = tmp_path / "plan.csv"
    chart.write_text("411000;Clients\n512000\n")
    args = ["export", DEFAULT, ALL, "-o", str(tmp_path / "x.txt"), "--accounts", str(chart)]
    code, text = invoke(*args, "--format", "fec")
    assert code == 2 and f"{chart}:2: expected an account and its name" in text
    chart.write_text("411000;Clients\n")
    code, text = invoke(*args, "--format", "json")
    assert code == 2 and "format 'json' has no account names" in text
    code, text = invoke(*args, "--format", "fec", "--option", 'account_labels={"411": "C"}')
    assert code == 2 and "not both" in text
    assert list(tmp_path.iterdir()) == [chart]


def test_out_dir_is_created_without_split_too(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "json", "--out-dir", str(out), "--date", "2026-02-28"
    )
    assert code == 1 and "files written" in text
    assert [p.name for p in out.iterdir()] == ["entries_20260228.jsonl"]


def test_split_customers_file_is_written_like_the_entries(tmp_path: Path) -> None:
    """An EBP export's customers file takes EBP's separator (and encoding, line ending…)."""
    code, text = invoke(
        "export", DEFAULT, ALL, "--format", "ebp", "--out-dir", str(tmp_path),
        "--split", "sales,customers", "--date", "2026-02-28",
        "--option", "foreign_currency=ignore",
    )  # fmt: skip
    assert code == 1 and "(customers: 2 accounts)" in text
    customers = (tmp_path / "customers_20260228.txt").read_bytes().decode("cp1252")
    assert customers.splitlines()[1] == "CLIENTWEB,CLIENT WEB,41100000,,,,,,,"


def test_customers_format_follows_a_text_layout() -> None:
    ebp = customers_format(formats.get("ebp")())
    assert (ebp.profile.encoding, ebp.profile.separator, ebp.profile.decimal_mark) == (
        "cp1252",
        ",",
        ".",
    )
    mine = formats.get("text")(
        separator="|", quoting="all", line_ending="\n", on_unencodable="refuse"
    )
    profile = customers_format(mine).profile
    assert (profile.separator, profile.quoting, profile.line_ending, profile.on_unencodable) == (
        "|",
        "all",
        "\n",
        "refuse",
    )
    # A fixed-width layout has no separator to give: the customers keep theirs.
    quadratus = customers_format(formats.get("quadratus")()).profile
    assert (quadratus.encoding, quadratus.separator) == ("ascii", ";")
    # Not a text layout: the default customers file.
    assert customers_format(formats.get("json")()).profile == formats.get("customers")().profile
    out = io.BytesIO()
    lines = (
        EntryLine("411000", Decimal(1), Decimal(0), aux="CLIENTWEB", aux_name="Hélène"),
        EntryLine("707000", Decimal(0), Decimal(1)),
    )
    entry = Entry("VTE", dt.date(2026, 1, 5), "FA1", "FA1", "Vente", "k", "sale", "EUR", lines)
    ebp.write([entry], out)
    assert out.getvalue().splitlines()[1] == "CLIENTWEB,Hélène,411000,,,,,,,".encode("cp1252")
