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


def _register() -> None:
    """Attach the sub-commands; kept apart so each command module stays importable alone."""
    from postingrules.cli.export import export_command
    from postingrules.cli.journal import preview_command
    from postingrules.cli.rules import schema_command, test_command, validate_command

    for command in (
        validate_command,
        preview_command,
        export_command,
        test_command,
        schema_command,
    ):
        main.add_command(command)


_register()

from postingrules.cli.fetch import fetch_command  # noqa: E402

main.add_command(fetch_command)
