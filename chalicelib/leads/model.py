"""A lead: what the visitor asked (Inquiry), where its notification stands (Lead.status)
and where sales stands with it (Lead.sales_status, owner, history).

Plain, typed values; nothing here knows DynamoDB (dynamodb.py maps a Lead to an item) or
email (inquiries/messages.py renders a Lead).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from chalicelib.times import iso

# How long whoever claimed a lead's notification (the request that took it, a retry
# worker, an admin's resend) holds it before the retry sweep may take over. Longer than
# the function's timeout, so a retry never races a request still sending.
CLAIM_LEASE_SECONDS = 300


class Status(StrEnum):
    PENDING = "pending"  # stored; its sales email is not sent yet (or being sent)
    SENT = "sent"
    FAILED = "failed"  # every attempt failed; `manage.py leads resend` once SES is fixed
    SPAM = "spam"  # the honeypot was filled: kept a while, nobody emailed


# The notification statuses sales once set (`leads mark`), retired for SalesStatus: a stored
# lead with one reads as sent (its email went out) with this sales status.
LEGACY_STATUSES = {"contacted": "replied", "closed": "lost"}


class SalesStatus(StrEnum):
    """Where sales stands with a lead: new -> replied -> quoted -> won | lost, or
    not_relevant. Separate from Status, which is only about the notification email."""

    NEW = "new"
    REPLIED = "replied"
    QUOTED = "quoted"
    WON = "won"
    LOST = "lost"
    NOT_RELEVANT = "not_relevant"


# status -> the statuses it may change to. Forward along the pipeline (steps may be skipped);
# a closed lead (won, lost, not_relevant) may be corrected or reopened; nothing goes back to
# new (time to first reply and the reminders depend on that). A change to the same status
# is an idempotent no-op, not a transition.
_CLOSED = frozenset({SalesStatus.WON, SalesStatus.LOST, SalesStatus.NOT_RELEVANT})
TRANSITIONS: dict[SalesStatus, frozenset[SalesStatus]] = {
    SalesStatus.NEW: frozenset(SalesStatus) - {SalesStatus.NEW},
    SalesStatus.REPLIED: frozenset({SalesStatus.QUOTED}) | _CLOSED,
    SalesStatus.QUOTED: _CLOSED,
    **{
        closed: frozenset({SalesStatus.REPLIED, SalesStatus.QUOTED}) | _CLOSED for closed in _CLOSED
    },
}
# Changing to one of these is sales answering the buyer: the first stamps first_reply_at.
REPLIES = frozenset({SalesStatus.REPLIED, SalesStatus.QUOTED, SalesStatus.WON})
MAX_NOTE = 500
# A lead keeps its latest changes only: a status clicked back and forth with long notes must
# not grow the item towards DynamoDB's 400 KB limit (50 changes with the longest notes in
# 4-byte characters are about 110 KB; tests/fast/test_leads_memory.py sizes the worst case).
MAX_HISTORY = 50
# The first-touch marketing source the site sends with an inquiry (Inquiry.source).
SOURCE_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "referrer",
    "landing_page",
)


class TransitionRefused(ValueError):
    """The lead's sales status may not change to the one asked for (TRANSITIONS)."""


def check_transition(current: SalesStatus, wanted: SalesStatus) -> None:
    if wanted != current and wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise TransitionRefused(f"a lead that is {current} can change to {allowed}, not {wanted}")


def one_line_note(note: str | None) -> str | None:
    """A history note: one line, at most MAX_NOTE characters, None when empty."""
    if note is None:
        return None
    printable = "".join(ch if ch.isprintable() else " " for ch in note)
    text = " ".join(printable.split())[:MAX_NOTE]
    return text or None


