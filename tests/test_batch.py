"""batch.run keeps the score of a run: every document lands in exactly one count, and the
control totals are the sums of the entries' own lines (what the summary shows an accountant)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import postingrules
from postingrules.batch import Selection, Tally, run

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rulesets" / "fr-ecommerce.rules"
EXAMPLES = ROOT / "examples" / "all.jsonl"


def test_totals_are_the_sums_of_the_lines_and_every_document_is_counted(tmp_path: Path) -> None:
    ruleset = postingrules.load_ruleset(RULES)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "sale", "key": "broken"}\nnot json\n')
    tally = Tally()
    entries = [entry for _, entry in run(ruleset, [str(EXAMPLES), str(bad)], tally)]
    debit = sum((line.debit for e in entries for line in e.lines), Decimal(0))
    credit = sum((line.credit for e in entries for line in e.lines), Decimal(0))
    assert entries and debit == credit
    assert (tally.debit, tally.credit) == (debit, credit)
    assert tally.entries == len(entries)
    assert tally.lines == sum(len(e.lines) for e in entries)
    assert len(tally.invalid) == 2 and tally.refused and tally.skipped
    assert tally.available == (
        tally.entries + len(tally.refused) + len(tally.skipped) + len(tally.invalid)
    )
    summary = tally.summary()
    assert summary["total_debit"] == summary["total_credit"] == str(debit)
    assert debit.as_tuple().exponent == -2  # cents, as the lines are
    assert tally.failed


def test_selection_is_counted_and_not_posted() -> None:
    ruleset = postingrules.load_ruleset(RULES)
    keys = [json.loads(line)["key"] for line in EXAMPLES.read_text("utf-8").splitlines()]
    chosen = keys[0]
    tally = Tally()
    posted = [doc.key for doc, _ in run(ruleset, [str(EXAMPLES)], tally, Selection([chosen]))]
    assert posted == [chosen]
    assert tally.not_selected == len(keys) - 1
    assert tally.available == len(keys)
    lines = next(iter(run(ruleset, [str(EXAMPLES)], Tally(), Selection([chosen]))))[1].lines
    assert tally.debit == sum(line.debit for line in lines)
