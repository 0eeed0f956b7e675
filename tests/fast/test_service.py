"""Taking a lead, in memory: the service's rules with the fake store and mailer (no AWS).

The same rules are shown end to end through the HTTP API and moto in the moto tier; here
they run in milliseconds, so every branch of the failure rules is cheap to pin down.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.inquiries.retry import retry_pending
from chalicelib.inquiries.service import (
    CaptchaFailed,
    IdempotencyConflict,
    InquiryService,
    Submitted,
    Unavailable,
)
from chalicelib.leads.model import Status
from chalicelib.mail import Templates
from chalicelib.settings import Settings
from tests.conftest import SALES, FakeClock, settings_env
from tests.data import HANS
from tests.fakes import InMemoryLeads, RecordingMailer

VISITOR = Submitted("198.51.100.7")


class World:
    """The service with in-memory collaborators, and what they saw."""

    def __init__(self, verdict: bool | None = True, **env: str) -> None:
        self.clock = FakeClock()
        self.leads = InMemoryLeads(self.clock)
        self.mailer = RecordingMailer()
        self.settings = Settings.from_env(settings_env(**env))
        self.verified: list[str] = []

        def verify(token: str, client_ip: str) -> bool | None:
            self.verified.append(token)
            return verdict

        self.service = InquiryService(
            self.settings,
            self.leads,
            self.mailer,
            Templates(),
            clock=self.clock,
            verify_captcha=verify if self.settings.turnstile_secret else None,
        )

    def sweep(self) -> Any:
        return retry_pending(self.leads, self.service, self.clock)

    def lead(self, lead_id: str) -> Any:
        return self.leads.leads[lead_id]


@pytest.fixture
def world() -> World:
    return World(AUTOREPLY_ENABLED="true")


def test_a_lead_is_stored_mailed_to_sales_and_acknowledged(world: World) -> None:
    lead_id = world.service.submit(HANS, VISITOR)
    (to_sales,) = world.mailer.to(SALES)
    assert to_sales.subject == "[B] Inquiry from Hans Müller: Brake pads × 200"
    assert len(world.mailer.to("hans@example.com")) == 1
    lead = world.lead(lead_id)
    assert (lead.status, lead.ack, lead.notify_attempts) == (Status.SENT, "sent", 1)


def test_ses_down_keeps_the_lead_pending_and_one_sweep_sends_it_once(world: World) -> None:
    world.mailer.failing = True
    lead_id = world.service.submit(HANS, VISITOR)
    lead = world.lead(lead_id)
    assert lead.status == Status.PENDING and lead.last_error
    assert lead.next_attempt_at == int(world.clock.now) + 60
    world.mailer.failing = False
    assert world.sweep().sent == 0  # not before its time
    world.clock.advance(60)
    assert world.sweep().sent == 1
    assert world.sweep().due == 0
    assert len(world.mailer.to(SALES)) == 1 and world.lead(lead_id).status == Status.SENT


def test_after_the_last_attempt_the_lead_is_failed_not_retried(world: World) -> None:
    w = World(MAX_NOTIFY_ATTEMPTS="2")
    w.mailer.failing = True
    lead_id = w.service.submit(HANS, VISITOR)
    w.clock.advance(60)
    w.sweep()
    assert w.lead(lead_id).status == Status.FAILED
    w.clock.advance(10**6)
    assert w.sweep().due == 0


def test_store_down_mails_sales_the_only_copy_and_both_down_is_unavailable(
    world: World,
) -> None:
    world.leads.down = True
    world.service.submit(HANS, VISITOR)
    (only_copy,) = world.mailer.to(SALES)
    assert only_copy.subject.startswith("[NOT STORED] ")
    world.mailer.failing = True
    with pytest.raises(Unavailable):
        world.service.submit(HANS, Submitted("203.0.113.1"))


def test_store_down_bounds_the_email_channel_per_client(world: World) -> None:
    w = World(RATE_LIMIT_PER_IP_PER_HOUR="2")
    w.leads.down = True
    w.service.submit(HANS, VISITOR)
    w.service.submit(HANS, VISITOR)
    with pytest.raises(Unavailable):
        w.service.submit(HANS, VISITOR)
    w.service.submit(HANS, Submitted("203.0.113.1"))  # another client has its own allowance
    assert len(w.mailer.to(SALES)) == 3
    w.clock.advance(3600)
    w.service.submit(HANS, VISITOR)  # a new hour
    assert len(w.mailer.to(SALES)) == 4


def test_over_the_address_limit_leads_go_to_sales_in_one_summary_after_the_hour() -> None:
    w = World(RATE_LIMIT_PER_EMAIL_PER_HOUR="1", AUTOREPLY_ENABLED="true")
    w.service.submit(HANS, VISITOR)
    held = [
        w.service.submit(replace(HANS, message=f"again {n}"), Submitted(f"203.0.113.{n}"))
        for n in range(3)
    ]
    assert len(w.mailer.sent) == 2  # the first lead and its acknowledgement only
    w.clock.advance(3600 - w.clock.now % 3600)
    assert w.sweep().held_back_sent == 3
    summary = w.mailer.sent[-1]
    assert summary.subject == "3 inquiries over the per-address hourly limit"
    assert all(f"again {n}" in summary.text for n in range(3))
    assert {w.lead(lead_id).status for lead_id in held} == {Status.SENT}


def test_spam_is_kept_and_nobody_is_mailed(world: World) -> None:
    lead_id = world.service.submit(HANS, Submitted("198.51.100.7", honeypot_filled=True))
    assert world.lead(lead_id).status == Status.SPAM and world.mailer.sent == []


def test_the_same_key_answers_the_first_lead_and_another_inquiry_is_a_conflict(
    world: World,
) -> None:
    keyed = Submitted("198.51.100.7", idempotency_key="k")
    first = world.service.submit(HANS, keyed)
    assert world.service.submit(HANS, keyed) == first
    with pytest.raises(IdempotencyConflict):
        world.service.submit(replace(HANS, message="other"), keyed)
    assert len(world.leads.leads) == 1


def test_the_captcha_decides_and_a_retry_is_answered_before_it() -> None:
    w = World(TURNSTILE_SECRET="s", verdict=True)
    first = w.service.submit(HANS, Submitted("198.51.100.7", "k", captcha_token="good"))
    assert w.lead(first).captcha == "verified"
    again = w.service.submit(HANS, Submitted("198.51.100.7", "k", captcha_token="spent"))
    assert again == first and w.verified == ["good"]
    refused = World(TURNSTILE_SECRET="s", verdict=False)
    with pytest.raises(CaptchaFailed):
        refused.service.submit(HANS, Submitted("198.51.100.7", captcha_token="bad"))
    for token in (None, "", " ", "x" * 3000, "tök"):
        with pytest.raises(CaptchaFailed):
            refused.service.submit(HANS, Submitted("198.51.100.7", captcha_token=token))
    assert refused.leads.leads == {} and refused.verified == ["bad"]


def test_a_captcha_provider_outage_keeps_the_lead_unverified() -> None:
    w = World(TURNSTILE_SECRET="s", verdict=None)
    lead_id = w.service.submit(HANS, Submitted("198.51.100.7", captcha_token="good"))
    assert w.lead(lead_id).captcha == "unverified" and len(w.mailer.to(SALES)) == 1


def test_a_broken_template_still_gets_the_lead_to_sales_as_plain_text(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Templates, template: str, **context: Any) -> str:
        raise RuntimeError("template bug")

    monkeypatch.setattr(Templates, "render", broken)
    lead_id = world.service.submit(HANS, VISITOR)
    (plain,) = world.mailer.to(SALES)
    assert plain.html is None and plain.reply_to is None
    assert "Please quote 200 sets of brake pads." in plain.text
    assert world.lead(lead_id).status == Status.SENT
