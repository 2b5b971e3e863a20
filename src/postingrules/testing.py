"""In-file tests: ``test "…" { given "doc.json"  expect … }`` run against the compiled ruleset.

A failing test prints GIVEN (the document), GOT (the entry or the refusal) and the
expectations that did not hold, as Numscript's test runner does, so an accountant sees at
once which account or amount differs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from postingrules.dsl import ast
from postingrules.dsl.plan import normalise_account
from postingrules.model.entries import ZERO, Entry, Refusal, Skipped
from postingrules.model.reader import BadDocument, read_documents
from postingrules.ruleset import Ruleset


@dataclass(frozen=True)
class TestOutcome:
    name: str
    passed: bool
    report: str


def describe(result: Entry | Refusal | Skipped) -> str:
    """A compact text form of a posting result, for GOT."""
    if isinstance(result, Refusal):
        return f"refused: {result.reason}"
    if isinstance(result, Skipped):
        return f"left out: {result.reason}"
    rows = [f"{result.journal} {result.date} {result.piece} {result.label}"]
    for line in result.lines:
        side = f"debit {line.debit}" if line.debit else f"credit {line.credit}"
        aux = f" aux {line.aux}" if line.aux else ""
        rows.append(f"  {line.account}{aux} {side}  [{line.tax_code or ''}]")
    if result.metadata.get("regime"):
        rows.append(f"  regime {result.metadata['regime']}")
    return "\n".join(rows)


def _check(ruleset: Ruleset, test: ast.TestDecl, result: Entry | Refusal | Skipped) -> list[str]:
    """The expectations that fail, each as one line."""
    failures: list[str] = []
    length = ruleset.plan.account_length
    for exp in test.expectations:
        if isinstance(exp, ast.ExpectRefused):
            if not isinstance(result, Refusal) or exp.reason.value not in result.reason:
                failures.append(f'expect refused "{exp.reason.value}"')
            continue
        if not isinstance(result, Entry):
            failures.append(f"{_shown(exp)}: the document was not posted")
            continue
        if isinstance(exp, ast.ExpectAmount):
            account = normalise_account(exp.account.value, length)
            lines = [
                ln
                for ln in result.lines
                if ln.account == account and (exp.aux is None or ln.aux == exp.aux.value)
            ]
            got = sum((ln.debit if exp.side == "debit" else ln.credit for ln in lines), ZERO)
            if got != exp.amount.value:
                failures.append(f"{_shown(exp)}: got {exp.side} {got}")
        elif isinstance(exp, ast.ExpectNo):
            pattern = exp.account.value
            hits = [ln.account for ln in result.lines if fnmatch.fnmatchcase(ln.account, pattern)]
            if hits:
                failures.append(f'expect no "{pattern}": found {", ".join(hits)}')
        elif isinstance(exp, ast.ExpectRegime):
            got_regime = result.metadata.get("regime")
            if got_regime != exp.regime.value:
                failures.append(f"expect regime {exp.regime.value}: got {got_regime}")
        elif isinstance(exp, ast.ExpectJournal) and result.journal != exp.journal.value:
            failures.append(f"expect journal {exp.journal.value}: got {result.journal}")
    return failures


def _shown(exp: ast.Expectation) -> str:
    if isinstance(exp, ast.ExpectAmount):
        aux = f' aux "{exp.aux.value}"' if exp.aux else ""
        return f'expect "{exp.account.value}"{aux} {exp.side} {exp.amount.value}'
    return type(exp).__name__


def run_tests(ruleset: Ruleset) -> Iterator[TestOutcome]:
    """Run every test block of a ruleset, in file order."""
    base = Path(ruleset.path).parent
    for test in ruleset.tests:
        path = base / test.given.value
        docs = list(read_documents(path)) if path.exists() else []
        if len(docs) != 1 or isinstance(docs[0], BadDocument):
            why = (
                "not found" if not docs else f"{len(docs)} documents" if len(docs) != 1 else docs[0]
            )
            yield TestOutcome(test.name.value, False, f"  GIVEN {test.given.value}: {why}")
            continue
        result = ruleset.post(docs[0])  # type: ignore[arg-type]
        failures = _check(ruleset, test, result)
        if failures:
            report = "\n".join(
                [
                    f"  GIVEN {test.given.value} ({docs[0].key})",  # type: ignore[union-attr]
                    "  GOT",
                    *("    " + row for row in describe(result).splitlines()),
                    "  DIFF",
                    *(f"    - {f}" for f in failures),
                ]
            )
            yield TestOutcome(test.name.value, False, report)
        else:
            yield TestOutcome(test.name.value, True, "")


__all__ = ["TestOutcome", "describe", "run_tests"]
