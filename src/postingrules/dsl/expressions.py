"""Field reads, conditions, table keys and the regime table as generated Python functions.

These run for every document and every line.  As nested closures, each field read, each
``and`` and each ``let`` cost a Python call; compiled here into one function each (as
templates are, see :mod:`postingrules.dsl.template`), a condition such as
``destination not in EU`` becomes a few attribute reads and a set test.

Only names made up here go into the generated source.  Everything else (attribute names,
constants the rule file compares with, sets, regimes, provenances) is bound as a variable of
the function's namespace and never spliced into code, so no text of a rule file can become
code.  The checker has already typed every operand, so the code needs no type tests.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Sequence
from types import CodeType
from typing import Any

from stdnum.eu import vat as eu_vat

from postingrules.dsl import ast
from postingrules.dsl.check import Scope
from postingrules.dsl.fields import FIELDS
from postingrules.dsl.plan import Context
from postingrules.dsl.template import context_reads

SetValue = Callable[[ast.SetExpr], frozenset[Any]]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""The grammar's comparison operators, spelled the same in Python (a closed set)."""


@functools.lru_cache(maxsize=4096)
def vat_number_is_valid(number: str) -> bool:
    """Syntax and check digits of an EU VAT number (python-stdnum); VIES is a separate flag."""
    return bool(eu_vat.is_valid(number))


class Source:
    """The source of one generated function and the values its made-up names stand for."""

    def __init__(self, scope: Scope, set_value: SetValue) -> None:
        self.scope = scope
        self.set_value = set_value
        self.namespace: dict[str, Any] = {"getattr": getattr, "isinstance": isinstance}
        self._numbers = itertools.count()

    def bind(self, value: Any) -> str:
        """A fresh name for ``value`` in the generated function's namespace."""
        name = f"k{next(self._numbers)}"
        self.namespace[name] = value
        return name

    def temporary(self) -> str:
        return f"e{next(self._numbers)}"

    # -- values --
    def value(self, name: str) -> str:
        """The expression that reads a field, ``regime`` or a ``let`` (``None`` when absent).

        Fields read with ``getattr(..., None)`` because a rule may test a field that one kind
        of document lacks (``order.status`` of a payment): it is then absent, not an error.
        """
        if name == "tax.country":
            # The line's own VAT country, else where the goods went: fields._tax_country and
            # fields.destination_country written out (tests/engine/test_expressions.py).
            shipping, country = self.bind("shipping"), self.bind("country")
            destination = f"getattr(getattr(doc, {shipping}, None) or doc.billing, {country}, None)"
            return f"((line is not None and line.tax_country) or {destination})"
        if name in FIELDS:
            spec = FIELDS[name]
            if spec.attrs:
                expression = "doc"
                for attribute in spec.attrs:
                    expression = f"getattr({expression}, {self.bind(attribute)}, None)"
                return expression
            if spec.line_attr is not None:
                return f"getattr(line, {self.bind(spec.line_attr)}, None)"
            return f"{self.bind(spec.getter)}(doc, {'line' if spec.line_level else 'None'})"
        if name == "regime":
            return "ctx.regime"
        return self.first_of([self.value(n.value) for n in self.scope.lets[name].chain])

    def first_of(self, chain: Sequence[str]) -> str:
        """``a else b``: the first non-empty value; empty text and false come out as ``None``."""
        last = self.temporary()
        expression = f'(None if (({last} := {chain[-1]}) == "" or {last} is False) else {last})'
        for earlier in reversed(chain[:-1]):
            t = self.temporary()
            expression = (
                f'({t} if not (({t} := {earlier}) is None or {t} == "" or {t} is False) '
                f"else {expression})"
            )
        return expression

    def operand(self, value: ast.Value) -> str:
        if isinstance(value, ast.Name) and self.scope.lookup(value.value) is not None:
            return self.value(value.value)
        return self.bind(value.value)

    # -- conditions --
    def condition(self, cond: ast.Condition) -> str:
        if isinstance(cond, ast.And | ast.Or):
            joiner = " and " if isinstance(cond, ast.And) else " or "
            return "(" + joiner.join(self.condition(c) for c in cond.operands) + ")"
        if isinstance(cond, ast.Not):
            return f"(not {self.condition(cond.operand)})"
        if isinstance(cond, ast.Truthy):
            t = self.temporary()
            value = self.operand(cond.operand)
            return f'(not (({t} := {value}) is None or {t} == "" or {t} is False))'
        if isinstance(cond, ast.IsValid):
            t, valid = self.temporary(), self.bind(vat_number_is_valid)
            value = self.operand(cond.operand)
            return f'(isinstance({t} := {value}, str) and {t} != "" and {valid}({t}))'
        if isinstance(cond, ast.Member):
            value, members = self.operand(cond.operand), self.bind(self.set_value(cond.members))
            if cond.negated:
                t = self.temporary()
                return f"(({t} := {value}) is not None and {t} not in {members})"
            return f"({value} in {members})"
        assert isinstance(cond, ast.Compare)
        assert cond.op in _OPERATORS
        symbol = cond.op
        left = self.operand(cond.left)
        right_is_field = (
            isinstance(cond.right, ast.Name) and self.scope.lookup(cond.right.value) is not None
        )
        if not right_is_field and cond.right.value is not None:
            # `field == "text"`: an absent field is unequal to anything, and nothing else.
            t, constant, unequal = self.temporary(), self.bind(cond.right.value), cond.op == "!="
            return f"({self.bind(unequal)} if ({t} := {left}) is None else {t} {symbol} {constant})"
        compare = self.bind(functools.partial(_compare, cond.op == "!=", _OPERATORS[symbol]))
        return f"{compare}({left}, {self.operand(cond.right)})"

    # -- functions --
    def function(self, body: Sequence[str], name: str) -> Callable[[Context], Any]:
        """``def name(ctx)`` with ``body`` (lines of generated code), reading ``doc`` and
        ``line`` from the context once, only when the body uses them."""
        lines = (*context_reads(list(body)), *body)
        source = f"def {name}(ctx):\n" + "".join(f"    {line}\n" for line in lines)
        exec(_code(source), self.namespace)  # generated names only: see the module docstring
        function: Callable[[Context], Any] = self.namespace[name]
        return function


