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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = _command(commands, "serve", "run the service locally (what `make run` runs)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--site-port", type=int, default=int(os.environ.get("SITE_PORT", "8001")))
    serve.add_argument("--outbox", type=Path, default=Path("outbox"))
    serve.set_defaults(handler=_serve)

    provision = _command(
        commands, "provision", "create or update the stage's tables; verify the SES sender"
    )
    provision.set_defaults(handler=_provision)

    seed = _command(commands, "seed", "load seed/ (contact, categories, articles) idempotently")
    seed.set_defaults(handler=_seed)
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
    from admin.local import LocalOptions, serve_until_interrupted

    serve_until_interrupted(
        LocalOptions(
            api_port=args.port,
            site_port=args.site_port,
            outbox=args.outbox.resolve(),
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        )
    )
    return 0


def _provision(args: argparse.Namespace) -> int:
    import boto3

    from admin.provision import deploy_stack, stack_name, verify_sender

    runtime = _runtime(args.stage)
    print(f"deploying stack {stack_name(args.stage)} from infra/resources.json ...", flush=True)
    outputs = deploy_stack(boto3.client("cloudformation"), args.stage)
    for key, value in sorted(outputs.items()):
        print(f"  {key}: {value}")
    status = verify_sender(runtime.clients.sesv2(), runtime.settings.sender_email)
    print(f"SES sender {runtime.settings.sender_email}: {status}")
    if status != "SUCCESS":
        print(
            "  SES sent a verification email to that address: open it and click the link.\n"
            "  While the account is in the SES sandbox, SES also only delivers to verified\n"
            "  addresses: verify SALES_EMAILS too, or request production access (README)."
        )
    return 0


def _seed(args: argparse.Namespace) -> int:
    from admin.seed import load_seed

    counts = load_seed(_runtime(args.stage).content)
    print(", ".join(f"{count} {name}" for name, count in counts.items()) + " loaded")
    return 0
