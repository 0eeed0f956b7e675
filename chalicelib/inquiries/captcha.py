"""Optional Cloudflare Turnstile verification (only when TURNSTILE_SECRET is set)."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

log = logging.getLogger(__name__)

VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
MAX_TOKEN = 2048


def usable_token(token: object) -> str | None:
    """The token trimmed, or None when it cannot be one: Turnstile tokens are short
    visible ASCII, so anything else is refused without asking Cloudflare."""
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        return None
    token = token.strip()
    return token if token.isascii() and token.isprintable() else None


def verify_turnstile(
    secret: str, token: str, client_ip: str | None, url: str = VERIFY_URL, timeout: float = 3.0
) -> bool | None:
    """True/False as Cloudflare says; None when Cloudflare could not be asked.

    None lets the caller keep the lead (marked unverified) instead of losing it to an
    outage of a third party.
    """
    form = {"secret": secret, "response": token}
    if client_ip:
        form["remoteip"] = client_ip
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode("ascii"), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("turnstile verification unavailable: %s", exc)
        return None
    return bool(answer.get("success")) if isinstance(answer, dict) else None
