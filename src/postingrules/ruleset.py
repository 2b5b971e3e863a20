"""The façade: load a rule file once, post many documents.

``load_ruleset(path)`` parses, checks and compiles; it raises :class:`RulesError` with every
diagnostic when the file has errors.  ``Ruleset.post(document)`` returns an
:class:`~postingrules.model.entries.Entry`, a :class:`Refusal` or a :class:`Skipped` value,
never an exception for a bad document, so a batch always goes on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from postingrules.dsl import ast
from postingrules.dsl.check import check
from postingrules.dsl.compile import compile_plan
from postingrules.dsl.diagnostics import Diagnostic, RulesError
from postingrules.dsl.parse import parse
from postingrules.dsl.plan import Plan
from postingrules.engine.post import post
from postingrules.model.documents import Payment, Refund, Sale
from postingrules.model.entries import Entry, Refusal, Skipped

Result = Entry | Refusal | Skipped


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of checking one rule file: its AST (if it parsed) and its diagnostics."""

    path: str
    source: str
    rules: ast.RuleFile | None
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a rule file is parsed, checked and compiled.

    Those steps create tens of thousands of objects (a 500-row table: ~100,000) and free
    none, which sets off collections that walk every object the process holds, imports
    included, several times over: ~8 % of the compile's instructions for nothing, since
    the AST and the plan hold no cycles to collect.  The collector's previous state is
    restored, whatever happens.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_source(source: str, path: str = "<rules>") -> Checked:
    """Parse and check rule-file text without compiling it."""
    with gc_paused():
        rules, diagnostics = parse(source, path)
        if rules is not None:
            diagnostics = check(rules)[1]
    return Checked(path, source, rules, diagnostics)


def check_file(path: str | Path) -> Checked:
    return check_source(Path(path).read_text("utf-8"), str(path))


class Ruleset:
    """A compiled ruleset, ready to post documents."""

    def __init__(self, rules: ast.RuleFile, plan: Plan, warnings: list[Diagnostic]) -> None:
        self.rules = rules
        self.plan = plan
        self.warnings = warnings

    @property
    def path(self) -> str:
        return self.rules.path

    @property
    def tests(self) -> tuple[ast.TestDecl, ...]:
        return tuple(s for s in self.rules.statements if isinstance(s, ast.TestDecl))

    def post(self, document: Sale | Refund | Payment) -> Result:
        """Post one document (see :func:`postingrules.engine.post`)."""
        return post(self.plan, document)


def compile_source(source: str, path: str = "<rules>") -> Ruleset:
    """Parse, check and compile rule-file text; raise :class:`RulesError` on any error."""
    with gc_paused():
        rules, diagnostics = parse(source, path)
        if rules is None:
            raise RulesError(diagnostics, {path: source})
        scope, diagnostics = check(rules)
        if any(d.severity == "error" for d in diagnostics):
            raise RulesError(diagnostics, {path: source})
        return Ruleset(rules, compile_plan(rules, scope), diagnostics)


def load_ruleset(path: str | Path) -> Ruleset:
    """Load and compile a rule file."""
    return compile_source(Path(path).read_text("utf-8"), str(path))
