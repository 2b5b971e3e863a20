"""``validate``, ``test`` and ``schema``: commands about rule files and the document format."""

from __future__ import annotations

import json

import click
from pydantic import TypeAdapter

from postingrules.cli.common import load_or_exit
from postingrules.dsl.diagnostics import render
from postingrules.model.documents import Document
from postingrules.ruleset import check_file
from postingrules.testing import run_tests


@click.command("validate")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print diagnostics as JSON.")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
def validate_command(rules: tuple[str, ...], as_json: bool, strict: bool) -> None:
    """Check rule files and report every problem at once, located in the source."""
    results = [check_file(path) for path in rules]
    failed = False
    for checked in results:
        errors = checked.errors
        warnings = [d for d in checked.diagnostics if d.severity == "warning"]
        failed |= bool(errors) or (strict and bool(warnings))
        if not as_json:
            for diagnostic in checked.diagnostics:
                click.echo(render(diagnostic, checked.source) + "\n", err=True)
            status = "ok" if not errors else f"{len(errors)} error(s)"
            click.echo(f"{checked.path}: {status}, {len(warnings)} warning(s)")
    if as_json:
        payload = [
            {"file": c.path, "diagnostics": [d.to_dict() for d in c.diagnostics]} for c in results
        ]
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    raise SystemExit(1 if failed else 0)


@click.command("test")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def test_command(rules: tuple[str, ...]) -> None:
    """Run the `test` blocks of rule files: GIVEN a document, the entry must match EXPECT."""
    total = failures = 0
    for path in rules:
        ruleset = load_or_exit(path)
        for outcome in run_tests(ruleset):
            total += 1
            if outcome.passed:
                click.echo(f"PASS {path}: {outcome.name}")
            else:
                failures += 1
                click.echo(f"FAIL {path}: {outcome.name}\n{outcome.report}")
    click.echo(f"{total - failures} passed, {failures} failed")
    raise SystemExit(1 if failures else 0)


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of normalised documents (the input contract)."""
    schema = TypeAdapter(Document).json_schema()
    schema["title"] = "postingrules normalised document"
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))
