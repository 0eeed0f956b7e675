"""The follow-up sweeps, run by the 5-minute schedule after the retry sweep (bootstrap.py),
by `make run` on its clock (devtools/local.py) and one by one by `manage.py leads remind |
digest`: chat alerts, reminders and escalation, the daily digest.

Each is safe under racing runs (conditional claims) and independent of the others: one
failing is logged and the others still run; the run then fails, so the sweep function's
error alarm fires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.alerts.webhooks import Alert
    from chalicelib.runtime import Runtime

log = logging.getLogger(__name__)


def run_follow_ups(runtime: Runtime, stop_at: float | None = None) -> dict[str, int]:
    """Every follow-up sweep once; claim no new chat alert once `stop_at` (monotonic) nears."""
    steps: list[tuple[str, Callable[[], dict[str, int]]]] = [
        ("chat alerts", lambda: alerts(runtime, stop_at)),
        ("reminders", lambda: reminders(runtime, stop_at)),
        ("daily digest", lambda: digest(runtime)),
    ]
    report: dict[str, int] = {}
    failed: Exception | None = None
    for name, step in steps:
        try:
            report.update(step())
        except Exception as exc:
            log.exception("%s sweep failed", name)
            failed = failed or exc
    if failed is not None:
        raise failed
    return report


def reminders(runtime: Runtime, stop_at: float | None = None) -> dict[str, int]:
    from chalicelib.followup.reminders import send_reminders

    report = send_reminders(
        runtime.leads,
        runtime.mailer,
        runtime.templates,
        runtime.settings,
        runtime.clock,
        links=runtime.action_links,
        stop_at=stop_at,
    )
    return {
        "reminded": report.reminded,
        "escalated": report.escalated,
        "reminders_not_sent": report.not_sent,
    }


def digest(runtime: Runtime) -> dict[str, int]:
    from chalicelib.followup.digest import send_digest

    run = send_digest(
        runtime.leads, runtime.mailer, runtime.templates, runtime.settings, runtime.clock
    )
    return {"digest_sent": int(run.outcome == "sent")}


def alerts(runtime: Runtime, stop_at: float | None = None) -> dict[str, int]:
    from chalicelib.alerts.sweep import send_alerts

    hooks = runtime.chat_webhooks()
    if not hooks:
        if hooks is None:
            log.error("chat alerts wait: the CHAT_WEBHOOKS parameter cannot be read")
        return {}
    report = send_alerts(
        runtime.leads, hooks, alert_builder(runtime), runtime.clock, stop_at=stop_at
    )
    return {f"alerts_{name}": value for name, value in report.__dict__.items()}


def alert_builder(runtime: Runtime) -> Callable[[str], Alert | None]:
    """lead id -> its chat alert (None when the lead is gone)."""
    from chalicelib.alerts.webhooks import alert_of

    def build(lead_id: str) -> Alert | None:
        lead = runtime.leads.get(lead_id)
        if lead is None:
            return None
        inquiry = lead.inquiry
        who = (inquiry.name, inquiry.company, inquiry.country)
        links = runtime.action_links  # the group's link: "send me this lead" (None: off)
        link = links.for_chat(lead.id) if links is not None else None
        return alert_of(lead.id, who, inquiry.what, lead.score, link)

    return build
