"""Shopify: mapping snapshots, hand-checked amounts, throttling and paging on loopback."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from dumps import dump_batch
from e2e import RULES, preview_entries
from fakes import Fault, LoopbackServer
from fakes import shopify as fake
from hypothesis import given
from hypothesis import strategies as st

from postingrules.cli import main
from postingrules.connectors._http import RetryPolicy, ShopClient, ShopHTTPError
from postingrules.connectors.profile import FetchRequest, Profile, ProfileError
from postingrules.connectors.shopify.client import ShopifyReader, fetch, make_client
from postingrules.connectors.shopify.mapping import (
    Context,
    map_batch,
    map_order,
    rest_order_to_node,
)
from postingrules.model.documents import Payment, Refund, Sale

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "connectors" / "shopify"
CTX = Context(shop="boutique.myshopify.com")
D = Decimal


def _lines_total(doc: Sale | Refund) -> tuple[Decimal, Decimal]:
    return sum(x.total_excl for x in doc.lines), sum(x.tax_amount for x in doc.lines)


def _by_key(documents: list) -> dict[str, Sale | Refund | Payment]:
    return {d.key.split(":", 2)[2]: d for d in documents}


@pytest.fixture
def rest_sample(shops_dir: Path) -> dict:
    order = fake.load(shops_dir, "rest-2024-04-order-get.json")["order"]
    txns = fake.load(shops_dir, "rest-2024-04-transactions-list.json")["transactions"]
    return rest_order_to_node(order, txns)


def test_snapshot_graphql_variants(snapshot):
    snapshot.snapshot_dir = SNAPSHOTS
    documents, aside = map_batch(fake.variants() + fake.broken(), CTX)
    for doc in documents:
        if doc.kind != "payment":
            assert _lines_total(doc) == (doc.totals.excl, doc.totals.tax), doc.key
    snapshot.assert_match(dump_batch(documents, aside), "graphql_variants.json")


def test_snapshot_rest_reference_samples(shops_dir, rest_sample, snapshot):
    snapshot.snapshot_dir = SNAPSHOTS
    listed = fake.load(shops_dir, "rest-2024-04-orders-list-status-any.json")["orders"]
    shipping_refund = fake.load(shops_dir, "rest-2026-07-refund-create-shipping.json")["refund"]
    order = fake.load(shops_dir, "rest-2024-04-order-get.json")["order"]
    with_shipping_refund = rest_order_to_node(dict(order, refunds=[shipping_refund]))
    nodes = [rest_sample, *(rest_order_to_node(o) for o in listed)]
    documents, aside = map_batch(nodes, CTX)
    assert aside == []
    snapshot.assert_match(dump_batch(documents, aside), "rest_samples.json")
    refund_docs, _ = map_batch([with_shipping_refund], CTX)
    snapshot.assert_match(dump_batch(refund_docs, []), "rest_shipping_refund.json")


def test_rest_sample_sale_reconciles_and_its_refund_carries_the_documented_gap(rest_sample):
    docs = _by_key(map_order(rest_sample, CTX))
    sale = docs["sale:450789469"]
    # 3 x 199.00 - 10.00 TENOFF (3.34 + 3.33 + 3.33) = 587.00; 3 x 3.98 = 11.94 tax
    assert _lines_total(sale) == (D("587.00"), D("11.94")) and sale.totals.incl == D("598.94")
    refund = docs["refund:509562969"]
    # Shopify's example refunds two lines (195.66 + 195.67 + 2 x 3.98 = 399.29) but its
    # transaction moved 209.00: the refund keeps 209.00 as its total, the gap is visible.
    assert sum(x.total_incl for x in refund.lines) == D("399.29")
    assert refund.totals.incl == D("209.00")
    assert docs["payment:179259969"].direction == "out"
    assert docs["payment:179259969"].settles == (f"shopify:{CTX.shop}:refund:509562969",)
    assert docs["payment:801038806"].amount == D("250.94")  # capture; authorisation ignored
    assert "payment:389404469" not in docs


def test_shipping_refund_reported_twice_is_counted_once(shops_dir):
    order = fake.load(shops_dir, "rest-2024-04-order-get.json")["order"]
    refund = fake.load(shops_dir, "rest-2026-07-refund-create-shipping.json")["refund"]
    node = rest_order_to_node(dict(order, refunds=[refund]))
    (doc,) = [d for d in map_order(node, CTX) if d.kind == "refund"]
    assert [(x.kind, x.total_excl) for x in doc.lines] == [("shipping", D("5.00"))]
    variant = _by_key(map_order(fake.variants()[4], CTX))["refund:502"]
    assert [(x.kind, x.total_excl, x.tax_amount) for x in variant.lines] == [
        ("shipping", D("4.90"), D("0.98"))
    ]
    assert variant.totals.incl == D("5.88")
    # Without refundShippingLines (older API versions) the adjustment alone is used.
    legacy = fake.variants()[4]
    legacy["refunds"][0]["refundShippingLines"] = {"nodes": []}
    (alone,) = [d for d in map_order(legacy, CTX) if d.kind == "refund"]
    assert [(x.kind, x.total_excl, x.tax_amount, x.tax_rate) for x in alone.lines] == [
        ("shipping", D("4.90"), D("0.98"), D(20))
    ]


def test_hand_computed_variants():
    docs = _by_key(map_batch(fake.variants(), CTX)[0])
    inclusive = docs["sale:1001"]  # 2 x 24.00 incl. 20 % and 6.00 shipping incl.
    assert [(x.total_excl, x.tax_amount) for x in inclusive.lines] == [
        (D("40.00"), D("8.00")),
        (D("5.00"), D("1.00")),
    ]
    multi = docs["sale:1002"]
    assert [x.tax_rate for x in multi.lines] == [D("5.5"), D(20), D(20)]
    assert multi.totals.incl == D("52.43") == D("10.00") + D("30.00") + D("4.90") + D("7.53")
    partial = docs["refund:501"]
    assert [(x.sku, x.total_excl, x.tax_amount) for x in partial.lines] == [
        ("BONNET", D("30.00"), D("6.00"))
    ]
    assert partial.sale_key == f"shopify:{CTX.shop}:sale:1004"
    coupon = docs["sale:1006"]
    assert coupon.totals.incl == 0 and [x.total_excl for x in coupon.lines] == [D(0), D(0)]
    assert not any(d.kind == "payment" and d.order_id == "1006" for d in docs.values())
    guest = docs["sale:1007"]
    assert guest.customer.id is None and guest.customer.email == "invite@example.fr"
    b2b = docs["sale:1008"]
    assert (b2b.customer.vat_number, b2b.customer.company) == ("DE123456789", "Beispiel GmbH")


def test_presentment_money_records_the_derived_rate():
    node = fake.variants()[2]
    shop_sale = map_order(node, CTX)[0]
    assert (shop_sale.currency, shop_sale.totals.incl, shop_sale.exchange_rate) == (
        "EUR",
        D("120.00"),
        None,
    )
    shown = map_order(node, Context(shop="s", money="presentment"))[0]
    assert (shown.currency, shown.totals.incl) == ("USD", D("129.60"))
    assert shown.exchange_rate == D("0.9259259259")  # 120.00 EUR / 129.60 USD


def test_broken_orders_are_set_aside_with_reasons():
    documents, aside = map_batch(fake.broken() + fake.variants()[:1], CTX)
    assert {a.raw_id: a.reason for a in aside} == {
        "order 1090": "tax line '?' without a rate",
        "order 1091": "line item 91: negative quantity -1",
    }
    assert [d.key for d in documents if d.kind == "sale"] == [f"shopify:{CTX.shop}:sale:1001"]


# --------------------------------------------------------------------------- HTTP

TOKEN = "shpat_not_a_real_token"


@pytest.fixture
def clock() -> fake.VirtualClock:
    return fake.VirtualClock()


def _server(shops_dir, clock, nodes=None, orders=None, **limits) -> tuple:
    order = fake.load(shops_dir, "rest-2024-04-order-get.json")["order"]
    txns = fake.load(shops_dir, "rest-2024-04-transactions-list.json")["transactions"]
    rest = orders if orders is not None else [order]
    app = fake.FakeShopify(
        nodes if nodes is not None else fake.variants(),
        rest,
        {str(o["id"]): txns for o in rest},
        token=TOKEN,
        clock=clock,
        **limits,
    )
    return app, LoopbackServer(app)


def _retry(clock) -> RetryPolicy:
    return RetryPolicy(max_attempts=6, sleep=clock.sleep, rng=lambda: 0.5)


def _client(server, clock, page_size=3, token=TOKEN) -> ShopifyReader:
    http = ShopClient(
        server.url,
        platform="shopify",
        headers={"X-Shopify-Access-Token": token},
        retry=_retry(clock),
    )
    return ShopifyReader(http, page_size=page_size, clock=clock)


def test_graphql_cursor_paging_gets_every_order_once(shops_dir, clock):
    _, server = _server(shops_dir, clock)
    with server, _client(server, clock) as client:
        documents, aside = client.fetch(CTX, since="2026-01-01T00:00:00Z")
    assert aside == [] and documents == map_batch(fake.variants(), CTX)[0]
    bodies = [json.loads(r.body) for r in server.requests]
    assert [b["variables"]["cursor"] is None for b in bodies] == [True, False, False]
    assert bodies[0]["variables"]["query"] == "updated_at:>='2026-01-01T00:00:00Z'"


def test_graphql_cost_throttling_waits_instead_of_hammering(shops_dir, clock):
    # 24 orders, 3 per page = 8 pages of cost 252 from a 600-point bucket refilled at 50/s.
    nodes = [
        dict(n, legacyResourceId=f"{n['legacyResourceId']}{k}")
        for k in range(3)
        for n in fake.variants()
    ]
    app, server = _server(shops_dir, clock, nodes=nodes, max_points=600, restore_rate=50)
    with server, _client(server, clock) as client:
        documents, _ = client.fetch(CTX, kinds=("sale",))
    assert len(documents) == 24
    assert app.throttled == 0  # paced from throttleStatus, never refused
    # 8 x 252 = 2016 points, 600 available at start: (2016 - 600) / 50 = 28.3 s minimum
    assert 28.3 <= clock.now < 30


def test_graphql_throttled_answer_is_retried_after_the_advertised_wait(shops_dir, clock):
    app, server = _server(shops_dir, clock, max_points=600, restore_rate=50)
    app.points = 100  # another app used the bucket: first query is THROTTLED
    with server, _client(server, clock) as client:
        documents, _ = client.fetch(CTX, kinds=("sale",))
        retries = client.http.stats.retry_reasons
    assert len(documents) == 8 and app.throttled == 1 and retries == {"throttled": 1}
    assert clock.sleeps[0] == pytest.approx((252 - 100) / 50)


def test_rest_leaky_bucket_consumed_at_its_limit_without_a_429(shops_dir, clock):
    """2 req/s, 40-request bucket: 120 orders (+1 transactions call each) = 244 requests."""
    order = fake.load(shops_dir, "rest-2024-04-order-get.json")["order"]
    orders = [dict(order, id=order["id"] + k, name=f"#{1001 + k}") for k in range(120)]
    app, server = _server(shops_dir, clock, orders=orders)
    with server, _client(server, clock, page_size=25) as client:
        documents, aside = client.fetch(CTX, kinds=("sale",), api="rest")
        requests = client.http.stats.requests
    assert len(documents) == 120 and aside == []
    assert app.rejected == 0 and requests == 5 + 120  # 5 pages + 120 transaction lists
    # at the limit: the first 40 at once, then 2/s -> (125 - 40) / 2 = 42.5 s, no slower
    assert 42.5 <= clock.now <= 43.0


def test_rest_429_from_a_drained_bucket_is_retried(shops_dir, clock):
    app, server = _server(shops_dir, clock)
    app.used = 40  # full: another app drained it
    with server, _client(server, clock) as client:
        documents, _ = client.fetch(CTX, api="rest")
        retries = client.http.stats.retry_reasons
    assert app.rejected == 1 and retries == {"429": 1}
    assert {d.kind for d in documents} == {"sale", "refund", "payment"}


def test_rest_page_info_paging_sends_no_filter_and_faults_are_retried(shops_dir, clock):
    order = fake.load(shops_dir, "rest-2024-04-order-get.json")["order"]
    orders = [dict(order, id=order["id"] + k) for k in range(5)]
    _, server = _server(shops_dir, clock, orders=orders)
    server.faults += [
        Fault(path="/orders.json", status=500),
        Fault(path="/transactions.json", truncate=True),
        Fault(path="/orders.json", body=b"<html>maintenance</html>"),
    ]
    with server, _client(server, clock, page_size=2) as client:
        documents, _ = client.fetch(CTX, kinds=("sale",), api="rest", since="2008-01-01")
        retries = client.http.stats.retry_reasons
    assert sorted(d.order_id for d in documents) == sorted(str(o["id"]) for o in orders)
    assert retries == {"500": 1, "transport": 1, "malformed": 1}
    pages = [r.query for r in server.requests if r.path.endswith("/orders.json")]
    assert pages[-1].keys() == {"limit", "page_info"}


def test_bad_token_is_reported_without_the_token(shops_dir, clock):
    _, server = _server(shops_dir, clock)
    client = _client(server, clock, token="wrong-token-value")
    with server, client, pytest.raises(ShopHTTPError) as err:
        client.fetch(CTX)
    assert err.value.status == 401 and "wrong-token-value" not in str(err.value)
    assert "wrong-token-value" not in repr(client)


def _profile(url: str, **options) -> Profile:
    return Profile(
        name="s",
        platform="shopify",
        url=url,
        shop=CTX.shop,
        credentials={"access_token": "SHOP_TOKEN"},
        options=options,
    )


def test_connector_contract_graphql_and_rest(shops_dir, clock, monkeypatch):
    monkeypatch.delenv("SHOP_TOKEN", raising=False)
    with pytest.raises(ProfileError, match="SHOP_TOKEN"):
        make_client(_profile("http://x"))
    monkeypatch.setenv("SHOP_TOKEN", TOKEN)
    _, server = _server(shops_dir, clock)
    with server:
        profile = _profile(server.url, page_size=4)
        with make_client(profile, retry=_retry(clock)) as client:
            graphql = list(fetch(profile, FetchRequest(kinds=frozenset({"refund"})), client))
        rest_profile = _profile(server.url, api="rest")
        with make_client(rest_profile, retry=_retry(clock)) as client:
            rest = list(fetch(rest_profile, FetchRequest(statuses=("partially_refunded",)), client))
    assert [d.key.split(":", 2)[2] for d in graphql] == ["refund:501", "refund:502"]
    assert [d.key.split(":", 2)[2] for d in rest] == [
        "sale:450789469",
        "refund:509562969",
        "payment:179259969",
        "payment:801038806",
    ]


# --------------------------------------------------------------------------- end to end


@pytest.mark.skipif(not RULES.exists(), reason="fr-ecommerce.rules not in this checkout")
def test_fetch_then_preview_posts_hand_computed_amounts(shops_dir, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_E2E_TOKEN", TOKEN)
    monkeypatch.setenv("POSTINGRULES_STATE_DIR", str(tmp_path / "state"))
    _, server = _server(shops_dir, clock)
    docs = tmp_path / "docs.jsonl"
    with server:
        profile = tmp_path / "shopify.toml"
        profile.write_text(
            f'platform = "shopify"\nurl = "{server.url}"\nshop = "shop.test"\n'
            '[credentials]\naccess_token = "SHOP_E2E_TOKEN"\n[options]\npage_size = 3\n'
        )
        result = CliRunner().invoke(main, ["fetch", str(profile), "-o", str(docs), "-v"])
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    entries = preview_entries(docs)
    # Order #1002: book 10.00 @ 5.5 % (0.55), 2 mugs 30.00 @ 20 % (6.00), shipping 4.90
    # @ 20 % (0.98): 10 + 30 + 4.90 + 0.55 + 6 + 0.98 = 52.43
    assert entries["shopify:shop.test:sale:1002"] == {
        "41100000": (D("52.43"), 0),
        "70705500": (0, D("10.00")),
        "44570500": (0, D("0.55")),
        "70720000": (0, D("30.00")),
        "44572000": (0, D("6.98")),
        "70852000": (0, D("4.90")),
    }
    # Refund 501 of #1004: one hat 30.00 + 6.00 VAT; its payment 36.00 goes back out
    assert entries["shopify:shop.test:refund:501"] == {
        "41100000": (0, D("36.00")),
        "70720000": (D("30.00"), 0),
        "44572000": (D("6.00"), 0),
    }
    assert entries["shopify:shop.test:payment:10041"]["41100000"] == (D("36.00"), 0)


def test_graphql_http_429_is_retried_too(shops_dir, clock):
    _, server = _server(shops_dir, clock)
    server.faults.append(Fault(path="graphql", status=429, headers={"Retry-After": "2"}))
    with server, _client(server, clock) as client:
        documents, _ = client.fetch(CTX, kinds=("sale",))
        retries = client.http.stats.retry_reasons
    assert len(documents) == 8 and retries == {"429": 1} and clock.sleeps[0] == 2.0


def test_graphql_429_with_a_throttled_body_waits_what_the_cost_figures_say(shops_dir, clock):
    _, server = _server(shops_dir, clock)
    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 252,
                "throttleStatus": {"currentlyAvailable": 52, "restoreRate": 50},
            }
        },
    }
    server.faults.append(Fault(path="graphql", status=429, body=json.dumps(body).encode()))
    with server, _client(server, clock) as client:
        documents, _ = client.fetch(CTX, kinds=("sale",))
        retries = client.http.stats.retry_reasons
    # no Retry-After: (252 - 52) / 50 = 4 s from the body, not the blind backoff
    assert len(documents) == 8 and retries == {"429": 1} and clock.sleeps[0] == 4.0


cents = st.integers(min_value=0, max_value=500_000).map(lambda c: D(c) / 100)


@given(
    unit=cents,
    quantity=st.integers(min_value=1, max_value=20),
    discount_share=st.integers(min_value=0, max_value=100),
    rate=st.sampled_from([D(0), D("2.1"), D("5.5"), D(10), D(20)]),
    included=st.booleans(),
)
def test_line_arithmetic_matches_the_shop_whatever_the_amounts(
    unit, quantity, discount_share, rate, included
):
    """excl + tax is what the customer pays for the line, with or without taxes included."""
    gross = unit * quantity
    discount = (gross * discount_share / 100).quantize(D("0.01"))
    paid = gross - discount
    if included:
        tax = (paid - paid / (1 + rate / 100)).quantize(D("0.01"))
    else:
        tax = (paid * rate / 100).quantize(D("0.01"))
    node = fake.order(
        1,
        [fake.item(1, "P", quantity, str(unit), [(str(rate), str(tax))], str(discount))],
        "0",
        "0",
        taxesIncluded=included,
    )
    (line,) = map_order(node, CTX)[0].lines
    assert line.total_excl + line.tax_amount == (paid if included else paid + tax)
    assert line.tax_amount == tax and line.tax_rate == rate
