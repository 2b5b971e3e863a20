"""Helpers shared by the commands: loading rule files and reporting set-aside documents."""

from __future__ import annotations

import click

from postingrules.batch import Tally
from postingrules.dsl.diagnostics import RulesError
from postingrules.ruleset import Ruleset, load_ruleset


def load_or_exit(path: str) -> Ruleset:
    """Compile a rule file, or print every diagnostic and exit 1."""
    try:
        return load_ruleset(path)
    except RulesError as exc:
        click.echo(exc.render(), err=True)
        click.echo(f"\n{path}: {exc}", err=True)
        raise SystemExit(1) from None


def report_set_aside(tally: Tally) -> None:
    """Print, on stderr, every document that produced no entry and why."""
    for bad in tally.invalid:
        click.echo(f"invalid document: {bad}", err=True)
    for refusal in tally.refused:
        click.echo(f"refused: {refusal}", err=True)
    if tally.available == 0:
        click.echo("no documents found in the input", err=True)