def getter(scope: Scope, set_value: SetValue, name: str) -> Callable[[Context], Any]:
    """A function reading one field, ``regime`` or ``let`` of the context."""
    source = Source(scope, set_value)
    return source.function([f"return {source.value(name)}"], "get")


def predicate(scope: Scope, set_value: SetValue, cond: ast.Condition) -> Callable[[Context], Any]:
    """A function telling whether ``cond`` holds (a truthy result means yes)."""
    source = Source(scope, set_value)
    return source.function([f"return {source.condition(cond)}"], "holds")


def key_function(
    scope: Scope, set_value: SetValue, names: Sequence[str]
) -> Callable[[Context], tuple[Any, ...]]:
    """The tuple of a decision table's key values, read in one function."""
    source = Source(scope, set_value)
    values = "".join(f"{source.value(n)}, " for n in names)
    return source.function([f"return ({values})"], "key")


def first_match(
    scope: Scope,
    set_value: SetValue,
    rows: Sequence[tuple[ast.Condition | None, Any]],
) -> Callable[[Context], Any]:
    """The outcome of the first row whose condition holds (``None`` for ``*``), else ``None``:
    an ``if`` chain, so a regime table costs one call however many rows it has."""
    source = Source(scope, set_value)
    body: list[str] = []
    for condition, outcome in rows:
        if condition is None:
            body.append(f"return {source.bind(outcome)}")
            break
        body += [f"if {source.condition(condition)}:", f"    return {source.bind(outcome)}"]
    else:
        body.append("return None")
    return source.function(body, "first")


def matching_indexes(
    scope: Scope, set_value: SetValue, conditions: Sequence[ast.Condition]
) -> Callable[[Context], tuple[int, ...]]:
    """The indexes of the conditions that hold, in order (which rules apply to a document)."""
    source = Source(scope, set_value)
    body = ["matched = ()"]
    for index, condition in enumerate(conditions):
        body += [f"if {source.condition(condition)}:", f"    matched += ({index},)"]
    body.append("return matched")
    return source.function(body, "matching")


def _compare(unequal_if_absent: bool, op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    """``a op b`` between two fields: when either is absent, only ``!=`` can hold."""
    if a is None or b is None:
        return unequal_if_absent and a != b
    return op(a, b)


@functools.lru_cache(maxsize=1024)
def _code(source: str) -> CodeType:
    """Compiled once per shape: equal shapes (most conditions of a big file) share a code
    object, since the source holds generated names only."""
    return compile(source, "<rules>", "exec")
