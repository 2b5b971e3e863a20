"""Shared by the connectors' end-to-end tests: fetched documents → `preview --json` → amounts."""

from __future__ import annotations

import json
from decimal import Decimal
from decimal import Decimal as D
from pathlib import Path

from click.testing import CliRunner

from postingrules.cli import main

RULES = Path(__file__).resolve().parents[2] / "rulesets" / "fr-ecommerce.rules"


def preview_entries(docs: Path) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    """``preview --json`` → {document key: {account: (debit, credit)}}."""
    result = CliRunner().invoke(main, ["preview", "--json", str(RULES), str(docs)])
    assert result.exit_code in (0, 1), result.output
    entries: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for entry in json.loads(result.stdout)["entries"]:
        accounts = entries.setdefault(entry["document_key"], {})
        for line in entry["lines"]:
            debit, credit = accounts.get(line["account"], (D(0), D(0)))
            accounts[line["account"]] = (
                debit + D(str(line["debit"])),
                credit + D(str(line["credit"])),
            )
    return entries
