"""``export``: entries to accounting files, one file or one per kind (``--split``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from postingrules.batch import Tally, run
from postingrules.cli.common import load_or_exit, report_set_aside
from postingrules.cli.journal import selection, selection_options
from postingrules.export import PARTS, Written, customers_format, write_one, write_split
from postingrules.files import FileNameTemplate, OutputExistsError
from postingrules.formats import base as formats
from postingrules.formats.chart import ChartError, read_chart
from postingrules.formats.fec import fec_file_name


def _option_value(text: str) -> Any:
    """`--option k=v` values: JSON when it parses (numbers, true, {"411": "Clients"}), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _options(pairs: tuple[str, ...], profile: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--option")
        options[key.strip()] = _option_value(value)
    if profile:
        options["profile_file"] = profile
    return options


def _format(
    format_name: str,
    options: dict[str, Any],
    accounts: str | None,
    closing_date: dt.date | None,
) -> formats.Format:
    """The format with its options, the chart file (``--accounts``) as its ``account_labels``
    and the closing date as the FEC's ``fiscal_year_end``: the date in the FEC's name bounds
    what it holds, so an entry after it is refused, not written."""
    cls = formats.get(format_name)
    if accounts:
        if "account_labels" not in cls.option_defaults:
            raise click.UsageError(f"format {format_name!r} has no account names: no --accounts")
        if "account_labels" in options:
            raise click.UsageError("give --accounts or --option account_labels, not both")
        try:
            options["account_labels"] = read_chart(accounts)
        except ChartError as exc:
            raise click.BadParameter(str(exc), param_hint="--accounts") from None
    if closing_date is not None:
        if "fiscal_year_end" not in cls.option_defaults:
            raise click.UsageError(
                "--closing-date is the FEC's closing date: only with --format fec"
            )
        options.setdefault("fiscal_year_end", closing_date)
    fmt = cls(**options)
    end = fmt.options.get("fiscal_year_end")
    if closing_date is not None and end != closing_date:
        raise click.UsageError(f"--closing-date {closing_date} and fiscal_year_end {end} differ")
    return fmt


def _parts(text: str | None) -> list[str]:
    if not text:
        return []
    parts = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))  # once each
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        hint = formats.did_you_mean(unknown[0], PARTS)
        raise click.BadParameter(
            f"unknown part {unknown[0]!r}{hint} (parts: {', '.join(PARTS)})", param_hint="--split"
        )
    return parts


def _count(written: Written) -> str:
    """What a file holds, for the summary line: ``sales: 20 entries``, ``customers: 2
    accounts``, ``27 entries`` for the one file of an export."""
    if written.part == "customers":
        return f"customers: {written.entries} accounts"
    if written.part == "entries":
        return f"{written.entries} entries"
    return f"{written.part}: {written.entries} entries"


@click.command("export")
@click.argument("rules", type=click.Path(exists=True, dir_okay=False))
@click.argument("documents", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option(
    "--format",
    "format_name",
    default="json",
    show_default=True,
    help="Export format (see `postingrules formats`).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The file to write.")
@click.option(
    "--out-dir", type=click.Path(file_okay=False), help="Folder for files named by templates."
)
@click.option("--split", "split", help="Separate files: any of sales,refunds,payments,customers.")
@click.option(
    "--name", "name_template", help="File-name template, e.g. 'ecritures_{date:%Y%m%d}.txt'."
)
@click.option(
    "--date",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date for {date} in names (default: today).",
)
@click.option(
    "--option", "option_pairs", multiple=True, help="Format option KEY=VALUE (repeatable)."
)
@click.option(
    "--profile", type=click.Path(exists=True, dir_okay=False), help="Text export profile (TOML)."
)
@click.option(
    "--siren", help="SIREN: the FEC's file name <SIREN>FEC<closing date>.txt, {siren} in names."
)
@click.option(
    "--closing-date", type=click.DateTime(["%Y-%m-%d"]), help="FEC: fiscal year closing date."
)
@click.option(
    "--accounts",
    type=click.Path(exists=True, dir_okay=False),
    help="Chart of accounts (CSV: account, name) naming the accounts (FEC's CompteLib).",
)
@click.option("--force", is_flag=True, help="Replace files that already exist.")
@selection_options
def export_command(
    rules: str,
    documents: tuple[str, ...],
    format_name: str,
    output: str | None,
    out_dir: str | None,
    split: str | None,
    name_template: str | None,
    as_of: dt.datetime | None,
    option_pairs: tuple[str, ...],
    profile: str | None,
    siren: str | None,
    closing_date: dt.datetime | None,
    accounts: str | None,
    force: bool,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    status: tuple[str, ...],
) -> None:
    """Write the entries RULES make from DOCUMENTS to files, each whole or not at all."""
    parts = _parts(split)
    if bool(output) == bool(out_dir):
        raise click.UsageError("give either -o FILE or --out-dir DIR")
    if parts and not out_dir:
        raise click.UsageError("--split writes several files: give --out-dir DIR")
    if parts and format_name == "fec":
        raise click.UsageError("a FEC holds every journal of the year in one file: no --split")
    if name_template and not (out_dir and not parts):
        raise click.UsageError(
            "--name names the one file written in --out-dir; -o gives the file itself, and "
            "--split names its files by the profile's file_names (or <part>_<date><ext>)"
        )
    try:
        closing = closing_date.date() if closing_date else None
        fmt = _format(format_name, _options(option_pairs, profile), accounts, closing)
        customers = customers_format(fmt) if "customers" in parts else fmt
        date = (as_of or dt.datetime.now()).date()
        target: Path | None = Path(output) if output else None
        if out_dir and not parts:
            if name_template:
                name = FileNameTemplate(name_template).render(
                    date=date, kind="entries", siren=siren
                )
            elif format_name == "fec":
                if not siren or not closing:
                    raise click.UsageError(
                        "a FEC in --out-dir is named from --siren and --closing-date"
                    )
                name = fec_file_name(siren, closing)
            else:
                name = FileNameTemplate(f"entries_{{date:%Y%m%d}}{fmt.extension}").render(date=date)
            target = Path(out_dir) / name
    except (formats.UnknownFormatError, formats.OptionError) as exc:
        raise click.BadParameter(str(exc)) from None
    ruleset = load_or_exit(rules)
    tally = Tally()
    entries = (
        entry for _, entry in run(ruleset, documents, tally, selection(select, exclude, status))
    )
    if out_dir:  # with or without --split
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    try:
        if parts:
            assert out_dir is not None
            written: list[Written] = write_split(
                entries, fmt, customers, Path(out_dir), parts, date, force, siren
            )
        else:
            assert target is not None
            written = [write_one(entries, fmt, target, force)]
    except OutputExistsError as exc:
        raise click.ClickException(f"{exc} (use --force to replace it)") from None
    except (formats.FormatError, formats.OptionError) as exc:
        click.echo(f"export refused, nothing written: {exc}", err=True)
        raise SystemExit(1) from None
    report_set_aside(tally)
    files = ", ".join(f"{w.path} ({_count(w)})" for w in written)
    # With --split, entries of a part not asked for are posted but in no file: say how many,
    # so the totals (those of every entry posted) are not read as the files'.
    in_files = sum(w.entries for w in written if w.part != "customers")
    left = f"; {tally.entries - in_files} entries in no part asked for" if parts else ""
    click.echo(
        f"{tally.entries} entries posted, {tally.lines} lines, total debit {tally.debit} = "
        f"total credit {tally.credit}{left}; files written: {files}",
        err=True,
    )
    raise SystemExit(1 if tally.failed or tally.available == 0 else 0)
