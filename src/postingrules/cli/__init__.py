"""The ``postingrules`` command line: validate rules, preview the draft journal, export.

Exit codes follow click: 0 success, 1 rule or data errors, 2 usage errors.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="postingrules")
def main() -> None:
    """Turn e-commerce shop documents into balanced accounting entries."""

from postingrules.cli.formats import formats_command  # noqa: E402

main.add_command(formats_command)
