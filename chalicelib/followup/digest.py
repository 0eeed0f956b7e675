"""The daily digest: once a day, from DIGEST_HOUR in DIGEST_TIMEZONE, one email to
DIGEST_EMAILS (else SALES_EMAILS) with

* yesterday's leads (that day in that zone, spam left out): how many, by country, product
  and score;
* every unanswered lead (sales status `new`), oldest first;
* every lead whose sales email failed for good, and every chat alert given up on, while
  the lead's sales status is still `new`.

The last two are how no lead is lost silently: a lead stays in every digest until someone
acts on it (resends it, or sets its status).

Exactly once a day under racing or retried runs: the run that sends first claims the
day's marker item with a conditional put (LeadsTable.claim_digest), and records it sent
after SES took the email; a failed send releases the claim, so the next run (5 minutes
later, any hour after DIGEST_HOUR that day) tries again.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from chalicelib.leads.model import Lead, SalesStatus
from chalicelib.mail import Email, Mailer, MailError, Templates
from chalicelib.settings import Settings, time_zone

if TYPE_CHECKING:
    from chalicelib.leads.dynamodb import LeadsTable

log = logging.getLogger(__name__)
MAX_LISTED = 50  # leads per section; the rest are counted
CLAIM_SECONDS = 300
NOT_GIVEN = "(not given)"


@dataclass
class Digest:
    day: str  # the local date the digest is sent on
    covers: str  # the local date it reports (the day before)
    zone: str
    generated_at: float  # epoch: ages are counted to it
    received: int = 0
    by_country: list[tuple[str, int]] = field(default_factory=list)
    by_product: list[tuple[str, int]] = field(default_factory=list)
    by_score: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[Lead] = field(default_factory=list)
    unanswered_total: int = 0
    failed: list[Lead] = field(default_factory=list)
    failed_total: int = 0
    failed_alerts: list[Lead] = field(default_factory=list)
    failed_alerts_total: int = 0


@dataclass(frozen=True)
class DigestRun:
    outcome: str  # sent | not_due | done_already | failed | dry_run
    day: str
    email: Email | None = None


def send_digest(
    table: LeadsTable,
    mailer: Mailer,
    templates: Templates,
    settings: Settings,
    clock: Callable[[], float],
    *,
    now_regardless_of_hour: bool = False,
    dry_run: bool = False,
) -> DigestRun:
    """Send today's digest if it is due and nobody sent it; dry_run builds it only."""
    now = clock()
    local = datetime.datetime.fromtimestamp(now, time_zone(settings.digest_timezone))
    day = local.date().isoformat()
    if local.hour < settings.digest_hour and not now_regardless_of_hour:
        return DigestRun("not_due", day)
    if dry_run:
        return DigestRun(
            "dry_run", day, digest_email(gather(table, settings, now), settings, templates)
        )
    if not table.claim_digest(day, CLAIM_SECONDS):
        return DigestRun("done_already", day)
    try:
        email = digest_email(gather(table, settings, now), settings, templates)
        mailer.send(email)
    except Exception as exc:  # release the day: the next run tries again
        table.settle_digest(day, sent=False)
        log.error("daily digest %s not sent (%s)", day, type(exc).__name__)
        if not isinstance(exc, MailError):
            raise
        return DigestRun("failed", day)
    table.settle_digest(day, sent=True)
    log.info("daily digest %s sent", day)
    return DigestRun("sent", day, email)


def gather(table: LeadsTable, settings: Settings, now: float) -> Digest:
    zone = time_zone(settings.digest_timezone)
    today = datetime.datetime.fromtimestamp(now, zone).date()
    covers = today - datetime.timedelta(days=1)
    start = datetime.datetime.combine(covers, datetime.time(), zone).timestamp()
    end = datetime.datetime.combine(today, datetime.time(), zone).timestamp()
    digest = Digest(today.isoformat(), covers.isoformat(), settings.digest_timezone, now)
    countries: Counter[str] = Counter()
    products: Counter[str] = Counter()
    scores: Counter[str] = Counter()
    for lead in table.newest_first(since=start):
        if lead.received_at >= end:
            continue
        digest.received += 1
        countries[lead.inquiry.country or NOT_GIVEN] += 1
        products[lead.inquiry.first_part or NOT_GIVEN] += 1
        scores[lead.score or NOT_GIVEN] += 1
    digest.by_country = countries.most_common()
    digest.by_product = products.most_common()
    digest.by_score = sorted(scores.items())
    digest.unanswered, digest.unanswered_total = _first(table, table.unanswered())
    digest.failed, digest.failed_total = _first(table, table.failed_notifications(), True)
    digest.failed_alerts, digest.failed_alerts_total = _first(table, table.failed_alerts(), True)
    return digest


def _first(
    table: LeadsTable, found: Iterator[tuple[str, int]], only_new: bool = False
) -> tuple[list[Lead], int]:
    """The oldest MAX_LISTED leads of a queue (ids are ULIDs: oldest first) and the count;
    only_new: those sales has not acted on yet (a failure left behind by an answer is not
    news)."""
    ids = sorted(lead_id for lead_id, _ in found)
    read = [lead for lead in (table.get(i) for i in islice(ids, MAX_LISTED)) if lead]
    leads = [lead for lead in read if not only_new or lead.sales_status == SalesStatus.NEW]
    return leads, len(ids) - (len(read) - len(leads))


def digest_email(digest: Digest, settings: Settings, templates: Templates) -> Email:
    zone = time_zone(settings.digest_timezone)
    now = datetime.datetime.fromtimestamp(digest.generated_at, zone)

    def rows(leads: list[Lead]) -> list[dict[str, Any]]:
        return [_row(lead, zone, now) for lead in leads]

    context = {
        "digest": digest,
        "unanswered": rows(digest.unanswered),
        "failed": rows(digest.failed),
        "failed_alerts": rows(digest.failed_alerts),
        "unanswered_more": digest.unanswered_total - len(digest.unanswered),
        "failed_more": digest.failed_total - len(digest.failed),
        "failed_alerts_more": digest.failed_alerts_total - len(digest.failed_alerts),
    }
    subject = (
        f"Leads digest {digest.covers}: {digest.received} new, {digest.unanswered_total} unanswered"
    )
    if digest.failed_total or digest.failed_alerts_total:
        subject += f", {digest.failed_total + digest.failed_alerts_total} FAILED"
    return Email(
        sender=settings.sender_email,
        to=settings.digest_recipients,
        subject=subject,
        text=templates.render("digest.txt", **context),
        html=templates.render("digest.html", **context),
        headers=(("X-Vigor-Digest", digest.day),),
    )


def _row(lead: Lead, zone: datetime.tzinfo, now: datetime.datetime) -> dict[str, Any]:
    inquiry = lead.inquiry
    received = datetime.datetime.fromtimestamp(lead.received_at, zone)
    hours = max(0, int((now - received).total_seconds() // 3600))
    return {
        "id": lead.id,
        "received": received.strftime("%Y-%m-%d %H:%M"),
        "age": f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h",
        "who": ", ".join(str(v) for v in (inquiry.name, inquiry.company, inquiry.country) if v),
        "what": inquiry.what,
        "owner": lead.owner or "",
        "status": str(lead.status),
    }
