"""AST + scope → plan: turn a checked rule file into generated functions and dict look-ups.

Compilation is pure and runs once per ruleset; nothing here runs per document except the
functions it returns (conditions, field reads and keys from
:mod:`postingrules.dsl.expressions`, templates from :mod:`postingrules.dsl.template`).  It
assumes the checker found no error (``load`` enforces that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from postingrules.dsl import ast, expressions
from postingrules.dsl.check import TABLES, Scope, country_codes
from postingrules.dsl.plan import (
    AccountPlan,
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
from postingrules.dsl.template import compile_template, is_constant, parse_template


class Compiler:
    def __init__(self, rules: ast.RuleFile, scope: Scope) -> None:
        self.rules = rules
        self.scope = scope
        self.file = Path(rules.path).name
        self.renderers: dict[str, Renderer] = {}
        """Compiled templates by text: a renderer depends on its text and the file's scope
        only, and a big table repeats one template (``"OSS-{tax.country}"``) in most rows."""

    def where(self, what: str, span: ast.Span) -> str:
        return f"{what} ({self.file}:{span.line})"

    # -- values --
    def getter(self, name: str) -> Getter:
        return expressions.getter(self.scope, self.set_value, name)

    def template(self, text: ast.Str) -> Renderer:
        found = self.renderers.get(text.value)
        if found is not None:
            return found
        parsed = parse_template(text.value)
        types = {s.path: info.type for s in parsed.slots if (info := self.scope.lookup(s.path))}
        source = expressions.Source(self.scope, self.set_value)
        reads = {s.path: source.value(s.path) for s in parsed.slots}
        renderer = compile_template(parsed, {}, types, (reads, source.namespace))
        self.renderers[text.value] = renderer
        return renderer

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

    # -- conditions --
    def condition(self, cond: ast.Condition) -> Predicate:
        return expressions.predicate(self.scope, self.set_value, cond)

    # -- tables --
    def table(self, table: ast.TableDecl) -> TablePlan:
        key_names = tuple(k.value for k in table.keys)
        key = expressions.key_function(self.scope, self.set_value, key_names)
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
            key,
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
        rows = [(row.condition, row.regime.value) for row in decl.rows]
        decide = expressions.first_match(self.scope, self.set_value, rows)
        return RegimePlan(decide, self.where("regime table", decl.span))

    # -- settings --
    def changes(self, setting: ast.Setting, origin: str) -> dict[str, Any]:
        where = self.where(origin, setting.span)
        if isinstance(setting, ast.CustomerAccount):
            aux = None if setting.aux is None else self.template(setting.aux)
            return {
                "customer": CustomerPlan(
                    self.account(setting.account),
                    aux,
                    None if setting.name is None else self.template(setting.name),
                    self.where(f"customer account, {origin}", setting.span),
                    personal=aux is not None and not is_constant(aux),
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
        conditions: list[ast.Condition] = []
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
                conditions.append(stmt.condition)
                rules.append(
                    RulePlan(
                        stmt.name.value,
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
            matching_rules=expressions.matching_indexes(self.scope, self.set_value, conditions),
        )


def compile_plan(rules: ast.RuleFile, scope: Scope) -> Plan:
    """Compile a checked rule file."""
    return Compiler(rules, scope).compile()
