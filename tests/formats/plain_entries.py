"""Hand-built entries for the plain-text ledger and QuickBooks format tests.

Built by hand (not by the engine) so the format tests do not depend on the rule engine and
every figure below can be checked on paper: each entry balances exactly, and the comments give
the arithmetic.  Together they cover what the writers must handle: VAT on goods and shipping,
a refund (debits and credits reversed), a payment with fees, a foreign-currency sale, an OSS
sale with an alphanumeric account, a reverse-charge B2B sale, a rounding gap, and text that
breaks naive writers (accents, quotes, ``;``, ``,``, ``:``, a leading ``=`` / ``-`` / ``@``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from postingrules.model.entries import Entry, EntryLine

D = Decimal
Z = D("0.00")


def _line(
    account: str,
    debit: str = "0.00",
    credit: str = "0.00",
    **extra: object,
) -> EntryLine:
    return EntryLine(account=account, debit=D(debit), credit=D(credit), **extra)  # type: ignore[arg-type]


WEB = {"aux": "CLIENTWEB", "aux_name": "CLIENT WEB"}

# 1. FR sale, 20 % VAT on goods and shipping: 17.42 + 5.00 = 22.42 net, VAT 4.48, total 26.90.
SALE_FR = Entry(
    journal="VTE",
    journal_label="Ventes",
    date=dt.date(2025, 3, 14),
    piece="FA000005",
    reference="Web 5 - CLIENT WEB",
    label="Cde web 5 KHWLILZLL",
    document_key="prestashop/order/5",
    document_kind="sale",
    currency="EUR",
    metadata={"order": "5"},
    lines=(
        _line("411000", debit="26.90", **WEB, provenance="customer (fr.rules:9)"),
        _line(
            "707200",
            credit="17.42",
            tax_code="C20",
            tax_rate=D("20"),
            label="Ventes de marchandises TVA 20 %",
            provenance="vat FR,20 (fr.rules:13)",
        ),
        _line(
            "708520",
            credit="5.00",
            tax_code="C20",
            tax_rate=D("20"),
            label="Port TVA 20 %",
            provenance="shipping with vat (fr.rules:18)",
        ),
        _line(
            "445720",
            credit="4.48",
            tax_code="C20",
            tax_rate=D("20"),
            label="TVA collectée 20 %",
            provenance="vat FR,20 (fr.rules:13)",
        ),
    ),
)

# 2. Refund of part of order 5: 10.00 net + 2.00 VAT = 12.00 back to the customer.
REFUND = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 18),
    piece="AV000001",
    reference="Web 5 - CLIENT WEB",
    label="Avoir AV000001 cde KHWLILZLL",
    document_key="prestashop/refund/1",
    document_kind="refund",
    currency="EUR",
    lines=(
        _line(
            "707200",
            debit="10.00",
            tax_code="C20",
            tax_rate=D("20"),
            provenance="vat FR,20 (fr.rules:13)",
        ),
        _line(
            "445720",
            debit="2.00",
            tax_code="C20",
            tax_rate=D("20"),
            provenance="vat FR,20 (fr.rules:13)",
        ),
        _line("411000", credit="12.00", **WEB, provenance="customer (fr.rules:9)"),
    ),
)

# 3. Card payment of order 5 with fees: 26.30 to the bank + 0.60 fees = 26.90 settled.
PAYMENT = Entry(
    journal="BQ1",
    journal_label="Banque",
    date=dt.date(2025, 3, 15),
    piece="PAY-5",
    reference="ch_3KHW",
    label="Règlement card cde KHWLILZLL",
    document_key="prestashop/payment/5",
    document_kind="payment",
    currency="EUR",
    payment_method="card",
    lines=(
        _line("512000", debit="26.30", provenance="payment card (fr.rules:22)"),
        _line("627100", debit="0.60", label="Frais carte", provenance="payment fees (fr.rules:22)"),
        _line("411000", credit="26.90", **WEB, provenance="customer (fr.rules:9)"),
    ),
)

# 4. USD export sale: 110.00 USD booked as 101.45 EUR (rate of the day), no VAT.
SALE_USD = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 20),
    piece="FA000007",
    reference="Web 7 - JOHN DOE",
    label="Cde web 7 USD",
    document_key="prestashop/order/7",
    document_kind="sale",
    currency="EUR",
    lines=(
        _line(
            "411000",
            debit="101.45",
            aux="C0007",
            aux_name="John Doe",
            currency_amount=D("110.00"),
            currency="USD",
        ),
        _line(
            "707000",
            credit="101.45",
            tax_code="EXO",
            tax_rate=D("0"),
            currency_amount=D("-110.00"),
            currency="USD",
            provenance="vat *,0 (fr.rules:16)",
        ),
    ),
)

# 5. OSS sale to Belgium, 21 % BE VAT: 50.00 + 10.50 = 60.50; account numbers hold letters.
SALE_OSS = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 21),
    piece="FA000008",
    reference="Web 8 - CLIENT WEB",
    label="Cde web 8 BE",
    document_key="prestashop/order/8",
    document_kind="sale",
    currency="EUR",
    lines=(
        _line("411000", debit="60.50", **WEB),
        _line(
            "707BE",
            credit="50.00",
            tax_code="OSS",
            tax_rate=D("21"),
            provenance="vat EU,* (fr.rules:15)",
        ),
        _line(
            "4457BE",
            credit="10.50",
            tax_code="OSS",
            tax_rate=D("21"),
            provenance="vat EU,* (fr.rules:15)",
        ),
    ),
)

# 6. B2B intra-EU sale under reverse charge: 500.00, no VAT collected.
SALE_B2B = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 24),
    piece="FA000009",
    reference="Web 9 - ACME GMBH",
    label="Cde web 9 B2B DE",
    document_key="prestashop/order/9",
    document_kind="sale",
    currency="EUR",
    lines=(
        _line("411000", debit="500.00", aux="ACME-DE", aux_name="ACME GmbH"),
        _line(
            "707100",
            credit="500.00",
            tax_code="AUTOLIQ",
            tax_rate=D("0"),
            provenance="rule Intra-EU B2B: reverse charge (fr.rules:30)",
        ),
    ),
)

# 7. Sale whose shop total is 0.01 above the computed one: 29.16 + 5.83 + 0.01 gap = 35.00.
SALE_GAP = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 25),
    piece="FA000010",
    reference="Web 10 - CLIENT WEB",
    label="Cde web 10",
    document_key="prestashop/order/10",
    document_kind="sale",
    currency="EUR",
    lines=(
        _line("411000", debit="35.00", **WEB),
        _line("707200", credit="29.16", tax_code="C20", tax_rate=D("20")),
        _line("445720", credit="5.83", tax_code="C20", tax_rate=D("20")),
        _line("758000", credit="0.01", label="Écart d'arrondi", provenance="gap gain"),
    ),
)

# 8. Text that breaks naive writers: accents, quotes, ';' ',' ':' and formula-like starts.
#    24.00 net + 4.80 VAT = 28.80.
SALE_TEXT = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 26),
    piece="FA000011",
    reference='Web 11 - "Zoé"',
    label='Cde 11 "Chaise" l\'été; réf: X, 50% — «spécial»',
    document_key="prestashop/order/11",
    document_kind="sale",
    currency="EUR",
    metadata={"order": "11"},
    lines=(
        _line("411000", debit="28.80", aux="ZOE", aux_name='@Éloïse "Zoé" O\'Brien, Café'),
        _line(
            "707200",
            credit="24.00",
            tax_code="C20",
            tax_rate=D("20"),
            label='=HYPERLINK("http://x")',
            provenance="vat FR,20 (fr.rules:13)",
        ),
        _line(
            "445720",
            credit="4.80",
            tax_code="C20",
            tax_rate=D("20"),
            label="-TVA 20 %",
            provenance="vat FR,20 (fr.rules:13)",
        ),
    ),
)

# The research notes' worked example ("order 5", 20.90 incl. 20 % VAT: 17.42 + 3.48), to
# compare with the renderings under shared/reference/formats/.
ORDER5 = Entry(
    journal="VTE",
    date=dt.date(2025, 3, 14),
    piece="FA000005",
    reference="",
    label="Cde web 5 KHWLILZLL",
    document_key="order 5 KHWLILZLL",
    document_kind="sale",
    currency="EUR",
    lines=(
        _line("411000", debit="20.90", **WEB),
        _line("707200", credit="17.42", tax_code="C20", tax_rate=D("20")),
        _line("445720", credit="3.48", tax_code="C20", tax_rate=D("20")),
    ),
)

ENTRIES: tuple[Entry, ...] = (
    SALE_FR,
    PAYMENT,
    REFUND,
    SALE_USD,
    SALE_OSS,
    SALE_B2B,
    SALE_GAP,
    SALE_TEXT,
)


def account_sums(entries: tuple[Entry, ...], with_aux: bool = True) -> dict[str, Decimal]:
    """Signed balance (debit - credit) per account, or per ``account:aux`` when ``with_aux``."""
    sums: dict[str, Decimal] = {}
    for entry in entries:
        for line in entry.lines:
            key = f"{line.account}:{line.aux}" if with_aux and line.aux else line.account
            sums[key] = sums.get(key, Z) + line.debit - line.credit
    return sums


assert all(e.total_debit == e.total_credit for e in ENTRIES), "a fixture entry does not balance"
