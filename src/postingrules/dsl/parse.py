"""Rule-file text → AST, with Lark's LALR parser building the AST as it parses.

The grammar is loaded once from package data (``postingrules/grammar/postingrules.lark``,
the top-level ``grammar/`` folder shipped inside the wheel); no parser cache is ever written
into the package.  Syntax errors become :class:`Diagnostic` values that name what was
expected in the accountant's words (``"->"``, a string), never Lark's internal names.

Speed (a 500-row table must compile in well under 50 ms): the transformer runs *inside* the
LALR parser (Lark's ``transformer=``), so no parse tree is built and walked; spans come from
the first and last child of each rule (tokens carry their positions), which is what Lark's
``propagate_positions`` computed.  Lark's contextual lexer and LALR parser run as one loop over
Lark's own tables (:class:`_Driver`); a syntax error is left to Lark itself, so errors are
exactly Lark's.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import sys
import threading
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import ContextualLexer
from lark.parsers.lalr_analysis import Shift

from postingrules.dsl import ast
from postingrules.dsl.diagnostics import Diagnostic


@functools.cache
def grammar_text() -> str:
    """The grammar's source, from the installed package."""
    return (resources.files("postingrules") / "grammar" / "postingrules.lark").read_text("utf-8")


@functools.cache
def parser() -> Lark:
    """The LALR parser, with :class:`_ToAst` inline: ``parse`` returns the statements.

    Building the LALR tables takes ~150 ms; Lark keeps them in a cache file (see
    :func:`_cache_file`) that loads in ~10 ms, and checks it against the grammar, the
    options and the Lark and Python versions before use, rebuilding it on any mismatch.
    """
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        transformer=_ToAst(),
        maybe_placeholders=False,
        cache=_cache_file() or False,
    )


def _cache_file() -> str | None:
    """The parser cache: in the user's cache directory, never inside the installed package.

    Named after the grammar, Lark and Python, so versions installed side by side do not
    overwrite each other's.  ``None`` (no cache, the parser is built each time) when the
    directory cannot be created; a cache that cannot be read or written is skipped by Lark.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    key = f"{grammar_text()}\0{lark_version}\0{sys.version_info[:2]}\0contextual"
    name = f"parser-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lark"
    try:
        folder = Path(base) / "postingrules"
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # read-only or missing home
        return None
    return str(folder / name)


# One parser (and so one transformer) serves every file: the lock keeps its `file` right.
_PARSING = threading.Lock()


_LexTable = tuple[re.Pattern[str], re.Pattern[str], dict[str, dict[str, str]]]
"""A parser state's token expression, its ignored text, and {terminal: {keyword: type}}."""


class _Driver:
    """Lark's LALR parser and contextual lexer, run by one loop over Lark's own tables.

    Lark lexes and parses in two layers: a lexer generator yields each token to
    ``feed_token``, which looks the parser state's action up, and on every reduction finds
    the rule's callback by hashing and comparing ``Rule`` objects in Python.  For a 500-row
    table (6,000 tokens) those layers, not the grammar, were most of the parse time.  This
    loop makes the same moves with the same tables: the terminals each parser state accepts
    (taken from Lark's per-state lexers, in their order of preference, with the same
    keyword rule) compiled into one expression per state that also skips the whitespace and
    comments in front of the token; the same shift/reduce actions; the same callbacks,
    found once per rule object.

    It only ever parses text Lark accepts: where a state has no token or no action (a
    syntax error), it gives up and :func:`parse` asks Lark itself, which raises exactly the
    error it always raised.  Skipping ignored text first is exact because no terminal can
    begin with whitespace or ``#``; each token lies on one line (STRING and COMMENT exclude
    newlines), which keeps line counting to the skipped text.
    """

    def __init__(self, lark: Lark) -> None:
        frontend = lark.parser
        lexer = frontend.lexer
        assert isinstance(lexer, ContextualLexer) and not frontend.lexer_conf.postlex
        assert not frontend.lexer_conf.callbacks and not frontend.lexer_conf.g_regex_flags
        tables = frontend.parser.parser
        self.lexers = lexer.lexers
        self.states = tables.parse_table.states
        self.start = tables.parse_table.start_states["start"]
        self.end = tables.parse_table.end_states["start"]
        self.callbacks = tables.callbacks
        # Compiled the first time a state lexes: a file visits few of the ~340 states.
        self.tables: dict[Any, _LexTable] = {}
        self.by_lexer: dict[int, _LexTable] = {}
        # id(rule) → (children, callback, the rule's name, the rule, kept so its id stays its)
        self.reductions: dict[int, tuple[int, Any, str, Any]] = {}

    def _table(self, state: Any) -> _LexTable:
        lexer = self.lexers[state]  # Lark shares one between states accepting the same
        table = self.by_lexer.get(id(lexer))
        if table is None:
            terminals = lexer.terminals  # type: ignore[attr-defined]  # in order of preference
            ignore = lexer.ignore_types  # type: ignore[attr-defined]
            assert set(ignore) == {"WS", "COMMENT"}
            assert not any(t.pattern.flags for t in terminals)
            assert not (lexer.newline_types - {"WS", "STRING", "COMMENT"})  # type: ignore[attr-defined]
            # Lark's keyword rule (its `_create_unless`): a string terminal that a regular
            # terminal of the same priority matches whole is lexed as that terminal, then
            # retyped (`account`: NAME → ACCOUNT), and leaves the alternation.
            retype: dict[str, dict[str, str]] = {}
            words = [t for t in terminals if t.pattern.type == "str"]
            for regular in (t for t in terminals if t.pattern.type == "re"):
                for word in words:
                    if word.priority == regular.priority and _spells(
                        regular.pattern.to_regexp(), word.pattern.value
                    ):
                        retype.setdefault(regular.name, {}).setdefault(
                            word.pattern.value, word.name
                        )
            keywords = {name for spelled in retype.values() for name in spelled.values()}
            skip = "|".join(t.pattern.to_regexp() for t in terminals if t.name in ignore)
            tokens = "|".join(
                f"(?P<{t.name}>{t.pattern.to_regexp()})"
                for t in terminals
                if t.name not in ignore and t.name not in keywords
            )
            table = self.by_lexer[id(lexer)] = (
                re.compile(f"(?:{skip})*+(?:{tokens})"),
                re.compile(f"(?:{skip})*+"),
                retype,
            )
        self.tables[state] = table
        return table

    def _reduction(self, rule: Any) -> tuple[int, Any, str, Any]:
        found = (len(rule.expansion), self.callbacks[rule], rule.origin.name, rule)
        self.reductions[id(rule)] = found
        return found

    def parse(self, text: str) -> Any:
        """What Lark's ``parse`` returns for ``text``, or ``_GIVE_UP`` where Lark would raise."""
        states, tables, reductions, callbacks = (
            self.states,
            self.tables,
            self.reductions,
            self.callbacks,
        )
        state_stack, value_stack = [self.start], []
        end = len(text)
        pos, line, line_start = 0, 1, 0
        new = str.__new__
        while True:
            try:
                expression, trailing, retype = tables[state_stack[-1]]
            except KeyError:
                expression, trailing, retype = self._table(state_stack[-1])
            match = expression.match(text, pos, end)
            if match is None:
                if trailing.match(text, pos, end).end() != end:  # type: ignore[union-attr]
                    return _GIVE_UP  # no token here: a syntax error
                kind, token = "$END", None
            else:
                kind = match.lastgroup
                start, stop = match.span(kind)
                if start != pos:  # skipped whitespace or comments
                    newlines = text.count("\n", pos, start)
                    if newlines:
                        line += newlines
                        line_start = text.rindex("\n", pos, start) + 1
                pos = stop
                value = text[start:pos]
                if kind in retype:
                    kind = retype[kind].get(value, kind)
                token = new(Token, value)
                token.type = kind
                token.value = value
                token.start_pos = start
                token.line = token.end_line = line
                token.column = start - line_start + 1
                token.end_column = pos - line_start + 1
                token.end_pos = pos
            while True:  # reduce as many times as the token calls for, then shift it
                action = states[state_stack[-1]].get(kind)
                if action is None:
                    return _GIVE_UP  # the state does not take this token: a syntax error
                if action[0] is Shift:
                    if token is None:  # Lark never shifts the end of text: leave it to Lark
                        return _GIVE_UP
                    state_stack.append(action[1])
                    value_stack.append(callbacks[kind](token) if kind in callbacks else token)
                    break
                rule = action[1]
                size, callback, origin, _ = reductions.get(id(rule)) or self._reduction(rule)
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                state_stack.append(states[state_stack[-1]][origin][1])
                value_stack.append(callback(children))
                if token is None and state_stack[-1] == self.end:
                    return value_stack[-1]


