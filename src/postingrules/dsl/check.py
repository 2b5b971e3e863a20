"""Semantic checks: every name resolved, every type matched, every table inspected.

The checker walks the AST once, collects *every* diagnostic (never stops at the first), and
builds the :class:`Scope` the compiler needs (sets, lets, journals, named accounts, regimes,
header values).  It never evaluates a document.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pycountry

from postingrules.dsl import ast
from postingrules.dsl.diagnostics import Diagnostic, Severity, did_you_mean
from postingrules.dsl.fields import COMMERCIAL, FIELDS, FieldType, Kind
from postingrules.dsl.template import (
    ParsedTemplate,
    TemplateSyntaxError,
    check_format,
    parse_template,
)

SUPPORTED_MAJOR = 1

# What each table may output, which outputs hold accounts, and which are required.
TABLES: dict[str, dict[str, str]] = {
    "vat": {"sales": "account", "tax": "account", "code": "text"},
    "payment": {"journal": "journal", "bank": "account", "fees": "account"},
    "customer": {"account": "account", "aux": "text", "name": "text"},
}
REQUIRED_OUTPUTS = {"vat": ("sales",), "payment": ("bank",), "customer": ("account",)}
LINE_TABLES = {"vat"}


@functools.cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, plus XI (Northern Ireland for VAT)."""
    return frozenset({c.alpha_2 for c in pycountry.countries} | {"XI"})


@functools.cache
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


ValueType = FieldType | str  # field types, plus "regime"


@dataclass(frozen=True, slots=True)
class NameInfo:
    """What a name used as a value means."""

    type: ValueType
    kinds: frozenset[Kind]
    line_level: bool


@dataclass
class Scope:
    """Everything declared in a rule file, resolved; the compiler's input besides the AST."""

    name: str = ""
    version: str = ""
    currency: str = "EUR"
    account_length: int | None = None
    tolerance: Decimal = Decimal("0")
    sets: dict[str, frozenset[str | Decimal]] = field(default_factory=dict)
    lets: dict[str, ast.LetDecl] = field(default_factory=dict)
    let_info: dict[str, NameInfo] = field(default_factory=dict)
    journals: dict[str, str | None] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    regimes: list[str] = field(default_factory=list)
    has_regime_table: bool = False

    def lookup(self, name: str) -> NameInfo | None:
        if name in FIELDS:
            spec = FIELDS[name]
            return NameInfo(spec.type, spec.kinds, spec.line_level)
        if name in self.let_info:
            return self.let_info[name]
        if name == "regime" and self.has_regime_table:
            return NameInfo("regime", COMMERCIAL, False)
        return None

    def value_names(self) -> list[str]:
        return [*FIELDS, *self.let_info, *(["regime"] if self.has_regime_table else [])]


