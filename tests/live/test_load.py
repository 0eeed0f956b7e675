"""Load: 120 inquiries from 20 concurrent clients against the running local service.

Every one is answered 201, stored once and mailed to sales once: 120 answers, 120 leads,
120 sales emails (plus one acknowledgement per visitor), all with distinct ids, and each
email carries the lead it belongs to. Sending them all again with the same Idempotency-Keys
stores and sends nothing more.

moto's TransactWriteItems deep-copies the whole leads table on every call; with hundreds of
leads that copy, not the app, would dominate and push calls past the app's read timeout.
devtools.emulator.cheap_transaction_rollback keeps moto's semantics and copies only what a
transaction touches (the repo's transaction tests pass unchanged with it active).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devtools.emulator import cheap_transaction_rollback
from devtools.http import Answer, buyer, post_json
from devtools.live import HIGH_RATE_LIMITS, Observer, running_service

SUBMISSIONS = 120
CLIENTS = 20


@pytest.fixture(scope="module")
def service() -> Iterator[Any]:
    env = {**HIGH_RATE_LIMITS, "AUTOREPLY_ENABLED": "true"}
    with cheap_transaction_rollback(), running_service(env) as running:
        yield running


@pytest.fixture(scope="module")
def answers(service: Any) -> list[Answer]:
    def submit(number: int) -> Answer:
        return post_json(service.api_url, buyer(number), **{"Idempotency-Key": f"load-{number}"})

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(submit, range(SUBMISSIONS)))


def test_every_submission_is_answered_201_with_its_own_id(answers: list[Answer]) -> None:
    assert Counter(a.status for a in answers) == {201: SUBMISSIONS}
    assert len({a.json()["id"] for a in answers}) == SUBMISSIONS


def test_every_lead_is_stored_once_and_marked_sent(service: Any, answers: list[Answer]) -> None:
    leads = Observer(service).leads()
    assert sorted(lead["id"] for lead in leads) == sorted(a.json()["id"] for a in answers)
    assert Counter(lead["status"] for lead in leads) == {"sent": SUBMISSIONS}
    assert len({lead["email"] for lead in leads}) == SUBMISSIONS


def test_every_lead_is_mailed_to_sales_exactly_once(service: Any, answers: list[Answer]) -> None:
    seen = Observer(service)
    assert seen.ses_accepted() == len(seen.emails()) == 2 * SUBMISSIONS
    emails = seen.sales_emails()
    mailed = Counter(str(m["X-Vigor-Lead-Id"]) for m in emails)
    assert mailed == Counter(a.json()["id"] for a in answers)
    by_id = {lead["id"]: lead for lead in seen.leads()}
    for message in emails:
        # The email is about its own lead: Reply-To is that lead's visitor.
        lead = by_id[str(message["X-Vigor-Lead-Id"])]
        assert message["Reply-To"].addresses[0].addr_spec == lead["email"]


def test_every_visitor_is_acknowledged_once(service: Any, answers: list[Answer]) -> None:
    acknowledged = Counter(str(m["To"]) for m in Observer(service).acknowledgements())
    assert acknowledged == Counter(f"buyer{n}@example.com" for n in range(SUBMISSIONS))


def test_resubmitting_with_the_same_idempotency_keys_stores_and_sends_nothing_more(
    service: Any, answers: list[Answer]
) -> None:
    first = {a.json()["id"] for a in answers}

    def again(number: int) -> Answer:
        return post_json(service.api_url, buyer(number), **{"Idempotency-Key": f"load-{number}"})

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        repeated = list(pool.map(again, range(0, SUBMISSIONS, 5)))
    assert {a.status for a in repeated} == {201}
    assert {a.json()["id"] for a in repeated} <= first
    seen = Observer(service)
    assert len(seen.leads()) == SUBMISSIONS and len(seen.emails()) == 2 * SUBMISSIONS
