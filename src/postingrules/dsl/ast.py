"""The typed syntax tree of a rule file: what the accountant wrote, with where they wrote it.

Every node is a frozen, slotted dataclass carrying a :class:`Span`, so any later stage (the
checker, the compiler, the engine's provenance) can point back to file, line and column.
The AST says nothing about meaning: names are not resolved here (see ``check``), and the
executable form lives apart in ``plan`` (the AST/plan split of ZEN and cel-python).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import MISSING, dataclass, fields, is_dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a rule file; lines and columns count from 1."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# ---- values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Str:
    """A quoted string; for templates its ``value`` is the template source."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: field path, set, let, journal, named account, country or regime value."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Num:
    value: Decimal
    span: Span


@dataclass(frozen=True, slots=True)
class DateLit:
    value: dt.date
    span: Span


@dataclass(frozen=True, slots=True)
class BadDate:
    """A date literal that is not a calendar date (2026-13-45); the checker reports it."""

    value: str
    span: Span


Value = Str | Name | Num | DateLit | BadDate


# ---- sets ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetRef:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class SetLiteral:
    items: tuple[Str | Name | Num, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SetOp:
    op: str  # "+" or "-"
    left: SetExpr
    right: SetExpr
    span: Span


SetExpr = SetRef | SetLiteral | SetOp


# ---- conditions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Value
    right: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Member:
    operand: Value
    members: SetExpr
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class IsValid:
    operand: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Truthy:
    operand: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition
    span: Span


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Condition, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Condition, ...]
    span: Span


Condition = Compare | Member | IsValid | Truthy | Not | And | Or


# ---- header and declarations ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RulesetDecl:
    name: Str
    version: Str | None
    span: Span


@dataclass(frozen=True, slots=True)
class RequiresDecl:
    version: Num
    span: Span


@dataclass(frozen=True, slots=True)
class CurrencyDecl:
    code: Name
    span: Span


@dataclass(frozen=True, slots=True)
class AccountLengthDecl:
    length: Num
    span: Span


@dataclass(frozen=True, slots=True)
class ToleranceDecl:
    amount: Num
    span: Span


@dataclass(frozen=True, slots=True)
class SetDecl:
    name: Name
    members: SetExpr
    span: Span


@dataclass(frozen=True, slots=True)
class LetDecl:
    name: Name
    chain: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class DocumentsDecl:
    condition: Condition
    span: Span


@dataclass(frozen=True, slots=True)
class JournalDecl:
    code: Name
    label: Str | None
    span: Span


@dataclass(frozen=True, slots=True)
class AccountDecl:
    name: Name
    number: Str
    span: Span


AccountRef = Str | Name


# ---- settings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerAccount:
    account: AccountRef
    aux: Str | None
    name: Str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Split:
    """Accounts for a charge with and without VAT (``with vat A without vat B``) or one for both."""

    with_vat: AccountRef
    without_vat: AccountRef
    span: Span


@dataclass(frozen=True, slots=True)
class ShippingDecl:
    accounts: Split
    span: Span


@dataclass(frozen=True, slots=True)
class GiftWrapDecl:
    accounts: Split
    span: Span


@dataclass(frozen=True, slots=True)
class DiscountDecl:
    account: AccountRef | None  # None: netted against the sales accounts
    span: Span


@dataclass(frozen=True, slots=True)
class GapDecl:
    loss: AccountRef
    gain: AccountRef
    span: Span


@dataclass(frozen=True, slots=True)
class AnalyticDecl:
    template: Str
    span: Span


@dataclass(frozen=True, slots=True)
class SalesSetting:
    account: AccountRef
    span: Span


@dataclass(frozen=True, slots=True)
class TaxSetting:
    account: AccountRef
    span: Span


@dataclass(frozen=True, slots=True)
class CodeSetting:
    code: Str
    span: Span


@dataclass(frozen=True, slots=True)
class RefuseSetting:
    reason: Str
    span: Span


@dataclass(frozen=True, slots=True)
class JournalSetting:
    code: Name
    span: Span


