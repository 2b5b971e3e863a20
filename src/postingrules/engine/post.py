"""The interpreter: apply a compiled plan to one document and build its entry.

Posting shapes (DESIGN.md): a sale debits the customer with the shop's total and credits one
sales line per (account, tax code, rate) and one VAT line per (account, rate); a refund is
its mirror; a payment debits the bank (and fees) and credits the customer, or the reverse
when money goes back.  The difference between the shop's total and the lines (rounding,
conversion) goes to the gap accounts when within the tolerance, else the document is
refused with the numbers.  Nothing is silently adjusted: every returned entry balances.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from postingrules.dsl.plan import (
    AccountError,
    AccountPlan,
    Context,
    CustomerPlan,
    Plan,
    Settings,
    TablePlan,
)
from postingrules.dsl.template import MissingValueError
from postingrules.model.documents import Payment, Refund, Sale
from postingrules.model.entries import ZERO, Entry, EntryLine, Refusal, Skipped

CENT = Decimal("0.01")
NIL = CENT * 0  # 0.00: zero sides print with two decimals like the other side


class Refused(Exception):
    """Internal signal: the document is refused; turned into a :class:`Refusal` value."""

    def __init__(self, reason: str, context: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.context = context


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def post(plan: Plan, doc: Sale | Refund | Payment) -> Entry | Refusal | Skipped:
    """Post one document: its entry, or why it was refused, or why it was left out."""
    ctx = Context(doc)
    try:
        if plan.documents is not None and not plan.documents(ctx):
            return Skipped(doc.key, doc.kind, f"not selected by the {plan.documents_provenance}")
        settings = plan.settings.get(doc.kind)
        if settings is None:
            raise Refused(f"the ruleset has no `{doc.kind}` block, so it does not post {doc.kind}s")
        for rule in plan.rules:
            if rule.condition(ctx):
                settings = dataclasses.replace(settings, **rule.changes)
        if settings.refuse is not None:
            raise Refused(settings.refuse.value(ctx), (settings.refuse.provenance,))
        if isinstance(doc, Payment):
            return _post_payment(plan, settings, doc, ctx)
        return _post_commercial(plan, settings, doc, ctx)
    except Refused as exc:
        return Refusal(doc.key, doc.kind, exc.reason, exc.context)
    except (MissingValueError, AccountError) as exc:
        return Refusal(doc.key, doc.kind, str(exc))


# -- shared pieces ---------------------------------------------------------------------------


def _rate(plan: Plan, doc: Sale | Refund | Payment) -> Decimal | None:
    """Conversion rate to the ruleset currency, ``None`` when the document is already in it."""
    if doc.currency == plan.currency:
        return None
    if doc.exchange_rate is None:
        raise Refused(
            f"the document is in {doc.currency} but has no exchange_rate to {plan.currency}"
        )
    return doc.exchange_rate


def _date(settings: Settings, ctx: Context) -> dt.date:
    for get in settings.date:
        value = get(ctx)
        if value is not None:
            return value
    raise Refused(f"no date to post on: {' and '.join(settings.date_names) or 'no date'} empty")


def _text(renderer: Any, ctx: Context, default: str) -> str:
    return default if renderer is None else renderer(ctx)


def _customer(settings: Settings, ctx: Context) -> tuple[str, str | None, str | None, str]:
    plan = settings.customer
    if plan is None:
        raise Refused("no customer account is declared")
    if isinstance(plan, CustomerPlan):
        aux = None if plan.aux is None else plan.aux(ctx)
        name = None if plan.name is None else plan.name(ctx)
        return plan.account(ctx), aux, name, plan.provenance
    row = _lookup(plan, ctx)
    aux_r, name_r = row.outputs.get("aux"), row.outputs.get("name")
    return (
        row.outputs["account"](ctx),
        None if aux_r is None else aux_r(ctx),
        None if name_r is None else name_r(ctx),
        row.provenance,
    )


def _lookup(table: TablePlan, ctx: Context) -> Any:
    key = table.key(ctx)
    row = table.lookup(key)
    if row is None:
        raise Refused(f"no row of {table.provenance} matches ({table.describe_key(key)})")
    if row.refuse is not None:
        raise Refused(row.refuse(ctx), (row.provenance,))
    return row


class _Lines:
    """Accumulates signed amounts (positive = debit) per posting key, in first-seen order."""

    __slots__ = ("amounts", "currency", "meta", "rate")

    def __init__(self, rate: Decimal | None, currency: str | None) -> None:
        self.rate = rate
        self.currency = currency if rate is not None else None
        self.amounts: dict[tuple[Any, ...], Decimal] = {}
        self.meta: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(self, key: tuple[Any, ...], amount: Decimal, **meta: Any) -> None:
        if key in self.amounts:
            self.amounts[key] += amount
        else:
            self.amounts[key] = amount
            self.meta[key] = meta

    def build(self, label: str) -> list[EntryLine]:
        lines = []
        for key, amount in self.amounts.items():
            if self.rate is None:
                booked, original = cents(amount), None
            else:
                booked, original = cents(amount * self.rate), amount
            if not booked:
                continue
            meta = self.meta[key]
            lines.append(
                EntryLine(
                    account=meta["account"],
                    debit=booked if booked > 0 else NIL,
                    credit=-booked if booked < 0 else NIL,
                    label=label,
                    aux=meta.get("aux"),
                    aux_name=meta.get("aux_name"),
                    tax_code=meta.get("tax_code"),
                    tax_rate=meta.get("tax_rate"),
                    analytic=meta.get("analytic"),
                    currency_amount=original,
                    currency=self.currency,
                    provenance=meta["provenance"],
                )
            )
        return lines


def _sides(signed: Decimal) -> tuple[Decimal, Decimal]:
    """(debit, credit) of a signed amount, positive meaning debit."""
    return (signed, NIL) if signed > 0 else (NIL, -signed)


def _gap_line(
    plan: Plan, settings: Settings, gap: Decimal, label: str, ctx: Context
) -> EntryLine | None:
    """The line that absorbs ``gap`` (debits minus credits) when within the tolerance."""
    if not gap:
        return None
    if abs(gap) > plan.tolerance:
        raise Refused(
            f"gap of {abs(gap)} {plan.currency} between the shop's total and the posted lines "
            f"is larger than the tolerance of {plan.tolerance} {plan.currency}"
        )
    if settings.gap is None:
        raise Refused(
            f"gap of {abs(gap)} {plan.currency} but the ruleset declares no `gap` accounts"
        )
    loss, gain, provenance = settings.gap
    if gap > 0:  # debits exceed credits: the missing credit is a gain
        return EntryLine(gain(ctx), NIL, gap, label=label, provenance=f"gain, {provenance}")
    return EntryLine(loss(ctx), -gap, NIL, label=label, provenance=f"loss, {provenance}")


# -- sales and refunds -----------------------------------------------------------------------


def _post_commercial(plan: Plan, settings: Settings, doc: Sale | Refund, ctx: Context) -> Entry:
    rate = _rate(plan, doc)
    if plan.regime is not None:
        decided = plan.regime.decide(ctx)
        if decided is None:
            raise Refused(f"no row of the {plan.regime.provenance} matches this document")
        ctx.regime = decided[0]
    if plan.vat is None:
        raise Refused("the ruleset has no `vat` table")
    analytic = None if settings.analytic is None else settings.analytic(ctx)
    # Sales are credits: accumulate in "sale orientation" (credit negative), flip for refunds.
    sign = Decimal(-1) if isinstance(doc, Sale) else Decimal(1)
    sales = _Lines(rate, doc.currency)
    taxes = _Lines(rate, doc.currency)
    for line in doc.lines:
        ctx.line = line
        row = _lookup(plan.vat, ctx)
        code_r = settings.code.value if settings.code else row.outputs.get("code")
        code = None if code_r is None else code_r(ctx)
        account, provenance = _sales_account(settings, row, line.kind, line.tax_rate, ctx)
        sales.add(
            (account, code, line.tax_rate),
            sign * line.total_excl,
            account=account,
            tax_code=code,
            tax_rate=line.tax_rate,
            analytic=analytic,
            provenance=provenance,
        )
        if line.tax_amount:
            tax_plan, tax_where = _tax_account(settings, row)
            if tax_plan is None:
                raise Refused(
                    f"line `{line.label or line.kind}` carries {line.tax_amount} of VAT at "
                    f"{line.tax_rate} % but {row.provenance} gives no `tax` account",
                    (row.provenance,),
                )
            tax_account = tax_plan(ctx)
            taxes.add(
                (tax_account, code, line.tax_rate),
                sign * line.tax_amount,
                account=tax_account,
                tax_code=code,
                tax_rate=line.tax_rate,
                provenance=tax_where,
            )
    ctx.line = None
    label = _text(settings.label, ctx, doc.order_reference or doc.key)
    account, aux, aux_name, customer_where = _customer(settings, ctx)
    total = doc.totals.incl
    booked_total = cents(total if rate is None else total * rate)
    debit, credit = _sides(-sign * booked_total)  # a negative total swaps the sides
    customer = EntryLine(
        account,
        debit,
        credit,
        label=label,
        aux=aux,
        aux_name=aux_name,
        currency_amount=None if rate is None else -sign * total,
        currency=None if rate is None else doc.currency,
        provenance=customer_where,
    )
    lines = [customer, *sales.build(label), *taxes.build(label)]
    balance = sum((ln.debit - ln.credit for ln in lines), ZERO)
    # balance > 0: debits exceed credits → a gain (sale) must be credited, and vice versa.
    gap = _gap_line(plan, settings, balance, label, ctx)
    if gap is not None:
        lines.append(gap)
    if isinstance(doc, Sale):
        piece_default = doc.number or doc.order_reference or doc.key
    else:
        piece_default = doc.number or doc.key
    return Entry(
        journal=settings.journal.value if settings.journal else "",
        journal_label=plan.journals.get(settings.journal.value) if settings.journal else None,
        date=_date(settings, ctx),
        piece=_text(settings.piece, ctx, piece_default),
        reference=_text(settings.reference, ctx, doc.order_reference or ""),
        label=label,
        document_key=doc.key,
        document_kind=doc.kind,
        currency=plan.currency,
        lines=tuple(lines),
        payment_method=None
        if doc.payment_method is None
        else (doc.payment_method.label or doc.payment_method.code),
        metadata={"regime": ctx.regime} if ctx.regime else {},
    )


def _sales_account(
    settings: Settings, row: Any, kind: str, rate: Decimal, ctx: Context
) -> tuple[str, str]:
    """Which account a line's amount excluding tax goes to, and why."""
    split = (
        settings.shipping
        if kind == "shipping"
        else settings.gift_wrap
        if kind == "gift_wrap"
        else None
    )
    if split is not None:
        plan = split.with_vat if rate else split.without_vat
        return plan(ctx), split.provenance
    if kind == "discount" and settings.discount is not None and settings.discount.value is not None:
        return settings.discount.value(ctx), settings.discount.provenance
    if settings.sales is not None:
        return settings.sales.value(ctx), settings.sales.provenance
    return row.outputs["sales"](ctx), row.provenance


