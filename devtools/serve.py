"""`manage.py serve` (what `make run` runs): the whole service on this machine, see
devtools/local.py. A developer's command, so it lives here and manage.py adds it to the
admin commands; admin/ never imports devtools/."""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path

from admin.command import (
    CommandError,
    Subcommands,
    add_command,
    require_stage,
    settings_overrides,
)


def register(commands: Subcommands) -> None:
    serve = add_command(commands, "serve", "run the service locally (what `make run` runs)")
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="the API's port (env PORT; default 8000; 0: any free port)",
    )
    serve.add_argument(
        "--site-port",
        type=int,
        default=int(os.environ.get("SITE_PORT", "8001")),
        help="the demo site's port (env SITE_PORT; default 8001; 0: any free port)",
    )
    serve.add_argument(
        "--outbox",
        type=Path,
        default=Path("outbox"),
        help="where every email SES accepted is copied as .eml and .html (default: outbox)",
    )
    serve.add_argument(
        "--aws",
        action="store_true",
        help="serve against the stage's real AWS tables and SES with your credentials"
        " (no emulator, nothing provisioned); default: an embedded moto server",
    )
    serve.add_argument(
        "--fast-clock",
        type=_factor,
        default=os.environ.get("FAST_CLOCK", "1"),
        metavar="FACTOR",
        help="run the app's clock FACTOR times faster than real time, so reminders and the"
        " daily digest show up in the outbox within minutes (60: an hour passes every"
        " minute; env FAST_CLOCK, as in `FAST_CLOCK=60 make run`); default 1",
    )
    serve.set_defaults(handler=_serve)


def _factor(text: str) -> float:
    try:
        factor = float(text)
    except ValueError:
        factor = 0
    if not 1 <= factor <= 100_000:
        raise argparse.ArgumentTypeError(f"a speed-up factor from 1 to 100000, got {text!r}")
    return factor


def _serve(args: argparse.Namespace) -> int:
    from admin.stages import UnknownStage, stage_environment

    if args.aws:
        require_stage(args.stage)
    elif args.stage not in (None, "local"):
        raise CommandError(
            f"serve runs the local stage on an emulator; add --aws to serve stage {args.stage}"
            " against its real tables and SES"
        )
    try:
        overrides = settings_overrides()
        env = {**stage_environment(args.stage), **overrides} if args.aws else overrides
    except UnknownStage as exc:
        raise CommandError(str(exc)) from exc
    try:
        _run(args, env)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise CommandError(
            f"a port is taken (API {args.port}, site {args.site_port}): is `make run` already"
            " running? Pick others (PORT=9000 SITE_PORT=9001 make run) or --port 0"
            " --site-port 0 for any free ones"
        ) from None
    return 0


def _run(args: argparse.Namespace, env: dict[str, str]) -> None:
    from devtools.local import LocalOptions, serve_until_interrupted

    serve_until_interrupted(
        LocalOptions(
            api_port=args.port,
            site_port=args.site_port,
            outbox=args.outbox.resolve(),
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            use_aws=args.aws,
            env=env,
            fast_clock=args.fast_clock,
        )
    )
