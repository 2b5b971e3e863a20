"""Rule-file text → AST, with Lark's LALR parser and one transformer.

The grammar is loaded once from package data (``postingrules/grammar/postingrules.lark``,
the top-level ``grammar/`` folder shipped inside the wheel); no parser cache is ever written
into the package.  Syntax errors become :class:`Diagnostic` values that name what was
expected in the accountant's words (``"->"``, a string), never Lark's internal names.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from postingrules.dsl import ast
from postingrules.dsl.diagnostics import Diagnostic


@functools.cache
def grammar_text() -> str:
    """The grammar's source, from the installed package."""
    return (resources.files("postingrules") / "grammar" / "postingrules.lark").read_text("utf-8")


@functools.cache
def parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False)


# Tokens that only structure the text; the transformer drops them.
_PUNCTUATION = {"ARROW", "EQUAL", "COMMA", "LBRACE", "RBRACE", "LPAR", "RPAR"}


def _token_span(file: str, tok: Token) -> ast.Span:
    return ast.Span(
        file,
        tok.line or 0,
        tok.column or 0,
        tok.end_line or tok.line or 0,
        tok.end_column or (tok.column or 0) + len(tok),
    )


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    out = []
    it = iter(body)
    for ch in it:
        if ch == "\\":
            nxt = next(it, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """Builds AST nodes; each method receives the rule's children and its source span."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file

    # -- helpers --
    def _span(self, meta: Meta) -> ast.Span:
        if getattr(meta, "empty", True):
            return ast.Span(self.file, 0, 0, 0, 0)
        return ast.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    @staticmethod
    def _keep(children: list[Any]) -> list[Any]:
        """Children that carry meaning: drop keywords and punctuation tokens."""
        return [c for c in children if not isinstance(c, Token)]

    # -- terminals become values --
    def STRING(self, tok: Token) -> ast.Str:
        return ast.Str(_unquote(str(tok)), _token_span(self.file, tok))

    def NAME(self, tok: Token) -> ast.Name:
        return ast.Name(str(tok), _token_span(self.file, tok))

    def NUMBER(self, tok: Token) -> ast.Num:
        return ast.Num(Decimal(str(tok)), _token_span(self.file, tok))

    def DATE_LIT(self, tok: Token) -> ast.DateLit | ast.BadDate:
        try:
            return ast.DateLit(dt.date.fromisoformat(str(tok)), _token_span(self.file, tok))
        except ValueError:
            # Kept so the checker reports it with its position (`bad-date`).
            return ast.BadDate(str(tok), _token_span(self.file, tok))

    # -- statements --
    def start(self, meta: Meta, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def ruleset_decl(self, meta: Meta, ch: list[Any]) -> ast.RulesetDecl:
        values = self._keep(ch)
        return ast.RulesetDecl(values[0], values[1] if len(values) > 1 else None, self._span(meta))

    def requires_decl(self, meta: Meta, ch: list[Any]) -> ast.RequiresDecl:
        return ast.RequiresDecl(self._keep(ch)[0], self._span(meta))

    def currency_decl(self, meta: Meta, ch: list[Any]) -> ast.CurrencyDecl:
        return ast.CurrencyDecl(self._keep(ch)[0], self._span(meta))

    def account_length_decl(self, meta: Meta, ch: list[Any]) -> ast.AccountLengthDecl:
        return ast.AccountLengthDecl(self._keep(ch)[0], self._span(meta))

    def tolerance_decl(self, meta: Meta, ch: list[Any]) -> ast.ToleranceDecl:
        return ast.ToleranceDecl(self._keep(ch)[0], self._span(meta))

    def set_decl(self, meta: Meta, ch: list[Any]) -> ast.SetDecl:
        name, members = self._keep(ch)
        return ast.SetDecl(name, members, self._span(meta))

    def set_ref(self, meta: Meta, ch: list[Any]) -> ast.SetRef:
        name = self._keep(ch)[0]
        return ast.SetRef(name.value, name.span)

    def set_literal(self, meta: Meta, ch: list[Any]) -> ast.SetLiteral:
        return ast.SetLiteral(tuple(self._keep(ch)), self._span(meta))

    def set_union(self, meta: Meta, ch: list[Any]) -> ast.SetOp:
        left, right = self._keep(ch)
        return ast.SetOp("+", left, right, self._span(meta))

    def set_difference(self, meta: Meta, ch: list[Any]) -> ast.SetOp:
        left, right = self._keep(ch)
        return ast.SetOp("-", left, right, self._span(meta))

    def value_chain(self, meta: Meta, ch: list[Any]) -> tuple[ast.Name, ...]:
        return tuple(self._keep(ch))

    def let_decl(self, meta: Meta, ch: list[Any]) -> ast.LetDecl:
        name, chain = self._keep(ch)
        return ast.LetDecl(name, chain, self._span(meta))

    def documents_decl(self, meta: Meta, ch: list[Any]) -> ast.DocumentsDecl:
        return ast.DocumentsDecl(self._keep(ch)[0], self._span(meta))

    def journal_decl(self, meta: Meta, ch: list[Any]) -> ast.JournalDecl:
        values = self._keep(ch)
        return ast.JournalDecl(values[0], values[1] if len(values) > 1 else None, self._span(meta))

    def account_decl(self, meta: Meta, ch: list[Any]) -> ast.AccountDecl:
        name, number = self._keep(ch)
        return ast.AccountDecl(name, number, self._span(meta))

    # -- settings --
    def customer_account(self, meta: Meta, ch: list[Any]) -> ast.CustomerAccount:
        values = self._keep(ch)
        aux = next((v[1] for v in values[1:] if v[0] == "aux"), None)
        name = next((v[1] for v in values[1:] if v[0] == "name"), None)
        return ast.CustomerAccount(values[0], aux, name, self._span(meta))

    def aux_opt(self, meta: Meta, ch: list[Any]) -> tuple[str, ast.Str]:
        return ("aux", self._keep(ch)[0])

    def name_opt(self, meta: Meta, ch: list[Any]) -> tuple[str, ast.Str]:
        return ("name", self._keep(ch)[0])

    def customer_table(self, meta: Meta, ch: list[Any]) -> ast.TableDecl:
        customer = next(c for c in ch if isinstance(c, Token))
        values = self._keep(ch)
        name = ast.Name("customer", _token_span(self.file, customer))
        return ast.TableDecl(name, values[0], tuple(values[1:]), self._span(meta))

    def split_accounts(self, meta: Meta, ch: list[Any]) -> ast.Split:
        with_vat, without_vat = self._keep(ch)
        return ast.Split(with_vat, without_vat, self._span(meta))

    def single_account(self, meta: Meta, ch: list[Any]) -> ast.Split:
        account = self._keep(ch)[0]
        return ast.Split(account, account, self._span(meta))

    def shipping_decl(self, meta: Meta, ch: list[Any]) -> ast.ShippingDecl:
        return ast.ShippingDecl(self._keep(ch)[0], self._span(meta))

    def gift_wrap_decl(self, meta: Meta, ch: list[Any]) -> ast.GiftWrapDecl:
        return ast.GiftWrapDecl(self._keep(ch)[0], self._span(meta))

    def discount_net(self, meta: Meta, ch: list[Any]) -> ast.DiscountDecl:
        return ast.DiscountDecl(None, self._span(meta))

    def discount_account(self, meta: Meta, ch: list[Any]) -> ast.DiscountDecl:
        return ast.DiscountDecl(self._keep(ch)[0], self._span(meta))

    def gap_decl(self, meta: Meta, ch: list[Any]) -> ast.GapDecl:
        loss, gain = self._keep(ch)
        return ast.GapDecl(loss, gain, self._span(meta))

    def analytic_decl(self, meta: Meta, ch: list[Any]) -> ast.AnalyticDecl:
        return ast.AnalyticDecl(self._keep(ch)[0], self._span(meta))

    def sales_setting(self, meta: Meta, ch: list[Any]) -> ast.SalesSetting:
        return ast.SalesSetting(self._keep(ch)[0], self._span(meta))

    def tax_setting(self, meta: Meta, ch: list[Any]) -> ast.TaxSetting:
        return ast.TaxSetting(self._keep(ch)[0], self._span(meta))

    def code_setting(self, meta: Meta, ch: list[Any]) -> ast.CodeSetting:
        return ast.CodeSetting(self._keep(ch)[0], self._span(meta))

    def refuse_setting(self, meta: Meta, ch: list[Any]) -> ast.RefuseSetting:
        return ast.RefuseSetting(self._keep(ch)[0], self._span(meta))

    def journal_setting(self, meta: Meta, ch: list[Any]) -> ast.JournalSetting:
        return ast.JournalSetting(self._keep(ch)[0], self._span(meta))

    def date_setting(self, meta: Meta, ch: list[Any]) -> ast.DateSetting:
        return ast.DateSetting(self._keep(ch)[0], self._span(meta))

    def _text(self, field: str, meta: Meta, ch: list[Any]) -> ast.TextSetting:
        return ast.TextSetting(field, self._keep(ch)[0], self._span(meta))

    def piece_setting(self, meta: Meta, ch: list[Any]) -> ast.TextSetting:
        return self._text("piece", meta, ch)

    def reference_setting(self, meta: Meta, ch: list[Any]) -> ast.TextSetting:
        return self._text("reference", meta, ch)

    def label_setting(self, meta: Meta, ch: list[Any]) -> ast.TextSetting:
        return self._text("label", meta, ch)

    # -- tables --
    def regime_decl(self, meta: Meta, ch: list[Any]) -> ast.RegimeDecl:
        return ast.RegimeDecl(tuple(self._keep(ch)), self._span(meta))

    def regime_row(self, meta: Meta, ch: list[Any]) -> ast.RegimeRow:
        values = self._keep(ch)
        condition = None if len(values) == 1 else values[0]
        return ast.RegimeRow(condition, values[-1], self._span(meta))

    def table_name(self, meta: Meta, ch: list[Any]) -> ast.Name:
        tok = ch[0]
        return tok if isinstance(tok, ast.Name) else ast.Name(str(tok), _token_span(self.file, tok))

    def keys(self, meta: Meta, ch: list[Any]) -> tuple[ast.Name, ...]:
        return tuple(self._keep(ch))

    def table_decl(self, meta: Meta, ch: list[Any]) -> ast.TableDecl:
        values = self._keep(ch)
        return ast.TableDecl(values[0], values[1], tuple(values[2:]), self._span(meta))

    def row(self, meta: Meta, ch: list[Any]) -> ast.Row:
        values = self._keep(ch)
        return ast.Row(tuple(values[:-1]), values[-1], self._span(meta))

    def wildcard(self, meta: Meta, ch: list[Any]) -> ast.Wildcard:
        return ast.Wildcard(_token_span(self.file, ch[0]))

    def pattern_name(self, meta: Meta, ch: list[Any]) -> ast.Name:
        return ch[0]

    def pattern_string(self, meta: Meta, ch: list[Any]) -> ast.Str:
        return ch[0]

    def pattern_number(self, meta: Meta, ch: list[Any]) -> ast.Num:
        return ch[0]

    def refuse_outcome(self, meta: Meta, ch: list[Any]) -> ast.Refuse:
        return ast.Refuse(self._keep(ch)[0], self._span(meta))

    def outputs(self, meta: Meta, ch: list[Any]) -> tuple[ast.Output, ...]:
        return tuple(self._keep(ch))

    def output(self, meta: Meta, ch: list[Any]) -> ast.Output:
        key, value = ch[0], ch[-1]
        if isinstance(key, Token):
            key = ast.Name(str(key), _token_span(self.file, key))
        return ast.Output(key, value, self._span(meta))

    # -- rules and blocks --
    def rule_decl(self, meta: Meta, ch: list[Any]) -> ast.RuleDecl:
        values = self._keep(ch)
        return ast.RuleDecl(values[0], values[1], tuple(values[2:]), self._span(meta))

    def block_kind(self, meta: Meta, ch: list[Any]) -> ast.Name:
        return ast.Name(str(ch[0]), _token_span(self.file, ch[0]))

    def block_decl(self, meta: Meta, ch: list[Any]) -> ast.BlockDecl:
        values = self._keep(ch)
        return ast.BlockDecl(values[0], tuple(values[1:]), self._span(meta))

    # -- conditions --
    # The grammar's aliases make an `and_`/`or_` node even for a lone operand: unwrap it.
    def or_(self, meta: Meta, ch: list[Any]) -> ast.Condition:
        operands = tuple(self._keep(ch))
        return operands[0] if len(operands) == 1 else ast.Or(operands, self._span(meta))

    def and_(self, meta: Meta, ch: list[Any]) -> ast.Condition:
        operands = tuple(self._keep(ch))
        return operands[0] if len(operands) == 1 else ast.And(operands, self._span(meta))

    def not_(self, meta: Meta, ch: list[Any]) -> ast.Not:
        return ast.Not(self._keep(ch)[0], self._span(meta))

    def compare(self, meta: Meta, ch: list[Any]) -> ast.Compare:
        left, op, right = ch
        return ast.Compare(str(op), left, right, self._span(meta))

    def member(self, meta: Meta, ch: list[Any]) -> ast.Member:
        operand, members = self._keep(ch)
        return ast.Member(operand, members, False, self._span(meta))

    def not_member(self, meta: Meta, ch: list[Any]) -> ast.Member:
        operand, members = self._keep(ch)
        return ast.Member(operand, members, True, self._span(meta))

    def is_valid(self, meta: Meta, ch: list[Any]) -> ast.IsValid:
        return ast.IsValid(self._keep(ch)[0], self._span(meta))

    def truthy(self, meta: Meta, ch: list[Any]) -> ast.Truthy:
        return ast.Truthy(self._keep(ch)[0], self._span(meta))

    def field_operand(self, meta: Meta, ch: list[Any]) -> ast.Name:
        return ch[0]

    def string_operand(self, meta: Meta, ch: list[Any]) -> ast.Str:
        return ch[0]

    def number_operand(self, meta: Meta, ch: list[Any]) -> ast.Num:
        return ch[0]

    def date_operand(self, meta: Meta, ch: list[Any]) -> ast.DateLit | ast.BadDate:
        return ch[0]

    # -- tests --
    def test_decl(self, meta: Meta, ch: list[Any]) -> ast.TestDecl:
        values = self._keep(ch)
        return ast.TestDecl(values[0], values[1], tuple(values[2:]), self._span(meta))

    def expect_amount(self, meta: Meta, ch: list[Any]) -> ast.ExpectAmount:
        side = next(str(c) for c in ch if isinstance(c, Token) and c.type == "SIDE")
        values = self._keep(ch)
        aux = values[1] if len(values) == 3 else None
        return ast.ExpectAmount(values[0], aux, side, values[-1], self._span(meta))

    def expect_no(self, meta: Meta, ch: list[Any]) -> ast.ExpectNo:
        return ast.ExpectNo(self._keep(ch)[0], self._span(meta))

    def expect_regime(self, meta: Meta, ch: list[Any]) -> ast.ExpectRegime:
        return ast.ExpectRegime(self._keep(ch)[0], self._span(meta))

    def expect_journal(self, meta: Meta, ch: list[Any]) -> ast.ExpectJournal:
        return ast.ExpectJournal(self._keep(ch)[0], self._span(meta))

    def expect_refused(self, meta: Meta, ch: list[Any]) -> ast.ExpectRefused:
        return ast.ExpectRefused(self._keep(ch)[0], self._span(meta))


@functools.cache
def _display_names() -> dict[str, str]:
    """Terminal name → how to show it to a person (`"->"`, `a string`)."""
    shown = {
        "NAME": "a name",
        "STRING": "a string",
        "NUMBER": "a number",
        "DATE_LIT": "a date (YYYY-MM-DD)",
        "COMPARE": "a comparison (== != < <= > >=)",
        "SIDE": '"debit" or "credit"',
        "$END": "the end of the file",
    }
    for term in parser().terminals:
        if term.name not in shown and term.pattern.type == "str":
            shown[term.name] = f'"{term.pattern.value}"'
    return shown


def _expected(names: set[str]) -> str:
    """The expected tokens, closing brace first: inside a block it is the likeliest fix."""
    shown = sorted({_display_names().get(n, n) for n in names if not n.startswith("_")})
    if '"}"' in shown:
        shown = ['"}"', *(s for s in shown if s != '"}"')]
    if len(shown) > 8:
        shown = [*shown[:8], "…"]
    return ", ".join(shown)


def _bare(shown: str) -> str:
    """`a name` → `name`, for "unexpected name `x`"."""
    return shown.removeprefix("a ").removeprefix("an ")


_STRINGS_AND_COMMENTS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def _end_hint(source: str) -> str | None:
    """Suggest a missing `}` only when a brace is really left open."""
    code = _STRINGS_AND_COMMENTS.sub("", source)
    if code.count("{") > code.count("}"):
        return "a block opened with `{` is missing its `}`"
    return None


def _before(source: str, tok: Token) -> str:
    """The text of the token's line before it, for hints that quote what was written."""
    lines = source.splitlines()
    line = lines[tok.line - 1] if tok.line and tok.line <= len(lines) else ""
    return line[: (tok.column or 1) - 1]


def _syntax_diagnostic(file: str, exc: UnexpectedInput, source: str) -> Diagnostic:
    line, column = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        char = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
        hint = "strings are written between double quotes" if char in "'«“" else None
        span = ast.Span(file, line, column, line, column + 1)
        return Diagnostic(
            "unexpected-character", "error", span, f"unexpected character {char!r}", hint
        )
    if isinstance(exc, UnexpectedEOF):
        lines = source.splitlines() or [""]
        span = ast.Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
        return Diagnostic(
            "unexpected-end",
            "error",
            span,
            f"the file ends too early; expected {_expected(set(exc.expected))}",
            _end_hint(source),
        )
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    if tok.type == "$END":
        lines = source.splitlines() or [""]
        span = ast.Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
        return Diagnostic(
            "unexpected-end",
            "error",
            span,
            f"the file ends too early; expected {_expected(exc.expected)}",
            _end_hint(source),
        )
    span = _token_span(file, tok)
    expected = exc.expected
    hint = None
    before = _before(source, tok)
    if tok.type == "NAME" and "COMMA" in expected and "RPAR" in expected:
        keys = before[before.rfind("(") + 1 :].strip()
        hint = f"separate the keys with commas: ({keys}, {tok})"
    elif "COMMA" in expected and "ARROW" in expected and re.search(r"\w+\s*$", before):
        if re.search(r"->.*\S\s+\w+\s*$", before):
            hint = "separate the outputs of a row with commas"
    elif tok.type == "NAME" and "STRING" in expected:
        hint = f'write it as a quoted string: "{tok}"'
    return Diagnostic(
        "syntax-error",
        "error",
        span,
        f"unexpected {_bare(_display_names().get(tok.type, tok.type))} `{tok}`; "
        f"expected {_expected(expected)}",
        hint,
    )


def parse(source: str, file: str = "<rules>") -> tuple[ast.RuleFile | None, list[Diagnostic]]:
    """Parse rule-file text; return the AST, or ``None`` and the syntax diagnostic."""
    try:
        tree = parser().parse(source)
    except UnexpectedInput as exc:
        return None, [_syntax_diagnostic(file, exc, source)]
    statements = _ToAst(file).transform(tree)
    return ast.RuleFile(file, source, statements), []
