"""The interpreter: apply a compiled plan to one document and build its entry.

Posting shapes (DESIGN.md): a sale debits the customer with the shop's total and credits one
sales line and one VAT line per (account, tax code, rate); a refund is
its mirror; a payment debits the bank (and fees) and credits the customer, or the reverse
when money goes back.  The difference between the shop's total and the lines (rounding,
conversion) goes to the gap accounts when within the tolerance, else the document is
refused with the numbers.  Nothing is silently adjusted: every returned entry balances.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from postingrules.dsl.plan import (
    AccountError,
    AccountPlan,
    Context,
    CustomerPlan,
    Plan,
    RowPlan,
    Settings,
    TablePlan,
    Variant,
)
from postingrules.dsl.template import MissingValueError, is_constant
from postingrules.model.documents import Line, Payment, Refund, Sale
from postingrules.model.entries import ZERO, Entry, EntryLine, Party, Refusal, Skipped

CENT = Decimal("0.01")
NIL = CENT * 0  # 0.00: zero sides print with two decimals like the other side


class Refused(Exception):
    """Internal signal: the document is refused; turned into a :class:`Refusal` value."""

    def __init__(self, reason: str, context: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.context = context


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)  # positional: keywords cost a parse per call


def post(plan: Plan, doc: Sale | Refund | Payment) -> Entry | Refusal | Skipped:
    """Post one document: its entry, or why it was refused, or why it was left out."""
    ctx = Context(doc)
    try:
        if plan.documents is not None and not plan.documents(ctx):
            return Skipped(doc.key, doc.kind, f"not selected by the {plan.documents_provenance}")
        variant = plan.variant(doc.kind, plan.matching_rules(ctx))
        if variant is None:
            raise Refused(f"the ruleset has no `{doc.kind}` block, so it does not post {doc.kind}s")
        settings = variant.settings
        if settings.refuse is not None:
            raise Refused(settings.refuse.value(ctx), (settings.refuse.provenance,))
        if doc.kind == "payment":
            return _post_payment(plan, settings, doc, ctx)
        return _post_commercial(plan, variant, doc, ctx)
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


def _text(renderer: Any, ctx: Context, default: str, what: str) -> str:
    """Render a document block's template (or its default), naming it when a field is empty."""
    if renderer is None:
        return default
    try:
        return renderer(ctx)
    except MissingValueError as exc:
        raise Refused(
            f"{exc}: the {what} template of the `{ctx.doc.kind}` block needs it"
        ) from None


def _customer(
    settings: Settings, ctx: Context
) -> tuple[str, str | None, str | None, str, Party | None]:
    """The customer line's account, aux account, aux name and provenance, and the party
    behind the aux account when it is the customer's own (its template reads the document)."""
    plan = settings.customer
    if plan is None:
        raise Refused("no customer account is declared")
    if isinstance(plan, CustomerPlan):
        account = plan.account(ctx)
        aux_r, name_r, where, personal = plan.aux, plan.name, plan.provenance, plan.personal
    else:
        row = _lookup(plan, ctx)
        account, where = row.outputs["account"](ctx), row.provenance
        aux_r, name_r = row.outputs.get("aux"), row.outputs.get("name")
        personal = aux_r is not None and not is_constant(aux_r)
    if aux_r is None:
        return account, None, None if name_r is None else name_r(ctx), where, None
    party = _party(ctx.doc) if personal else None
    return account, aux_r(ctx), None if name_r is None else name_r(ctx), where, party


def _party(doc: Any) -> Party:
    customer = doc.customer
    address = doc.billing or getattr(doc, "shipping", None)
    if address is None:
        return Party(customer.name, customer.company, customer.email, customer.vat_number)
    return Party(
        customer.name,
        customer.company,
        customer.email,
        customer.vat_number,
        address.street,
        address.postcode,
        address.city,
        address.country,
    )


def _lookup(table: TablePlan, ctx: Context) -> Any:
    key = table.key(ctx)
    row = table.lookup(key)
    if row is None:
        raise Refused(f"no row of {table.provenance} matches ({table.describe_key(key)})")
    if row.refuse is not None:
        raise Refused(row.refuse(ctx), (row.provenance,))
    return row


Postings = dict[tuple[str, str | None, Decimal], list[Any]]
"""Amounts per posting ``(account, tax code, rate)`` as the document states them, in
first-seen order, each as ``[amount, provenance]``: one dict look-up per document line."""