@dataclass(frozen=True)
class Change:
    """One entry of a lead's history: `what` (status or owner) went from `old` to `new`."""

    at: int  # epoch seconds
    by: str  # a sales address (action link) or the admin's name (manage.py)
    what: str  # "status" | "owner"
    old: str | None
    new: str
    note: str | None = None

    def line(self) -> str:
        text = f"{iso(self.at)} {self.by}: {self.what} {self.old or '-'} -> {self.new}"
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class LineItem:
    """One row of a request for quotation (chalicelib/inquiries/line_items.py)."""

    part_number: str | None = None  # OE/OEM number or the buyer's own code
    description: str | None = None
    quantity: int | None = None
    unit: str | None = None  # one of line_items.UNITS
    target_price: str | None = None  # decimal text ("12.50"), never a float
    currency: str | None = None  # ISO 4217, upper-case; only with a target_price

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @property
    def label(self) -> str | None:
        return self.part_number or self.description

    def summary(self) -> str:
        """One line for people (text email, CSV, `leads show`): 2 pcs × 4711-A (pad) @ 1.50 USD"""
        what = self.part_number or ""
        if self.description:
            what = f"{what} ({self.description})" if what else self.description
        amount = " ".join(str(v) for v in (self.quantity, self.unit) if v is not None)
        text = " × ".join(part for part in (amount, what) if part)
        if self.target_price:
            text += f" @ {self.target_price} {self.currency}"
        return text


@dataclass(frozen=True)
class Inquiry:
    """What the visitor sent, validated (chalicelib/inquiries/fields.py)."""

    name: str
    email: str
    message: str
    locale: str
    phone: str | None = None
    company: str | None = None
    country: str | None = None
    product: str | None = None
    quantity: int | None = None
    page: str | None = None
    source: dict[str, str] | None = None  # SOURCE_FIELDS the site sent (utm_*, referrer...)
    redirect: str | None = None  # where a form post goes next; not part of the lead
    # A request for quotation: rows, and how and where to ship (issue 12).
    items: tuple[LineItem, ...] = ()
    incoterm: str | None = None  # Incoterms 2020, upper-case
    destination_port: str | None = None
    whatsapp: str | None = None
    wechat: str | None = None
    # Upload ids as sent (POST /uploads); the lead keeps the checked files (Lead.attachments).
    attachments: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        values = {
            k: v for k, v in self.__dict__.items() if v is not None and v != () and k != "items"
        }
        if self.items:
            values["items"] = [row.as_dict() for row in self.items]
        return values

    @property
    def rows(self) -> tuple[LineItem, ...]:
        """The rows to show: `items`, or today's single product/quantity as one row."""
        if self.items or not (self.product or self.quantity):
            return self.items
        return (LineItem(description=self.product, quantity=self.quantity),)

    @property
    def first_part(self) -> str:
        """The first row's part (its first comma-separated item, at most 80 characters):
        what the daily digest counts leads by."""
        rows = self.rows
        return (rows[0].label or "").split(",")[0].strip()[:80] if rows else ""

    @property
    def what(self) -> str:
        """The first part, its quantity and how many more rows, in a few words for the
        digest and chat alerts: "04465-33450 × 200 +2 more"."""
        rows = self.rows
        if not rows:
            return ""
        part, quantity = self.first_part, rows[0].quantity
        what = f"{part} × {quantity}" if part and quantity else part
        if quantity and not part:
            what = f"quantity {quantity}"
        return what + (f" +{len(rows) - 1} more" if len(rows) > 1 else "")

    @classmethod
    def of(cls, values: dict[str, Any]) -> Inquiry:
        """From plain values (a stored item): rows as LineItems."""
        rows = tuple(LineItem(**row) for row in values.get("items") or ())
        return cls(**{**values, "items": rows})


INQUIRY_FIELDS = tuple(f.name for f in fields(Inquiry) if f.name not in ("redirect", "attachments"))


@dataclass(frozen=True)
class Attachment:
    """A file attached to a lead, as checked at submit time (chalicelib/attachments): the
    n-th (1-based) is stored under the lead's id in the uploads bucket."""

    filename: str
    content_type: str
    size: int

    def record(self) -> dict[str, Any]:
        return {"name": self.filename, "type": self.content_type, "size": self.size}

    def line(self) -> str:
        """One line for people (`leads show`, the CSV export)."""
        return f"{self.filename} ({self.content_type}, {self.size} bytes)"


