"""Email address validation with email-validator (imported only when a lead arrives)."""

from __future__ import annotations


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
            timeout=3,
        )
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return str(result.ascii_email or result.normalized)
