"""What taking and notifying leads needs of a store: the LeadStore protocol, its messages
and its errors. The DynamoDB adapter (dynamodb.py) implements it, and so does the
in-memory fake of the fast test tier; one set of contract tests holds both to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from chalicelib.leads.model import Lead, SalesStatus

WINDOW_SECONDS = 3600  # rate limits count per clock hour
ACK_INTERVAL_SECONDS = 3600  # at most one acknowledgement per mailbox per this
IDEMPOTENCY_SECONDS = 24 * 3600


class StoreUnavailable(RuntimeError):
    """The store could not take the write (unreachable, throttled, erroring)."""


class LeadNotFound(LookupError):
    def __init__(self, lead_id: str) -> None:
        super().__init__(f"no lead with id {lead_id}")
        self.lead_id = lead_id


class ReplayUnknown(RuntimeError):
    """An Idempotency-Key was seen before, but its first answer could not be read."""


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(f"rate limited by {limit}")
        self.retry_after = retry_after
        self.limit = limit


class Duplicate(Exception):
    """The Idempotency-Key was seen before: the first request's lead id and fingerprint."""

    def __init__(self, lead_id: str, fingerprint: str) -> None:
        super().__init__(lead_id)
        self.lead_id = lead_id
        self.fingerprint = fingerprint


@dataclass(frozen=True)
class Admission:
    """Everything taking a lead checks and writes, all or nothing."""

    lead: Lead
    client_ip: str
    mailbox: str  # the normalised address the per-address limits count
    ip_limit: int
    email_limit: int
    idempotency_key: str | None
    fingerprint: str
    claim_ack: bool
    ack_limit: int = 1_000_000  # acknowledgements per hour, all addresses together
    chat_alert: bool = False  # queue a chat alert for the sweep (CHAT_WEBHOOKS is set)


@dataclass(frozen=True)
class Admitted:
    """How the lead was taken: with an acknowledgement claimed, or held back (over the
    per-address limit: stored, mailed to sales in the hourly summary, no acknowledgement)."""

    ack: bool
    held_back: bool = False


@dataclass(frozen=True)
class Outcome:
    """How one claimed notification attempt ended."""

    attempts: int
    message_id: str | None = None  # set: sent
    next_attempt_at: int | None = None  # not sent, retry then; neither set: failed for good
    ack: str | None = None
    error: str | None = None


class LeadStore(Protocol):
    def admit(self, admission: Admission) -> Admitted:
        """Store the lead; raises Duplicate, RateLimited (per IP) or StoreUnavailable."""
        ...

    def count_request(self, client_ip: str, limit: int) -> None:
        """Count one request of this client against the per-IP hourly limit that taking a
        lead counts too (an upload, a submission whose files are refused); raises
        RateLimited past it, StoreUnavailable when the counter cannot be written."""
        ...

    def replay(self, key: str, client_ip: str) -> Duplicate | None:
        """The first answer to this client's Idempotency-Key, None when it is new;
        raises ReplayUnknown when it cannot be read."""
        ...

    def settle(self, lead_id: str, claim_token: str, outcome: Outcome) -> bool:
        """Record a claimed attempt's outcome; False when the claim was lost meanwhile."""
        ...

    def due(self, now: int, held: bool = False) -> Iterator[tuple[str, int]]:
        """(lead id, next attempt) of pending leads due by `now`, oldest first; with
        held, the held-back leads whose summary is due."""
        ...

    def claim(
        self, lead_id: str, seen_next_attempt: int, claim_token: str, lease_until: int
    ) -> Lead | None:
        """Take a due lead for one attempt; None when someone else took it first."""
        ...

    def get(self, lead_id: str) -> Lead | None: ...

    def set_sales_status(
        self, lead_id: str, status: SalesStatus, by: str, note: str | None, now: int
    ) -> Lead:
        """Change the sales status (the same again: no-op); the lead after it. Raises
        LeadNotFound (dynamodb.py) or TransitionRefused (model.py)."""
        ...

    def assign(self, lead_id: str, owner: str, by: str, now: int) -> Lead:
        """Make `owner` the lead's owner (the same again: no-op); the lead after it."""
        ...
