"""What every admin command module shares (admin/cli.py and the command groups news,
contact, leads): the usage error, the sub-command parser with --stage, the stage's runtime."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime

# What ArgumentParser.add_subparsers() returns (subscriptable for type checkers only).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Register: TypeAlias = "Callable[[Subcommands], None]"  # a command group's register()
Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A clear message for the admin; exit code 2."""


def add_command(commands: Subcommands, name: str, help_text: str) -> argparse.ArgumentParser:
    """A sub-command parser with the --stage option every command has."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument(
        "--stage", default="dev", help="the stage in .chalice/config.json (default: dev)"
    )
    return parser


def stage_runtime(stage: str) -> Runtime:
    """The runtime for the stage's settings (config.json, the admin's environment wins)."""
    from admin.stages import UnknownStage, stage_environment
    from chalicelib.runtime import Runtime
    from chalicelib.settings import SettingsError

    try:
        return Runtime.from_environment({**stage_environment(stage), **settings_overrides()})
    except (UnknownStage, SettingsError) as exc:
        raise CommandError(str(exc)) from exc


def settings_overrides() -> dict[str, str]:
    """Settings given in the admin's environment win over config.json (e.g. table names)."""
    from chalicelib.settings import Settings

    names = {f.upper() for f in Settings.__dataclass_fields__}
    return {name: value for name, value in os.environ.items() if name in names}


def usage(parser: argparse.ArgumentParser) -> Handler:
    """A handler for a command group called without its sub-command: help, exit code 2."""

    def handler(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler
