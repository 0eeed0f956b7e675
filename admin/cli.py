"""The admin commands. Each talks to the stage's AWS resources with the admin's own
credentials (IAM is the gate); the public API has no admin routes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from admin import contact, leads, news
from admin.command import CommandError, Register, add_command, stage_runtime


def main(argv: Sequence[str] | None = None, extra_commands: Sequence[Register] = ()) -> int:
    """Exit codes: 0 done, 1 AWS refused or failed, 2 bad usage or input, 130 interrupted.
    `extra_commands`: more command groups' register functions (manage.py adds `serve`)."""
    parser = build_parser(extra_commands)
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


def build_parser(extra_commands: Sequence[Register] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in extra_commands:
        register(commands)

    provision = add_command(
        commands,
        "provision",
        "create or update the stage's data stack (tables, SES configuration set) from"
        " infra/resources.json; verify the SES sender; report the SES sandbox status",
    )
    provision.set_defaults(handler=_provision)

    seed = add_command(commands, "seed", "load seed/ (contact, categories, articles) idempotently")
    seed.set_defaults(handler=_seed)

    for group in (news, contact, leads):
        group.register(commands)
    return parser


def _provision(args: argparse.Namespace) -> int:
    import boto3

    from admin.provision import provision

    runtime = stage_runtime(args.stage)
    return provision(runtime, args.stage, boto3.client("cloudformation"))


def _seed(args: argparse.Namespace) -> int:
    from admin.seed import load_seed

    counts = load_seed(stage_runtime(args.stage).content)
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
