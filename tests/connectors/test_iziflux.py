"""Iziflux: file mapping (column map, NON-RENSEIGNE, numeric currencies, dedup) and URL import."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from dumps import as_json
from e2e import RULES, preview_entries
from fakes import Fault, LoopbackServer
from fakes import iziflux as fake

from postingrules.cli import main
from postingrules.connectors._http import ShopClient
from postingrules.connectors.iziflux.client import IzifluxReader, fetch, local_files, make_client
from postingrules.connectors.iziflux.mapping import (
    ColumnMap,
    Importer,
    Settings,
    Unmappable,
    currency_from_numeric,
)
from postingrules.connectors.profile import FetchRequest, Profile

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "connectors" / "iziflux"
D = Decimal
COLUMNS = ColumnMap(
    unit_price="PRIX_UNITAIRE_TTC",
    shipping="FRAIS_PORT_TTC",
    tax_rate="TAUX_TVA",
    country="PAYS",
    postcode="CP",
    city="VILLE",
)
SETTINGS = Settings(shop="boutique-demo", columns=COLUMNS)


def _import() -> tuple[Importer, list, list]:
    importer = Importer(SETTINGS)
    hour_11 = fake.FILES[f"prestashop_{fake.ACCOUNT}_2026-03-02-11-00-00.txt"]
    documents, aside = importer.read_all([("10h", fake.HOUR_10), ("11h", hour_11.decode("cp1252"))])
    return importer, documents, aside


def test_snapshot_and_hand_computed_amounts(snapshot):
    importer, documents, aside = _import()
    snapshot.snapshot_dir = SNAPSHOTS
    payload = {
        "documents": [as_json(d) for d in documents],
        "set_aside": [vars(a) for a in aside],
        "duplicates": importer.duplicates,
    }
    snapshot.assert_match(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "files.json")
    sales = {d.order_id: d for d in documents if d.kind == "sale"}
    amazon = sales["AMZ-1001"]
    # 2 x 12.00 TTC at 20 % = 20.00 + 4.00; 5.50 TTC at 5.5 % = 5.21 + 0.29;
    # shipping 4.80 TTC at 20 % = 4.00 + 0.80 -> 29.21 + 5.09 = 34.30 = 24 + 5.50 + 4.80
    assert [(x.total_excl, x.tax_amount) for x in amazon.lines] == [
        (D("20.00"), D("4.00")),
        (D("5.21"), D("0.29")),
        (D("4.00"), D("0.80")),
    ]
    assert (amazon.totals.excl, amazon.totals.tax, amazon.totals.incl) == (
        D("29.21"),
        D("5.09"),
        D("34.30"),
    )
    assert amazon.customer.email is None  # NON-RENSEIGNE
    assert amazon.customer.name == "M. Paul Durand" and amazon.billing.city == "Paris"
    assert sales["MM-2002"].currency == "GBP" and sales["MM-2002"].totals.incl == D("19.99")
    fnac = sales["FNAC-4004"]  # "15,90" x 2 at "5,5" %, shipping "2,99", date dd/mm/yyyy
    assert fnac.order_date == dt.date(2026, 3, 2) and fnac.totals.incl == D("34.79")
    assert fnac.customer.name == "Zoé Lefèvre"  # read back from Windows-1252


def test_duplicates_dropped_and_bad_orders_set_aside():
    importer, documents, aside = _import()
    assert importer.duplicates == 1
    assert {a.raw_id: a.reason for a in aside} == {
        "CD-3003": "quantity: not a number 'abc'",
        "AMZ-1001": "order already imported from an earlier file, new lines",
    }
    payments = [d for d in documents if d.kind == "payment"]
    assert [(p.order_id, p.amount, p.transaction_id) for p in payments] == [
        ("AMZ-1001", D("34.30"), "402-1234567"),
        ("MM-2002", D("19.99"), "MM-77"),
        ("FNAC-4004", D("34.79"), "FN-9"),
    ]


def test_column_map_must_name_real_columns():
    documents, aside = Importer(Settings(shop="s")).read(fake.HOUR_10, "10h")
    assert documents == [] and "no unit_price column" in aside[0].reason
    wrong = Settings(shop="s", columns=ColumnMap(unit_price="PRIX"))
    assert "'PRIX' is not in the file's header" in Importer(wrong).read(fake.HOUR_10)[1][0].reason
    untaxed = Settings(shop="s", columns=ColumnMap(unit_price="PRIX_UNITAIRE_TTC"))
    _, aside = Importer(untaxed).read(fake.HOUR_10)
    assert {a.reason for a in aside} >= {
        "no tax rate column and no default_tax_rate (unknown tax rate)"
    }


@pytest.mark.parametrize(
    ("code", "alpha"), [("978", "EUR"), ("826", "GBP"), ("36", "AUD"), ("EUR", "EUR")]
)
def test_numeric_currency_codes(code, alpha):
    assert currency_from_numeric(code) == alpha


def test_unknown_currency_is_an_error():
    with pytest.raises(Unmappable, match="unknown ISO 4217 numeric code '123'"):
        currency_from_numeric("123")


def test_local_folder_is_read_in_name_order(tmp_path):
    for name, body in fake.FILES.items():
        (tmp_path / name).write_bytes(body)
    names = [name for name, _ in local_files(tmp_path)]
    assert names == sorted(fake.FILES)
    documents, _ = Importer(SETTINGS).read_all(local_files(tmp_path))
    assert [d.order_id for d in documents if d.kind == "sale"] == [
        "AMZ-1001",
        "MM-2002",
        "FNAC-4004",
    ]


def test_hourly_urls_with_missing_hour_and_faults(fast_retry):
    with LoopbackServer(fake.serve) as server:
        server.faults += [
            Fault(path="10-00-00", status=503, headers={"Retry-After": "1"}),
            Fault(path="11-00-00", truncate=True),
        ]
        http = ShopClient(
            server.url + "/iziflux/marketPlace/partenaires/prestashop/",
            platform="iziflux",
            retry=fast_retry,
        )
        with IzifluxReader(http, fake.ACCOUNT) as reader:
            documents, aside = reader.fetch(
                SETTINGS, dt.datetime(2026, 3, 2, 10, 15), dt.datetime(2026, 3, 2, 12, 0)
            )
            retries = http.stats.retry_reasons
    _, expected, expected_aside = _import()
    assert documents == expected and aside == expected_aside
    assert reader.missing == ["2026-03-02T12:00"]
    assert retries == {"503": 1, "transport": 1}
    assert fake.ACCOUNT not in repr(reader)


def _profile(url: str, **options) -> Profile:
    columns = {
        "unit_price": "PRIX_UNITAIRE_TTC",
        "shipping": "FRAIS_PORT_TTC",
        "tax_rate": "TAUX_TVA",
        "country": "PAYS",
        "postcode": "CP",
        "city": "VILLE",
    }
    return Profile(
        name="izi",
        platform="iziflux",
        url=url,
        shop="boutique-demo",
        credentials={"account": "IZI_ACCOUNT"},
        options={"columns": columns, **options},
    )


def test_connector_contract_from_url_and_from_a_folder(fast_retry, monkeypatch, tmp_path):
    monkeypatch.setenv("IZI_ACCOUNT", fake.ACCOUNT)
    request = FetchRequest(
        since=dt.datetime(2026, 3, 2, 10),
        until=dt.datetime(2026, 3, 2, 11, 59),
        kinds=frozenset({"sale"}),
    )
    with LoopbackServer(fake.serve) as server:
        profile = _profile(server.url + "/iziflux/marketPlace/partenaires/prestashop")
        with make_client(profile, retry=fast_retry) as client:
            from_url = list(fetch(profile, request, client))
    for name, body in fake.FILES.items():
        (tmp_path / name).write_bytes(body)
    local = _profile("file:", path=str(tmp_path))
    with make_client(local) as client:
        from_folder = list(fetch(local, request, client))
    assert from_url == from_folder
    assert [getattr(d, "order_id", None) or d.raw_id for d in from_url] == [
        "AMZ-1001",
        "MM-2002",
        "FNAC-4004",
        "CD-3003",
        "AMZ-1001",
    ]


# --------------------------------------------------------------------------- end to end


@pytest.mark.skipif(not RULES.exists(), reason="fr-ecommerce.rules not in this checkout")
def test_fetch_then_preview_posts_hand_computed_amounts(tmp_path, monkeypatch):
    monkeypatch.setenv("IZI_E2E_ACCOUNT", fake.ACCOUNT)
    monkeypatch.setenv("POSTINGRULES_STATE_DIR", str(tmp_path / "state"))
    docs = tmp_path / "docs.jsonl"
    with LoopbackServer(fake.serve) as server:
        profile = tmp_path / "iziflux.toml"
        profile.write_text(
            f'platform = "iziflux"\nurl = "{server.url}/iziflux/marketPlace/partenaires/'
            'prestashop"\nshop = "izi.test"\n[credentials]\naccount = "IZI_E2E_ACCOUNT"\n'
            "[options.columns]\n"
            'unit_price = "PRIX_UNITAIRE_TTC"\nshipping = "FRAIS_PORT_TTC"\n'
            'tax_rate = "TAUX_TVA"\ncountry = "PAYS"\n'
        )
        result = CliRunner().invoke(
            main,
            [
                "fetch",
                str(profile),
                "--since",
                "2026-03-02T10:00:00",
                "--until",
                "2026-03-02T11:30:00",
                "-o",
                str(docs),
            ],
        )
    assert result.exit_code == 1, result.output  # two orders set aside (see the fake)
    assert fake.ACCOUNT not in result.output
    entries = preview_entries(docs)
    # AMZ-1001: teapots 2 x 12.00 TTC @ 20 % = 20.00 + 4.00, tea 5.50 TTC @ 5.5 % = 5.21 + 0.29,
    # shipping 4.80 TTC @ 20 % = 4.00 + 0.80; customer 24 + 5.50 + 4.80 = 34.30
    assert entries["iziflux:izi.test:sale:AMZ-1001"] == {
        "41100000": (D("34.30"), 0),
        "70720000": (0, D("20.00")),
        "44572000": (0, D("4.80")),
        "70705500": (0, D("5.21")),
        "44570500": (0, D("0.29")),
        "70852000": (0, D("4.00")),
    }


def test_a_corrected_resend_of_a_set_aside_order_is_imported():
    importer = Importer(SETTINGS)
    _, aside = importer.read(fake.HOUR_10, "10h")
    assert [a.raw_id for a in aside] == ["CD-3003"]
    bad = next(line for line in fake.HOUR_10.splitlines() if line.startswith("CD-3003|"))
    fixed = fake.HEADER + "\n" + bad.replace("|abc|", "|1|") + "\n"
    documents, aside = importer.read(fixed, "12h")
    assert aside == [] and importer.duplicates == 0
    assert [(d.kind, d.order_id) for d in documents] == [
        ("sale", "CD-3003"),
        ("payment", "CD-3003"),
    ]


def test_an_order_whose_payment_is_refused_keeps_no_sale(monkeypatch):
    """The sale and the payment of an order are kept together or set aside together."""
    from postingrules.connectors.iziflux import mapping

    real = mapping.validate_document

    def refuse_amazon_payment(raw):
        if raw["kind"] == "payment" and raw["order_id"] == "AMZ-1001":
            raise ValueError("payment refused")
        return real(raw)

    monkeypatch.setattr(mapping, "validate_document", refuse_amazon_payment)
    documents, aside = Importer(SETTINGS).read_all([("10h", fake.HOUR_10)])
    assert "AMZ-1001" not in {d.order_id for d in documents}
    assert [(a.raw_id, a.reason) for a in aside if a.raw_id == "AMZ-1001"] == [
        ("AMZ-1001", "payment refused")
    ]
    assert {d.order_id for d in documents if d.kind == "sale"} >= {"MM-2002"}
