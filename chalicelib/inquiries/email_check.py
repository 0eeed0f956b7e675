"""Email addresses: validation with email-validator, then the checks a mail header needs.

email-validator is imported only when a lead arrives. An address it accepts can still be
unusable in a header: a local part holding an RFC 2047 encoded-word (`=?utf-8?q?...?=`)
is decoded by the stdlib's header parser (and by mail clients) into another address, so
the sales email's Reply-To and the acknowledgement's To would differ from what was typed.
Such addresses are refused here, at validation, never discovered when mailing.
"""

from __future__ import annotations

import re
from typing import Any

# Providers that deliver a.b.c@ and abc@ to the same mailbox.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# An ASCII dot-atom @ a dot-atom domain (RFC 5322 atext): what nearly every visitor types.
# A header carries it as it is; tests/fast/test_mime.py checks that the parser agrees.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*\Z")
DNS_TIMEOUT_SECONDS = 3
_resolvers: list[Any] = []  # the instance's caching DNS resolver, made on first use


def normalized_email(address: str, check_deliverability: bool) -> str:
    """The normalized ASCII form of the address, or ValueError with a sentence to show.

    allow_smtputf8=False: SES cannot send to internationalized local parts. An
    internationalized domain is fine and comes back in its ASCII (punycode) form.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(
            address,
            allow_smtputf8=False,
            check_deliverability=check_deliverability,
            strict=True,  # RFC 5321's 64-character limit before the @: mail servers enforce it
            **(
                {"dns_resolver": caching_resolver()}
                if check_deliverability
                else {"timeout": DNS_TIMEOUT_SECONDS}
            ),
        )
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    normalized = str(result.ascii_email or result.normalized)
    if "=?" in normalized.rpartition("@")[0]:
        raise ValueError("The part before the @-sign must not contain the characters =?.")
    if not survives_a_header(normalized):
        raise ValueError("This email address cannot be used in an email header.")
    return normalized


def caching_resolver() -> Any:
    """One DNS resolver per function instance, with a cache that keeps each answer for its
    TTL: a domain many visitors share (gmail.com, qq.com) is asked once, not per inquiry."""
    if not _resolvers:
        from email_validator import caching_resolver as make

        _resolvers.append(make(timeout=DNS_TIMEOUT_SECONDS))
    return _resolvers[0]


def survives_a_header(address: str) -> bool:
    """True when the address, written into a header, reads back as itself and nothing else."""
    if "=?" not in address and PLAIN_ADDRESS.match(address):
        return True
    return reads_back_from_a_header(address)


def reads_back_from_a_header(address: str) -> bool:
    """The standard library's header parser, asked (imported only when needed)."""
    from email.headerregistry import Address
    from email.policy import SMTP

    try:
        rendered = str(Address(addr_spec=address))
        parsed = SMTP.header_factory("Reply-To", rendered)
    except Exception:  # the stdlib raises ValueError or a HeaderDefect subclass
        return False
    addresses: tuple[Any, ...] = getattr(parsed, "addresses", ())
    return (
        len(addresses) == 1
        and addresses[0].addr_spec == address
        and not parsed.defects
        and rendered.isascii()
    )


def mailbox_key(address: str) -> str:
    """The mailbox an address delivers to, for limits: a+tag@x, A@X and (on Gmail) a.b@
    all count as one visitor, so plus-tags cannot get round a per-address limit."""
    local, _, domain = address.lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"
