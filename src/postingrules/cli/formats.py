"""``postingrules formats``: what each export format is, read from its declared properties.

Listing comes from the registry and each format's class attributes, so the command can never
disagree with what the writers do.  ``postingrules formats NAME`` shows one format in detail:
columns, separator, encoding, options; an unknown name gets a did-you-mean.
"""

from __future__ import annotations

import click

from postingrules import formats
from postingrules.formats.base import UnknownFormatError


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return repr(value)
    return str(value)


@click.command("formats")
@click.argument("name", required=False)
def formats_command(name: str | None) -> None:
    """List the export formats, or show the details of format NAME."""
    if name is None:
        width = max(len(n) for n in formats.names())
        for fmt_name in formats.names():
            click.echo(f"{fmt_name:<{width}}  {formats.get(fmt_name).describe()}")
        return
    try:
        fmt = formats.get(name)
    except UnknownFormatError as err:
        raise click.UsageError(str(err)) from None
    click.echo(f"{fmt.name}: {fmt.summary}")
    rows = [
        ("columns", ", ".join(fmt.columns) or "-"),
        ("separator", "fixed width" if fmt.fixed_width else _show(fmt.separator)),
        ("decimal mark", _show(fmt.decimal_mark)),
        ("date format", _show(fmt.date_format)),
        ("encoding", fmt.encoding),
        ("line ending", _show(fmt.line_ending)),
        ("header line", "yes" if fmt.header else "no"),
        ("max label length", _show(fmt.max_label_length)),
        ("accounts with letters", "yes" if fmt.alphanumeric_accounts else "no"),
        ("auxiliary accounts", "yes" if fmt.aux_accounts else "no"),
        ("extension", fmt.extension),
        ("options", ", ".join(sorted(fmt.option_defaults)) or "none"),
    ]
    for label, value in rows:
        click.echo(f"  {label + ':':<23}{value}")
