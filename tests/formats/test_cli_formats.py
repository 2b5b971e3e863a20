"""``postingrules formats``: one line per registered format, details, did-you-mean."""

from __future__ import annotations

from click.testing import CliRunner

from postingrules import formats
from postingrules.cli import main


def test_lists_every_format_on_one_line() -> None:
    result = CliRunner().invoke(main, ["formats"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == formats.names()
    fec = next(line for line in lines if line.startswith("fec "))
    assert "TAB" in fec and "header" in fec


def test_details_of_one_format() -> None:
    result = CliRunner().invoke(main, ["formats", "ciel-ximport"])
    assert result.exit_code == 0, result.output
    assert "separator:             fixed width" in result.output
    assert "max label length:      25" in result.output


def test_unknown_name_is_a_usage_error_with_suggestion() -> None:
    result = CliRunner().invoke(main, ["formats", "quadratos"])
    assert result.exit_code == 2
    assert "did you mean 'quadratus'" in result.output
