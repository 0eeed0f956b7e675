"""Never lose a lead: SES and DynamoDB failures, the retry sweep, and races
(docs/architecture.md, "Failure rules")."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from chalicelib.inquiries.retry import retry_pending
from chalicelib.inquiries.service import Submitted
from chalicelib.leads.model import Inquiry
from tests.conftest import lead_items, post_json, sent_emails, stored_lead
from tests.data import BUYER


def sweep(api: Any) -> Any:
    runtime = api.runtime
    return retry_pending(runtime.leads, runtime.inquiries, runtime.clock)


@pytest.mark.parametrize("kind", ["throttle", "reject", "unreachable", "server"])
def test_ses_failure_still_answers_201_and_keeps_the_lead_pending(
    make_client: Any, faults: Any, settings: Any, kind: str
) -> None:
    api = make_client()
    faults.fail("sesv2.SendEmail", kind)
    response = post_json(api, BUYER)
    assert response.status_code == 201
    (lead,) = lead_items(settings)
    assert lead["id"] == response.json_body["id"]
    assert lead["status"] == "pending"
    assert lead["notify_attempts"] == 1
    assert lead["last_error"]
    assert sent_emails() == []


def test_after_ses_recovers_the_retry_sends_exactly_one_email_per_lead(
    make_client: Any, faults: Any, clock: Any, settings: Any
) -> None:
    api = make_client()
    faults.fail("sesv2.SendEmail", "throttle")
    ids = {
        post_json(api, {**BUYER, "email": f"b{n}@example.com"}).json_body["id"] for n in range(3)
    }
    assert sweep(api).due == 0  # not before the backoff has passed
    faults.heal()
    clock.advance(61)
    report = sweep(api)
    assert (report.due, report.sent) == (3, 3)
    clock.advance(3600)
    assert sweep(api).due == 0
    emails = sent_emails()
    assert sorted(m["X-Vigor-Lead-Id"] for m in emails) == sorted(ids)
    assert {lead["status"] for lead in lead_items(settings)} == {"sent"}


def test_retries_back_off_and_a_lead_is_failed_after_the_last_attempt(
    make_client: Any, faults: Any, clock: Any, settings: Any, caplog: Any
) -> None:
    api = make_client(MAX_NOTIFY_ATTEMPTS="3")
    faults.fail("sesv2.SendEmail", "unreachable")
    lead_id = post_json(api, BUYER).json_body["id"]
    clock.advance(61)
    assert sweep(api).still_pending == 1
    (lead,) = lead_items(settings)
    assert lead["notify_attempts"] == 2
    # 1 min, then 2 min, then 4 ...
    assert stored_lead(settings, lead_id).next_attempt_at == int(clock.now) + 120
    clock.advance(121)
    with caplog.at_level(logging.ERROR):
        sweep(api)
    (lead,) = lead_items(settings)
    assert lead["status"] == "failed" and lead["notify_attempts"] == 3
    # out of the retry queue: no endless retries
    assert stored_lead(settings, lead_id).next_attempt_at is None
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(lead_id in message and "FAILED" in message for message in errors)
    # The lead itself is kept: an admin can resend it from the CLI.
    assert lead["email"] == BUYER["email"]


def test_concurrent_sweeps_send_each_pending_lead_once(
    make_client: Any, faults: Any, clock: Any
) -> None:
    api = make_client()
    faults.fail("sesv2.SendEmail", "throttle")
    for n in range(6):
        post_json(api, {**BUYER, "email": f"c{n}@example.com"})
    faults.heal()
    clock.advance(61)
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        sweep(api)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = sent_emails()
    ids = [m["X-Vigor-Lead-Id"] for m in sent]
    assert len(ids) == len(set(ids)) == 6, [(m["Subject"], m["X-Vigor-Lead-Id"]) for m in sent]


def test_dynamodb_down_still_emails_sales_and_answers_201(
    make_client: Any, faults: Any, settings: Any
) -> None:
    api = make_client()
    faults.fail("dynamodb.*", "unreachable")
    response = post_json(api, BUYER)
    assert response.status_code == 201
    faults.heal()
    assert lead_items(settings) == []
    (message,) = sent_emails()
    assert message["Subject"].startswith("[NOT STORED] [A] Inquiry from Hans Müller")
    assert message["X-Vigor-Lead-Id"] == response.json_body["id"]
    assert "only copy of this lead" in message.get_body(("plain",)).get_content()


def test_dynamodb_throttling_is_treated_like_an_outage(
    make_client: Any, faults: Any, settings: Any
) -> None:
    api = make_client()
    faults.fail("dynamodb.TransactWriteItems", "server")
    assert post_json(api, BUYER).status_code == 201
    assert len(sent_emails()) == 1


def test_both_down_is_503_in_the_error_shape(make_client: Any, faults: Any) -> None:
    api = make_client()
    faults.fail("dynamodb.*", "unreachable")
    faults.fail("sesv2.*", "unreachable")
    response = post_json(api, BUYER)
    assert response.status_code == 503
    error = response.json_body["error"]
    assert error["code"] == "service_unavailable" and error["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_outcome_not_recorded_leaves_the_lead_for_the_sweep_not_lost(
    make_client: Any, faults: Any, clock: Any, settings: Any
) -> None:
    api = make_client()
    faults.fail("dynamodb.UpdateItem", "server")
    assert post_json(api, BUYER).status_code == 201
    faults.heal()
    (lead,) = lead_items(settings)
    assert lead["status"] == "pending"  # the email went out, but nobody could record it
    clock.advance(299)
    assert sweep(api).due == 0  # the request's claim still holds: no early duplicate
    clock.advance(2)
    assert sweep(api).sent == 1  # at-least-once: sales may see it twice, never zero times


def test_twenty_concurrent_posts_with_one_idempotency_key_make_one_lead(
    make_client: Any, settings: Any
) -> None:
    api = make_client()
    service = api.runtime.inquiries
    inquiry = Inquiry(name="Hans", email="hans@example.com", message="hi", locale="en")
    barrier = threading.Barrier(20)
    answers: list[str] = []

    def submit() -> None:
        barrier.wait()
        answers.append(service.submit(inquiry, Submitted("203.0.113.9", idempotency_key="dup")))

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 20 and len(set(answers)) == 1
    assert len(lead_items(settings)) == 1
    assert len(sent_emails()) == 1


def test_a_slow_request_skips_the_acknowledgement_but_not_sales(
    make_client: Any, settings: Any
) -> None:
    from chalicelib.inquiries.service import InquiryService
    from chalicelib.mail import Templates

    runtime = make_client(AUTOREPLY_ENABLED="true").runtime
    ticks = iter([0.0, 100.0])  # start of the request; after the sales email: far too late
    service = InquiryService(
        runtime.settings,
        runtime.leads,
        runtime.mailer,
        Templates(),
        clock=runtime.clock,
        monotonic=lambda: next(ticks),
    )
    inquiry = Inquiry(name="Hans", email="hans@example.com", message="hi", locale="en")
    service.submit(inquiry, Submitted("203.0.113.9"))
    (message,) = sent_emails()
    assert message["To"] != "hans@example.com"
    (lead,) = lead_items(settings)
    assert lead["status"] == "sent" and lead["ack"] == "skipped"


def test_a_sweep_stops_claiming_when_its_time_is_up(
    make_client: Any, faults: Any, clock: Any
) -> None:
    api = make_client()
    faults.fail("sesv2.SendEmail", "throttle")
    for n in range(3):
        post_json(api, {**BUYER, "email": f"t{n}@example.com"})
    faults.heal()
    clock.advance(61)
    ticks = iter([0.0, 1.0, 25.0, 26.0])  # budget start, first lead, then past 20 s
    runtime = api.runtime
    report = retry_pending(
        runtime.leads, runtime.inquiries, runtime.clock, monotonic=lambda: next(ticks)
    )
    assert (report.due, report.sent) == (1, 1)
    assert sweep(api).sent == 2  # the next run takes the rest


def test_committed_write_whose_answer_was_lost_is_emailed_once(
    make_client: Any, settings: Any, clock: Any
) -> None:
    from botocore.exceptions import ReadTimeoutError

    api = make_client()
    db = api.runtime.leads._db
    real = db.transact_write_items

    def commit_then_time_out(**kwargs: Any) -> Any:
        real(**kwargs)
        raise ReadTimeoutError(endpoint_url="https://dynamodb")

    db.transact_write_items = commit_then_time_out
    assert post_json(api, BUYER).status_code == 201
    db.transact_write_items = real
    clock.advance(3600)
    assert sweep(api).due == 0
    assert len(sent_emails()) == 1
    assert lead_items(settings)[0]["status"] == "sent"


def test_replay_whose_first_answer_cannot_be_read_is_503_not_a_second_lead(
    make_client: Any, faults: Any, settings: Any
) -> None:
    api = make_client()
    assert post_json(api, BUYER, **{"Idempotency-Key": "k1"}).status_code == 201
    faults.fail("dynamodb.GetItem", "throttle")
    response = post_json(api, BUYER, **{"Idempotency-Key": "k1"})
    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "service_unavailable"
    assert len(lead_items(settings)) == 1 and len(sent_emails()) == 1
