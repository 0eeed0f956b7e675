"""Reminders and escalation (chalicelib/followup/reminders.py) under the fake clock: a lead
nobody answered is the owner's again FOLLOW_UP_HOURS after it came, MAX_REMINDERS times,
then escalated once; answering it ends that; racing sweeps send each reminder once."""

from __future__ import annotations

import re
import threading
from typing import Any

import boto3

from chalicelib.followup.sweeps import reminders
from chalicelib.leads.model import SalesStatus
from chalicelib.signing import new_key
from tests.conftest import REGION, SALES, body_of, post_json, sent_emails
from tests.data import BUYER

HOUR = 3600


def follow_ups() -> list[tuple[str, str]]:
    """(subject tag, To) of every reminder and escalation sent."""
    return [
        (str(m["Subject"]).split("]")[0] + "]", str(m["To"]))
        for m in sent_emails()
        if str(m["Subject"]).startswith(("[Reminder", "[Escalation"))
    ]


def test_reminders_then_one_escalation_and_an_answer_ends_them(
    make_client: Any, clock: Any
) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/t/link-key", Value=new_key(), Type="SecureString"
    )
    api = make_client(
        ESCALATION_EMAILS="boss@example.com",
        LINK_KEY="ssm:/t/link-key",
        PUBLIC_API_URL="https://api.example.com/api",
    )
    unanswered = post_json(api, BUYER).json_body["id"]
    answered = post_json(api, {**BUYER, "email": "b@example.com"}).json_body["id"]
    api.runtime.leads.set_sales_status(answered, SalesStatus.REPLIED, SALES, None, int(clock()))
    clock.advance(24 * HOUR - 60)
    reminders(api.runtime)
    assert follow_ups() == []
    clock.advance(60)
    reminders(api.runtime)
    reminders(api.runtime)  # the same due reminder: not again
    assert follow_ups() == [("[Reminder 1/2]", SALES)]
    first = sent_emails()[-1]
    assert "Reminder 1 of 2: nobody has answered this inquiry for 24 hours" in body_of(
        first, "plain"
    )
    assert unanswered in first["X-Vigor-Lead-Id"]
    owner_link = f"/leads/{unanswered}/actions/replied?to=sales%40vigorautomobile.com&exp="
    assert owner_link in body_of(first, "plain")  # the sales email's actions, the owner's
    for _ in range(3):
        clock.advance(24 * HOUR)
        reminders(api.runtime)
    clock.advance(7 * 24 * HOUR)
    reminders(api.runtime)
    assert follow_ups() == [
        ("[Reminder 1/2]", SALES),
        ("[Reminder 2/2]", SALES),
        ("[Escalation]", "boss@example.com"),
    ]
    escalation = body_of(sent_emails()[-1], "plain")
    assert "after 2 reminders (owner: " in escalation
    assert f"/leads/{unanswered}/actions/take?to=boss%40example.com&exp=" in escalation
    # The escalation's links work for its recipient, though not in SALES_EMAILS.
    take = re.findall(r"https://api\.example\.com/api(/leads/\S+/actions/take\?\S+)", escalation)
    answer = api.http.post(take[0], body=b"{}", headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json_body["owner"]) == (200, "boss@example.com")
    # Escalated, still unanswered: in the digest's list until its status changes.
    assert [lead for lead, _ in api.runtime.leads.unanswered()] == [unanswered]
    take = re.search(r"https://api\.example\.com/api(/leads/\S+/actions/take\?\S+)", escalation)
    taken = api.http.post(take[1] if take else "", headers={"Accept": "application/json"})
    assert (taken.status_code, taken.json_body["owner"]) == (200, "boss@example.com")


def test_racing_sweeps_send_each_due_reminder_once_and_ses_failures_come_back(
    make_client: Any, clock: Any, faults: Any
) -> None:
    api = make_client()
    for n in range(3):
        post_json(api, {**BUYER, "email": f"b{n}@example.com"})
    clock.advance(24 * HOUR)
    barrier = threading.Barrier(2)

    def racer() -> None:
        barrier.wait()
        reminders(api.runtime)

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert follow_ups() == [("[Reminder 1/2]", SALES)] * 3
    clock.advance(24 * HOUR)
    faults.fail("sesv2.SendEmail", "throttle")
    assert reminders(api.runtime)["reminders_not_sent"] == 3
    faults.heal()
    clock.advance(300)
    assert reminders(api.runtime)["reminded"] == 3
    assert follow_ups()[3:] == [("[Reminder 2/2]", SALES)] * 3


def test_a_lead_whose_reminder_cannot_be_formatted_gets_a_plain_one_and_blocks_no_other(
    make_client: Any, clock: Any, monkeypatch: Any
) -> None:
    from chalicelib.mail import Templates

    api = make_client()
    poison = post_json(api, {**BUYER, "name": "Poison"}).json_body["id"]  # due first
    post_json(api, {**BUYER, "email": "b@example.com"})
    real_render = Templates.render

    def broken(self: Templates, template: str, **context: Any) -> str:
        if context.get("follow_up") and context["lead"]["name"] == "Poison":
            raise RuntimeError("template bug")
        return real_render(self, template, **context)

    monkeypatch.setattr(Templates, "render", broken)
    clock.advance(24 * HOUR)
    assert reminders(api.runtime)["reminded"] == 2
    assert follow_ups() == [("[Reminder 1/2]", SALES)] * 2
    (plain,) = [m for m in sent_emails()[-2:] if m["X-Vigor-Lead-Id"] == poison]
    assert plain["Subject"] == f"[Reminder 1/2] Inquiry {poison} (plain copy)"
    assert "Reminder 1 of 2: nobody has answered" in body_of(plain, "plain")
