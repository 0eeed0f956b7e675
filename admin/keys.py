"""`manage.py keys rotate`, and `provision`'s creation of the link key.

The key (LINK_KEY names its SSM SecureString parameter) signs every link of the sales
emails: the action links and the download links of files too large to attach
(chalicelib/signing.py); the same name + "-previous" holds the key before it. Rotation: the
current key becomes the previous one, a new random key the current one. Links signed with
the previous key keep working; those signed before it stop (403). Action links last 30
days; a download link lasts as long as its lead, so it survives ONE rotation, not two (the
lead's files stay listed in `manage.py leads show`, and a re-sent email signs new links).
On a suspected leak rotate twice, at once, to end every outstanding link. A warm function
instance that meets a link signed with a key it does not know reads the keys again.
"""

from __future__ import annotations

import argparse
from typing import Any

from admin.command import CommandError, Subcommands, add_command, stage_runtime, usage
from chalicelib.aws import error_code
from chalicelib.settings import ssm_parameter
from chalicelib.signing import PREVIOUS_SUFFIX, new_key


def ensure_link_key(ssm: Any, parameter: str) -> str:
    """Create the key unless it exists; what was done, in words."""
    try:
        ssm.put_parameter(
            Name=parameter,
            Value=new_key(),
            Type="SecureString",
            Overwrite=False,
            Description="vigor-leads: signs the action and download links in sales emails",
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
    group = commands.add_parser("keys", help="rotate the key that signs the links in sales emails")
    group.set_defaults(handler=usage(group))
    keys = group.add_subparsers(title="keys commands", metavar="COMMAND")
    rotate = add_command(
        keys,
        "rotate",
        "a new link key; the old one is kept as the previous (its links keep working)",
    )
    rotate.set_defaults(handler=rotate_keys)


def rotate_keys(args: argparse.Namespace) -> int:
    runtime = stage_runtime(args.stage)
    parameter = ssm_parameter(runtime.settings.link_key)
    if parameter is None:
        raise CommandError(f"stage {args.stage} has no LINK_KEY: signed links are off")
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
