"""Reminders and escalation: a lead still `new` (nobody answered it) FOLLOW_UP_HOURS after it
came gets a reminder to its owner, at most MAX_REMINDERS times FOLLOW_UP_HOURS apart; the
next due time escalates it once to ESCALATION_EMAILS. Each is the sales email again, with a
banner and a subject tag, so it carries the same action links.

A lead is due when its `follow_up_at` (set when it is taken, removed when its sales status
leaves `new`) has passed: one Query of the sparse index `follow_up`. Exactly once per due
reminder under racing sweeps: the reminder is claimed by moving follow_up_at on (and
counting reminders_sent) with an update conditional on the follow_up_at the sweep saw and
on the lead being still new; one sweep wins, the others skip it. When SES refuses the
email, the claim is given back (conditionally) and the reminder is due again in 5 minutes.
An escalated lead (or one with nobody to escalate to) waits at FOLLOW_UP_DONE, never due
again, so the daily digest still lists it as unanswered until its status changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chalicelib.inquiries.messages import (
    addressees,
    plain_sales_notification,
    sales_notification,
)
from chalicelib.leads.dynamodb import FOLLOW_UP_DONE, LeadsTable
from chalicelib.leads.model import Lead
from chalicelib.mail import Email, Mailer, MailError, Templates
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.actions.links import ActionLinks

log = logging.getLogger(__name__)
RETRY_SECONDS = 300  # a reminder SES refused is due again after this
MAX_PER_RUN = 100


@dataclass
class ReminderReport:
    reminded: int = 0
    escalated: int = 0
    taken_by_others: int = 0
    not_sent: int = 0
    planned: list[str] = field(default_factory=list)  # dry run: what would be sent


def send_reminders(
    table: LeadsTable,
    mailer: Mailer,
    templates: Templates,
    settings: Settings,
    clock: Callable[[], float] = time.time,
    *,
    dry_run: bool = False,
    links: ActionLinks | None = None,
    stop_at: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ReminderReport:
    report = ReminderReport()
    now = int(clock())
    for taken, (lead_id, seen) in enumerate(table.due_follow_ups(now)):
        if taken >= MAX_PER_RUN or (stop_at is not None and monotonic() > stop_at):
            break
        lead = table.get(lead_id)
        if lead is None or lead.follow_up_at != seen:
            report.taken_by_others += 1  # answered or reminded since the query
            continue
        try:
            emails, after = follow_up_emails(lead, settings, templates, now, links)
        except Exception as exc:  # a bug: this lead waits, the others are still reminded
            log.error("lead %s: follow-up not built (%s)", lead.id, type(exc).__name__)
            report.not_sent += 1
            continue
        if dry_run:
            what = emails[0].subject.split("]", 1)[0] + "]" if emails else "no one to escalate to"
            to = ", ".join(address for email in emails for address in email.to) or "-"
            report.planned.append(f"{lead.id}  {what}  to {to}")
            continue
        count = lead.reminders_sent + 1
        if not table.claim_reminder(lead.id, seen, after, count):
            report.taken_by_others += 1
            continue
        if not emails:
            continue
        sent = 0
        for email in emails:
            try:
                mailer.send(email)
                sent += 1
            except Exception as exc:  # SES refused it, or (a bug) it could not be written
                reason = exc if isinstance(exc, MailError) else type(exc).__name__
                log.warning("lead %s: a follow-up email not sent (%s)", lead.id, reason)
        if not sent:  # give it back: due again shortly (a partial send counts as sent)
            report.not_sent += 1
            table.release_reminder(lead.id, after, now + RETRY_SECONDS, lead.reminders_sent)
            continue
        if after == FOLLOW_UP_DONE:
            report.escalated += 1
        else:
            report.reminded += 1
    if report.reminded or report.escalated or report.not_sent:
        log.info("reminder sweep: %s", report)
    return report


def follow_up_emails(
    lead: Lead,
    settings: Settings,
    templates: Templates,
    now: int,
    links: ActionLinks | None = None,
) -> tuple[list[Email], int]:
    """The lead's next follow-up (no email: nobody to escalate to) and its next
    follow_up_at. One email per recipient: the action links are signed for each."""
    hours = max(1, (now - lead.received_at) // 3600)
    waited = f"{hours} hour{'s' if hours != 1 else ''}"
    if lead.reminders_sent < settings.max_reminders:
        number = lead.reminders_sent + 1
        to = addressees(lead, settings)
        banner = (
            f"Reminder {number} of {settings.max_reminders}: nobody has answered this inquiry"
            f" for {waited}. Reply to the buyer, then press an action below."
        )
        tag = f"[Reminder {number}/{settings.max_reminders}]"
        after = now + settings.follow_up_hours * 3600
    else:
        to = settings.escalation_emails
        whose = f" (owner: {lead.owner})" if lead.owner else ""
        banner = (
            f"Escalation: nobody has answered this inquiry for {waited}, after"
            f" {settings.max_reminders} reminder{'s' if settings.max_reminders != 1 else ''}"
            f"{whose}. Please see that someone takes it."
        )
        tag, after = "[Escalation]", FOLLOW_UP_DONE
    emails = [
        follow_up_email(lead, settings, templates, links, (tag, banner, (address,)))
        for address in to
    ]
    return emails, after


def follow_up_email(
    lead: Lead,
    settings: Settings,
    templates: Templates,
    links: ActionLinks | None,
    follow_up: tuple[str, str, tuple[str, ...]],
) -> Email:
    """The sales email with the follow-up's tag and banner, or, as for the first
    notification (InquiryService._sales_email), its plain copy when the rich one cannot be
    built: a lead that cannot be rendered is still reminded, and never holds up the sweep."""
    tag, banner, to = follow_up
    try:
        actions = links.for_recipient(lead.id, to[0]) if links else None
        email = sales_notification(lead, settings, templates, actions=actions, follow_up=follow_up)
        _ = email.raw  # a header problem shows here, not in SES
        return email
    except Exception as exc:
        log.error(
            "lead %s: formatted %s not built (%s): plain copy", lead.id, tag, type(exc).__name__
        )
    plain = plain_sales_notification(lead, settings)
    return replace(plain, to=to, subject=f"{tag} {plain.subject}", text=f"{banner}\n\n{plain.text}")
