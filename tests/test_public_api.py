"""The package's public surface: what `import postingrules` offers, kept sorted and importable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import postingrules

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = {"batch", "cli", "connectors", "dsl", "engine", "export", "files", "formats"}
SUBPACKAGES |= {"model", "ruleset", "testing"}


def test_exported_members() -> None:
    exported = postingrules.__all__
    assert exported == sorted(exported)
    assert all(getattr(postingrules, name) is not None for name in exported)
    public = {n for n in dir(postingrules) if not n.startswith("_")}
    assert public - set(exported) <= SUBPACKAGES


def test_load_and_post_through_the_facade() -> None:
    ruleset = postingrules.load_ruleset(ROOT / "rulesets" / "fr-ecommerce.rules")
    sale = postingrules.Sale.model_validate(
        {
            "key": "manual:t:sale:1",
            "number": "F1",
            "order_id": "7",
            "order_reference": "ABC",
            "order_date": "2026-03-01",
            "status": "paid",
            "billing": {"country": "FR"},
            "lines": [{"total_excl": "10.00", "tax_rate": "20", "tax_amount": "2.00"}],
            "totals": {"excl": "10.00", "tax": "2.00", "incl": "12.00"},
        }
    )
    entry = ruleset.post(sale)
    assert isinstance(entry, postingrules.Entry), entry
    assert [(ln.account, ln.debit, ln.credit) for ln in entry.lines] == [
        ("41100000", Decimal("12.00"), Decimal("0.00")),
        ("70720000", Decimal("0.00"), Decimal("10.00")),
        ("44572000", Decimal("0.00"), Decimal("2.00")),
    ]
    assert (entry.journal, entry.piece, entry.label) == ("VTE", "F1", "Cde ABC du 01/03/2026")
    assert entry.reference == "Web 7 - INVITÉ"  # no customer name: the template's default
