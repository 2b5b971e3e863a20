"""docs/language.md is executed: its rule files load, its fragments check, its documents post.

- every ```rules block is a complete rule file that compiles without error, and its in-file
  tests pass;
- every ```rules fragment block parses and checks inside a small complete rule file, where
  the only errors allowed are collisions with what that file already declares;
- every ```json block after a complete rules block is a document, posted with that rule file:
  the entry balances and its customer line carries the document's total;
- the field catalogue lists every field of ``FIELDS`` with its type, kinds and line flag, and
  the diagnostics table lists every code the parser, checker and templates emit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

import postingrules
from postingrules.dsl.fields import FIELDS
from postingrules.dsl.parse import parse
from postingrules.model.entries import Entry
from postingrules.model.reader import parse_json, validate
from postingrules.testing import run_tests

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "language.md"
TEXT = DOC.read_text("utf-8")
# Rule files of the page "live" in docs/, so `given "../examples/…"` resolves.
RULES_PATH = str(ROOT / "docs" / "language.rules")

FRAGMENT_PRELUDE = """\
currency EUR
tolerance 0.05
account length 8
set EU     = {AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK}
set FR_VAT = {FR MC}
set DOM    = {GP MQ RE GF YT}
let destination = shipping.country else billing.country
journal VTE "Ventes web"
journal BQ1 "Banque"
journal BQ2 "PayPal"
customer account "411000" aux "CLIENTWEB" name "CLIENT WEB"
regime {
    destination in FR_VAT                                   -> france
    destination in DOM                                      -> dom
    destination not in EU                                   -> export
    customer.vat_number is valid and customer.vat_validated -> intracom
    *                                                       -> oss
}
vat by (regime, tax.rate) {
    france, 20 -> sales "707200", tax "445720", code "C20"
    *,      *  -> refuse "pas de ligne de TVA"
}
payment by payment.method {
    * -> journal BQ1, bank "512000"
}
sale {
    journal VTE
    date invoice.date else order.date
}
refund {
    journal VTE
    date refund.date else order.date
}
payment {
    date payment.date
}
"""
# A fragment may redeclare what the prelude declares; nothing else may be an error.
COLLISIONS = {
    "duplicate-setting",
    "duplicate-journal",
    "duplicate-name",
    "duplicate-table",
    "duplicate-block",
}


@dataclass(frozen=True)
class Block:
    info: str  # the fence's info string: "rules", "rules fragment", "json", "text"…
    body: str
    line: int  # of the opening fence, 1-based

    @property
    def id(self) -> str:
        return f"{self.info.replace(' ', '-')}@{self.line}"


def _blocks() -> list[Block]:
    blocks: list[Block] = []
    lines = TEXT.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^```(\S.*)?$", lines[i])
        if match is None:
            i += 1
            continue
        start = i
        info = (match.group(1) or "").strip()
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        assert i < len(lines), f"unclosed code block at line {start + 1}"
        blocks.append(Block(info, "\n".join(body) + "\n", start + 1))
        i += 1
    return blocks


BLOCKS = _blocks()
COMPLETE = [b for b in BLOCKS if b.info == "rules"]
FRAGMENTS = [b for b in BLOCKS if b.info == "rules fragment"]


def _documents_with_rules() -> list[tuple[Block, Block]]:
    pairs: list[tuple[Block, Block]] = []
    rules: Block | None = None
    for block in BLOCKS:
        if block.info == "rules":
            rules = block
        elif block.info == "json" and rules is not None:
            pairs.append((rules, block))
    return pairs


DOCUMENTS = _documents_with_rules()


def test_the_page_has_examples_of_every_kind() -> None:
    assert {b.info for b in BLOCKS} <= {"rules", "rules fragment", "json", "text"}
    assert len(COMPLETE) >= 2
    assert len(FRAGMENTS) >= 15
    assert len(DOCUMENTS) >= 2


@pytest.mark.parametrize("block", COMPLETE, ids=lambda b: b.id)
def test_complete_rule_files_compile_without_error(block: Block) -> None:
    checked = postingrules.check_source(block.body, RULES_PATH)
    assert [d for d in checked.diagnostics if d.severity == "error"] == []
    ruleset = postingrules.compile_source(block.body, RULES_PATH)
    assert ruleset.plan.settings, "a complete example posts something"


@pytest.mark.parametrize("block", [b for b in COMPLETE if "test " in b.body], ids=lambda b: b.id)
def test_in_file_tests_of_the_examples_pass(block: Block) -> None:
    ruleset = postingrules.compile_source(block.body, RULES_PATH)
    outcomes = list(run_tests(ruleset))
    assert outcomes
    assert [(o.name, o.report) for o in outcomes if not o.passed] == []


def test_fragment_prelude_is_clean() -> None:
    checked = postingrules.check_source(FRAGMENT_PRELUDE, RULES_PATH)
    assert checked.diagnostics == []


@pytest.mark.parametrize("block", FRAGMENTS, ids=lambda b: b.id)
def test_fragments_parse_and_check_in_the_prelude(block: Block) -> None:
    source = FRAGMENT_PRELUDE + block.body
    rules, syntax = parse(source, RULES_PATH)
    assert syntax == [] and rules is not None
    checked = postingrules.check_source(source, RULES_PATH)
    errors = [
        (d.code, d.span.line - FRAGMENT_PRELUDE.count("\n"), d.message)
        for d in checked.diagnostics
        if d.severity == "error" and d.code not in COLLISIONS
    ]
    assert errors == []


def test_a_fragment_with_a_real_error_would_fail() -> None:
    """The fragment check is not vacuous: a misspelt field is not a tolerated collision."""
    source = FRAGMENT_PRELUDE + 'rule "r" when order.referense { sales "1" }\n'
    codes = {d.code for d in postingrules.check_source(source, RULES_PATH).errors}
    assert codes == {"unknown-field"} and not codes & COLLISIONS


@pytest.mark.parametrize(("rules", "document"), DOCUMENTS, ids=lambda b: b.id)
def test_documents_of_the_page_post_and_balance(rules: Block, document: Block) -> None:
    ruleset = postingrules.compile_source(rules.body, RULES_PATH)
    doc = validate(parse_json(document.body), document.id)
    assert not hasattr(doc, "reason"), doc
    entry = ruleset.post(doc)  # type: ignore[arg-type]
    assert isinstance(entry, Entry), entry
    assert entry.total_debit == entry.total_credit
    assert entry.total_debit > 0
    total = doc.amount if doc.kind == "payment" else doc.totals.incl  # type: ignore[union-attr]
    customer = [line for line in entry.lines if line.aux == "CLIENTWEB"]
    assert sum((line.debit + line.credit for line in customer), Decimal(0)) == total


def test_the_first_sale_matches_the_table_on_the_page() -> None:
    rules, document = DOCUMENTS[0]
    ruleset = postingrules.compile_source(rules.body, RULES_PATH)
    entry = ruleset.post(validate(parse_json(document.body), document.id))  # type: ignore[arg-type]
    assert isinstance(entry, Entry)
    shown = TEXT[TEXT.index("| account | aux | tax code |") :].split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in row.strip("|").split("|")] for row in shown.splitlines()[2:]]
    got = [
        [
            line.account,
            line.aux or "",
            line.tax_code or "",
            str(line.debit) if line.debit else "",
            str(line.credit) if line.credit else "",
        ]
        for line in entry.lines
    ]
    assert [row[:5] for row in rows] == got
    assert (entry.journal, entry.piece, entry.label) == (
        "VTE",
        "FA000210",
        "Cde QHZRTPLMB du 02/03/2026",
    )


def _catalogue_rows() -> set[tuple[str, ...]]:
    start = TEXT.index("| field | type | documents | line | meaning |")
    table = TEXT[start:].split("\n\n", 1)[0].splitlines()[2:]
    return {tuple(cell.strip() for cell in row.strip("|").split("|")) for row in table}


def test_field_catalogue_lists_every_field() -> None:
    expected = {
        (
            f"`{path}`",
            spec.type,
            ", ".join(k for k in ("sale", "refund", "payment") if k in spec.kinds),
            "yes" if spec.line_level else "",
            spec.description,
        )
        for path, spec in FIELDS.items()
    }
    assert _catalogue_rows() == expected


def test_diagnostics_table_lists_every_emitted_code() -> None:
    src = Path(postingrules.__file__).parent / "dsl"
    emitted: set[str] = set()
    for name in ("check.py", "parse.py", "template.py"):
        emitted |= set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', (src / name).read_text("utf-8")))
    start = TEXT.index("| code | severity | meaning |")
    rows = TEXT[start:].split("\n\n", 1)[0].splitlines()[2:]
    documented = {re.match(r"\| `([a-z-]+)` \|", row).group(1) for row in rows}  # type: ignore[union-attr]
    assert emitted - documented == set()
    assert documented - emitted == set()


def test_documented_severities_match_the_checker() -> None:
    """Spot-check the severity column against what check_source reports."""
    start = TEXT.index("| code | severity | meaning |")
    rows = TEXT[start:].split("\n\n", 1)[0].splitlines()[2:]
    severity = {
        m.group(1): m.group(2)
        for m in (re.match(r"\| `([a-z-]+)` \| (error|warning) \|", row) for row in rows)
        if m
    }
    source = FRAGMENT_PRELUDE + (
        "set FR = {FR}\n"
        'payment by payment.method {\n  * -> bank "1"\n  "card" -> bank "2"\n}\n'
        'test "t" {\n  given "nowhere.json"\n}\n'
        'rule "r" when order.date == 20 { sales "1" }\n'
    )
    for d in postingrules.check_source(source, RULES_PATH).diagnostics:
        assert severity[d.code] == d.severity, d