def new_claim_token() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Lead:
    id: str
    received_at: int  # epoch seconds
    inquiry: Inquiry
    status: Status
    expires_at: int  # the table's TTL deletes the lead after this
    spam: bool = False
    captcha: str | None = None  # "verified" or "unverified" when Turnstile is on
    held_back: bool = False  # over the per-address limit: mailed in the hourly summary
    notify_attempts: int = 0
    notified_at: int | None = None
    message_id: str | None = None
    ack: str | None = None  # the acknowledgement: sent, failed or skipped
    last_error: str | None = None
    updated_at: int | None = None
    # In the retry queue until then; while claimed, the claim's lease ends then.
    next_attempt_at: int | None = None
    claim_token: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # Sales' side (docs/architecture.md, "Sales follow-up").
    sales_status: SalesStatus = SalesStatus.NEW
    owner: str | None = None
    history: tuple[Change, ...] = ()
    first_reply_at: int | None = None
    score: str | None = None  # A, B or C (chalicelib/leads/score.py)
    score_reasons: tuple[str, ...] = ()
    follow_up_at: int | None = None  # the next reminder is due then; only while new
    reminders_sent: int = 0

    @classmethod
    def new(
        cls,
        inquiry: Inquiry,
        lead_id: str,
        now: float,
        *,
        spam: bool,
        retention_days: int,
        captcha: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        owner: str | None = None,
        follow_up_hours: int = 24,
    ) -> Lead:
        """A lead as taken: pending and claimed by the request taking it, or spam; scored,
        and (not spam) due for a follow-up reminder `follow_up_hours` after it came."""
        from chalicelib.leads.score import score

        grade, reasons = score(inquiry)
        return cls(
            id=lead_id,
            received_at=int(now),
            inquiry=replace(inquiry, redirect=None, attachments=()),
            status=Status.SPAM if spam else Status.PENDING,
            expires_at=int(now) + retention_days * 86400,
            spam=spam,
            captcha=captcha,
            next_attempt_at=None if spam else int(now) + CLAIM_LEASE_SECONDS,
            claim_token=None if spam else new_claim_token(),
            attachments=attachments,
            owner=None if spam else owner,
            score=grade,
            score_reasons=reasons,
            follow_up_at=None if spam else int(now) + follow_up_hours * 3600,
        )

    @property
    def source(self) -> dict[str, str]:
        return dict(self.inquiry.source or {})

    @property
    def time_to_first_reply(self) -> int | None:
        """Seconds from receipt to sales' first reply, None before it."""
        return None if self.first_reply_at is None else self.first_reply_at - self.received_at

    @property
    def received_iso(self) -> str:
        return iso(self.received_at)

    def record(self) -> dict[str, Any]:
        """The lead as an admin reads it (show, export): no protocol state, ISO times."""
        times = ("notified_at", "updated_at", "expires_at", "first_reply_at", "follow_up_at")
        row: dict[str, Any] = {"id": self.id, "received_at": self.received_iso}
        row["status"] = str(self.status)
        row["sales_status"] = str(self.sales_status)
        row.update(self.inquiry.as_dict())
        for name in (
            "spam",
            "captcha",
            "held_back",
            "notify_attempts",
            "notified_at",
            "message_id",
            "ack",
            "last_error",
            "updated_at",
            "expires_at",
            "owner",
            "score",
            "first_reply_at",
            "follow_up_at",
        ):
            value = getattr(self, name)
            if value is None or (name == "held_back" and not value):
                continue
            row[name] = iso(value) if name in times else value
        if self.attachments:
            row["attachments"] = [attachment.record() for attachment in self.attachments]
        if self.score_reasons:
            row["score_reasons"] = list(self.score_reasons)
        if self.reminders_sent:
            row["reminders_sent"] = self.reminders_sent
        if self.history:
            row["history"] = [change.line() for change in self.history]
        return row
