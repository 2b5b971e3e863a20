"""Generate N synthetic normalised documents as JSON Lines, for the benchmark.

The mix is modelled on ``examples/all.jsonl`` so that the benchmark exercises the same paths as
a real shop export, not a best case: about 70 % sales (mostly French B2C at 20 / 5.5 / 10 %,
some OSS sales to Belgium, Germany and Italy, exports, DOM, a few intra-EU B2B with a valid
VAT number, a few customers with their own accounting code, a few US-dollar exports),
about 10 % refunds of earlier sales (whole, one item, or shipping only) and about 20 %
payments (card and PayPal with provider fees, bank transfers without, some paid back).
A few orders are still awaiting payment, so the ruleset's ``documents when`` filter skips them.

Why the JSON is written by hand rather than with ``json.dumps``: amounts must be JSON numbers
with exactly two decimals (``38.00``), as shops send them, which neither ``json`` nor ``orjson``
print from a float; and building the text from pre-encoded fragments (customers, products)
keeps 1 M documents to well under a minute.  All amounts are computed in integer cents, VAT
per line rounded half up, totals summed from the lines, so every sale reconciles exactly and
the engine never needs its gap accounts for euro documents.

The output is deterministic for a given ``(n, seed)``; keys are unique.

Usage: ``python bench/gen_documents.py --n 100000 --out bench/out/docs-100000.jsonl``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# VAT classes of the products, and the rates (in percent, as written in the JSON) per country.
# FR: 20 standard, 10 intermediate, 5.5 food (tea); OSS countries use their own rates.
RATES: dict[str, dict[str, str]] = {
    "FR": {"standard": "20", "intermediate": "10", "food": "5.5"},
    "BE": {"standard": "21", "intermediate": "12", "food": "6"},
    "DE": {"standard": "19", "intermediate": "7", "food": "7"},
    "IT": {"standard": "22", "intermediate": "10", "food": "10"},
}

# label, sku, category, VAT class, unit price excl. tax in cents
PRODUCTS: list[tuple[str, str, str, str, int]] = [
    ("Théière en fonte Tetsubin 0,8 L", "THE-FONTE-08", "Théières", "standard", 3800),
    ("Théière en verre 1 L", "THE-VERRE-10", "Théières", "standard", 2490),
    ("Tasse en grès émaillé 25 cl", "TASSE-GRES-25", "Vaisselle", "standard", 650),
    ("Boîte à thé laquée", "BOITE-LAQ", "Accessoires", "standard", 1290),
    ("Filtre inox réutilisable", "FILTRE-INOX", "Accessoires", "standard", 590),
    ("Thé vert Sencha bio 100 g", "SENCHA-100", "Thés", "food", 890),
    ("Thé noir Darjeeling 1er flush 100 g", "DARJ-FF-100", "Thés", "food", 1450),
    ("Oolong Tie Guan Yin 50 g", "OOLONG-TGY-50", "Thés", "food", 1120),
    ("Rooibos vanille 100 g", "ROOIBOS-VAN", "Infusions", "food", 650),
    ("Matcha cérémonie 30 g", "MATCHA-30", "Thés", "food", 2290),
    ("Thé glacé pêche prêt à boire 33 cl", "ICED-PECHE", "Boissons", "intermediate", 290),
    ("Atelier dégustation (place)", "ATELIER-1", "Ateliers", "intermediate", 2500),
]

SHIPPING: list[tuple[str, int]] = [
    ("Colissimo domicile", 575),
    ("Mondial Relay point relais", 415),
    ("Colissimo international", 1490),
    ("Chronopost express", 1250),
]

FIRST = [
    "Camille",
    "Lucas",
    "Sophie",
    "Thomas",
    "Léa",
    "Julien",
    "Chloé",
    "Hugo",
    "Manon",
    "Nathan",
    "Inès",
    "Louis",
    "Emma",
    "Gabriel",
    "Zoé",
    "Raphaël",
    "Jade",
    "Arthur",
]
LAST = [
    "Durand",
    "Moreau",
    "Martin",
    "Lefèvre",
    "Bernard",
    "Petit",
    "Roux",
    "Fontaine",
    "Garnier",
    "Chevalier",
    "Lambert",
    "Girard",
    "Bonnet",
    "Dupont",
    "Mercier",
    "Faure",
]
CITIES: dict[str, list[tuple[str, str]]] = {
    "FR": [
        ("75011", "Paris"),
        ("69002", "Lyon"),
        ("31000", "Toulouse"),
        ("59000", "Lille"),
        ("13001", "Marseille"),
        ("33000", "Bordeaux"),
        ("44000", "Nantes"),
        ("67000", "Strasbourg"),
    ],
    "BE": [("1050", "Ixelles"), ("4000", "Liège"), ("9000", "Gent")],
    "DE": [("20095", "Hamburg"), ("10115", "Berlin"), ("80331", "München")],
    "IT": [("20121", "Milano"), ("00184", "Roma"), ("50122", "Firenze")],
    "NL": [("1012", "Amsterdam")],
    "AT": [("1010", "Wien")],
    "US": [("94110", "San Francisco"), ("10001", "New York")],
    "CH": [("1201", "Genève"), ("8001", "Zürich")],
    "GB": [("EC1A 1BB", "London")],
    "CA": [("H2X 1Y4", "Montréal")],
    "RE": [("97400", "Saint-Denis")],
    "GP": [("97110", "Pointe-à-Pitre")],
}
# Intra-EU VAT numbers that pass python-stdnum's check digits (the ruleset checks them).
VAT_NUMBERS: dict[str, str] = {
    "DE": "DE136695976",
    "BE": "BE0403170701",
    "IT": "IT00743110157",
    "NL": "NL004495445B01",
    "AT": "ATU13585627",
}
FR_VAT_NUMBER = "FR40303265045"

METHODS: dict[str, str] = {
    "card": "Carte bancaire (Stripe)",
    "paypal": "PayPal",
    "transfer": "Virement bancaire",
}
SALE_STATUSES = [("paid", "Paiement accepté"), ("shipped", "Expédié"), ("delivered", "Livré")]
REFUND_REASONS = [
    "Rétractation dans les 14 jours",
    "Produit arrivé cassé",
    "Livraison en retard : frais de port remboursés",
    "Erreur de préparation",
]

# Customer profiles and their share of sales: (profile, weight).
PROFILES: list[tuple[str, int]] = [
    ("fr", 74),
    ("fr_b2b", 3),
    ("oss", 12),
    ("intracom", 3),
    ("export", 5),
    ("dom", 3),
]

BASE_DATE = dt.date(2025, 1, 1)


def _j(value: str) -> str:
    """JSON-encode a string once (pre-encoded fragments are reused across documents)."""
    return json.dumps(value, ensure_ascii=False)


def money(cents: int) -> str:
    """Integer cents as a JSON number with exactly two decimals (``-3.50``)."""
    if cents < 0:
        units, rest = divmod(-cents, 100)
        return f"-{units}.{rest:02d}"
    units, rest = divmod(cents, 100)
    return f"{units}.{rest:02d}"


def vat_cents(excl: int, rate: str) -> int:
    """VAT of one line, rounded half up (away from zero), in cents; rate in percent."""
    basis_points = round(float(rate) * 100)  # 5.5 % -> 550
    value = (abs(excl) * basis_points + 5000) // 10000
    return -value if excl < 0 else value


@dataclass(slots=True)
class Customer:
    """A customer with pre-encoded JSON fragments and the VAT treatment of its sales."""

    fragment: str  # "customer":{…},"billing":{…},"shipping":{…}
    billing_fragment: str  # "customer":{…},"billing":{…} (payments carry no shipping)
    country: str
    profile: str  # fr, fr_b2b, oss, intracom, export, dom
    method: str


@dataclass(slots=True)
class SaleMemo:
    """What later refunds and payments need to know about a sale."""

    key: str
    number: str
    order_id: str
    reference: str
    date: str
    customer: Customer
    lines: list[tuple[str, str, int, int, str]]  # line head JSON, rate, excl, tax, kind
    incl: int
    currency_fragment: str
    refunded: bool = False


@dataclass(slots=True)
class Counts:
    """How many documents of each kind were written (printed, and used by the benchmark)."""

    sale: int = 0
    refund: int = 0
    payment: int = 0
    skipped_sales: int = 0
    profiles: dict[str, int] = field(default_factory=dict)


def _customers(rng: random.Random, count: int) -> list[Customer]:
    weights = [w for _, w in PROFILES]
    names = [p for p, _ in PROFILES]
    customers = []
    for index in range(count):
        profile = rng.choices(names, weights)[0]
        country = {
            "fr": "FR",
            "fr_b2b": "FR",
            "oss": rng.choice(["BE", "DE", "IT"]),
            "intracom": rng.choice(list(VAT_NUMBERS)),
            "export": rng.choice(["US", "CH", "GB", "CA"]),
            "dom": rng.choice(["RE", "GP"]),
        }[profile]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        postcode, city = rng.choice(CITIES[country])
        customer: dict[str, object] = {"id": str(10000 + index), "name": name}
        if profile in ("fr_b2b", "intracom"):
            company = f"{last} {rng.choice(['SARL', 'SAS', 'GmbH', 'S.r.l.', 'BV'])}"
            customer["company"] = company
            customer["email"] = f"achats{index}@example.com"
            customer["vat_number"] = FR_VAT_NUMBER if profile == "fr_b2b" else VAT_NUMBERS[country]
            customer["vat_validated"] = True
            customer["group"] = "B2B"
        else:
            customer["email"] = f"client{index}@example.com"
        if rng.random() < 0.03:  # the ruleset's rule "Client avec code comptable" applies
            customer["accounting_code"] = f"C{index:05d}"
        address = {
            "name": name,
            "street": f"{rng.randint(1, 99)} rue des Lilas",
            "postcode": postcode,
            "city": city,
            "country": country,
        }
        if "company" in customer:
            address["company"] = customer["company"]
        cust = json.dumps(customer, ensure_ascii=False, separators=(",", ":"))
        addr = json.dumps(address, ensure_ascii=False, separators=(",", ":"))
        method = rng.choices(["card", "paypal", "transfer"], [60, 28, 12])[0]
        if profile in ("fr_b2b", "intracom"):
            method = "transfer"
        customers.append(
            Customer(
                fragment=f'"customer":{cust},"billing":{addr},"shipping":{addr}',
                billing_fragment=f'"customer":{cust},"billing":{addr}',
                country=country,
                profile=profile,
                method=method,
            )
        )
    return customers


def _product_heads() -> list[tuple[str, str, int]]:
    """Pre-encoded ``{"kind":"product","label":…,"category":…`` fragments, VAT class, price."""
    return [
        (
            f'{{"kind":"product","label":{_j(label)},"sku":{_j(sku)},"category":{_j(cat)}',
            vat_class,
            price,
        )
        for label, sku, cat, vat_class, price in PRODUCTS
    ]


def _line_json(
    head: str, quantity: int, unit: int, excl: int, rate: str, tax: int, tax_country: str | None
) -> str:
    country = f',"tax_country":"{tax_country}"' if tax_country else ""
    return (
        f'{head},"quantity":{quantity},"unit_price_excl":{money(unit)},"total_excl":{money(excl)},'
        f'"tax_rate":{rate},"tax_amount":{money(tax)}{country},"total_incl":{money(excl + tax)}}}'
    )


def _rates_for(customer: Customer) -> tuple[dict[str, str] | None, str | None]:
    """The VAT rates a customer's sales carry (``None``: exempt) and the line tax country."""
    if customer.profile in ("fr", "fr_b2b"):
        return RATES["FR"], None
    if customer.profile == "oss":
        return RATES[customer.country], customer.country
    return None, None  # export, DOM, intra-EU B2B: exempt, 0 %


class Generator:
    """Streams documents; keeps only a bounded window of recent sales for refunds/payments."""

    def __init__(self, seed: int, n: int) -> None:
        self.rng = random.Random(seed)
        self.n = n
        self.customers = _customers(self.rng, 5000)
        self.products = _product_heads()
        self.shipping_heads = [
            (f'{{"kind":"shipping","label":{_j(label)}', price) for label, price in SHIPPING
        ]
        self.discount_head = f'{{"kind":"discount","label":{_j("Code promo BIENVENUE")}'
        self.dates = [(BASE_DATE + dt.timedelta(days=d)).isoformat() for d in range(400)]
        self.recent: deque[SaleMemo] = deque(maxlen=2000)
        self.unpaid: deque[SaleMemo] = deque(maxlen=2000)
        self.refunds_unpaid: deque[tuple[str, str, int, SaleMemo]] = deque(maxlen=500)
        self.counts = Counts()
        self.next_order = 100000
        self.next_refund = 1
        self.next_payment = 1

    def date(self, index: int, lag: int = 0) -> str:
        return self.dates[min(index * 365 // max(self.n, 1) + lag, len(self.dates) - 1)]

    def document(self, index: int) -> str:
        draw = self.rng.random()
        if draw < 0.10 and self.recent:
            return self.refund(index)
        if draw < 0.30 and (self.unpaid or self.refunds_unpaid):
            return self.payment(index)
        return self.sale(index)

    def sale(self, index: int) -> str:
        rng = self.rng
        customer = rng.choice(self.customers)
        rates, tax_country = _rates_for(customer)
        self.counts.profiles[customer.profile] = self.counts.profiles.get(customer.profile, 0) + 1
        lines: list[tuple[str, str, int, int, str]] = []
        texts: list[str] = []
        goods = 0
        first_rate = "0"
        for _ in range(rng.choices([1, 2, 3, 4], [40, 30, 20, 10])[0]):
            head, vat_class, unit = rng.choice(self.products)
            quantity = rng.choices([1, 2, 3, 6], [70, 18, 8, 4])[0]
            if customer.profile in ("fr_b2b", "intracom"):
                quantity *= 6
            excl = unit * quantity
            rate = "0" if rates is None else rates[vat_class]
            first_rate = first_rate if lines else rate
            tax = vat_cents(excl, rate)
            lines.append((head, rate, excl, tax, "product"))
            texts.append(_line_json(head, quantity, unit, excl, rate, tax, tax_country))
            goods += excl
        if rng.random() < 0.10:  # a promo code: -10 % of the goods, at the first line's rate
            excl = -(goods // 10)
            tax = vat_cents(excl, first_rate)
            lines.append((self.discount_head, first_rate, excl, tax, "discount"))
            texts.append(
                _line_json(self.discount_head, 1, excl, excl, first_rate, tax, tax_country)
            )
        if rng.random() < 0.80 or customer.profile != "fr":
            head, price = rng.choice(self.shipping_heads)
            rate = "0" if rates is None else rates["standard"]
            tax = vat_cents(price, rate)
            lines.append((head, rate, price, tax, "shipping"))
            texts.append(_line_json(head, 1, price, price, rate, tax, tax_country))
        excl_total = sum(line[2] for line in lines)
        tax_total = sum(line[3] for line in lines)
        incl = excl_total + tax_total
        order_id = str(self.next_order)
        self.next_order += 1
        number = f"FA{int(order_id) - 90000:07d}"
        reference = f"REF{int(order_id):07d}"
        key = f"prestashop:bench:sale:{order_id}"
        date = self.date(index)
        if rng.random() < 0.03:
            status, status_raw = "awaiting_payment", "En attente de paiement"
            self.counts.skipped_sales += 1
        else:
            status, status_raw = rng.choices(SALE_STATUSES, [55, 30, 15])[0]
        currency = ""
        if customer.profile == "export" and rng.random() < 0.2:
            currency = '"currency":"USD","exchange_rate":0.92,'
        method = customer.method
        paid = money(incl) if status != "awaiting_payment" else "0.00"
        text = (
            f'{{"kind":"sale","key":"{key}","number":"{number}","order_id":"{order_id}",'
            f'"order_reference":"{reference}","order_date":"{date}","invoice_date":"{date}",'
            f'"status":"{status}","status_raw":{_j(status_raw)},{currency}{customer.fragment},'
            f'"payment_method":{{"code":"{method}","label":{_j(METHODS[method])}}},'
            f'"source":{{"platform":"prestashop","shop":"bench","raw_id":"{order_id}"}},'
            f'"lines":[{",".join(texts)}],'
            f'"totals":{{"excl":{money(excl_total)},"tax":{money(tax_total)},'
            f'"incl":{money(incl)},"paid":{paid}}}}}'
        )
        memo = SaleMemo(key, number, order_id, reference, date, customer, lines, incl, currency)
        if status != "awaiting_payment":
            self.recent.append(memo)
            self.unpaid.append(memo)
        self.counts.sale += 1
        return text

    def refund(self, index: int) -> str:
        rng = self.rng
        sale = self.recent[rng.randrange(len(self.recent))]
        customer = sale.customer
        _, tax_country = _rates_for(customer)
        shape = rng.random()
        products = [line for line in sale.lines if line[4] == "product"]
        shipping = [line for line in sale.lines if line[4] == "shipping"]
        if shape < 0.5 or sale.refunded:  # one item, quantity one
            head, rate, excl, _, _ = products[0]
            picked = [(head, rate, excl if excl < 1000 else 1000)]
        elif shape < 0.7 and shipping:  # shipping only (late delivery)
            head, rate, excl, _, _ = shipping[0]
            picked = [(head, rate, excl)]
        else:  # everything
            picked = [(head, rate, excl) for head, rate, excl, _, _ in sale.lines]
            sale.refunded = True
        texts = []
        excl_total = tax_total = 0
        for head, rate, excl in picked:
            tax = vat_cents(excl, rate)
            texts.append(_line_json(head, 1, excl, excl, rate, tax, tax_country))
            excl_total += excl
            tax_total += tax
        incl = excl_total + tax_total
        number = f"AV{self.next_refund:07d}"
        self.next_refund += 1
        key = f"prestashop:bench:refund:{number}"
        status = "refunded" if sale.refunded else "partially_refunded"
        text = (
            f'{{"kind":"refund","key":"{key}","number":"{number}","order_id":"{sale.order_id}",'
            f'"order_reference":"{sale.reference}","order_date":"{sale.date}",'
            f'"refund_date":"{self.date(index)}","status":"{status}","status_raw":"Remboursé",'
            f'"sale_key":"{sale.key}","sale_number":"{sale.number}",'
            f'"reason":{_j(rng.choice(REFUND_REASONS))},{sale.currency_fragment}{customer.fragment},'
            f'"payment_method":{{"code":"{customer.method}","label":{_j(METHODS[customer.method])}}},'
            f'"source":{{"platform":"prestashop","shop":"bench","raw_id":"{number}"}},'
            f'"lines":[{",".join(texts)}],'
            f'"totals":{{"excl":{money(excl_total)},"tax":{money(tax_total)},"incl":{money(incl)}}}}}'
        )
        if incl > 0:
            self.refunds_unpaid.append((key, number, incl, sale))
        self.counts.refund += 1
        return text

    def payment(self, index: int) -> str:
        rng = self.rng
        if self.refunds_unpaid and (rng.random() < 0.15 or not self.unpaid):
            settles, _, amount, sale = self.refunds_unpaid.popleft()
            direction = "out"
        else:
            sale = self.unpaid.popleft()
            settles, amount, direction = sale.key, sale.incl, "in"
        customer = sale.customer
        method = customer.method
        fees = ""
        if direction == "in" and method == "card":
            fees = f',"fees":{money((amount * 14 + 500) // 1000 + 25)}'
        elif direction == "in" and method == "paypal":
            fees = f',"fees":{money((amount * 29 + 500) // 1000 + 35)}'
        pid = str(self.next_payment)
        self.next_payment += 1
        transaction = {"card": "pi_", "paypal": "PP", "transfer": "VIR SEPA "}[method] + pid.zfill(
            12
        )
        text = (
            f'{{"kind":"payment","key":"prestashop:bench:payment:{pid}","id":"{pid}",'
            f'"payment_date":"{self.date(index, 2)}",'
            f'"method":{{"code":"{method}","label":{_j(METHODS[method])}}},'
            f'"direction":"{direction}","amount":{money(amount)}{fees},'
            f'"transaction_id":"{transaction}",{sale.currency_fragment}'
            f'"order_id":"{sale.order_id}","order_reference":"{sale.reference}",'
            f'"settles":["{settles}"],{customer.billing_fragment},'
            f'"source":{{"platform":"prestashop","shop":"bench","raw_id":"{pid}"}}}}'
        )
        self.counts.payment += 1
        return text


def generate(
    n: int, out: BinaryIO, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> Counts:
    """Write ``n`` documents to ``out`` as JSON Lines, in chunks so memory stays flat."""
    gen = Generator(seed, n)
    chunk: list[str] = []
    for index in range(n):
        chunk.append(gen.document(index))
        if len(chunk) == 10000:
            out.write(("\n".join(chunk) + "\n").encode())
            chunk.clear()
            if progress is not None:
                progress(index + 1)
    if chunk:
        out.write(("\n".join(chunk) + "\n").encode())
    return gen.counts


def ensure(path: Path, n: int, seed: int = 2026) -> Path:
    """Generate ``path`` unless it already exists (the benchmark caches its input)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("wb") as out:
            generate(n, out, seed)
        partial.replace(path)  # never leave a truncated file that looks cached
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of documents")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default="-", help="output file (default: standard output)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.out == "-":
        counts = generate(args.n, sys.stdout.buffer, args.seed)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "wb") as out:
            counts = generate(args.n, out, args.seed)
    elapsed = time.perf_counter() - start
    print(
        f"{args.n} documents in {elapsed:.1f} s: {counts.sale} sales "
        f"({counts.skipped_sales} awaiting payment), {counts.refund} refunds, "
        f"{counts.payment} payments; sale profiles {dict(sorted(counts.profiles.items()))}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