def _build(
    postings: Postings,
    credits: bool,
    balance: Decimal,
    label: str,
    rate: Decimal | None,
    currency: str | None,
    analytic: str | None,
    lines: list[EntryLine],
) -> Decimal:
    """Append one entry line per posting (booked in the ruleset currency, zero ones left out)
    and return ``balance`` (debits minus credits) with them.  A positive amount is a credit
    when ``credits`` (a sale's lines), else a debit (a refund's): most lines of a sale are
    then booked with no sign to flip."""
    for (account, code, tax_rate), (amount, provenance) in postings.items():
        # cents() and _sides() written out: this runs for every posting of every document.
        if rate is None:
            booked, original = amount.quantize(CENT, ROUND_HALF_UP), None
        else:
            booked = (amount * rate).quantize(CENT, ROUND_HALF_UP)
            original = -amount if credits else amount  # signed: positive = debit
        if booked > 0:
            if credits:
                debit, credit = NIL, booked
                balance -= booked
            else:
                debit, credit = booked, NIL
                balance += booked
        elif booked:
            if credits:
                debit, credit = -booked, NIL
                balance -= booked
            else:
                debit, credit = NIL, -booked
                balance += booked
        else:
            continue
        lines.append(
            EntryLine(
                account,
                debit,
                credit,
                label,
                None,
                None,
                code,
                tax_rate,
                analytic,
                original,
                currency,
                provenance,
            )
        )
    return balance


def _sides(signed: Decimal) -> tuple[Decimal, Decimal]:
    """(debit, credit) of a signed amount, positive meaning debit."""
    return (signed, NIL) if signed > 0 else (NIL, -signed)


def _gap_line(plan: Plan, settings: Settings, gap: Decimal, label: str, ctx: Context) -> EntryLine:
    """The line that absorbs a non-zero ``gap`` (debits minus credits) within the tolerance."""
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


def _post_commercial(plan: Plan, variant: Variant, doc: Sale | Refund, ctx: Context) -> Entry:
    settings = variant.settings
    rate = _rate(plan, doc)
    if plan.regime is not None:
        ctx.regime = plan.regime.decide(ctx)
        if ctx.regime is None:
            raise Refused(f"no row of the {plan.regime.provenance} matches this document")
    if plan.vat is None:
        raise Refused("the ruleset has no `vat` table")
    analytic = None if settings.analytic is None else settings.analytic(ctx)
    # Amounts as the document states them; _build knows a sale's are credits.
    sale = doc.kind == "sale"
    sales: Postings = {}
    taxes: Postings = {}
    cache = variant.line_cache
    vat = plan.vat
    for line in doc.lines:
        ctx.line = line
        key = (line.kind, *vat.key(ctx))
        resolved = cache.get(key)
        if resolved is None:
            resolved, pure = _resolve_line(settings, _lookup(vat, ctx), line, ctx)
            if pure and len(cache) < 65536:
                cache[key] = resolved
        account, code, sales_where, tax_account, tax_where = resolved
        tax_rate = line.tax_rate
        amount = line.total_excl
        posting = (account, code, tax_rate)
        found = sales.get(posting)
        if found is None:
            sales[posting] = [amount, sales_where]
        else:
            found[0] += amount
        tax = line.tax_amount
        if tax:
            if tax_account is None:
                raise Refused(
                    f"line `{line.label or line.kind}` carries {tax} of VAT at "
                    f"{tax_rate} % but {sales_where} gives no `tax` account",
                    (sales_where,),
                )
            posting = (tax_account, code, tax_rate)
            found = taxes.get(posting)
            if found is None:
                taxes[posting] = [tax, tax_where]
            else:
                found[0] += tax
    ctx.line = None
    label = _text(settings.label, ctx, doc.order_reference or doc.key, "label")
    account, aux, aux_name, customer_where, party = _customer(settings, ctx)
    total = doc.totals.incl
    booked_total = cents(total if rate is None else total * rate)
    signed_total = booked_total if sale else -booked_total  # a negative total swaps the sides
    debit, credit = _sides(signed_total)
    currency = None if rate is None else doc.currency
    lines = [
        EntryLine(
            account,
            debit,
            credit,
            label,
            aux,
            aux_name,
            None,
            None,
            None,
            None if rate is None else (total if sale else -total),
            currency,
            customer_where,
        )
    ]
    balance = _build(sales, sale, signed_total, label, rate, currency, analytic, lines)
    balance = _build(taxes, sale, balance, label, rate, currency, None, lines)
    # balance > 0: debits exceed credits → a gain (sale) must be credited, and vice versa.
    if balance:
        lines.append(_gap_line(plan, settings, balance, label, ctx))
    piece_default = (
        (doc.number or doc.order_reference or doc.key) if sale else (doc.number or doc.key)
    )
    journal = settings.journal.value if settings.journal else ""
    # Positional, in the Struct's field order: msgspec matches each keyword by name.
    return Entry(
        journal,
        _date(settings, ctx),
        _text(settings.piece, ctx, piece_default, "piece"),
        _text(settings.reference, ctx, doc.order_reference or "", "reference"),
        label,
        doc.key,
        doc.kind,
        plan.currency,
        tuple(lines),
        None  # payment_method
        if doc.payment_method is None
        else (doc.payment_method.label or doc.payment_method.code),
        plan.journals.get(journal) if journal else None,  # journal_label
        {"regime": ctx.regime} if ctx.regime else {},  # metadata
        party,
    )


