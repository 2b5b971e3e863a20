"""AST + scope → plan: turn a checked rule file into closures and dict look-ups.

Compilation is pure and runs once per ruleset; nothing here runs per document except the
closures it returns.  It assumes the checker found no error (``load`` enforces that).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stdnum.eu import vat as eu_vat

from postingrules.dsl import ast
from postingrules.dsl.check import TABLES, Scope, country_codes
from postingrules.dsl.fields import FIELDS
from postingrules.dsl.plan import (
    AccountPlan,
    Context,
    CustomerPlan,
    Getter,
    Plan,
    Predicate,
    Provenanced,
    RegimePlan,
    Renderer,
    RowPlan,
    RulePlan,
    Settings,
    SplitPlan,
    TablePlan,
    normalise_account,
)
from postingrules.dsl.template import compile_template, parse_template

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@functools.lru_cache(maxsize=4096)
def vat_number_is_valid(number: str) -> bool:
    """Syntax and check digits of an EU VAT number (python-stdnum); VIES is a separate flag."""
    return bool(eu_vat.is_valid(number))


def _chain(parts: tuple[Predicate, ...], conjunction: bool) -> Predicate:
    """`a and b` / `a or b`, short-circuiting; two operands (the usual case) without a loop."""
    if len(parts) == 2:
        first, second = parts
        if conjunction:
            return lambda ctx: first(ctx) and second(ctx)
        return lambda ctx: first(ctx) or second(ctx)
    if conjunction:
        return lambda ctx: all(p(ctx) for p in parts)
    return lambda ctx: any(p(ctx) for p in parts)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value is False


def _first_of(chain: tuple[Getter, ...]) -> Getter:
    """``a else b``: the first non-empty value (empty text and false count as absent, so they
    come out as ``None``); two getters, the usual case, without a loop."""
    if len(chain) == 2:
        a, b = chain

        def first_of_two(ctx: Context) -> Any:
            value = a(ctx)
            if value is None or value == "" or value is False:
                value = b(ctx)
                return None if value == "" or value is False else value
            return value

        return first_of_two

    def first(ctx: Context) -> Any:
        for get in chain:
            value = get(ctx)
            if not _empty(value):
                return value
        return None

    return first


class Compiler:
    def __init__(self, rules: ast.RuleFile, scope: Scope) -> None:
        self.rules = rules
        self.scope = scope
        self.file = Path(rules.path).name

    def where(self, what: str, span: ast.Span) -> str:
        return f"{what} ({self.file}:{span.line})"

    # -- values --
    def getter(self, name: str) -> Getter:
        if name in FIELDS:
            spec = FIELDS[name]
            get = spec.getter
            if len(spec.attrs) == 1:
                (first,) = spec.attrs
                return lambda ctx: getattr(ctx.doc, first, None)
            if len(spec.attrs) == 2:
                first, second = spec.attrs
                return lambda ctx: getattr(getattr(ctx.doc, first, None), second, None)
            if spec.line_attr is not None:
                attr = spec.line_attr
                return lambda ctx: getattr(ctx.line, attr, None)  # no line: None
            if spec.line_level:
                return lambda ctx: get(ctx.doc, ctx.line)
            return lambda ctx: get(ctx.doc, None)
        if name == "regime":
            return lambda ctx: ctx.regime
        let = self.scope.lets[name]
        first = _first_of(tuple(self.getter(n.value) for n in let.chain))

        if self.scope.let_info[name].line_level:
            return first

        def remembered(ctx: Context) -> Any:
            # A regime table may test `destination` in every row: compute it once.
            try:
                return ctx.lets[name]
            except KeyError:
                value = ctx.lets[name] = first(ctx)
                return value

        return remembered

    def template(self, text: ast.Str) -> Renderer:
        parsed = parse_template(text.value)
        getters = {s.path: self.getter(s.path) for s in parsed.slots}
        types = {s.path: info.type for s in parsed.slots if (info := self.scope.lookup(s.path))}
        return compile_template(parsed, getters, types)

    def account(self, ref: ast.AccountRef) -> AccountPlan:
        text = self.scope.accounts[ref.value] if isinstance(ref, ast.Name) else ref.value
        length = self.scope.account_length
        if "{" not in text:
            constant = normalise_account(text, length)
            return AccountPlan(lambda ctx: constant, length, constant)
        return AccountPlan(self.template(ast.Str(text, ref.span)), length)

    def set_value(self, expr: ast.SetExpr) -> frozenset[Any]:
        if isinstance(expr, ast.SetRef):
            return self.scope.sets.get(expr.name, frozenset({expr.name}))
        if isinstance(expr, ast.SetOp):
            left, right = self.set_value(expr.left), self.set_value(expr.right)
            return left | right if expr.op == "+" else left - right
        items: set[Any] = set()
        for item in expr.items:
            if isinstance(item, ast.Name) and item.value in self.scope.sets:
                items |= self.scope.sets[item.value]
            else:
                items.add(item.value)
        return frozenset(items)

    def operand(self, value: ast.Value) -> Getter:
        if isinstance(value, ast.Name) and self.scope.lookup(value.value) is not None:
            return self.getter(value.value)
        constant = value.value
        return lambda ctx: constant

    # -- conditions --
    def condition(self, cond: ast.Condition) -> Predicate:
        if isinstance(cond, ast.And | ast.Or):
            return _chain(
                tuple(self.condition(c) for c in cond.operands), isinstance(cond, ast.And)
            )
        if isinstance(cond, ast.Not):
            inner = self.condition(cond.operand)
            return lambda ctx: not inner(ctx)
        if isinstance(cond, ast.Truthy):
            get = self.operand(cond.operand)

            def truthy(ctx: Context) -> bool:
                value = get(ctx)
                return not (value is None or value == "" or value is False)

            return truthy
        if isinstance(cond, ast.IsValid):
            get = self.operand(cond.operand)

            def valid(ctx: Context) -> bool:
                value = get(ctx)
                return isinstance(value, str) and bool(value) and vat_number_is_valid(value)

            return valid
        if isinstance(cond, ast.Member):
            get = self.operand(cond.operand)
            members = self.set_value(cond.members)
            if cond.negated:
                return lambda ctx: (v := get(ctx)) is not None and v not in members
            return lambda ctx: get(ctx) in members
        assert isinstance(cond, ast.Compare)
        left, right, op = self.operand(cond.left), self.operand(cond.right), _OPS[cond.op]
        if not (
            isinstance(cond.right, ast.Name) and self.scope.lookup(cond.right.value) is not None
        ):
            constant = cond.right.value  # `field == "text"`: no call for the right side
            if constant is not None:
                unequal = op is operator.ne

                def compare_constant(ctx: Context) -> bool:
                    value = left(ctx)
                    return unequal if value is None else op(value, constant)

                return compare_constant

        def compare(ctx: Context) -> bool:
            a, b = left(ctx), right(ctx)
            if a is None or b is None:
                return op is operator.ne and a != b
            return op(a, b)

        return compare

    # -- tables --
    def table(self, table: ast.TableDecl) -> TablePlan:
        key_names = tuple(k.value for k in table.keys)
        keys = tuple(self.getter(k) for k in key_names)
        rows = []
        for index, row in enumerate(table.rows, start=1):
            matchers = tuple(self.matcher(p) for p in row.patterns)
            provenance = self.where(f"table `{table.name.value}` row {index}", row.span)
            if isinstance(row.outcome, ast.Refuse):
                rows.append(RowPlan(matchers, {}, self.template(row.outcome.reason), provenance))
                continue
            roles = TABLES[table.name.value]
            outputs: dict[str, Any] = {}
            pure = True
            for output in row.outcome:
                role, value = roles[output.key.value], output.value
                if role == "account":
                    outputs[output.key.value] = self.account(value)  # type: ignore[arg-type]
                elif role == "journal":
                    outputs[output.key.value] = value.value
                else:
                    outputs[output.key.value] = self.template(value)  # type: ignore[arg-type]
                if isinstance(value, ast.Str) and "{" in value.value:
                    slots = parse_template(value.value).slots
                    pure = pure and all(slot.path in key_names for slot in slots)
            rows.append(RowPlan(matchers, outputs, None, provenance, pure))
        return TablePlan(
            table.name.value,
            key_names,
            keys,
            tuple(rows),
            self.where(f"table `{table.name.value}`", table.span),
        )

    def matcher(self, pattern: ast.Pattern) -> frozenset[Any] | None:
        if isinstance(pattern, ast.Wildcard):
            return None
        if isinstance(pattern, ast.Name):
            if pattern.value in self.scope.sets and pattern.value not in country_codes():
                return self.scope.sets[pattern.value]
            return frozenset({pattern.value})
        return frozenset({pattern.value})

    def regime(self, decl: ast.RegimeDecl) -> RegimePlan:
        rows = []
        for index, row in enumerate(decl.rows, start=1):
            condition = None if row.condition is None else self.condition(row.condition)
            rows.append((condition, row.regime.value, self.where(f"regime row {index}", row.span)))
        return RegimePlan(tuple(rows), self.where("regime table", decl.span))

    # -- settings --
    def changes(self, setting: ast.Setting, origin: str) -> dict[str, Any]:
        where = self.where(origin, setting.span)
        if isinstance(setting, ast.CustomerAccount):
            return {
                "customer": CustomerPlan(
                    self.account(setting.account),
                    None if setting.aux is None else self.template(setting.aux),
                    None if setting.name is None else self.template(setting.name),
                    self.where(f"customer account, {origin}", setting.span),
                )
            }
        if isinstance(setting, ast.ShippingDecl | ast.GiftWrapDecl):
            split = SplitPlan(
                self.account(setting.accounts.with_vat),
                self.account(setting.accounts.without_vat),
                where,
            )
            return {"shipping" if isinstance(setting, ast.ShippingDecl) else "gift_wrap": split}
        if isinstance(setting, ast.DiscountDecl):
            account = None if setting.account is None else self.account(setting.account)
            return {"discount": Provenanced(account, where)}
        if isinstance(setting, ast.GapDecl):
            return {"gap": (self.account(setting.loss), self.account(setting.gain), where)}
        if isinstance(setting, ast.AnalyticDecl):
            return {"analytic": self.template(setting.template)}
        if isinstance(setting, ast.SalesSetting):
            return {"sales": Provenanced(self.account(setting.account), where)}
        if isinstance(setting, ast.TaxSetting):
            return {"tax": Provenanced(self.account(setting.account), where)}
        if isinstance(setting, ast.CodeSetting):
            return {"code": Provenanced(self.template(setting.code), where)}
        if isinstance(setting, ast.RefuseSetting):
            return {"refuse": Provenanced(self.template(setting.reason), where)}
        if isinstance(setting, ast.JournalSetting):
            return {"journal": Provenanced(setting.code.value, where)}
        if isinstance(setting, ast.DateSetting):
            return {
                "date": tuple(self.getter(n.value) for n in setting.chain),
                "date_names": tuple(n.value for n in setting.chain),
            }
        if isinstance(setting, ast.TableDecl):  # `customer by … { … }` inside a rule
            return {"customer": self.table(setting)}
        assert isinstance(setting, ast.TextSetting)
        return {setting.field: self.template(setting.template)}

    def compile(self) -> Plan:
        statements = self.rules.statements
        common: dict[str, Any] = {}
        tables: dict[str, TablePlan] = {}
        regime = None
        documents = None
        documents_where = ""
        rules: list[RulePlan] = []
        blocks: dict[str, dict[str, Any]] = {}
        for stmt in statements:
            if isinstance(
                stmt,
                ast.CustomerAccount
                | ast.ShippingDecl
                | ast.GiftWrapDecl
                | ast.DiscountDecl
                | ast.GapDecl
                | ast.AnalyticDecl,
            ):
                common.update(self.changes(stmt, "top level"))
            elif isinstance(stmt, ast.TableDecl):
                tables[stmt.name.value] = self.table(stmt)
                if stmt.name.value == "customer":  # the later declaration wins
                    common["customer"] = tables["customer"]
            elif isinstance(stmt, ast.RegimeDecl) and regime is None:
                regime = self.regime(stmt)
            elif isinstance(stmt, ast.DocumentsDecl):
                documents = self.condition(stmt.condition)
                documents_where = self.where("documents filter", stmt.span)
            elif isinstance(stmt, ast.RuleDecl):
                changes: dict[str, Any] = {}
                for setting in stmt.settings:
                    changes.update(self.changes(setting, f'rule "{stmt.name.value}"'))
                rules.append(
                    RulePlan(
                        stmt.name.value,
                        self.condition(stmt.condition),
                        changes,
                        self.where(f'rule "{stmt.name.value}"', stmt.span),
                    )
                )
            elif isinstance(stmt, ast.BlockDecl):
                block: dict[str, Any] = {}
                for setting in stmt.settings:
                    block.update(self.changes(setting, f"{stmt.kind.value} block"))
                blocks[stmt.kind.value] = block
        settings = {kind: Settings(**{**common, **block}) for kind, block in blocks.items()}
        return Plan(
            name=self.scope.name,
            version=self.scope.version,
            currency=self.scope.currency,
            account_length=self.scope.account_length,
            tolerance=self.scope.tolerance,
            journals=dict(self.scope.journals),
            documents=documents,
            documents_provenance=documents_where,
            regime=regime,
            vat=tables.get("vat"),
            payment=tables.get("payment"),
            settings=settings,
            rules=tuple(rules),
        )


def compile_plan(rules: ast.RuleFile, scope: Scope) -> Plan:
    """Compile a checked rule file."""
    return Compiler(rules, scope).compile()
