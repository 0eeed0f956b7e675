"""The retry sweep: resend the sales email of every pending lead whose time has come,
and mail the leads held back by the per-address limit to sales in one summary.

Run every 5 minutes by the scheduled function (chalicelib/bootstrap.py) and by
`manage.py leads retry`. Safe to run twice at once: each lead is claimed with a
conditional update before it is sent, so exactly one worker sends it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chalicelib.ids import time_of
from chalicelib.inquiries.service import InquiryService
from chalicelib.leads.model import CLAIM_LEASE_SECONDS, Lead, new_claim_token
from chalicelib.leads.store import LeadStore

log = logging.getLogger(__name__)
MAX_PER_SUMMARY = 50  # held-back leads in one summary email
_EVER = 2**62  # a retry_at later than any lead's: the whole queue is due "by then"


@dataclass
class SweepReport:
    due: int = 0
    sent: int = 0
    still_pending: int = 0
    taken_by_others: int = 0
    held_back_sent: int = 0


def retry_pending(
    store: LeadStore,
    service: InquiryService,
    clock: Callable[[], float] = time.time,
    max_leads: int = 200,
    time_budget_seconds: float = 20.0,
    monotonic: Callable[[], float] = time.monotonic,
) -> SweepReport:
    """Resend up to `max_leads` due leads, claiming no new one once `time_budget_seconds`
    have passed: a run killed by the function's 30 s timeout mid-send would mail a lead
    twice. What is left waits for the next run."""
    report = SweepReport()
    now = int(clock())
    stop_at = monotonic() + time_budget_seconds

    def claimed(held: bool, limit: int) -> Iterator[Lead]:
        for taken, (lead_id, seen) in enumerate(store.due(now, held=held)):
            if taken >= limit or monotonic() > stop_at:
                return
            report.due += 0 if held else 1
            lead = store.claim(lead_id, seen, new_claim_token(), now + CLAIM_LEASE_SECONDS)
            if lead is None:
                report.taken_by_others += 1
            else:
                yield lead

    for lead in claimed(held=False, limit=max_leads):
        if service.resend(lead):
            report.sent += 1
        else:
            report.still_pending += 1
    held = list(claimed(held=True, limit=MAX_PER_SUMMARY))  # the rest: next run's summary
    if held and service.send_held_back(held):
        report.held_back_sent += len(held)
    elif held:
        report.still_pending += len(held)
    if report.due or held:
        log.info("retry sweep: %s", report)
    return report


def pending_backlog(store: LeadStore, now: float) -> tuple[int, int]:
    """(pending leads, age in seconds of the oldest): what the retry queue holds, held-back
    leads aside (they wait for their hour on purpose). The scheduled sweep reports it after
    each run as metrics (chalicelib/metrics.py); an alarm watches the age. One paged Query
    of the sparse `pending` index, keys only; the age comes from the lead id (a ULID)."""
    count, oldest = 0, now
    for lead_id, _ in store.due(_EVER, held=False):
        count += 1
        oldest = min(oldest, time_of(lead_id))
    return count, max(0, int(now - oldest))
