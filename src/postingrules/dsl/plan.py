"""The compiled form of a ruleset: what the engine walks for every document.

A plan holds no AST: conditions, values and table keys are functions generated over a
:class:`Context` (see :mod:`postingrules.dsl.expressions`), templates are compiled
renderers, decision tables answer from a dict keyed by the tuple of their key values
(first-match-wins is computed once per distinct key, then remembered), and every output
carries its provenance string for ``--explain`` and the exports' metadata.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from postingrules.model.documents import Line


class Context(msgspec.Struct, gc=False):
    """What a condition, value or template sees: the document, the current line, the regime.

    A msgspec Struct rather than a dataclass: one is made per document, and a Struct is built
    in C, where a dataclass runs a Python ``__init__``.  It holds no cycles (``gc=False``)."""

    doc: Any
    line: Line | None = None
    regime: str | None = None


Getter = Callable[[Context], Any]
Predicate = Callable[[Context], bool]
Renderer = Callable[[Context], str]


class AccountError(ValueError):
    """A templated account that renders longer than ``account length``, or empty."""


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """An account number: constant (normalised at compile time) or a template."""

    render: Renderer
    length: int | None
    constant: str | None = None

    def __call__(self, ctx: Context) -> str:
        if self.constant is not None:
            return self.constant
        return normalise_account(self.render(ctx), self.length)


def normalise_account(number: str, length: int | None) -> str:
    """Pad an account on the right with zeros (411 → 41100000); longer is an error."""
    number = number.strip()
    if not number:
        raise AccountError("an account number renders empty")
    if length is None:
        return number
    if len(number) > length:
        raise AccountError(
            f'account "{number}" has {len(number)} characters, more than the account length {length}'
        )
    return number.ljust(length, "0")


@dataclass(frozen=True, slots=True)
class RowPlan:
    """One table row: a matcher per key (``None`` = ``*``) and its outputs or refusal."""

    matchers: tuple[frozenset[Any] | None, ...]
    outputs: dict[str, Any]
    refuse: Renderer | None
    provenance: str
    pure: bool = False  # outputs depend only on the table's key values

    def matches(self, key: tuple[Any, ...]) -> bool:
        return all(m is None or v in m for m, v in zip(self.matchers, key, strict=True))


@dataclass(slots=True)
class TablePlan:
    """A decision table: first matching row wins; results cached per distinct key tuple."""

    name: str
    key_names: tuple[str, ...]
    key: Callable[[Context], tuple[Any, ...]]
    """The tuple of key values of a document (and its current line)."""
    rows: tuple[RowPlan, ...]
    provenance: str
    cache: dict[tuple[Any, ...], RowPlan | None] = field(default_factory=dict)

    def lookup(self, key: tuple[Any, ...]) -> RowPlan | None:
        try:
            return self.cache[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable key value: scan without caching
            return next((r for r in self.rows if r.matches(key)), None)
        row = next((r for r in self.rows if r.matches(key)), None)
        if len(self.cache) < 65536:
            self.cache[key] = row
        return row

    def describe_key(self, key: tuple[Any, ...]) -> str:
        return ", ".join(
            f"{n}={'(empty)' if v is None else v}" for n, v in zip(self.key_names, key, strict=True)
        )


@dataclass(frozen=True, slots=True)
class RegimePlan:
    decide: Callable[[Context], str | None]
    """The regime of the first row whose condition holds, ``None`` when no row does."""
    provenance: str


@dataclass(frozen=True, slots=True)
class CustomerPlan:
    account: AccountPlan
    aux: Renderer | None
    name: Renderer | None
    provenance: str
    personal: bool = False
    """The aux account is the customer's own (its template reads the document): the entry
    then carries the customer's details for the customers file."""


@dataclass(frozen=True, slots=True)
class SplitPlan:
    with_vat: AccountPlan
    without_vat: AccountPlan
    provenance: str


@dataclass(frozen=True, slots=True)
class Provenanced:
    """A setting value with where it was written."""

    value: Any
    provenance: str


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings that shape one document's entry; rules replace some of them."""

    journal: Provenanced | None = None
    date: tuple[Getter, ...] = ()
    date_names: tuple[str, ...] = ()
    piece: Renderer | None = None
    reference: Renderer | None = None
    label: Renderer | None = None
    analytic: Renderer | None = None
    customer: CustomerPlan | TablePlan | None = None
    shipping: SplitPlan | None = None
    gift_wrap: SplitPlan | None = None
    discount: Provenanced | None = None  # value: AccountPlan, or None for "net"
    gap: tuple[AccountPlan, AccountPlan, str] | None = None
    sales: Provenanced | None = None  # AccountPlan overriding the vat table
    tax: Provenanced | None = None
    code: Provenanced | None = None  # Renderer
    refuse: Provenanced | None = None  # Renderer


@dataclass(frozen=True, slots=True)
class RulePlan:
    name: str
    changes: dict[str, Any]
    provenance: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled ruleset."""

    name: str
    version: str
    currency: str
    account_length: int | None
    tolerance: Decimal
    journals: dict[str, str | None]
    documents: Predicate | None
    documents_provenance: str
    regime: RegimePlan | None
    vat: TablePlan | None
    payment: TablePlan | None
    settings: dict[str, Settings]  # per document kind, before rules
    rules: tuple[RulePlan, ...]
    matching_rules: Callable[[Context], tuple[int, ...]]
    """The indexes of the rules whose condition holds for a document, in order."""
    variants: dict[tuple[str, tuple[int, ...]], Variant] = field(default_factory=dict)
    """Settings per (document kind, indexes of the rules that apply), built on first use."""

    def variant(self, kind: str, matched: tuple[int, ...]) -> Variant | None:
        """The settings of a ``kind`` document once the ``matched`` rules apply, in order.

        Documents that the same rules match share one :class:`Variant`, so applying rules
        costs a dict look-up and their lines share one resolution cache.
        """
        found = self.variants.get((kind, matched))
        if found is None:
            settings = self.settings.get(kind)
            if settings is None:
                return None
            for index in matched:
                settings = dataclasses.replace(settings, **self.rules[index].changes)
            found = self.variants[kind, matched] = Variant(settings, {})
        return found


@dataclass(frozen=True, slots=True)
class Variant:
    """Settings after rules, and the lines they resolved: per (line kind, vat key), the
    (accounts, code, provenances) of lines whose answer depends on the key alone."""

    settings: Settings
    line_cache: dict[tuple[Any, ...], Any]
