"""Hand-made entries shared by the format tests and golden snapshots.

One entry per situation a format must carry (see the issue): a French 20 % sale with shipping,
a refund, a card payment with fees, a USD sale with foreign amounts, an OSS sale to Belgium,
a B2B reverse-charge sale, a sale with a 0.01 gap to 758000, and a label with accents and a
leading ``=``; plus the research notes' worked example "order 5", whose renderings in
``shared/reference/formats`` are the golden references.  The list is deliberately not in date
order, so that the FEC's chronological sort is exercised.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

from postingrules.model.entries import ZERO, Entry, EntryLine

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "formats"

ACCOUNT_LABELS = {
    "411000": "Clients",
    "512000": "Banque",
    "627800": "Frais de carte bancaire",
    "707100": "Ventes UE autoliquidation",
    "707200": "Ventes de marchandises TVA 20%",
    "707300": "Ventes export",
    "707400": "Ventes OSS",
    "708520": "Port facture TVA 20%",
    "445720": "TVA collectee 20%",
    "445740": "TVA OSS",
    "758000": "Produits divers de gestion courante",
}

JOURNAL_MAP = {"VTE": "VT", "BQ1": "BQ"}
"""Two-letter journal codes for the fixed-width layouts (Ciel, Quadratus)."""


def line(
    account: str, debit: str = "0", credit: str = "0", label: str = "", **kw: object
) -> EntryLine:
    return EntryLine(
        account=account,
        debit=D(debit),
        credit=D(credit),
        label=label,
        **kw,  # type: ignore[arg-type]
    )


def sale(key: str, day: int, piece: str, label: str, *lines: EntryLine, **kw: object) -> Entry:
    return Entry(
        journal=str(kw.pop("journal", "VTE")),
        date=dt.date(2025, 3, day),
        piece=piece,
        reference=str(kw.pop("reference", key)),
        label=label,
        document_key=key,
        document_kind=kw.pop("kind", "sale"),  # type: ignore[arg-type]
        currency="EUR",
        lines=lines,
        **kw,  # type: ignore[arg-type]
    )


CLIENT = {"aux": "CLIENTWEB", "aux_name": "CLIENT WEB"}

ORDER5 = sale(
    "prestashop:order:5", 14, "FA000005", "Cde web 5 KHWLILZLL",
    line("411000", "20.90", label="Clients", **CLIENT),
    line("707200", credit="17.42", label="Ventes de marchandises TVA 20%", tax_code="TVA20",
         tax_rate=D(20)),
    line("445720", credit="3.48", label="TVA collectee 20%", tax_code="TVA20", tax_rate=D(20)),
)  # fmt: skip

ENTRIES: tuple[Entry, ...] = (
    sale(
        "shop:order:1001", 3, "FA001001", "Cde web 1001 Martin",
        line("411000", "36.00", label="Clients", **CLIENT),
        line("707200", credit="25.00", label="Ventes 20%", tax_code="TVA20", tax_rate=D(20)),
        line("708520", credit="5.00", label="Port 20%", tax_code="TVA20", tax_rate=D(20)),
        line("445720", credit="6.00", label="TVA 20%", tax_code="TVA20", tax_rate=D(20)),
    ),
    sale(
        "shop:refund:12", 10, "AV000012", "Avoir 12 cde 1001",
        line("411000", credit="12.00", label="Clients", **CLIENT),
        line("707200", "10.00", label="Ventes 20%", tax_code="TVA20", tax_rate=D(20)),
        line("445720", "2.00", label="TVA 20%", tax_code="TVA20", tax_rate=D(20)),
        kind="refund",
    ),
    sale(
        "shop:payment:1001", 4, "RG001001", "Rglt CB cde 1001",
        line("512000", "35.47", label="Banque"),
        line("627800", "0.53", label="Frais CB"),
        line("411000", credit="36.00", label="Clients", **CLIENT),
        journal="BQ1", kind="payment", payment_method="card",
    ),
    sale(
        "shop:order:1002", 5, "FA001002", "Cde web 1002 Smith USD",
        line("411000", "50.00", label="Clients", currency_amount=D("54.00"), currency="USD",
             **CLIENT),
        line("707300", credit="50.00", label="Ventes export", currency_amount=D("-54.00"),
             currency="USD", tax_code="EXPORT", tax_rate=ZERO),
    ),
    sale(
        "shop:order:1003", 6, "FA001003", "Cde web 1003 Janssens BE",
        line("411000", "121.00", label="Clients", **CLIENT),
        line("707400", credit="100.00", label="Ventes OSS BE 21%", tax_code="OSS-BE21",
             tax_rate=D(21)),
        line("445740", credit="21.00", label="TVA OSS BE 21%", tax_code="OSS-BE21",
             tax_rate=D(21)),
    ),
    sale(
        "shop:order:1004", 7, "FA001004", "Cde web 1004 ACME GmbH",
        line("411000", "500.00", label="Clients", aux="C000042", aux_name="ACME GMBH"),
        line("707100", credit="500.00", label="Ventes UE autoliquidation", tax_code="AUTOLIQ",
             tax_rate=ZERO),
    ),
    sale(
        "shop:order:1005", 8, "FA001005", "Cde web 1005 ecart",
        line("411000", "20.91", label="Clients", **CLIENT),
        line("707200", credit="17.42", label="Ventes 20%", tax_code="TVA20", tax_rate=D(20)),
        line("445720", credit="3.48", label="TVA 20%", tax_code="TVA20", tax_rate=D(20)),
        line("758000", credit="0.01", label="Ecart de reglement"),
    ),
    sale(
        "shop:order:1006", 9, "FA001006", "=Crème brûlée œuf «spécial»",
        line("411000", "12.00", label="Clients", aux="C000077", aux_name="Hélène Dupré"),
        line("707200", credit="10.00", label="Ventes 20% crème", tax_code="TVA20",
             tax_rate=D(20)),
        line("445720", credit="2.00", label="TVA 20%", tax_code="TVA20", tax_rate=D(20)),
    ),
    ORDER5,
)  # fmt: skip
