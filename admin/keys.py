"""`manage.py keys rotate`, and `provision`'s creation of the action-link key.

The key (ACTION_LINK_KEY names its SSM SecureString parameter) signs the action links in
sales emails; the same name + "-previous" holds the key before it. Rotation: the current
key becomes the previous one, a new random key the current one. Links signed with the
previous key keep working; those signed before it stop (403). Links last 30 days, so
rotate at most once every 30 days to keep every outstanding link working (or on a
suspected leak: immediately, twice, to end every outstanding link). A warm function
instance that meets a link signed with a key it does not know reads the keys again.
"""

from __future__ import annotations

import argparse
from typing import Any

from admin.command import CommandError, Subcommands, add_command, stage_runtime, usage
from chalicelib.actions.keys import PREVIOUS_SUFFIX, new_key
from chalicelib.aws import error_code
from chalicelib.settings import ssm_parameter


def ensure_link_key(ssm: Any, parameter: str) -> str:
    """Create the key unless it exists; what was done, in words."""
    try:
        ssm.put_parameter(
            Name=parameter,
            Value=new_key(),
            Type="SecureString",
            Overwrite=False,
            Description="vigor-leads: signs the action links in sales emails",
        )
    except Exception as exc:
        if error_code(exc) == "ParameterAlreadyExists":
            return "exists"
        raise
    return "created"


def rotate_link_key(ssm: Any, parameter: str) -> None:
    current = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    ssm.put_parameter(
        Name=parameter + PREVIOUS_SUFFIX, Value=current, Type="SecureString", Overwrite=True
    )
    ssm.put_parameter(Name=parameter, Value=new_key(), Type="SecureString", Overwrite=True)


def register(commands: Subcommands) -> None:
    group = commands.add_parser("keys", help="rotate the key that signs action links")
    group.set_defaults(handler=usage(group))
    keys = group.add_subparsers(title="keys commands", metavar="COMMAND")
    rotate = add_command(
        keys,
        "rotate",
        "a new action-link key; the old one is kept as the previous (its links keep working)",
    )
    rotate.set_defaults(handler=rotate_keys)


def rotate_keys(args: argparse.Namespace) -> int:
    runtime = stage_runtime(args.stage)
    parameter = ssm_parameter(runtime.settings.action_link_key)
    if parameter is None:
        raise CommandError(f"stage {args.stage} has no ACTION_LINK_KEY: action links are off")
    ssm = runtime.clients.client("ssm")
    try:
        rotate_link_key(ssm, parameter)
    except Exception as exc:
        if error_code(exc) != "ParameterNotFound":
            raise
        raise CommandError(
            f"{parameter} does not exist: run `manage.py provision --stage {args.stage}`"
        ) from None
    print(f"rotated {parameter}: new current key; the old one is {parameter}{PREVIOUS_SUFFIX}")
    print("  links signed with the key before that no longer work")
    return 0
