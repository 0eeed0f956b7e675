"""What every admin command module shares (admin/cli.py and the command groups news,
contact, leads): the usage error, the sub-command parser with --stage, the stage's runtime."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

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
        "--stage",
        help="the stage to act on: one of .chalice/config.json's (dev, prod, ...), or local"
        " (the service `make run` is running on this machine). Required: no default, so a"
        " command never acts on a stage nobody named",
    )
    return parser


def require_stage(stage: str | None) -> str:
    if not stage:
        from admin.stages import LOCAL, known_stages

        choices = "|".join([*known_stages(), LOCAL])
        raise CommandError(f"which stage? add --stage {choices}")
    return stage


def stage_runtime(stage: str | None, announce: bool = True) -> Runtime:
    """The runtime for the stage's settings (config.json, the admin's environment wins;
    for `local`, what the running `make run` published). Prints, on stderr, the stage and
    the account (or emulator) the command is about to act on."""
    from admin.stages import LOCAL, StageError, UnknownStage, stage_environment
    from chalicelib.aws import AwsClients
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings, SettingsError

    stage = require_stage(stage)
    try:
        if stage == LOCAL:
            env = _use_local_stage()
        else:
            env = {**stage_environment(stage), **settings_overrides()}
        runtime = Runtime(Settings.from_env(env), AwsClients(_session()))
    except (UnknownStage, StageError, SettingsError) as exc:
        raise CommandError(str(exc)) from exc
    if announce:
        print(f"stage {stage} · {where(runtime, stage)}", file=sys.stderr, flush=True)
    return runtime


def where(runtime: Runtime, stage: str) -> str:
    """The account and region (or the local emulator) the runtime's clients talk to."""
    from admin.stages import LOCAL

    if stage == LOCAL:
        return f"the `make run` emulator at {os.environ.get('AWS_ENDPOINT_URL')}"
    sts = runtime.clients.client("sts")
    region = sts.meta.region_name
    account = sts.get_caller_identity()["Account"]
    shell = sorted(settings_overrides())
    from_shell = f" · from your shell: {', '.join(shell)}" if shell else ""
    return f"account {account} · region {region}{from_shell}"


_loader: Any = None


def _session() -> Any:
    """A fresh boto3 session (credentials and region as the environment says now) that
    shares one loader of service models with the commands run before it in this process:
    each command would otherwise load the models of STS and DynamoDB again (memory, time)."""
    import boto3
    import botocore.session

    global _loader
    core = botocore.session.get_session()
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
    return boto3.session.Session(botocore_session=core)


def _use_local_stage() -> dict[str, str]:
    """Point this process's AWS clients at the emulator of the running `make run`."""
    from admin.stages import local_stage

    published = local_stage()
    os.environ["AWS_ENDPOINT_URL"] = str(published["endpoint_url"])
    os.environ["AWS_DEFAULT_REGION"] = str(published["region"])
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "local")  # the emulator takes any credentials
    os.environ.pop("AWS_PROFILE", None)
    return {str(key): str(value) for key, value in dict(published["env"]).items()}


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