@dataclass(frozen=True, slots=True)
class DateSetting:
    chain: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TextSetting:
    """``piece``, ``reference`` or ``label`` followed by a template."""

    field: str
    template: Str
    span: Span


Setting = (
    CustomerAccount
    | ShippingDecl
    | GiftWrapDecl
    | DiscountDecl
    | GapDecl
    | AnalyticDecl
    | SalesSetting
    | TaxSetting
    | CodeSetting
    | RefuseSetting
    | JournalSetting
    | DateSetting
    | TextSetting
)


# ---- tables --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wildcard:
    span: Span


Pattern = Wildcard | Name | Str | Num


@dataclass(frozen=True, slots=True)
class Output:
    key: Name
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class Refuse:
    reason: Str
    span: Span


@dataclass(frozen=True, slots=True)
class Row:
    patterns: tuple[Pattern, ...]
    outcome: tuple[Output, ...] | Refuse
    span: Span


@dataclass(frozen=True, slots=True)
class TableDecl:
    """``NAME by (keys) { rows }``: first matching row wins; ``customer by`` included."""

    name: Name
    keys: tuple[Name, ...]
    rows: tuple[Row, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class RegimeRow:
    condition: Condition | None  # None: the ``*`` row
    regime: Name
    span: Span


@dataclass(frozen=True, slots=True)
class RegimeDecl:
    rows: tuple[RegimeRow, ...]
    span: Span


# ---- rules, blocks, tests ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleDecl:
    name: Str
    condition: Condition
    settings: tuple[Setting | TableDecl, ...]  # a rule may carry its own `customer by` table
    span: Span


@dataclass(frozen=True, slots=True)
class BlockDecl:
    kind: Name  # sale, refund or payment
    settings: tuple[Setting, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectAmount:
    account: Str
    aux: Str | None
    side: str  # debit or credit
    amount: Num
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectNo:
    account: Str
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectRegime:
    regime: Name
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectJournal:
    journal: Name
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectRefused:
    reason: Str
    span: Span


Expectation = ExpectAmount | ExpectNo | ExpectRegime | ExpectJournal | ExpectRefused


@dataclass(frozen=True, slots=True)
class TestDecl:
    name: Str
    given: Str
    expectations: tuple[Expectation, ...]
    span: Span


Statement = (
    RulesetDecl
    | RequiresDecl
    | CurrencyDecl
    | AccountLengthDecl
    | ToleranceDecl
    | SetDecl
    | LetDecl
    | DocumentsDecl
    | JournalDecl
    | AccountDecl
    | CustomerAccount
    | ShippingDecl
    | GiftWrapDecl
    | DiscountDecl
    | GapDecl
    | AnalyticDecl
    | RegimeDecl
    | TableDecl
    | RuleDecl
    | BlockDecl
    | TestDecl
)


@dataclass(frozen=True, slots=True)
class RuleFile:
    """A parsed rule file: its statements in source order, and its text for excerpts."""

    path: str
    source: str
    statements: tuple[Statement, ...]


def _fast_init(cls: type) -> None:
    """Give a frozen slotted dataclass an ``__init__`` that fills its slots directly.

    A frozen dataclass's own ``__init__`` calls ``object.__setattr__`` for every field (it must
    get past the ``__setattr__`` that freezes it); calling each slot's descriptor instead is
    ~30% faster, and a 500-row table builds ~12 000 nodes and spans.  Same signature, same
    frozen, hashable, comparable class: only the constructor's body changes.
    """
    names = [f.name for f in fields(cls)]
    assert all(f.default is MISSING and f.default_factory is MISSING for f in fields(cls)), (
        cls
    )  # no defaults to carry over
    namespace = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    exec(f"def __init__(self, {', '.join(names)}):\n{body}", namespace)  # as dataclasses does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]


for _cls in list(globals().values()):
    if isinstance(_cls, type) and _cls.__module__ == __name__ and is_dataclass(_cls):
        _fast_init(_cls)
del _cls