_GIVE_UP = object()


@functools.cache
def _driver() -> _Driver:
    return _Driver(parser())


@functools.cache
def _spells(pattern: str, word: str) -> bool:
    """Whether a regular terminal's pattern matches the whole of a keyword."""
    match = re.match(pattern, word)
    return match is not None and match.group(0) == word


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


class _ToAst:
    """Builds AST nodes inside the parser; each method receives the rule's children.

    Lark calls the method named after each rule (or alias) and each terminal; a plain class,
    not a ``lark.Transformer``, so the rules without a method (Lark's ``x*`` helpers) get a
    bare Tree for Lark to splice into their parent, without a ``__default__`` hop.  A
    rule's span runs from its first child to its last (tokens, AST nodes, or tuples of
    nodes such as a row's outputs), as Lark's ``propagate_positions`` would compute it.
    """

    file = "<rules>"  # set by `parse` for each file, under `_PARSING`

    # -- helpers --
    def _span(self, ch: list[Any]) -> ast.Span:
        first, last = ch[0], ch[-1]
        while type(first) is tuple:
            first = first[0]
        while type(last) is tuple:
            last = last[-1]
        if isinstance(first, Token):
            line, column = first.line, first.column
        else:
            line, column = first.span.line, first.span.column
        if isinstance(last, Token):
            return ast.Span(self.file, line, column, last.end_line, last.end_column)
        end = last.span
        return ast.Span(self.file, line, column, end.end_line, end.end_column)

    @staticmethod
    def _keep(children: list[Any]) -> list[Any]:
        """Children that carry meaning: drop keywords and punctuation tokens."""
        return [c for c in children if not isinstance(c, Token)]

    # -- terminals become values --
    def _at(self, tok: Token) -> ast.Span:
        """A token's span (the lexer gives every token its four positions)."""
        return ast.Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def STRING(self, tok: Token) -> ast.Str:
        return ast.Str(_unquote(tok.value), self._at(tok))

    def NAME(self, tok: Token) -> ast.Name:
        return ast.Name(tok.value, self._at(tok))

    def NUMBER(self, tok: Token) -> ast.Num:
        return ast.Num(Decimal(tok.value), self._at(tok))

    def DATE_LIT(self, tok: Token) -> ast.DateLit | ast.BadDate:
        try:
            return ast.DateLit(dt.date.fromisoformat(str(tok)), _token_span(self.file, tok))
        except ValueError:
            # Kept so the checker reports it with its position (`bad-date`).
            return ast.BadDate(str(tok), _token_span(self.file, tok))

    # -- statements --
    def start(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def ruleset_decl(self, ch: list[Any]) -> ast.RulesetDecl:
        values = self._keep(ch)
        return ast.RulesetDecl(values[0], values[1] if len(values) > 1 else None, self._span(ch))

    def requires_decl(self, ch: list[Any]) -> ast.RequiresDecl:
        return ast.RequiresDecl(self._keep(ch)[0], self._span(ch))

    def currency_decl(self, ch: list[Any]) -> ast.CurrencyDecl:
        return ast.CurrencyDecl(self._keep(ch)[0], self._span(ch))

    def account_length_decl(self, ch: list[Any]) -> ast.AccountLengthDecl:
        return ast.AccountLengthDecl(self._keep(ch)[0], self._span(ch))

    def tolerance_decl(self, ch: list[Any]) -> ast.ToleranceDecl:
        return ast.ToleranceDecl(self._keep(ch)[0], self._span(ch))

    def set_decl(self, ch: list[Any]) -> ast.SetDecl:
        name, members = self._keep(ch)
        return ast.SetDecl(name, members, self._span(ch))

    def set_ref(self, ch: list[Any]) -> ast.SetRef:
        name = self._keep(ch)[0]
        return ast.SetRef(name.value, name.span)

    def set_literal(self, ch: list[Any]) -> ast.SetLiteral:
        return ast.SetLiteral(tuple(self._keep(ch)), self._span(ch))

    def set_union(self, ch: list[Any]) -> ast.SetOp:
        left, right = self._keep(ch)
        return ast.SetOp("+", left, right, self._span(ch))

    def set_difference(self, ch: list[Any]) -> ast.SetOp:
        left, right = self._keep(ch)
        return ast.SetOp("-", left, right, self._span(ch))

    def value_chain(self, ch: list[Any]) -> tuple[ast.Name, ...]:
        return tuple(self._keep(ch))

    def let_decl(self, ch: list[Any]) -> ast.LetDecl:
        name, chain = self._keep(ch)
        return ast.LetDecl(name, chain, self._span(ch))

    def documents_decl(self, ch: list[Any]) -> ast.DocumentsDecl:
        return ast.DocumentsDecl(self._keep(ch)[0], self._span(ch))

    def journal_decl(self, ch: list[Any]) -> ast.JournalDecl:
        values = self._keep(ch)
        return ast.JournalDecl(values[0], values[1] if len(values) > 1 else None, self._span(ch))

    def account_decl(self, ch: list[Any]) -> ast.AccountDecl:
        name, number = self._keep(ch)
        return ast.AccountDecl(name, number, self._span(ch))

    # -- settings --
    def customer_account(self, ch: list[Any]) -> ast.CustomerAccount:
        values = self._keep(ch)
        aux = next((v[1] for v in values[1:] if v[0] == "aux"), None)
        name = next((v[1] for v in values[1:] if v[0] == "name"), None)
        return ast.CustomerAccount(values[0], aux, name, self._span(ch))

    def aux_opt(self, ch: list[Any]) -> tuple[str, ast.Str]:
        return ("aux", self._keep(ch)[0])

    def name_opt(self, ch: list[Any]) -> tuple[str, ast.Str]:
        return ("name", self._keep(ch)[0])

    def customer_table(self, ch: list[Any]) -> ast.TableDecl:
        customer = next(c for c in ch if isinstance(c, Token))
        values = self._keep(ch)
        name = ast.Name("customer", _token_span(self.file, customer))
        return ast.TableDecl(name, values[0], tuple(values[1]), self._span(ch))

    def split_accounts(self, ch: list[Any]) -> ast.Split:
        with_vat, without_vat = self._keep(ch)
        return ast.Split(with_vat, without_vat, self._span(ch))

    def single_account(self, ch: list[Any]) -> ast.Split:
        account = self._keep(ch)[0]
        return ast.Split(account, account, self._span(ch))

    def shipping_decl(self, ch: list[Any]) -> ast.ShippingDecl:
        return ast.ShippingDecl(self._keep(ch)[0], self._span(ch))

    def gift_wrap_decl(self, ch: list[Any]) -> ast.GiftWrapDecl:
        return ast.GiftWrapDecl(self._keep(ch)[0], self._span(ch))

    def discount_net(self, ch: list[Any]) -> ast.DiscountDecl:
        return ast.DiscountDecl(None, self._span(ch))

    def discount_account(self, ch: list[Any]) -> ast.DiscountDecl:
        return ast.DiscountDecl(self._keep(ch)[0], self._span(ch))

    def gap_decl(self, ch: list[Any]) -> ast.GapDecl:
        loss, gain = self._keep(ch)
        return ast.GapDecl(loss, gain, self._span(ch))

    def analytic_decl(self, ch: list[Any]) -> ast.AnalyticDecl:
        return ast.AnalyticDecl(self._keep(ch)[0], self._span(ch))

    def sales_setting(self, ch: list[Any]) -> ast.SalesSetting:
        return ast.SalesSetting(self._keep(ch)[0], self._span(ch))

    def tax_setting(self, ch: list[Any]) -> ast.TaxSetting:
        return ast.TaxSetting(self._keep(ch)[0], self._span(ch))

    def code_setting(self, ch: list[Any]) -> ast.CodeSetting:
        return ast.CodeSetting(self._keep(ch)[0], self._span(ch))

    def refuse_setting(self, ch: list[Any]) -> ast.RefuseSetting:
        return ast.RefuseSetting(self._keep(ch)[0], self._span(ch))

    def journal_setting(self, ch: list[Any]) -> ast.JournalSetting:
        return ast.JournalSetting(self._keep(ch)[0], self._span(ch))

    def date_setting(self, ch: list[Any]) -> ast.DateSetting:
        return ast.DateSetting(self._keep(ch)[0], self._span(ch))

    def _text(self, field: str, ch: list[Any]) -> ast.TextSetting:
        return ast.TextSetting(field, self._keep(ch)[0], self._span(ch))

    def piece_setting(self, ch: list[Any]) -> ast.TextSetting:
        return self._text("piece", ch)

    def reference_setting(self, ch: list[Any]) -> ast.TextSetting:
        return self._text("reference", ch)

    def label_setting(self, ch: list[Any]) -> ast.TextSetting:
        return self._text("label", ch)

    # -- tables --
    def regime_decl(self, ch: list[Any]) -> ast.RegimeDecl:
        return ast.RegimeDecl(tuple(self._keep(ch)), self._span(ch))

    def regime_row(self, ch: list[Any]) -> ast.RegimeRow:
        values = self._keep(ch)
        condition = None if len(values) == 1 else values[0]
        return ast.RegimeRow(condition, values[-1], self._span(ch))

    def table_name(self, ch: list[Any]) -> ast.Name:
        tok = ch[0]
        return tok if isinstance(tok, ast.Name) else ast.Name(str(tok), _token_span(self.file, tok))

    def keys(self, ch: list[Any]) -> tuple[ast.Name, ...]:
        return tuple(self._keep(ch))

    def table_decl(self, ch: list[Any]) -> ast.TableDecl:
        values = self._keep(ch)
        return ast.TableDecl(values[0], values[1], tuple(values[2]), self._span(ch))

    # The lists below are built by appending, one reduction per element; the table and row
    # methods freeze them into tuples.
    def rows(self, ch: list[Any]) -> list[ast.Row]:
        if not ch:
            return []
        rows, row = ch
        rows.append(row)
        return rows

    def row(self, ch: list[Any]) -> ast.Row:
        # cells ARROW outputs | cells ARROW REFUSE STRING
        cells, last = ch[0], ch[-1]
        outcome: tuple[ast.Output, ...] | ast.Refuse
        if isinstance(last, list):
            outcome, end = tuple(last), last[-1].span
        else:
            refuse, end = ch[2], last.span
            span = ast.Span(self.file, refuse.line, refuse.column, end.end_line, end.end_column)
            outcome = ast.Refuse(last, span)
        start = cells[0].span
        span = ast.Span(self.file, start.line, start.column, end.end_line, end.end_column)
        return ast.Row(tuple(cells), outcome, span)

    def cells(self, ch: list[Any]) -> list[ast.Pattern]:
        # a cell is `*` (a token) or a name, string or number
        cell = ch[-1]
        if isinstance(cell, Token):
            cell = ast.Wildcard(self._at(cell))
        if len(ch) == 1:
            return [cell]
        cells = ch[0]
        cells.append(cell)
        return cells

    def outputs(self, ch: list[Any]) -> list[ast.Output]:
        # a key is a name or a keyword token (`sales`, `tax`…)
        key, value = ch[-2], ch[-1]
        if isinstance(key, Token):
            key = ast.Name(key.value, self._at(key))
        start, end = key.span, value.span
        span = ast.Span(self.file, start.line, start.column, end.end_line, end.end_column)
        output = ast.Output(key, value, span)
        if len(ch) == 2:
            return [output]
        outputs = ch[0]
        outputs.append(output)
        return outputs

    # -- rules and blocks --
    def rule_decl(self, ch: list[Any]) -> ast.RuleDecl:
        values = self._keep(ch)
        return ast.RuleDecl(values[0], values[1], tuple(values[2:]), self._span(ch))

    def block_kind(self, ch: list[Any]) -> ast.Name:
        return ast.Name(str(ch[0]), _token_span(self.file, ch[0]))

    def block_decl(self, ch: list[Any]) -> ast.BlockDecl:
        values = self._keep(ch)
        return ast.BlockDecl(values[0], tuple(values[1:]), self._span(ch))

    # -- conditions --
    # The grammar's aliases make an `and_`/`or_` node even for a lone operand: unwrap it.
    def or_(self, ch: list[Any]) -> ast.Condition:
        operands = tuple(self._keep(ch))
        return operands[0] if len(operands) == 1 else ast.Or(operands, self._span(ch))

    def and_(self, ch: list[Any]) -> ast.Condition:
        operands = tuple(self._keep(ch))
        return operands[0] if len(operands) == 1 else ast.And(operands, self._span(ch))

    def atom_cond(self, ch: list[Any]) -> ast.Condition:
        """`( condition )`: the condition itself (the parentheses only group)."""
        return ch[1]

    def not_(self, ch: list[Any]) -> ast.Not:
        return ast.Not(self._keep(ch)[0], self._span(ch))

    def compare(self, ch: list[Any]) -> ast.Compare:
        left, op, right = ch
        return ast.Compare(str(op), left, right, self._span(ch))

    def member(self, ch: list[Any]) -> ast.Member:
        operand, members = self._keep(ch)
        return ast.Member(operand, members, False, self._span(ch))

    def not_member(self, ch: list[Any]) -> ast.Member:
        operand, members = self._keep(ch)
        return ast.Member(operand, members, True, self._span(ch))

    def is_valid(self, ch: list[Any]) -> ast.IsValid:
        return ast.IsValid(self._keep(ch)[0], self._span(ch))

    def truthy(self, ch: list[Any]) -> ast.Truthy:
        return ast.Truthy(self._keep(ch)[0], self._span(ch))

    def field_operand(self, ch: list[Any]) -> ast.Name:
        return ch[0]

    def string_operand(self, ch: list[Any]) -> ast.Str:
        return ch[0]

    def number_operand(self, ch: list[Any]) -> ast.Num:
        return ch[0]

    def date_operand(self, ch: list[Any]) -> ast.DateLit | ast.BadDate:
        return ch[0]

    # -- tests --
    def test_decl(self, ch: list[Any]) -> ast.TestDecl:
        values = self._keep(ch)
        return ast.TestDecl(values[0], values[1], tuple(values[2:]), self._span(ch))

    def expect_amount(self, ch: list[Any]) -> ast.ExpectAmount:
        side = next(str(c) for c in ch if isinstance(c, Token) and c.type == "SIDE")
        values = self._keep(ch)
        aux = values[1] if len(values) == 3 else None
        return ast.ExpectAmount(values[0], aux, side, values[-1], self._span(ch))

    def expect_no(self, ch: list[Any]) -> ast.ExpectNo:
        return ast.ExpectNo(self._keep(ch)[0], self._span(ch))

    def expect_regime(self, ch: list[Any]) -> ast.ExpectRegime:
        return ast.ExpectRegime(self._keep(ch)[0], self._span(ch))

    def expect_journal(self, ch: list[Any]) -> ast.ExpectJournal:
        return ast.ExpectJournal(self._keep(ch)[0], self._span(ch))

    def expect_refused(self, ch: list[Any]) -> ast.ExpectRefused:
        return ast.ExpectRefused(self._keep(ch)[0], self._span(ch))


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
    rules_parser = parser()
    with _PARSING:
        rules_parser.options.transformer.file = file
        try:
            statements = _driver().parse(source)
            if statements is _GIVE_UP:  # a syntax error: Lark's parse raises it
                statements = rules_parser.parse(source)
        except UnexpectedInput as exc:
            return None, [_syntax_diagnostic(file, exc, source)]
    return ast.RuleFile(file, source, statements), []
