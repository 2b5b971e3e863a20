"""The command line, through click's CliRunner: outputs, JSON forms and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from postingrules.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = str(ROOT / "rulesets" / "fr-ecommerce.rules")
ALL = str(ROOT / "examples" / "all.jsonl")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_shipped_rulesets_ok() -> None:
    code, out, _ = invoke("validate", *map(str, sorted((ROOT / "rulesets").glob("*.rules"))))
    assert code == 0
    assert out.count(": ok, 0 warning(s)") == 4


def test_validate_reports_every_error_located_with_carets(tmp_path: Path) -> None:
    rules = tmp_path / "bad.rules"
    rules.write_text(
        'currency EUR\ntolerance 0.05\njournal VTE\ncustomer account "411000"\n'
        'vat by (tax.contry) { * -> sales "707" }\n'
        "sale { journal VTX date invoice.date }\n",
        encoding="utf-8",
    )
    code, out, err = invoke("validate", str(rules))
    assert code == 1
    assert f"{rules}:5:9: error[unknown-field]" in err
    assert '5 | vat by (tax.contry) { * -> sales "707" }' in err
    assert "  |         ^^^^^^^^^^" in err
    assert "hint: did you mean `tax.country`?" in err
    assert f"{rules}:6:16: error[unknown-journal]" in err
    assert "bad.rules: 2 error(s), 0 warning(s)" in out


def test_validate_json_and_strict(tmp_path: Path) -> None:
    rules = tmp_path / "warn.rules"
    rules.write_text(
        'currency EUR\ntolerance 0.05\njournal VTE\ncustomer account "411000"\n'
        'vat by (tax.rate) { 20 -> sales "707200", tax "445720" }\n'
        "sale { journal VTE date invoice.date }\n",
        encoding="utf-8",
    )
    code, out, _ = invoke("validate", "--json", str(rules))
    assert code == 0
    (report,) = json.loads(out)
    assert [d["code"] for d in report["diagnostics"]] == ["missing-wildcard"]
    assert report["diagnostics"][0]["severity"] == "warning"
    code, _, _ = invoke("validate", "--strict", str(rules))
    assert code == 1


def test_validate_usage_error_exit_2() -> None:
    code, _, _ = invoke("validate")
    assert code == 2


def test_preview_draft_journal_counts() -> None:
    code, out, err = invoke("preview", DEFAULT, ALL)
    assert code == 1  # one document refused beyond the tolerance
    assert "Group 1: prestashop:demo:sale:1052" in out
    assert "Documents available: 30  Documents to create: 28  Lines to create: 97" in out
    assert "left out: prestashop:demo:sale:1061: not selected by the documents filter" in out
    assert "refused: prestashop:demo:sale:1060: gap of 0.12 EUR" in err


def test_preview_select_explain_exit_0() -> None:
    code, out, _ = invoke("preview", DEFAULT, ALL, "--select", "*:sale:1042", "--explain")
    assert code == 0
    assert "table `vat` row 1 (fr-ecommerce.rules:36)" in out
    assert "Documents to create: 1  Lines to create: 3" in out


def test_preview_exclude_and_status() -> None:
    code, out, _ = invoke(
        "preview", DEFAULT, ALL, "--exclude", "*:sale:1060", "--status", "shipped", "--json"
    )
    assert code == 0
    payload = json.loads(out)
    keys = [e["document_key"] for e in payload["entries"]]
    # shipped sales and refunds, plus every payment (payments carry no status)
    assert "prestashop:demo:sale:1046" in keys and "prestashop:demo:sale:1042" not in keys
    assert all(
        ":sale:" not in k or k in {"prestashop:demo:sale:1046", "prestashop:demo:sale:1052"}
        for k in keys
    )
    assert payload["summary"]["refused"] == 0


def test_preview_invalid_document_set_aside(tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    good = (ROOT / "examples" / "all.jsonl").read_text(encoding="utf-8").splitlines()[0]
    docs.write_text(good + "\n{not json\n" + '{"kind": "sale", "key": "x"}\n', encoding="utf-8")
    code, out, err = invoke("preview", DEFAULT, str(docs))
    assert code == 1
    assert "Documents available: 3  Documents to create: 1" in out
    assert f"invalid document: {docs}:2: (no key): invalid JSON" in err
    assert f"invalid document: {docs}:3: x: lines: Field required; totals: Field required" in err


def test_preview_empty_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    code, _, err = invoke("preview", DEFAULT, str(empty))
    assert code == 1
    assert "no documents found in the input" in err


def test_export_json_lines_round_trip(tmp_path: Path) -> None:
    from postingrules.model.entries import decode_entry

    out = tmp_path / "entries.jsonl"
    code, _, err = invoke("export", DEFAULT, ALL, "--format", "json", "-o", str(out))
    assert code == 1
    assert "28 entries posted, 97 lines, total debit 2855.57 = total credit 2855.57" in err
    entries = [decode_entry(line) for line in out.read_text().splitlines()]
    assert len(entries) == 28
    assert all(e.total_debit == e.total_credit for e in entries)
    # never overwrites unless asked
    code, _, err = invoke("export", DEFAULT, ALL, "-o", str(out))
    assert code == 1 and "--force" in err


def test_export_unknown_format_suggests() -> None:
    code, _, err = invoke("export", DEFAULT, ALL, "--format", "jsn", "-o", "x")
    assert code == 2
    assert "did you mean 'json'?" in err


def test_test_command_passes_shipped_rulesets() -> None:
    code, out, _ = invoke("test", *map(str, sorted((ROOT / "rulesets").glob("*.rules"))))
    assert code == 0
    assert out.strip().endswith("25 passed, 0 failed")


def test_test_command_shows_given_got_diff(tmp_path: Path) -> None:
    rules = tmp_path / "t.rules"
    rules.write_text(
        (ROOT / "rulesets" / "fr-ecommerce.rules")
        .read_text(encoding="utf-8")
        .split("# ---- Tests")[0]
        + f'test "faux" {{ given "{ROOT}/examples/sales/fr-vat-20.json" expect "707200" credit 62.26 }}\n',
        encoding="utf-8",
    )
    code, out, _ = invoke("test", str(rules))
    assert code == 1
    assert "FAIL" in out and "GIVEN" in out and "GOT" in out and "DIFF" in out
    assert 'expect "707200" credit 62.26: got credit 62.25' in out


def test_schema_is_json_schema() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert set(schema["discriminator"]["mapping"]) == {"sale", "refund", "payment"}
