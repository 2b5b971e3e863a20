"""`postingrules export` to files: one file, --out-dir names, --split parts, safety."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from postingrules.cli import main

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
    assert "(sales: 20)" in out and "(refunds: 3)" in out and "(payments: 5)" in out
    assert "(customers: 2)" in out
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