class Checker:
    """Collects diagnostics over one rule file; see :func:`check`."""

    def __init__(self, rules: ast.RuleFile) -> None:
        self.rules = rules
        self.scope = Scope()
        self.diagnostics: list[Diagnostic] = []
        # A 500-row table repeats templates and points inside strings ~500 times: parse each
        # template text once, split the source into lines once.
        self._templates: dict[str, ParsedTemplate | TemplateSyntaxError] = {}
        self._lines: list[str] | None = None

    # -- reporting --
    def report(
        self,
        code: str,
        span: ast.Span,
        message: str,
        hint: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.diagnostics.append(Diagnostic(code, severity, span, message, hint))

    def warn(self, code: str, span: ast.Span, message: str, hint: str | None = None) -> None:
        self.report(code, span, message, hint, "warning")

    # -- entry point --
    def run(self) -> tuple[Scope, list[Diagnostic]]:
        statements = self.rules.statements
        # Declarations first, so order in the file does not matter for look-ups.
        self._header(statements)
        for stmt in statements:
            if isinstance(stmt, ast.JournalDecl):
                self._journal(stmt)
            elif isinstance(stmt, ast.AccountDecl):
                self._account_decl(stmt)
            elif isinstance(stmt, ast.SetDecl):
                self._set_decl(stmt)
        for stmt in statements:
            if isinstance(stmt, ast.LetDecl):
                self._let(stmt)
        regime_tables = [s for s in statements if isinstance(s, ast.RegimeDecl)]
        if regime_tables:
            self.scope.has_regime_table = True
            for extra in regime_tables[1:]:
                self.report("duplicate-table", extra.span, "the regime table is declared twice")
            self.scope.regimes = list(dict.fromkeys(r.regime.value for r in regime_tables[0].rows))
            self._regime_table(regime_tables[0])
        tables: dict[str, ast.TableDecl] = {}
        blocks: dict[str, ast.BlockDecl] = {}
        rules: dict[str, ast.RuleDecl] = {}
        tests: dict[str, ast.TestDecl] = {}
        customer_defined = False
        for stmt in statements:
            if isinstance(stmt, ast.DocumentsDecl):
                self._condition(stmt.condition, COMMERCIAL | {"payment"}, "`documents when`")
            elif isinstance(stmt, ast.TableDecl):
                if stmt.name.value in tables:
                    self.report(
                        "duplicate-table",
                        stmt.name.span,
                        f"table `{stmt.name.value}` is declared twice",
                        f"the first is at line {tables[stmt.name.value].span.line}",
                    )
                else:
                    tables[stmt.name.value] = stmt
                customer_defined |= stmt.name.value == "customer"
                self._table(stmt)
            elif isinstance(stmt, ast.RuleDecl):
                if stmt.name.value in rules:
                    self.report(
                        "duplicate-rule",
                        stmt.name.span,
                        f'rule "{stmt.name.value}" is declared twice',
                    )
                rules[stmt.name.value] = stmt
                self._condition(
                    stmt.condition, COMMERCIAL | {"payment"}, f'rule "{stmt.name.value}"'
                )
                for setting in stmt.settings:
                    self._setting(setting, COMMERCIAL | {"payment"})
            elif isinstance(stmt, ast.BlockDecl):
                kind = stmt.kind.value
                if kind in blocks:
                    self.report(
                        "duplicate-block", stmt.kind.span, f"the `{kind}` block is declared twice"
                    )
                blocks[kind] = stmt
                self._block(stmt)
            elif isinstance(stmt, ast.TestDecl):
                if stmt.name.value in tests:
                    self.report(
                        "duplicate-test",
                        stmt.name.span,
                        f'test "{stmt.name.value}" is declared twice',
                    )
                tests[stmt.name.value] = stmt
                self._test(stmt)
            elif isinstance(stmt, ast.CustomerAccount):
                customer_defined = True
                self._setting(stmt, COMMERCIAL | {"payment"})
            elif isinstance(
                stmt,
                ast.ShippingDecl
                | ast.GiftWrapDecl
                | ast.DiscountDecl
                | ast.GapDecl
                | ast.AnalyticDecl,
            ):
                self._setting(stmt, COMMERCIAL)
        self._completeness(tables, blocks, customer_defined)
        return self.scope, self.diagnostics

    # -- header --
    def _header(self, statements: tuple[ast.Statement, ...]) -> None:
        seen: dict[type, ast.Statement] = {}
        header_types = (
            ast.RulesetDecl,
            ast.RequiresDecl,
            ast.CurrencyDecl,
            ast.AccountLengthDecl,
            ast.ToleranceDecl,
        )
        for stmt in statements:
            if not isinstance(stmt, header_types):
                continue
            if type(stmt) in seen:
                first = seen[type(stmt)]
                self.report(
                    "duplicate-setting",
                    stmt.span,
                    "this header setting is already given",
                    f"the first is at line {first.span.line}; keep one",
                )
                continue
            seen[type(stmt)] = stmt
            if isinstance(stmt, ast.RulesetDecl):
                self.scope.name = stmt.name.value
                self.scope.version = stmt.version.value if stmt.version else ""
            elif isinstance(stmt, ast.RequiresDecl):
                if int(stmt.version.value) != SUPPORTED_MAJOR:
                    self.report(
                        "unsupported-version",
                        stmt.version.span,
                        f"this rule file requires postingrules {stmt.version.value}, "
                        f"but this is postingrules {SUPPORTED_MAJOR}",
                    )
            elif isinstance(stmt, ast.CurrencyDecl):
                code = stmt.code.value
                if code not in currency_codes():
                    self.report(
                        "unknown-currency",
                        stmt.code.span,
                        f"`{code}` is not an ISO 4217 currency code",
                        did_you_mean(code.upper(), currency_codes()),
                    )
                self.scope.currency = code
            elif isinstance(stmt, ast.AccountLengthDecl):
                length = stmt.length.value
                if length != int(length) or not 3 <= length <= 13:
                    self.report(
                        "bad-account-length",
                        stmt.length.span,
                        f"account length must be a whole number from 3 to 13, not {length}",
                    )
                else:
                    self.scope.account_length = int(length)
            elif isinstance(stmt, ast.ToleranceDecl):
                self.scope.tolerance = stmt.amount.value
        if ast.CurrencyDecl not in seen:
            self.report(
                "missing-currency",
                self._file_span(),
                "the rule file does not say its currency",
                "add `currency EUR`",
            )
        if ast.ToleranceDecl not in seen:
            self.report(
                "missing-tolerance",
                self._file_span(),
                "the rule file does not declare its rounding tolerance",
                "add e.g. `tolerance 0.05`; gaps above it are refused, below it go to the gap accounts",
            )

    def _file_span(self) -> ast.Span:
        return ast.Span(self.rules.path, 1, 1, 1, 2)

    # -- declarations --
    def _journal(self, stmt: ast.JournalDecl) -> None:
        code = stmt.code.value
        if code in self.scope.journals:
            self.report("duplicate-journal", stmt.code.span, f"journal `{code}` is declared twice")
        self.scope.journals[code] = stmt.label.value if stmt.label else None

    def _account_decl(self, stmt: ast.AccountDecl) -> None:
        name = stmt.name.value
        if name in self.scope.accounts:
            self.report("duplicate-name", stmt.name.span, f"account `{name}` is declared twice")
        self._account_literal(stmt.number)
        self.scope.accounts[name] = stmt.number.value

    def _set_decl(self, stmt: ast.SetDecl) -> None:
        name = stmt.name.value
        if name in self.scope.sets:
            self.report("duplicate-name", stmt.name.span, f"set `{name}` is declared twice")
        if name in country_codes():
            self.warn(
                "set-shadows-country",
                stmt.name.span,
                f"set `{name}` has the name of a country code",
                f"rename it so that `{name}` in a table means the country, not the set",
            )
        self.scope.sets[name] = self._set_value(stmt.members)

    def _set_value(self, expr: ast.SetExpr) -> frozenset[str | Decimal]:
        if isinstance(expr, ast.SetRef):
            if expr.name in self.scope.sets:
                return self.scope.sets[expr.name]
            if expr.name in country_codes():
                return frozenset({expr.name})
            self.report(
                "unknown-set",
                expr.span,
                f"unknown set `{expr.name}`",
                did_you_mean(expr.name, self.scope.sets)
                or "declare it with `set NAME = {…}` before use",
            )
            return frozenset()
        if isinstance(expr, ast.SetOp):
            left, right = self._set_value(expr.left), self._set_value(expr.right)
            return left | right if expr.op == "+" else left - right
        items: set[str | Decimal] = set()
        for item in expr.items:
            if isinstance(item, ast.Name):
                if item.value in self.scope.sets:
                    items |= self.scope.sets[item.value]
                elif item.value in country_codes():
                    items.add(item.value)
                else:
                    self._unknown_country(item)
            else:
                items.add(item.value)
        return frozenset(items)

    def _regime_set(self, expr: ast.SetExpr) -> None:
        """`regime in {france oss}`: the names are regime values, not countries."""
        names: list[ast.Name] = []
        if isinstance(expr, ast.SetLiteral):
            names = [i for i in expr.items if isinstance(i, ast.Name)]
        elif isinstance(expr, ast.SetRef):
            names = [ast.Name(expr.name, expr.span)]
        else:
            self.report("type-mismatch", expr.span, "regimes are listed in braces: {france oss}")
        for name in names:
            if name.value not in self.scope.regimes:
                self.report(
                    "unknown-regime",
                    name.span,
                    f"unknown regime `{name.value}`",
                    did_you_mean(name.value, self.scope.regimes),
                )

    def _unknown_country(self, item: ast.Name) -> None:
        hint = "country codes are ISO 3166 alpha-2, upper case (DE, BE, GB)"
        if item.value.upper() in country_codes():
            hint = f"write it in upper case: `{item.value.upper()}`"
        elif item.value == "EL":
            hint = "Greece is GR in ISO 3166 (EL is only its VAT prefix)"
        elif item.value == "UK":
            hint = "the United Kingdom is GB in ISO 3166 (XI for Northern Ireland)"
        self.report(
            "unknown-country", item.span, f"`{item.value}` is not a country code or a set", hint
        )

    def _let(self, stmt: ast.LetDecl) -> None:
        name = stmt.name.value
        if name in FIELDS or name in self.scope.let_info or name == "regime":
            self.report("duplicate-name", stmt.name.span, f"`{name}` is already defined")
            return
        infos = [
            self._value_name(n, COMMERCIAL | {"payment"}, allow_line=True, where="a `let`")
            for n in stmt.chain
        ]
        known = [i for i in infos if i is not None]
        if not known:
            return
        types = {i.type for i in known}
        if len(types) > 1:
            self.report(
                "type-mismatch",
                stmt.span,
                f"`let {name}` mixes values of different types ({', '.join(sorted(types))})",
                "each alternative after `else` must have the same type",
            )
        kinds = frozenset().union(*(i.kinds for i in known))
        self.scope.lets[name] = stmt
        self.scope.let_info[name] = NameInfo(known[0].type, kinds, any(i.line_level for i in known))

    # -- names as values --
    def _value_name(
        self, name: ast.Name, kinds: frozenset[Kind], *, allow_line: bool, where: str
    ) -> NameInfo | None:
        info = self.scope.lookup(name.value)
        if info is None:
            if name.value == "regime":
                self.report(
                    "missing-table",
                    name.span,
                    "`regime` is used but the rule file has no `regime { … }` table",
                    "declare the regime table that decides domestic, oss, export…",
                )
                return None
            self.report(
                "unknown-field",
                name.span,
                f"unknown field `{name.value}`",
                did_you_mean(name.value, self.scope.value_names()),
            )
            return None
        if info.line_level and not allow_line:
            self.report(
                "line-field",
                name.span,
                f"`{name.value}` belongs to a document line and cannot be used in {where}",
                "line fields (tax.rate, tax.country, line.*) work in `vat by (…)` keys and outputs",
            )
        missing = kinds - info.kinds
        if missing and not (info.kinds & kinds):
            self.report(
                "field-not-available",
                name.span,
                f"`{name.value}` is not available for {', '.join(sorted(missing))} documents",
            )
        return info

    def _template(
        self, text: ast.Str, kinds: frozenset[Kind], *, allow_line: bool, where: str
    ) -> None:
        value = text.value
        if "{" not in value and "}" not in value:
            return  # plain text: no slot, nothing malformed
        parsed = self._templates.get(value)
        if parsed is None:
            try:
                parsed = parse_template(value)
            except TemplateSyntaxError as exc:
                parsed = exc
            self._templates[value] = parsed
        if isinstance(parsed, TemplateSyntaxError):
            span = self._inner_span(text, parsed.offset, parsed.length)
            self.report(parsed.code, span, f"{parsed.message} in {where}", parsed.hint)
            return
        for slot in parsed.slots:
            span = self._inner_span(text, slot.offset, len(slot.path))
            info = self._value_name(
                ast.Name(slot.path, span), kinds, allow_line=allow_line, where=where
            )
            if info is not None and slot.format:
                problem = check_format(slot.format, info.type == "date")
                if problem:
                    self.report("bad-format", span, problem)

    def _inner_span(self, text: ast.Str, offset: int, length: int) -> ast.Span:
        """Span of a part of a string literal, counted in the source as written.

        ``offset`` counts characters of the unescaped value; each backslash escape before it
        takes one more column in the source (+1 for the opening quote).
        """
        if self._lines is None:
            self._lines = self.rules.source.splitlines()
        lines = self._lines
        raw = lines[text.span.line - 1][text.span.column :] if text.span.line <= len(lines) else ""
        index = column = 0
        while index < offset and column < len(raw):
            column += 2 if raw[column] == "\\" else 1
            index += 1
        col = text.span.column + 1 + column
        return ast.Span(text.span.file, text.span.line, col, text.span.line, col + max(1, length))

    # -- accounts --
    def _account_literal(self, text: ast.Str) -> None:
        value = text.value
        if "{" in value:
            return  # templated: checked as a template, its length at run time
        if not value or not value.replace("-", "").isalnum():
            self.report(
                "bad-account",
                text.span,
                f'"{value}" is not an account number',
                "use letters and digits only",
            )
            return
        length = self.scope.account_length
        if length is not None and len(value) > length:
            self.report(
                "account-too-long",
                text.span,
                f'account "{value}" has {len(value)} characters but `account length` is {length}',
                "accounts are padded to the length, never truncated: shorten the number",
            )

    def _account_ref(
        self, ref: ast.AccountRef, kinds: frozenset[Kind], *, allow_line: bool = False
    ) -> None:
        if isinstance(ref, ast.Name):
            if ref.value not in self.scope.accounts:
                self.report(
                    "unknown-account",
                    ref.span,
                    f"unknown account name `{ref.value}`",
                    did_you_mean(ref.value, self.scope.accounts)
                    or f'write the number in quotes ("{ref.value}") or declare `account {ref.value} "…"`',
                )
            return
        self._account_literal(ref)
        if "{" in ref.value:
            self._template(ref, kinds, allow_line=allow_line, where="an account")

    def _journal_ref(self, name: ast.Name) -> None:
        if name.value not in self.scope.journals:
            self.report(
                "unknown-journal",
                name.span,
                f"unknown journal `{name.value}`",
                did_you_mean(name.value, self.scope.journals)
                or f'declare it: journal {name.value} "…"',
            )

    # -- settings --
    def _setting(self, setting: ast.Setting, kinds: frozenset[Kind]) -> None:
        if isinstance(setting, ast.CustomerAccount):
            self._account_ref(setting.account, kinds)
            for text in (setting.aux, setting.name):
                if text is not None:
                    self._template(text, kinds, allow_line=False, where="a customer account")
        elif isinstance(setting, ast.ShippingDecl | ast.GiftWrapDecl):
            self._account_ref(setting.accounts.with_vat, kinds)
            if setting.accounts.without_vat is not setting.accounts.with_vat:
                self._account_ref(setting.accounts.without_vat, kinds)
        elif isinstance(setting, ast.DiscountDecl):
            if setting.account is not None:
                self._account_ref(setting.account, kinds)
        elif isinstance(setting, ast.GapDecl):
            self._account_ref(setting.loss, kinds)
            self._account_ref(setting.gain, kinds)
        elif isinstance(setting, ast.SalesSetting | ast.TaxSetting):
            self._account_ref(setting.account, kinds)
        elif isinstance(setting, ast.AnalyticDecl):
            self._template(setting.template, kinds, allow_line=False, where="an analytic section")
        elif isinstance(setting, ast.CodeSetting):
            self._template(setting.code, kinds, allow_line=False, where="a tax code")
        elif isinstance(setting, ast.RefuseSetting):
            self._template(setting.reason, kinds, allow_line=False, where="a refusal")
        elif isinstance(setting, ast.JournalSetting):
            self._journal_ref(setting.code)
        elif isinstance(setting, ast.DateSetting):
            for name in setting.chain:
                info = self._value_name(name, kinds, allow_line=False, where="a date")
                if info is not None and info.type != "date":
                    self.report(
                        "type-mismatch", name.span, f"`{name.value}` is a {info.type}, not a date"
                    )
        elif isinstance(setting, ast.TextSetting):
            self._template(setting.template, kinds, allow_line=False, where=f"the {setting.field}")
        elif isinstance(setting, ast.TableDecl):  # `customer by … { … }` inside a rule
            self._table(setting)

    def _block(self, block: ast.BlockDecl) -> None:
        kind: Kind = block.kind.value  # type: ignore[assignment]
        kinds = frozenset({kind})
        present = set()
        for setting in block.settings:
            self._setting(setting, kinds)
            present.add(type(setting))
        if ast.DateSetting not in present:
            self.report(
                "missing-date",
                block.kind.span,
                f"the `{kind}` block does not say which date to post on",
                "add e.g. `date invoice.date else order.date`",
            )
        if kind != "payment" and ast.JournalSetting not in present:
            self.report(
                "missing-journal",
                block.kind.span,
                f"the `{kind}` block does not name its journal",
                "add `journal VTE`",
            )

    # -- conditions --
    def _condition(self, cond: ast.Condition, kinds: frozenset[Kind], where: str) -> None:
        if isinstance(cond, ast.And | ast.Or):
            for operand in cond.operands:
                self._condition(operand, kinds, where)
        elif isinstance(cond, ast.Not):
            self._condition(cond.operand, kinds, where)
        elif isinstance(cond, ast.Truthy):
            self._operand(cond.operand, kinds, where)
        elif isinstance(cond, ast.IsValid):
            info = self._operand(cond.operand, kinds, where)
            if info is not None and info != "text":
                self.report(
                    "type-mismatch",
                    cond.span,
                    "`is valid` checks VAT numbers: use it on a text field",
                )
        elif isinstance(cond, ast.Member):
            info = self._operand(cond.operand, kinds, where)
            if info == "regime":
                self._regime_set(cond.members)
                return
            members = self._set_value(cond.members)
            if info in ("country", "text", "regime") and members:
                wants_str = info != "amount"
                if wants_str and any(not isinstance(m, str) for m in members):
                    self.report(
                        "type-mismatch",
                        cond.members.span,
                        "numbers in a set compared with a text value",
                    )
        elif isinstance(cond, ast.Compare):
            self._compare(cond, kinds, where)

    def _operand(self, value: ast.Value, kinds: frozenset[Kind], where: str) -> ValueType | None:
        if isinstance(value, ast.BadDate):
            self.report(
                "bad-date",
                value.span,
                f"`{value.value}` is not a valid date",
                "write dates as 2026-01-31",
            )
            return None
        if isinstance(value, ast.Name):
            info = self._value_name(value, kinds, allow_line=False, where=where)
            return None if info is None else info.type
        if isinstance(value, ast.Str):
            return "text"
        if isinstance(value, ast.Num):
            return "amount"
        return "date"

    def _compare(self, cond: ast.Compare, kinds: frozenset[Kind], where: str) -> None:
        left = self._operand(cond.left, kinds, where)
        right_value = cond.right
        if left is None:
            return
        if isinstance(right_value, ast.Name) and self.scope.lookup(right_value.value) is None:
            # A bare name on the right is a constant: a country code or a regime value.
            if left == "country":
                if right_value.value not in country_codes():
                    self._unknown_country(right_value)
                right: ValueType | None = "country"
            elif left == "regime":
                if right_value.value not in self.scope.regimes:
                    self.report(
                        "unknown-regime",
                        right_value.span,
                        f"unknown regime `{right_value.value}`",
                        did_you_mean(right_value.value, self.scope.regimes),
                    )
                right = "regime"
            else:
                right = self._operand(right_value, kinds, where)
        else:
            right = self._operand(right_value, kinds, where)
        if right is None:
            return
        if isinstance(right_value, ast.Str) and left in ("country", "regime"):
            right = left
        compatible = {left, right} <= {"amount", "rate"} or left == right
        if not compatible:
            self.report(
                "type-mismatch",
                cond.span,
                f"cannot compare {_a(left)} with {_a(right)}",
                {"date": "write dates as 2026-01-31", "text": 'quote text values: "paid"'}.get(
                    left
                ),
            )
        elif cond.op in ("<", "<=", ">", ">=") and left not in ("date", "amount", "rate"):
            self.report(
                "bad-operator", cond.span, f"`{cond.op}` compares dates and amounts, not a {left}"
            )

    # -- tables --
    def _regime_table(self, table: ast.RegimeDecl) -> None:
        wildcard_at: ast.RegimeRow | None = None
        for row in table.rows:
            if wildcard_at is not None:
                self.warn(
                    "unreachable-row",
                    row.span,
                    "this row can never match: the `*` row above always wins",
                    f"move it above line {wildcard_at.span.line}",
                )
            if row.condition is None:
                wildcard_at = wildcard_at or row
            else:
                self._condition(row.condition, COMMERCIAL, "the regime table")
        if wildcard_at is None:
            self.warn(
                "missing-wildcard",
                table.span,
                "the regime table has no `*` row: a document matching no row is refused",
                "add `* -> <regime>` as the last row",
            )

    def _table(self, table: ast.TableDecl) -> None:
        name = table.name.value
        if name not in TABLES:
            self.report(
                "unknown-table",
                table.name.span,
                f"unknown table `{name}`; tables are {', '.join(sorted(TABLES))}",
                did_you_mean(name, TABLES),
            )
            return
        kinds = COMMERCIAL if name == "vat" else COMMERCIAL | {"payment"}
        key_types: list[ValueType | None] = []
        for key in table.keys:
            info = self._value_name(
                key, kinds, allow_line=name in LINE_TABLES, where=f"the keys of table `{name}`"
            )
            key_types.append(None if info is None else info.type)
        allowed = TABLES[name]
        first_of: dict[tuple[object, ...], ast.Row] = {}
        general: list[ast.Row] = []
        for row in table.rows:
            if len(row.patterns) != len(table.keys):
                self.report(
                    "row-arity",
                    row.span,
                    f"this row has {len(row.patterns)} value(s) but table `{name}` has "
                    f"{len(table.keys)} key(s)",
                    f"keys: {', '.join(k.value for k in table.keys)}",
                )
                continue
            for pattern, key_type in zip(row.patterns, key_types, strict=True):
                self._pattern(pattern, key_type)
            if isinstance(row.outcome, ast.Refuse):
                self._template(row.outcome.reason, kinds, allow_line=True, where="a refusal")
            else:
                self._outputs(name, row, allowed, kinds)
            self._row_hygiene(table, row, first_of, general)
        if not any(all(isinstance(p, ast.Wildcard) for p in r.patterns) for r in table.rows):
            self.warn(
                "missing-wildcard",
                table.span,
                f"table `{name}` has no all-`*` row: a document matching no row is refused",
                f'add a last row such as `{", ".join("*" * len(table.keys))} -> refuse "…"` to say why',
            )

    def _pattern(self, pattern: ast.Pattern, key_type: ValueType | None) -> None:
        if isinstance(pattern, ast.Wildcard) or key_type is None:
            return
        if key_type == "country":
            if isinstance(pattern, ast.Name):
                if pattern.value not in self.scope.sets and pattern.value not in country_codes():
                    self._unknown_country(pattern)
                return
        elif key_type == "regime":
            if isinstance(pattern, ast.Name):
                if pattern.value not in self.scope.regimes:
                    self.report(
                        "unknown-regime",
                        pattern.span,
                        f"unknown regime `{pattern.value}`; the regime table gives "
                        f"{', '.join(self.scope.regimes) or 'none'}",
                        did_you_mean(pattern.value, self.scope.regimes),
                    )
                return
        elif key_type in ("rate", "amount"):
            if isinstance(pattern, ast.Num):
                return
        elif key_type == "text":
            if isinstance(pattern, ast.Str):
                return
            if isinstance(pattern, ast.Name):
                self.report(
                    "type-mismatch",
                    pattern.span,
                    f"`{pattern.value}` is a name but this column holds text",
                    f'quote it: "{pattern.value}"',
                )
                return
        else:
            return
        shown = {
            "country": "a country code or set",
            "regime": "a regime name",
            "rate": "a number",
            "amount": "a number",
        }
        self.report(
            "type-mismatch", pattern.span, f"this column expects {shown.get(key_type, key_type)}"
        )

    def _outputs(
        self, table: str, row: ast.Row, allowed: dict[str, str], kinds: frozenset[Kind]
    ) -> None:
        assert not isinstance(row.outcome, ast.Refuse)
        seen: set[str] = set()
        for output in row.outcome:
            key = output.key.value
            if key not in allowed:
                self.report(
                    "unknown-output",
                    output.key.span,
                    f"table `{table}` has no output `{key}`; outputs are {', '.join(allowed)}",
                    did_you_mean(key, allowed),
                )
                continue
            if key in seen:
                self.report(
                    "duplicate-output",
                    output.key.span,
                    f"output `{key}` is given twice in this row",
                )
            seen.add(key)
            role, value = allowed[key], output.value
            if role == "journal":
                if isinstance(value, ast.Name):
                    self._journal_ref(value)
                else:
                    self.report(
                        "type-mismatch",
                        value.span,
                        "a journal is named without quotes, e.g. `journal BQ1`",
                    )
            elif role == "account":
                if isinstance(value, ast.Str | ast.Name):
                    self._account_ref(value, kinds, allow_line=table in LINE_TABLES)
                else:
                    self.report(
                        "type-mismatch", value.span, "an account number is written in quotes"
                    )
            elif isinstance(value, ast.Str):
                self._template(
                    value, kinds, allow_line=table in LINE_TABLES, where=f"output `{key}`"
                )
            else:
                self.report("type-mismatch", value.span, f"output `{key}` is text: quote it")
        for required in REQUIRED_OUTPUTS[table]:
            if required not in seen:
                self.report(
                    "missing-output",
                    row.span,
                    f"this row of table `{table}` does not give `{required}`",
                    f'add `{required} "…"` or make the row `refuse "…"`',
                )

    def _row_hygiene(
        self,
        table: ast.TableDecl,
        row: ast.Row,
        first_of: dict[tuple[object, ...], ast.Row],
        general: list[ast.Row],
    ) -> None:
        """Warn when an earlier row repeats this one or matches everything it matches.

        Only rows with a `*` or a set can cover a different row, so each row is compared with
        those alone, plus one dict look-up for an identical row: a 500-row table of exact
        keys stays linear instead of quadratic.
        """
        key = tuple((type(p).__name__, getattr(p, "value", None)) for p in row.patterns)
        duplicate = first_of.get(key)
        cover = next(
            (
                prev
                for prev in general
                if len(prev.patterns) == len(row.patterns)
                and all(
                    self._covers(a, b) for a, b in zip(prev.patterns, row.patterns, strict=True)
                )
            ),
            None,
        )
        if duplicate is not None and (cover is None or duplicate.span.line <= cover.span.line):
            self.warn(
                "duplicate-row",
                row.span,
                f"this row repeats line {duplicate.span.line} of table `{table.name.value}`",
                "the first row wins; delete one of them",
            )
        elif cover is not None:
            self.warn(
                "unreachable-row",
                row.span,
                f"this row can never match: line {cover.span.line} matches everything it matches",
                "first match wins: move the more specific row above the general one",
            )
        first_of.setdefault(key, row)
        if any(
            isinstance(p, ast.Wildcard) or (isinstance(p, ast.Name) and p.value in self.scope.sets)
            for p in row.patterns
        ):
            general.append(row)

    def _covers(self, general: ast.Pattern, specific: ast.Pattern) -> bool:
        if isinstance(general, ast.Wildcard):
            return True
        if isinstance(specific, ast.Wildcard):
            return False
        if _same(general, specific):
            return True
        if isinstance(general, ast.Name) and general.value in self.scope.sets:
            members = self.scope.sets[general.value]
            if isinstance(specific, ast.Name):
                inner = self.scope.sets.get(specific.value, frozenset({specific.value}))
                return inner <= members
        return False

    # -- tests --
    def _test(self, test: ast.TestDecl) -> None:
        base = Path(self.rules.path).parent
        if not (base / test.given.value).exists():
            self.warn(
                "missing-file",
                test.given.span,
                f'test "{test.name.value}": file "{test.given.value}" not found',
                "paths are relative to the rule file",
            )
        for expectation in test.expectations:
            if (
                isinstance(expectation, ast.ExpectRegime)
                and expectation.regime.value not in self.scope.regimes
            ):
                self.report(
                    "unknown-regime",
                    expectation.regime.span,
                    f"unknown regime `{expectation.regime.value}`",
                    did_you_mean(expectation.regime.value, self.scope.regimes),
                )
            elif isinstance(expectation, ast.ExpectJournal):
                self._journal_ref(expectation.journal)

    # -- whole file --
    def _completeness(
        self, tables: dict[str, ast.TableDecl], blocks: dict[str, ast.BlockDecl], customer: bool
    ) -> None:
        span = self._file_span()
        if ({"sale", "refund"} & blocks.keys()) and "vat" not in tables:
            self.report(
                "missing-table",
                span,
                "sales or refunds are posted but there is no `vat by (…)` table",
                'add e.g. `vat by (tax.country, tax.rate) { FR, 20 -> sales "707200", tax "445720" }`',
            )
        if "payment" in blocks and "payment" not in tables:
            self.report(
                "missing-table",
                blocks["payment"].kind.span,
                "payments are posted but there is no `payment by payment.method { … }` table",
            )
        if blocks and not customer:
            self.report(
                "missing-customer",
                span,
                "no customer account is declared",
                'add `customer account "411000" aux "CLIENTWEB" name "CLIENT WEB"`',
            )
        if not blocks:
            self.warn(
                "no-documents",
                span,
                "the rule file posts nothing: it has no `sale`, `refund` or `payment` block",
            )


def _a(word: str) -> str:
    """The word with its indefinite article: `a date`, `an amount`."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _same(a: ast.Pattern, b: ast.Pattern) -> bool:
    if isinstance(a, ast.Wildcard) or isinstance(b, ast.Wildcard):
        return isinstance(a, ast.Wildcard) and isinstance(b, ast.Wildcard)
    return type(a) is type(b) and a.value == b.value


def check(rules: ast.RuleFile) -> tuple[Scope, list[Diagnostic]]:
    """Check one parsed rule file; return its scope and every diagnostic, sorted by position."""
    scope, diagnostics = Checker(rules).run()
    diagnostics.sort(key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))
    return scope, diagnostics
