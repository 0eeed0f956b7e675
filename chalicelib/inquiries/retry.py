"""The retry sweep: resend the sales email of every pending lead whose time has come,
and mail the leads held back by the per-address limit to sales in one summary.

Run by the scheduled function (app.py) and by `manage.py leads retry`. Safe to run twice
at once: each lead is claimed with a conditional update before it is sent, so exactly
one worker sends it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.inquiries.service import CLAIM_LEASE_SECONDS, InquiryService
from chalicelib.inquiries.store import HELD, LeadStore

log = logging.getLogger(__name__)
MAX_PER_SUMMARY = 50  # held-back leads in one summary email


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
    for lead_id, seen_retry_at in store.due(now):
        if report.due >= max_leads or monotonic() > stop_at:
            break
        report.due += 1
        token = uuid.uuid4().hex
        lead = store.claim(lead_id, seen_retry_at, token, now + CLAIM_LEASE_SECONDS)
        if lead is None:
            report.taken_by_others += 1
            continue
        if service.resend(lead, token):
            report.sent += 1
        else:
            report.still_pending += 1
    held: list[tuple[dict[str, Any], str]] = []
    for lead_id, seen_retry_at in store.due(now, queue=HELD):
        if len(held) >= MAX_PER_SUMMARY or monotonic() > stop_at:
            break  # the rest go in the next run's summary
        token = uuid.uuid4().hex
        lead = store.claim(lead_id, seen_retry_at, token, now + CLAIM_LEASE_SECONDS)
        if lead is None:
            report.taken_by_others += 1
        else:
            held.append((lead, token))
    if held and service.send_held_back(held):
        report.held_back_sent += len(held)
    elif held:
        report.still_pending += len(held)
    if report.due or held:
        log.info("retry sweep: %s", report)
    return report