Resolved = tuple[str, str | None, str, str | None, str]
"""A line's (sales account, tax code, its provenance, tax account, its provenance)."""


def _resolve_line(
    settings: Settings, row: RowPlan, line: Line, ctx: Context
) -> tuple[Resolved, bool]:
    """Where one line goes, and whether that answer depends only on the table's keys.

    When it does (constant accounts, templates over key fields only), the caller remembers it
    per key, so most lines of a batch cost one dict look-up.
    """
    code_r = settings.code.value if settings.code else row.outputs.get("code")
    code = None if code_r is None else code_r(ctx)
    pure = row.pure and settings.code is None
    kind = line.kind
    split = (
        settings.shipping
        if kind == "shipping"
        else settings.gift_wrap
        if kind == "gift_wrap"
        else None
    )
    if split is not None:
        plan = split.with_vat if line.tax_rate else split.without_vat
        account, where, pure = plan(ctx), split.provenance, pure and plan.constant is not None
    elif (
        kind == "discount" and settings.discount is not None and settings.discount.value is not None
    ):
        plan = settings.discount.value
        account, where = plan(ctx), settings.discount.provenance
        pure = pure and plan.constant is not None
    elif settings.sales is not None:
        account, where = settings.sales.value(ctx), settings.sales.provenance
        pure = pure and settings.sales.value.constant is not None
    else:
        account, where = row.outputs["sales"](ctx), row.provenance
    if settings.tax is not None:
        tax_plan, tax_where = settings.tax.value, settings.tax.provenance
        pure = pure and tax_plan.constant is not None
    else:
        tax_plan, tax_where = row.outputs.get("tax"), row.provenance
    tax_account = None if tax_plan is None else tax_plan(ctx)
    return (account, code, where, tax_account, tax_where), pure


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
    label = _text(settings.label, ctx, doc.order_reference or doc.key, "label")
    account, aux, aux_name, customer_where, party = _customer(settings, ctx)

    amount = cents(doc.amount if rate is None else doc.amount * rate)
    fee_booked = cents(fees if rate is None else fees * rate)
    incoming = doc.direction == "in"  # the bank and fees are debited, the customer credited
    currency = None if rate is None else doc.currency

    def line(
        acct: str,
        booked: Decimal,
        original: Decimal | None,
        debit: bool,
        where: str,
        aux: str | None = None,
        aux_name: str | None = None,
    ) -> EntryLine:
        """A line of ``booked`` (never negative: a payment's amount and fees are not) on the
        debit side or the credit side; ``original``, the amount in the document's currency, is
        kept for a foreign-currency document only."""
        return EntryLine(
            acct,
            booked if debit else NIL,
            NIL if debit else booked,
            label,
            aux,
            aux_name,
            None,
            None,
            None,
            None if original is None else original if debit else -original,
            currency,
            where,
        )

    lines = []
    if amount != fee_booked:  # fees can eat the whole payment: then no bank line
        bank = row.outputs["bank"](ctx)
        original = None if rate is None else doc.amount - fees
        lines.append(line(bank, amount - fee_booked, original, incoming, row.provenance))
    if fee_booked:  # fees that round to nothing make no line
        assert fees_plan is not None
        original = None if rate is None else fees
        lines.append(line(fees_plan(ctx), fee_booked, original, incoming, row.provenance))
    original = None if rate is None else doc.amount
    lines.append(line(account, amount, original, not incoming, customer_where, aux, aux_name))
    return Entry(  # positional, as in _post_commercial
        journal,
        _date(settings, ctx),
        _text(settings.piece, ctx, doc.id or doc.key, "piece"),
        _text(
            settings.reference, ctx, doc.transaction_id or doc.order_reference or "", "reference"
        ),
        label,
        doc.key,
        "payment",
        plan.currency,
        tuple(lines),
        doc.method.label or doc.method.code,  # payment_method
        plan.journals.get(journal),  # journal_label
        {},  # metadata
        party,
    )