def _tax_account(settings: Settings, row: Any) -> tuple[AccountPlan | None, str]:
    if settings.tax is not None:
        return settings.tax.value, settings.tax.provenance
    return row.outputs.get("tax"), row.provenance


# -- payments --------------------------------------------------------------------------------


def _post_payment(plan: Plan, settings: Settings, doc: Payment, ctx: Context) -> Entry:
    rate = _rate(plan, doc)
    if plan.payment is None:
        raise Refused("the ruleset has no `payment` table")
    row = _lookup(plan.payment, ctx)
    fees = doc.fees or ZERO
    fees_plan: AccountPlan | None = row.outputs.get("fees")
    if fees and fees_plan is None:
        raise Refused(
            f"the payment reports {fees} of fees but {row.provenance} gives no `fees` account",
            (row.provenance,),
        )
    journal = row.outputs.get("journal") or (settings.journal.value if settings.journal else None)
    if not journal:
        raise Refused(
            f"no journal for payments: give `journal` in {row.provenance} or the payment block"
        )
    label = _text(settings.label, ctx, doc.order_reference or doc.key)
    account, aux, aux_name, customer_where = _customer(settings, ctx)

    def book(amount: Decimal) -> Decimal:
        return cents(amount if rate is None else amount * rate)

    amount, fee_booked = book(doc.amount), book(fees)
    sign = Decimal(1) if doc.direction == "in" else Decimal(-1)
    original = None if rate is None else doc.currency

    def line(acct: str, signed: Decimal, orig: Decimal, where: str, **extra: Any) -> EntryLine:
        return EntryLine(
            acct,
            signed if signed > 0 else NIL,
            -signed if signed < 0 else NIL,
            label=label,
            currency_amount=None if rate is None else orig,
            currency=original,
            provenance=where,
            **extra,
        )

    lines = [
        line(
            row.outputs["bank"](ctx),
            sign * (amount - fee_booked),
            sign * (doc.amount - fees),
            row.provenance,
        )
    ]
    if fees:
        assert fees_plan is not None
        lines.append(line(fees_plan(ctx), sign * fee_booked, sign * fees, row.provenance))
    lines.append(
        line(
            account, -sign * amount, -sign * doc.amount, customer_where, aux=aux, aux_name=aux_name
        )
    )
    return Entry(
        journal=journal,
        journal_label=plan.journals.get(journal),
        date=_date(settings, ctx),
        piece=_text(settings.piece, ctx, doc.id or doc.key),
        reference=_text(settings.reference, ctx, doc.transaction_id or doc.order_reference or ""),
        label=label,
        document_key=doc.key,
        document_kind="payment",
        currency=plan.currency,
        lines=tuple(lines),
        payment_method=doc.method.label or doc.method.code,
    )
