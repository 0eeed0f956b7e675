"""The admin commands. Each talks to the stage's AWS resources with the admin's own
credentials (IAM is the gate); the public API has no admin routes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CommandError(Exception):
    """A clear message for the admin; exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done, 1 AWS refused or failed, 2 bad usage or input, 130 interrupted."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error argparse printed (2)
        return exc.code if isinstance(exc.code, int) else 2
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = _aws_problem(exc, getattr(args, "stage", "dev"))
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = _command(commands, "serve", "run the service locally (what `make run` runs)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--site-port", type=int, default=int(os.environ.get("SITE_PORT", "8001")))
    serve.add_argument("--outbox", type=Path, default=Path("outbox"))
    serve.add_argument(
        "--aws",
        action="store_true",
        help="serve against the stage's real AWS tables and SES with your credentials"
        " (no emulator, nothing provisioned); default: an embedded moto server",
    )
    serve.set_defaults(handler=_serve)

    provision = _command(
        commands,
        "provision",
        "create or update the stage's data stack (tables, SES configuration set) from"
        " infra/resources.json; verify the SES sender; report the SES sandbox status",
    )
    provision.set_defaults(handler=_provision)

    seed = _command(commands, "seed", "load seed/ (contact, categories, articles) idempotently")
    seed.set_defaults(handler=_seed)

    from admin import contact, leads, news

    for module in (news, contact, leads):
        module.register(commands)
    return parser


def _command(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text
    )
    parser.add_argument(
        "--stage", default="dev", help="the stage in .chalice/config.json (default: dev)"
    )
    return parser


def _runtime(stage: str) -> Any:
    from admin.stages import UnknownStage, stage_environment
    from chalicelib.runtime import Runtime
    from chalicelib.settings import SettingsError

    try:
        return Runtime.from_environment({**stage_environment(stage), **_overrides()})
    except (UnknownStage, SettingsError) as exc:
        raise CommandError(str(exc)) from exc


def _overrides() -> dict[str, str]:
    """Settings given in the admin's environment win over config.json (e.g. table names)."""
    from chalicelib.settings import Settings

    names = {f.upper() for f in Settings.__dataclass_fields__}
    return {name: value for name, value in os.environ.items() if name in names}


def _serve(args: argparse.Namespace) -> int:
    from devtools.local import LocalOptions, serve_until_interrupted
    from admin.stages import UnknownStage, stage_environment

    try:
        env = {**stage_environment(args.stage), **_overrides()} if args.aws else _overrides()
    except UnknownStage as exc:
        raise CommandError(str(exc)) from exc
    serve_until_interrupted(
        LocalOptions(
            api_port=args.port,
            site_port=args.site_port,
            outbox=args.outbox.resolve(),
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            use_aws=args.aws,
            env=env,
        )
    )
    return 0


def _provision(args: argparse.Namespace) -> int:
    import boto3

    from admin.provision import provision

    runtime = _runtime(args.stage)
    return provision(runtime, args.stage, boto3.client("cloudformation"))


def _seed(args: argparse.Namespace) -> int:
    from admin.seed import load_seed

    counts = load_seed(_runtime(args.stage).content)
    print(", ".join(f"{count} {name}" for name, count in counts.items()) + " loaded")
    return 0


def _aws_problem(exc: Exception, stage: str) -> str | None:
    """A sentence for an AWS error the admin can act on; None for anything else (a bug)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
    )

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: run 'aws configure' or set AWS_PROFILE (docs/deploy.md, step 1)"
    if isinstance(exc, NoRegionError):
        return "no AWS region: set AWS_DEFAULT_REGION or `aws configure set region ...`"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        text = exc.response.get("Error", {}).get("Message", str(exc))
        if code == "ResourceNotFoundException":
            return (
                f"{text} - are the stage's tables there? run"
                f" `python manage.py provision --stage {stage}` first"
            )
        if code in ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException"):
            return f"AWS refused ({code}): {text} - check your credentials and their permissions"
        return f"AWS answered {code}: {text}"
    if isinstance(exc, BotoCoreError):
        return f"could not talk to AWS: {exc}"
    return None


# ---- for the command modules (admin/news.py, admin/contact.py, admin/leads.py) --------

add_command = _command
stage_runtime = _runtime


def usage(parser: argparse.ArgumentParser) -> Any:
    """A handler for a command group called without its sub-command: help, exit code 2."""

    def handler(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler
