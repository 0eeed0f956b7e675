"""The chat-alert sweep: deliver every queued alert to every configured webhook.

The request that takes a lead only writes an ALERT item beside it (in its one transaction),
so a chat service that is slow or down never delays or fails the visitor's answer. Run by
the 5-minute schedule (chalicelib/followup/sweeps.py). Each alert is claimed with a
conditional update before it is sent, so racing sweeps send it once; a webhook that timed
out or answered 5xx is tried again by a later run (backing off), the ones that took it are
not; after MAX_ALERT_ATTEMPTS the alert is given up and the daily digest lists it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.alerts.webhooks import TIMEOUT_SECONDS, Alert, DeliveryError, Webhook, deliver
from chalicelib.leads.dynamodb import LeadsTable
from chalicelib.leads.model import CLAIM_LEASE_SECONDS

log = logging.getLogger(__name__)
MAX_ALERT_ATTEMPTS = 5
MAX_PER_RUN = 50

Deliver = Callable[[Webhook, Alert, float], None]


@dataclass
class AlertReport:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    taken_by_others: int = 0


def alert_backoff_seconds(attempts: int) -> int:
    """5, 10, 20, 40 minutes after each failed attempt (the sweep runs every 5)."""
    return int(300 * 2 ** max(attempts - 1, 0))


def send_alerts(
    table: LeadsTable,
    hooks: tuple[Webhook, ...],
    alert_for: Callable[[str], Alert | None],
    clock: Callable[[], float] = time.time,
    send: Deliver = deliver,
    stop_at: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> AlertReport:
    """Deliver due alerts; claim none once `stop_at` (monotonic) is near."""
    report = AlertReport()
    if not hooks:
        return report
    now = int(clock())
    for taken, (lead_id, seen) in enumerate(table.due_alerts(now)):
        if taken >= MAX_PER_RUN or (
            stop_at is not None and monotonic() + TIMEOUT_SECONDS * len(hooks) > stop_at
        ):
            break
        claim = table.claim_alert(lead_id, seen, now + CLAIM_LEASE_SECONDS)
        if claim is None:
            report.taken_by_others += 1
            continue
        delivered, errors, retry = list(claim.delivered), list[str](), False
        try:
            alert = alert_for(lead_id)
        except Exception as exc:  # this lead cannot be read or described now: it waits
            alert, retry = None, True  # (backing off, then given up), the others go on
            errors.append(f"alert not built ({type(exc).__name__})")
        if alert is not None:  # None: the lead is gone (erased), nothing to say
            for index, hook in enumerate(hooks):
                if index in delivered:
                    continue
                try:
                    send(hook, alert, clock())
                    delivered.append(index)
                except DeliveryError as exc:
                    errors.append(f"{hook.kind}: {exc}")
                    retry = retry or exc.retry
                except Exception as exc:  # a bug: tried again, backing off, then given up
                    errors.append(f"{hook.kind}: {type(exc).__name__}")
                    retry = True
        attempts = claim.attempts + 1
        if not errors:
            report.sent += 1
            retry_at = None
        elif retry and attempts < MAX_ALERT_ATTEMPTS:
            report.retrying += 1
            retry_at = now + alert_backoff_seconds(attempts)
        else:
            report.given_up += 1
            retry_at = None
            log.error("lead %s: chat alert given up after %d attempts", lead_id, attempts)
        error = "; ".join(errors) or None
        if error:
            log.warning("lead %s: chat alert attempt %d: %s", lead_id, attempts, error)
        table.settle_alert(claim, tuple(delivered), retry_at, error)
    if report.sent or report.retrying or report.given_up:
        log.info("chat alert sweep: %s", report)
    return report
