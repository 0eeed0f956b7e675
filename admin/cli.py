"""The admin commands. Each talks to the stage's AWS resources with the admin's own
credentials (IAM is the gate); the public API has no admin routes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from admin import contact, keys, leads, news, site_build
from admin.command import CommandError, Register, add_command, stage_runtime, usage


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
        message = _aws_problem(exc, getattr(args, "stage", None) or "STAGE")
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

    check = add_command(
        commands,
        "check",
        "verify what a live stage needs, before and after every deploy: config.json, the"
        " policy file, tables, SES identities, alarms, the deployed functions; one line each,"
        " the fix beside every problem, exit 1 on any",
    )
    check.set_defaults(handler=_check)

    stage = commands.add_parser(
        "stage", help="add a stage; write a stage's IAM policy file", description=_STAGE_HELP
    )
    stage.set_defaults(handler=usage(stage))
    stage_commands = stage.add_subparsers(title="stage commands", metavar="COMMAND")
    add = stage_commands.add_parser(
        "add",
        help="add a stage to .chalice/config.json (a copy of another, with its own names)"
        " and write its policy file",
        description=_STAGE_HELP,
    )
    add.add_argument("name", help="the new stage: lowercase letters, digits, '-'")
    add.add_argument(
        "--from",
        dest="source",
        default="prod",
        help="the stage whose settings are copied (default: prod)",
    )
    add.set_defaults(handler=_stage_add)
    policy = stage_commands.add_parser(
        "policy",
        help="the IAM policy a stage's functions need, derived from config.json and the"
        " template (print it, or --write .chalice/policy-STAGE.json)",
    )
    policy.add_argument("name", help="the stage")
    policy.add_argument("--write", action="store_true", help="write it to the policy file")
    policy.set_defaults(handler=_stage_policy)

    for group in (news, contact, leads, keys, site_build):
        group.register(commands)
    return parser


_STAGE_HELP = """A stage is one copy of the service (dev, prod, ...): its settings in
.chalice/config.json, its IAM policy file .chalice/policy-STAGE.json, its data stack
(`provision`) and its app (`chalice deploy --stage STAGE`). `stage add NAME` copies another
stage's settings with NAME's own table and configuration-set names and writes the policy;
edit SENDER_EMAIL, SALES_EMAILS, ALLOWED_ORIGINS and ALERT_EMAILS as needed (then `stage
policy NAME --write`), provision, check, deploy."""


def _provision(args: argparse.Namespace) -> int:
    from admin.provision import provision

    runtime = stage_runtime(args.stage)
    return provision(runtime, args.stage, runtime.clients.client("cloudformation"))


def _check(args: argparse.Namespace) -> int:
    from admin.check import run_check

    runtime = stage_runtime(args.stage)
    return run_check(args.stage, runtime.clients)


def _stage_add(args: argparse.Namespace) -> int:
    from admin.stages import StageError, UnknownStage, add_stage

    try:
        written = add_stage(args.name, args.source)
    except (StageError, UnknownStage) as exc:
        raise CommandError(str(exc)) from None
    print(f"stage {args.name}: settings copied from {args.source}, with its own names")
    for path in written:
        print(f"  wrote {path.relative_to(path.parent.parent)}")
    print(
        "next: review its SENDER_EMAIL, SALES_EMAILS, ALLOWED_ORIGINS and ALERT_EMAILS in"
        f" .chalice/config.json (after a change: python manage.py stage policy {args.name}"
        f" --write), then\n  python manage.py provision --stage {args.name}\n"
        f"  python manage.py check --stage {args.name}\n  chalice deploy --stage {args.name}"
    )
    return 0


def _stage_policy(args: argparse.Namespace) -> int:
    from admin.stages import (
        UnknownStage,
        config_file,
        expected_policy,
        load_config,
        policy_text,
        stage_config,
        stage_environment,
    )

    try:
        env = stage_environment(args.name)
        file_name = stage_config(args.name).get("iam_policy_file") or f"policy-{args.name}.json"
    except UnknownStage as exc:
        raise CommandError(str(exc)) from None
    app_name = str(load_config().get("app_name", "vigor-leads"))
    text = policy_text(expected_policy(args.name, env, app_name))
    if not args.write:
        print(text, end="")
        return 0
    path = config_file().parent / str(file_name)
    path.write_text(text, encoding="utf-8")
    print(f"wrote .chalice/{path.name}; `chalice deploy --stage {args.name}` puts it in force")
    return 0


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
