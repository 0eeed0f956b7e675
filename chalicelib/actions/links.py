"""The action links in the sales email: what they may do, how they are made and checked.

    {PUBLIC_API_URL}/leads/{lead id}/actions/{action}?to={recipient}&exp={epoch}&sig={sig}

sig = HMAC-SHA256 (chalicelib/signing.py, the LINK_KEY every signed link shares) over
"action", lead id, action, recipient (lower case), expiry, one per line, with the current
key; checked against the current and the previous key.
A link is the recipient's own: "take" makes them the owner, the history names them.

A chat alert goes to a group, not to one person, so its link is the one action "mail_me",
signed for the marker recipient "chat": it asks the clicker for their sales address and
mails the lead there, with action links of that address's own (routes.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib.leads.model import SalesStatus
from chalicelib.signing import LinkSigner

LINK_DAYS = 30
# action (the URL's last part) -> the sales status it sets; None: "take it" (assign to me)
ACTIONS: dict[str, SalesStatus | None] = {
    "replied": SalesStatus.REPLIED,
    "quoted": SalesStatus.QUOTED,
    "won": SalesStatus.WON,
    "lost": SalesStatus.LOST,
    "not_relevant": SalesStatus.NOT_RELEVANT,
    "take": None,
}
LABELS = {
    "en": {
        "replied": "Replied",
        "quoted": "Quoted",
        "won": "Won",
        "lost": "Lost",
        "not_relevant": "Not relevant",
        "take": "Take it",
    },
    "zh": {
        "replied": "已回复",
        "quoted": "已报价",
        "won": "已成交",
        "lost": "未成交",
        "not_relevant": "无关",
        "take": "我来跟进",
    },
}
CHAT_ACTION = "mail_me"  # the chat alert's link: "send me this lead"
CHAT_RECIPIENT = "chat"  # no address: whoever opens it says who they are
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{43}\Z")


class LinkRefused(Exception):
    """Why a link cannot be used: HTTP status, error code, a sentence for sales (and its
    Chinese, when pages.REFUSALS_ZH has none for the status and code)."""

    def __init__(self, status: int, code: str, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.zh = zh


@dataclass(frozen=True)
class Link:
    lead_id: str
    action: str
    recipient: str
    expires: int
    signature: str


class ActionLinks:
    def __init__(self, base_url: str, signer: LinkSigner, clock: Callable[[], float]) -> None:
        self._base = base_url.rstrip("/")
        self._signer = signer
        self._clock = clock

    def for_recipient(self, lead_id: str, recipient: str) -> list[tuple[str, str]]:
        """(action, URL) of every action, signed for `recipient`; [] without a key (the
        email then goes without links: a lead is never held up by SSM)."""
        links = []
        for action in ACTIONS:
            url = self._url(lead_id, action, recipient)
            if url is None:
                return []
            links.append((action, url))
        return links

    def for_chat(self, lead_id: str) -> str | None:
        """The chat alert's "send me this lead" link; None without a key."""
        return self._url(lead_id, CHAT_ACTION, CHAT_RECIPIENT)

    def _url(self, lead_id: str, action: str, recipient: str) -> str | None:
        expires = int(self._clock()) + LINK_DAYS * 86400
        signature = self._signer.sign("action", lead_id, action, recipient.lower(), expires)
        if signature is None:
            return None
        query = urlencode({"to": recipient, "exp": expires, "sig": signature})
        return f"{self._base}/leads/{lead_id}/actions/{action}?{query}"

    def check(self, lead_id: str, action: str, query: dict[str, str]) -> Link:
        """The link, when it is genuine and current; raises LinkRefused."""
        from chalicelib.ids import is_id

        if (action not in ACTIONS and action != CHAT_ACTION) or not is_id(lead_id):
            raise LinkRefused(404, "not_found", "There is no such action link.")
        recipient, expires, signature = (query.get(k) or "" for k in ("to", "exp", "sig"))
        if (
            not recipient
            or len(recipient) > 254
            or not expires.isascii()
            or not expires.isdigit()
            or len(expires) > 12
            or not _SIGNATURE.match(signature)
        ):
            raise LinkRefused(
                400, "link_invalid", "This link is incomplete: open it from the email."
            )
        genuine = self._signer.verify(
            signature, "action", lead_id, action, recipient.lower(), int(expires)
        )
        if genuine is None:
            raise LinkRefused(503, "service_unavailable", "Please try again in a minute.")
        if not genuine:
            raise LinkRefused(403, "link_invalid", "This link is not valid: it was changed.")
        if int(expires) < self._clock():
            raise LinkRefused(
                410, "link_expired", f"This link has expired (links last {LINK_DAYS} days)."
            )
        return Link(lead_id, action, recipient, int(expires), signature)
