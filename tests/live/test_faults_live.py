"""Failure rules (docs/architecture.md) against the running local service, faults injected into the
app's own AWS clients (botocore before-call hook, passed in LocalOptions.hooks).

For every outage, three counts are checked exactly: leads accepted (201 answers), leads
stored (items in the leads table) and leads emailed (outbox copies of what SES accepted,
matching moto's own count):

* SES down        -> every lead 201 and stored `pending`, nobody emailed; once SES is back
                     the retry sweep mails each pending lead exactly once;
* DynamoDB down   -> every lead 201 and mailed to sales marked [NOT STORED], nothing stored;
* both down       -> 503 with Retry-After in the error shape, nothing stored or mailed;
* recovery        -> leads flow normally again;
* flaky SES under concurrency -> after the sweep, exactly one sales email per lead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.inquiries.retry import retry_pending
from devtools.http import Answer, buyer, post_json
from devtools.live import HIGH_RATE_LIMITS, Observer, running_service
from tests.conftest import Faults


class Switchboard(Faults):
    """Faults, plus "fail every n-th call of an operation" for flaky dependencies."""

    def __init__(self) -> None:
        super().__init__()
        self.every: dict[str, int] = {}
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def flaky(self, operation: str, every: int) -> None:
        self.every[operation] = every

    def heal(self) -> None:
        super().heal()
        self.every.clear()

    def __call__(self, event_name: str, **kwargs: Any) -> Any:
        _, service, operation = event_name.split(".", 2)
        name = f"{service}.{operation}"
        if name in self.every:
            with self._lock:
                self._calls[name] = count = self._calls.get(name, 0) + 1
            if count % self.every[name] == 0:
                return self.answer(service, "throttle")
        return super().__call__(event_name, **kwargs)


SWITCHBOARD = Switchboard()


@pytest.fixture(scope="module")
def service() -> Iterator[Any]:
    env = {**HIGH_RATE_LIMITS, "AUTOREPLY_ENABLED": "true"}
    with running_service(env, hooks=(SWITCHBOARD,)) as running:
        yield running


@pytest.fixture
def faults(service: Any) -> Iterator[Switchboard]:
    SWITCHBOARD.heal()
    yield SWITCHBOARD
    SWITCHBOARD.heal()


@pytest.fixture
def seen(service: Any) -> Observer:
    return Observer(service)


class Counts:
    """Leads and emails that appeared since it was made."""

    def __init__(self, seen: Observer) -> None:
        self.seen = seen
        self.lead_ids = {lead["id"] for lead in seen.leads()}
        self.email_files = frozenset(seen.email_files())
        self.ses_count = seen.ses_accepted()

    def new_leads(self) -> list[dict[str, Any]]:
        return [lead for lead in self.seen.leads() if lead["id"] not in self.lead_ids]

    def new_emails(self) -> list[Any]:
        emails = self.seen.emails(skip=self.email_files)
        # The outbox holds exactly what SES accepted.
        assert self.seen.ses_accepted() - self.ses_count == len(emails)
        return emails


def sales(emails: list[Any], seen: Observer) -> list[Any]:
    return [m for m in emails if str(m["To"]) in seen.sales]


def acks(emails: list[Any]) -> list[Any]:
    return [m for m in emails if m["Auto-Submitted"] == "auto-replied"]


def submit(service: Any, first: int, count: int) -> list[Answer]:
    return [post_json(service.api_url, buyer(n)) for n in range(first, first + count)]


def sweep_an_hour_later(service: Any) -> Any:
    runtime = service.runtime
    return retry_pending(runtime.leads, runtime.inquiries, clock=lambda: time.time() + 3600)


def test_ses_down_every_lead_is_taken_and_kept_then_mailed_exactly_once_when_ses_is_back(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    counts = Counts(seen)
    faults.fail("sesv2.SendEmail", "unreachable")
    answers = submit(service, 100, 5)
    assert [a.status for a in answers] == [201] * 5
    ids = {a.json()["id"] for a in answers}
    stored = counts.new_leads()
    assert {lead["id"] for lead in stored} == ids
    assert {lead["status"] for lead in stored} == {"pending"}
    assert all(lead["notify_attempts"] == 1 and lead["last_error"] for lead in stored)
    assert counts.new_emails() == []

    faults.heal()
    sweep_an_hour_later(service)
    emails = counts.new_emails()
    assert sorted(m["X-Vigor-Lead-Id"] for m in sales(emails, seen)) == sorted(ids)
    assert acks(emails) == []  # a retry resends the sales email only
    assert {lead["status"] for lead in counts.new_leads()} == {"sent"}

    sweep_an_hour_later(service)  # nothing is due any more: no second email
    assert len(counts.new_emails()) == 5


def test_ses_throttling_is_the_same_as_ses_down(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    counts = Counts(seen)
    faults.fail("sesv2.SendEmail", "throttle")
    answers = submit(service, 200, 3)
    assert [a.status for a in answers] == [201] * 3
    assert [lead["status"] for lead in counts.new_leads()] == ["pending"] * 3
    assert counts.new_emails() == []
    faults.heal()
    sweep_an_hour_later(service)
    assert len(sales(counts.new_emails(), seen)) == 3


def test_dynamodb_down_every_lead_is_mailed_to_sales_as_its_only_copy(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    counts = Counts(seen)
    faults.fail("dynamodb.*", "unreachable")
    answers = submit(service, 300, 4)
    assert [a.status for a in answers] == [201] * 4
    faults.heal()
    assert counts.new_leads() == []
    emails = counts.new_emails()
    assert len(emails) == 4 and acks(emails) == []
    assert sorted(m["X-Vigor-Lead-Id"] for m in emails) == sorted(a.json()["id"] for a in answers)
    assert all(str(m["Subject"]).startswith("[NOT STORED] [") for m in emails)
    sweep_an_hour_later(service)  # nothing was stored, so nothing is resent
    assert len(counts.new_emails()) == 4


def test_both_down_is_503_and_nothing_is_stored_or_mailed(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    counts = Counts(seen)
    faults.fail("dynamodb.*", "unreachable")
    faults.fail("sesv2.*", "unreachable")
    answers = submit(service, 400, 3)
    faults.heal()
    assert [a.status for a in answers] == [503] * 3
    for answer in answers:
        assert answer.json()["error"]["code"] == "service_unavailable"
        assert answer.json()["error"]["message"]
        assert int(answer.headers["Retry-After"]) > 0
    assert counts.new_leads() == []
    assert counts.new_emails() == []


def test_after_an_outage_leads_flow_normally_again(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    faults.fail("dynamodb.*", "unreachable")
    faults.fail("sesv2.*", "unreachable")
    assert submit(service, 500, 1)[0].status == 503
    faults.heal()
    counts = Counts(seen)
    answers = submit(service, 501, 3)
    assert [a.status for a in answers] == [201] * 3
    assert [lead["status"] for lead in counts.new_leads()] == ["sent"] * 3
    emails = counts.new_emails()
    assert len(sales(emails, seen)) == 3 and len(acks(emails)) == 3


def test_flaky_ses_under_concurrency_still_means_one_sales_email_per_lead(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    counts = Counts(seen)
    faults.flaky("sesv2.SendEmail", every=3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: post_json(service.api_url, buyer(n)), range(600, 624)))
    assert [a.status for a in answers] == [201] * 24
    faults.heal()
    ids = sorted(a.json()["id"] for a in answers)
    assert sorted(lead["id"] for lead in counts.new_leads()) == ids
    pending = [lead for lead in counts.new_leads() if lead["status"] == "pending"]
    assert pending, "every third SendEmail failed, so some leads must be pending"
    sweep_an_hour_later(service)
    mailed = sorted(m["X-Vigor-Lead-Id"] for m in sales(counts.new_emails(), seen))
    assert mailed == ids  # each lead exactly once: no lead lost, none mailed twice
    assert {lead["status"] for lead in counts.new_leads()} == {"sent"}


def test_when_the_outcome_cannot_be_recorded_sales_may_get_a_lead_twice_never_zero_times(
    service: Any, faults: Switchboard, seen: Observer
) -> None:
    counts = Counts(seen)
    faults.fail("dynamodb.UpdateItem", "server")
    (answer,) = submit(service, 700, 1)
    assert answer.status == 201
    faults.heal()
    assert [lead["status"] for lead in counts.new_leads()] == ["pending"]
    sweep_an_hour_later(service)  # the request's claim has expired an hour later
    mailed = [m["X-Vigor-Lead-Id"] for m in sales(counts.new_emails(), seen)]
    assert mailed == [answer.json()["id"]] * 2  # docs/architecture.md: at-least-once here
    assert [lead["status"] for lead in counts.new_leads()] == ["sent"]
