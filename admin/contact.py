"""`manage.py contact ...`: show and change the contact block of the Contact page.

Fields: company, contact_person, phone, tel, email, address, wechat. A field without a
value is null: the site leaves that line out.
"""

from __future__ import annotations

import argparse
import re

from admin.command import CommandError, Subcommands, add_command, stage_runtime, usage
from chalicelib.content.repository import CONTACT_FIELDS

MAX_LENGTH = 500
CACHE_NOTE = (
    "  the Contact page shows it within 6 minutes, no deploy needed: each running function"
    " keeps the contact block for up to 60 s, then browsers and caches may keep the page's"
    " data for up to 300 s more (Cache-Control: max-age=300)"
)
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile("[\x00-\x1f\x7f\u2028\u2029]")


def register(commands: Subcommands) -> None:
    group = commands.add_parser(
        "contact",
        help="show or change the contact block",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group.set_defaults(handler=usage(group))
    contact = group.add_subparsers(title="contact commands", metavar="COMMAND")

    show = add_command(contact, "show", "the contact block as the site shows it")
    show.set_defaults(handler=show_contact)

    change = add_command(
        contact, "set", 'change one field; an empty VALUE ("") or --null makes it null'
    )
    change.add_argument("field", metavar="FIELD", help=", ".join(CONTACT_FIELDS))
    change.add_argument("value", metavar="VALUE", nargs="?")
    change.add_argument("--null", action="store_true", help="make the field null")
    change.set_defaults(handler=set_contact)


def show_contact(args: argparse.Namespace) -> int:
    contact = stage_runtime(args.stage).content.contact()
    if contact is None:
        raise CommandError("there is no contact block yet: run `manage.py seed` or `contact set`")
    for field in CONTACT_FIELDS:
        value = contact.get(field)
        print(f"{field:<15} {value if value is not None else '(null)'}")
    return 0


def set_contact(args: argparse.Namespace) -> int:
    value = clean_value(args.field, args.value, args.null)
    content = stage_runtime(args.stage).content
    contact = content.contact() or dict.fromkeys(CONTACT_FIELDS)
    before = contact.get(args.field)
    content.put_contact({**contact, args.field: value})
    print(f"{args.field}: {_shown(before)} -> {_shown(value)}")
    print(CACHE_NOTE)
    return 0


def clean_value(field: str, value: str | None, null: bool) -> str | None:
    if field not in CONTACT_FIELDS:
        raise CommandError(f"unknown field {field!r}; the fields are: {', '.join(CONTACT_FIELDS)}")
    if null and value:
        raise CommandError("give either a VALUE or --null, not both")
    if value is None and not null:
        raise CommandError(f'give the new value of {field}, or "" / --null to make it null')
    text = (value or "").strip()
    if not text:
        return None
    if _CONTROL.search(text):
        raise CommandError(f"{field} must be one line without control characters")
    if len(text) > MAX_LENGTH:
        raise CommandError(f"{field} is longer than {MAX_LENGTH} characters")
    if field == "email" and not _ADDRESS.match(text):
        raise CommandError(f"email must be an address like sales@example.com, got {text!r}")
    return text


def _shown(value: str | None) -> str:
    return "(null)" if value is None else repr(value)
