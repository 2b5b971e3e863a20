"""``preview``: the draft journal ("brouillard"), before anything is exported."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from postingrules.batch import Selection, Tally, run
from postingrules.cli.common import load_or_exit, report_set_aside
from postingrules.model.entries import Entry

COLUMNS = (
    "Journal",
    "Date",
    "Piece",
    "Reference",
    "Account",
    "Aux",
    "Label",
    "Tax",
    "Rate",
    "Debit",
    "Credit",
    "Payment",
)


def selection(
    select: tuple[str, ...], exclude: tuple[str, ...], status: tuple[str, ...]
) -> Selection:
    split = lambda values: tuple(v for item in values for v in item.split(",") if v)  # noqa: E731
    return Selection(split(select), split(exclude), split(status))


def selection_options(func: click.decorators.FC) -> click.decorators.FC:
    """--select/--exclude/--status, shared by preview and export."""
    func = click.option(
        "--status",
        multiple=True,
        help="Only sales and refunds whose status is one of these (comma-separated).",
    )(func)
    func = click.option(
        "--exclude", multiple=True, help="Leave out documents whose key matches (glob)."
    )(func)
    func = click.option(
        "--select", multiple=True, help="Only documents whose key matches (glob, e.g. '*:sale:*')."
    )(func)
    return func


def _rows(entry: Entry, explain: bool) -> list[list[object]]:
    rows = []
    for index, line in enumerate(entry.lines):
        row: list[object] = [
            entry.journal,
            entry.date.strftime("%d/%m/%Y"),
            entry.piece,
            entry.reference,
            line.account,
            line.aux or "",
            line.label,
            line.tax_code or "",
            "" if line.tax_rate is None else line.tax_rate,
            line.debit,
            line.credit,
            entry.payment_method or "" if index == 0 else "",
        ]
        if explain:
            row.append(line.provenance)
        rows.append(row)
    return rows


@click.command("preview")
@click.argument("rules", type=click.Path(exists=True, dir_okay=False))
@click.argument("documents", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@selection_options
@click.option("--explain", is_flag=True, help="Show which table row or rule produced each line.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print entries and set-aside documents as JSON."
)
def preview_command(
    rules: str,
    documents: tuple[str, ...],
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    status: tuple[str, ...],
    explain: bool,
    as_json: bool,
) -> None:
    """Show the draft journal: the entries RULES would make from DOCUMENTS, before any export."""
    ruleset = load_or_exit(rules)
    tally = Tally()
    chosen = selection(select, exclude, status)
    if as_json:
        entries = [entry.to_dict() for _, entry in run(ruleset, documents, tally, chosen)]
        payload = {
            "summary": tally.summary(),
            "entries": entries,
            "refused": [r.to_dict() for r in tally.refused],
            "left_out": [
                {"document_key": s.document_key, "reason": s.reason} for s in tally.skipped
            ],
            "invalid": [
                {"location": b.location, "document_key": b.key, "reason": b.reason}
                for b in tally.invalid
            ],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        headers = [*COLUMNS, "Provenance"] if explain else list(COLUMNS)
        for number, (_, entry) in enumerate(run(ruleset, documents, tally, chosen), start=1):
            click.echo(f"Group {number}: {entry.document_key}")
            click.echo(tabulate(_rows(entry, explain), headers=headers, disable_numparse=True))
            click.echo()
        for skipped in tally.skipped:
            click.echo(f"left out: {skipped.document_key}: {skipped.reason}")
        report_set_aside(tally)
        click.echo(
            f"Documents available: {tally.available}  "
            f"Documents to create: {tally.entries}  Lines to create: {tally.lines}  "
            f"(debit {tally.debit} = credit {tally.credit}; refused {len(tally.refused)}, "
            f"left out {len(tally.skipped)}, invalid {len(tally.invalid)})"
        )
    raise SystemExit(1 if tally.failed or tally.available == 0 else 0)
