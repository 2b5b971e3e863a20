"""Golden entries: every example document posted with every shipped ruleset.

One snapshot file per (ruleset, document), in a compact text form that an accountant can
read line by line; reviewed by hand against examples/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postingrules import load_ruleset
from postingrules.model.entries import Entry, Refusal
from postingrules.model.reader import read_documents
from postingrules.testing import describe

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/*.json"))
RULESETS = sorted((ROOT / "rulesets").glob("*.rules"))


def _render(result: object) -> str:
    text = describe(result)  # type: ignore[arg-type]
    if isinstance(result, Entry):
        text += "\n" + "\n".join(f"  provenance: {ln.provenance}" for ln in result.lines)
        if any(ln.currency for ln in result.lines):
            text += "\n" + "\n".join(
                f"  {ln.account} original {ln.currency_amount} {ln.currency}" for ln in result.lines
            )
        if result.party is not None:
            p = result.party
            text += (
                f"\n  party: {p.name} / {p.company} / {p.email} / {p.vat_number} / "
                f"{p.street}, {p.postcode} {p.city} {p.country}"
            )
    return text + "\n"


@pytest.mark.parametrize("rules", RULESETS, ids=lambda p: p.stem)
def test_entries_per_example(rules: Path, snapshot) -> None:
    snapshot.snapshot_dir = ROOT / "tests" / "snapshots" / "engine" / rules.stem
    ruleset = load_ruleset(rules)
    outputs = {}
    for path in EXAMPLES:
        (doc,) = read_documents(path)
        result = ruleset.post(doc)  # type: ignore[arg-type]
        if isinstance(result, Entry):
            assert result.total_debit == result.total_credit, path
        outputs[f"{path.parent.name}-{path.stem}.txt"] = _render(result)
    snapshot.assert_match_dir(outputs, "entries")


def test_default_ruleset_posts_every_example_but_the_two_it_must_not() -> None:
    ruleset = load_ruleset(ROOT / "rulesets" / "fr-ecommerce.rules")
    outcomes = {}
    for path in EXAMPLES:
        (doc,) = read_documents(path)
        outcomes[path.stem] = ruleset.post(doc)  # type: ignore[arg-type]
    not_posted = {k for k, v in outcomes.items() if not isinstance(v, Entry)}
    assert not_posted == {"gap-beyond-tolerance", "pending-order"}
    refusal = outcomes["gap-beyond-tolerance"]
    assert isinstance(refusal, Refusal)
    assert refusal.reason == (
        "gap of 0.12 EUR between the shop's total and the posted lines is larger than the "
        "tolerance of 0.05 EUR"
    )


def test_output_is_deterministic(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from postingrules.cli import main

    runner = CliRunner()
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        result = runner.invoke(
            main,
            [
                "export",
                str(ROOT / "rulesets" / "fr-ecommerce.rules"),
                str(ROOT / "examples" / "all.jsonl"),
                "-o",
                str(tmp_path / name),
            ],
        )
        assert result.exit_code == 1  # the gap example is refused
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 28
