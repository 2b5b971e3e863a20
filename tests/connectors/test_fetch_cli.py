"""``postingrules fetch`` end to end: fake shop on loopback → JSONL → ``preview`` entries."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import Fault, LoopbackServer
from fakes.prestashop import FakePrestaShop
from fakes.woocommerce import FakeWooCommerce

from postingrules.cli import main

HERE = Path(__file__).resolve().parent
RULES = HERE.parents[1] / "rulesets" / "fr-ecommerce.rules"
PS_KEY = "PSKEY-CLI-SECRET-42"
WC_KEY, WC_SECRET = "ck_cli_key", "cs_cli_SECRET_99"


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("PS_CLI_KEY", PS_KEY)
    monkeypatch.setenv("WC_CLI_KEY", WC_KEY)
    monkeypatch.setenv("WC_CLI_SECRET", WC_SECRET)
    monkeypatch.setenv("POSTINGRULES_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def ps_server():
    data = json.loads((HERE / "data" / "prestashop" / "variants-shop.json").read_text())
    with LoopbackServer(FakePrestaShop(data, PS_KEY)) as server:
        yield server


@pytest.fixture
def wc_server():
    data = json.loads((HERE / "data" / "woocommerce" / "variants-shop.json").read_text())
    with LoopbackServer(
        FakeWooCommerce(data["orders"], data["refunds"], WC_KEY, WC_SECRET)
    ) as server:
        yield server


def write_profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(text)
    return path


def ps_profile(tmp_path, url, extra=""):
    return write_profile(
        tmp_path,
        f'platform = "prestashop"\nurl = "{url}"\nshop = "shop.test"\n{extra}\n'
        '[credentials]\nkey = "PS_CLI_KEY"\n[options]\npage_size = 3\ntimezone = "Europe/Paris"\n',
    )


def wc_profile(tmp_path, url, extra="", options=""):
    return write_profile(
        tmp_path,
        f'platform = "woocommerce"\nurl = "{url}"\nshop = "wc.test"\n{extra}\n'
        '[credentials]\nconsumer_key = "WC_CLI_KEY"\nconsumer_secret = "WC_CLI_SECRET"\n'
        f"[options]\nper_page = 2\n{options}\n",
    )


def test_prestashop_fetch_summary_set_aside_and_exit_code(ps_server, tmp_path):
    out = tmp_path / "docs.jsonl"
    result = CliRunner().invoke(
        main, ["fetch", str(ps_profile(tmp_path, ps_server.url)), "-o", str(out), "-v"]
    )
    assert result.exit_code == 1, result.output  # order 107 set aside
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["kind"] for d in lines].count("sale") == 5 and len(lines) == 11
    aside = [json.loads(x) for x in (tmp_path / "docs.set-aside.jsonl").read_text().splitlines()]
    assert aside == [
        {"platform": "prestashop", "raw_id": "107", "kind": "sale", "reason": aside[0]["reason"]}
    ]
    assert "5 sales, 2 refunds, 4 payments; 1 set aside" in result.output
    assert "skipped: 1 × order status cancelled" in result.output
    assert PS_KEY not in result.output and PS_KEY not in out.read_text()


def test_retries_are_reported_and_secrets_stay_hidden(ps_server, tmp_path, monkeypatch):
    monkeypatch.setattr(
        "postingrules.connectors._http.RetryPolicy.sleep", staticmethod(lambda s: None)
    )
    ps_server.faults.append(Fault(path="/api/orders", status=429, headers={"Retry-After": "0"}))
    result = CliRunner().invoke(
        main,
        [
            "fetch",
            str(ps_profile(tmp_path, ps_server.url)),
            "--kind",
            "sale",
            "-o",
            str(tmp_path / "o.jsonl"),
            "-v",
        ],
    )
    assert "1 retries" in result.output and "retried: 1 × 429" in result.output
    ps_server.faults.extend(Fault(path="/api/orders", status=500) for _ in range(5))
    result = CliRunner().invoke(
        main, ["fetch", str(ps_profile(tmp_path, ps_server.url)), "--kind", "sale", "-v"]
    )
    assert result.exit_code == 1
    assert "HTTP 500" in result.output and PS_KEY not in result.output


def test_missing_credential_names_the_variable_only(ps_server, tmp_path, monkeypatch):
    monkeypatch.delenv("PS_CLI_KEY")
    result = CliRunner().invoke(main, ["fetch", str(ps_profile(tmp_path, ps_server.url))])
    assert result.exit_code == 2
    assert "PS_CLI_KEY" in result.output and "is not set" in result.output


def test_since_last_time_uses_the_stored_cursor(wc_server, tmp_path):
    profile = wc_profile(tmp_path, wc_server.url, 'statuses = ["completed"]')
    args = ["fetch", str(profile), "--kind", "sale", "--since", "last", "--until", "2024-03-03"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "modified_after" not in wc_server.requests[-1].query  # nothing remembered yet
    state = json.loads((tmp_path / "state" / "cursors.json").read_text())
    assert state == {"woocommerce:wc.test:sale": "2024-03-03T23:59:59"}
    second = CliRunner().invoke(main, ["fetch", str(profile), "--kind", "sale", "--since", "last"])
    assert second.exit_code == 0, second.output
    assert wc_server.requests[-1].query["modified_after"] == "2024-03-03T23:59:59"
    assert [json.loads(x)["order_id"] for x in second.stdout.splitlines()] == [
        "1001",
        "1004",
    ]  # modified on the 5th and 6th


def _entries(docs_path: Path) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    """preview --json → {document key: {account: (debit, credit)}}."""
    result = CliRunner().invoke(main, ["preview", "--json", str(RULES), str(docs_path)])
    assert result.exit_code in (0, 1), result.output
    by_key: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for item in json.loads(result.stdout)["entries"]:
        accounts: dict[str, tuple[Decimal, Decimal]] = {}
        for line in item["lines"]:
            d, c = accounts.get(line["account"], (Decimal(0), Decimal(0)))
            accounts[line["account"]] = (
                d + Decimal(str(line["debit"])),
                c + Decimal(str(line["credit"])),
            )
        by_key[item["document_key"]] = accounts
    return by_key


@pytest.mark.skipif(not RULES.exists(), reason="fr-ecommerce.rules not in this checkout")
def test_prestashop_end_to_end_preview(ps_server, tmp_path):
    out = tmp_path / "docs.jsonl"
    CliRunner().invoke(
        main, ["fetch", str(ps_profile(tmp_path, ps_server.url)), "--kind", "sale", "-o", str(out)]
    )
    entries = _entries(out)
    # order 103: one mug 15.00 + 20 % = 18.00 (variants-shop.json)
    assert entries["prestashop:shop.test:sale:103"] == {
        "41100000": (Decimal("18.00"), 0),
        "70720000": (0, Decimal("15.00")),
        "44572000": (0, Decimal("3.00")),
    }
    # order 102: book 10 @5.5 %, 2 t-shirts 50 @20 %, shipping 5 @20 %, wrap 1 @20 %, coupon −5 @20 %
    e102 = entries["prestashop:shop.test:sale:102"]
    assert e102["41100000"] == (Decimal("71.75"), 0)
    assert sum(d for d, _ in e102.values()) == sum(c for _, c in e102.values())
    vat = sum(c - d for a, (d, c) in e102.items() if a.startswith("4457"))
    assert vat == Decimal("0.55") + Decimal("10") + Decimal("1") + Decimal("0.20") - Decimal("1")


@pytest.mark.skipif(not RULES.exists(), reason="fr-ecommerce.rules not in this checkout")
def test_woocommerce_end_to_end_preview(wc_server, tmp_path):
    out = tmp_path / "docs.jsonl"
    profile = wc_profile(
        tmp_path, wc_server.url, 'statuses = ["completed"]', "number_from_order = true"
    )
    CliRunner().invoke(main, ["fetch", str(profile), "--kind", "sale", "-o", str(out)])
    entries = _entries(out)
    # order 1004: lamp 50.00 + 20 % = 60.00
    assert entries["woocommerce:wc.test:sale:1004"] == {
        "41100000": (Decimal("60.00"), 0),
        "70720000": (0, Decimal("50.00")),
        "44572000": (0, Decimal("10.00")),
    }
    e1001 = entries["woocommerce:wc.test:sale:1001"]
    assert e1001["41100000"] == (Decimal("66.95"), 0)
    vat = sum(c - d for a, (d, c) in e1001.items() if a.startswith("4457"))
    assert vat == Decimal("8.00") + Decimal("0.55") + Decimal("1.00") + Decimal("0.40")
