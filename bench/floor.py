"""The floor: what a hand-written converter would do, with no rules and no validation.

Issue 2 §9 measures the engine against this script.  It reads the JSON Lines with the fastest
JSON reader the project ships (``orjson.loads``, one call per line, 1 MiB read at a time) and
writes one CSV line per posting straight from the raw dict: the customer line, one sales line
and one VAT line per document line (no grouping), the bank/fees/customer lines of a payment.
Amounts stay floats and are printed with ``:.2f``; accounts are constants.  No Decimal, no
schema, no balance check, no regime or table look-up: nothing here could refuse a document,
which is exactly why it is a floor and not a competitor.

Usage: ``python bench/floor.py documents.jsonl out.csv`` (prints documents/s on stderr).
"""

from __future__ import annotations

import csv
import sys
import time
from typing import Any, TextIO

import orjson

Row = tuple[str, str, str, str, str, str, str]
READ_BUFFER = 1 << 20
"""Read 1 MiB at a time, as postingrules' own reader does (``model/reader.py``): with the
default 4 KiB buffer both would spend a few per cent of their time in ``read`` calls."""


def rows_for(doc: dict[str, Any]) -> list[Row]:
    """The postings of one raw document, as CSV rows (journal, date, piece, account, label,
    debit, credit)."""
    kind = doc["kind"]
    if kind == "payment":
        date, piece, label = doc["payment_date"], doc.get("id") or doc["key"], doc["key"]
        amount, fees = doc["amount"], doc.get("fees") or 0.0
        rows = []
        bank, customer = (f"{amount - fees:.2f}", ""), ("", f"{amount:.2f}")
        if doc.get("direction") == "out":
            bank, customer = customer, bank
        rows.append(("BQ1", date, piece, "51200000", label, *bank))
        if fees:
            rows.append(("BQ1", date, piece, "62780000", label, f"{fees:.2f}", ""))
        rows.append(("BQ1", date, piece, "41100000", label, *customer))
        return rows
    is_sale = kind == "sale"
    date = (doc.get("invoice_date") if is_sale else doc.get("refund_date")) or doc["order_date"]
    piece, label = doc.get("number") or doc["key"], doc.get("order_reference") or doc["key"]
    total = f"{doc['totals']['incl']:.2f}"
    rows = [
        ("VTE", date, piece, "41100000", label, total, "")
        if is_sale
        else ("VTE", date, piece, "41100000", label, "", total)
    ]
    for line in doc["lines"]:
        for account, amount in (("70700000", line["total_excl"]), ("44571000", line["tax_amount"])):
            if not amount:
                continue
            if not is_sale:
                amount = -amount
            text = f"{abs(amount):.2f}"
            rows.append(
                ("VTE", date, piece, account, label, "", text)
                if amount > 0
                else ("VTE", date, piece, account, label, text, "")
            )
    return rows


def convert(lines: Any, out: TextIO) -> tuple[int, int]:
    """Convert every line of ``lines`` (bytes) and write the CSV; return (documents, rows)."""
    writer = csv.writer(out)
    writer.writerow(("journal", "date", "piece", "account", "label", "debit", "credit"))
    loads = orjson.loads
    documents = rows = 0
    for raw in lines:
        doc = loads(raw)
        postings = rows_for(doc)
        writer.writerows(postings)
        documents += 1
        rows += len(postings)
    return documents, rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: floor.py documents.jsonl out.csv", file=sys.stderr)
        return 2
    start = time.perf_counter()
    with (
        open(args[0], "rb", buffering=READ_BUFFER) as source,
        open(args[1], "w", newline="", encoding="utf-8") as out,
    ):
        documents, rows = convert(source, out)
    elapsed = time.perf_counter() - start
    print(
        f"{documents} documents, {rows} rows in {elapsed:.2f} s: "
        f"{documents / elapsed:,.0f} documents/s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
