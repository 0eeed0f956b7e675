"""Logs: one JSON line per request, error lines an alarm can match, no personal data.

What a visitor typed (name, email, phone, company, product, message) must never reach a
log: logs are kept longer than leads, readable by more people, and not covered by
`leads erase`. Log records are checked at the levels the function runs with (INFO and
above for every library; everything from the app's own loggers).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import post_json

VISITOR = {
    "name": "Zyxwv Quokkaberg",
    "email": "quokka.zyx42@example.org",
    "phone": "+49 170 5550199",
    "company": "Quokkaberg Spezialteile",
    "product": "QX-99172 calipers",
    "message": "Distinctive message 7ZQX9: please quote 40 calipers.",
}
PERSONAL = ["Zyxwv", "Quokkaberg", "quokka.zyx42", "5550199", "QX-99172", "7ZQX9"]
APP_LOGGERS = ("chalicelib", "vigor_leads", "vigor-leads", "admin")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record: libraries from INFO, the app's own loggers from DEBUG (including
    Chalice's app logger, which does not propagate to the root)."""
    caplog.set_level(logging.INFO)  # restored after the test
    for name in APP_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    collect = Collect()
    attached = [logging.getLogger(), logging.getLogger("vigor-leads")]
    for logger in attached:
        logger.addHandler(collect)
    try:
        yield collect.records
    finally:
        for logger in attached:
            logger.removeHandler(collect)


def everything_in(record: logging.LogRecord) -> str:
    """The record as any handler could render it, with its arguments and extras."""
    text = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    return text + repr(vars(record))


def assert_no_personal_data(records: list[logging.LogRecord]) -> None:
    assert records, "nothing was logged at all"
    for record in records:
        rendered = everything_in(record)
        for value in PERSONAL:
            assert value not in rendered, (value, record.name, record.getMessage())


def request_lines(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in records if r.name == "vigor_leads.requests"]


def test_a_request_logs_one_json_line_without_personal_data(
    make_client: Any, logs: list[logging.LogRecord]
) -> None:
    api = make_client()
    response = post_json(api, VISITOR)
    assert response.status_code == 201
    (line,) = request_lines(logs)
    assert set(line) == {"route", "method", "status", "latency_ms", "inquiry_id"}
    assert line["route"] == "/inquiries" and line["method"] == "POST"
    assert line["status"] == 201
    assert line["inquiry_id"] == response.json_body["id"]
    assert isinstance(line["latency_ms"], (int, float)) and line["latency_ms"] >= 0
    assert_no_personal_data(logs)


def test_a_notification_that_failed_for_good_is_an_error_naming_the_lead(
    make_client: Any, faults: Any, logs: list[logging.LogRecord]
) -> None:
    api = make_client(MAX_NOTIFY_ATTEMPTS="1")
    faults.fail("sesv2.SendEmail", "throttle")
    response = post_json(api, VISITOR)
    assert response.status_code == 201
    lead_id = response.json_body["id"]
    errors = [r for r in logs if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["chalicelib.inquiries.service"]
    assert lead_id in errors[0].getMessage() and "FAILED" in errors[0].getMessage()
    assert_no_personal_data(logs)


@pytest.mark.parametrize(
    "scenario", ["ses-throttled-then-retried", "honeypot-spam", "dynamodb-down", "rejected"]
)
def test_no_personal_data_on_any_path(
    make_client: Any, faults: Any, clock: Any, logs: list[logging.LogRecord], scenario: str
) -> None:
    from chalicelib.inquiries.retry import retry_pending

    api = make_client()
    body = dict(VISITOR)
    if scenario == "ses-throttled-then-retried":
        faults.fail("sesv2.SendEmail", "throttle")
    elif scenario == "honeypot-spam":
        body["website"] = "http://spam.example"
    elif scenario == "dynamodb-down":
        faults.fail("dynamodb.*", "unreachable")
    else:  # a validation failure echoes fields to the visitor, never to the log
        body["email"] = "quokka.zyx42@@example.org"
    response = post_json(api, body)
    assert response.status_code in (201, 422)
    faults.heal()
    clock.advance(3600)
    retry_pending(api.runtime.leads, api.runtime.inquiries, api.runtime.clock)
    assert request_lines(logs)[0]["status"] == response.status_code
    assert_no_personal_data(logs)
