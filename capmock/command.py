"""One style for every error of the ``capmock`` command, click's own included:
``capmock <subcommand>: <problem>`` on stderr, then how to get help for a usage error.

Exit codes: 0 success, 1 the work failed, 2 the command was used wrongly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

EXIT_FAILED = 1
EXIT_USAGE = 2


class Failure(click.ClickException):
    """The command cannot do its work (exit 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.ctx = click.get_current_context(silent=True)


class Refusal(Failure):
    """The command was used wrongly, e.g. with a file it refuses (exit 2)."""

    exit_code = EXIT_USAGE


def fail(message: str, exit_code: int = EXIT_FAILED) -> NoReturn:
    raise Refusal(message) if exit_code == EXIT_USAGE else Failure(message)


class CapmockGroup(click.Group):
    """A click group that reports every error in capmock's one style."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as asked:
            click.echo(asked.format_message())  # `capmock` alone asks what it can do
            sys.exit(0)
        except click.ClickException as error:
            _report(error)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo(f"{prog_name or self.name}: aborted", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else 0)


def _report(error: click.ClickException) -> None:
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else "capmock"
    click.echo(f"{where}: {error.format_message()}", err=True)
    if isinstance(error, click.UsageError) and ctx is not None:
        click.echo(f"Try '{ctx.command_path} --help' for help.", err=True)
