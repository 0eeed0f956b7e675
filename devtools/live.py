"""The one live-service harness that the tests (live, load, OpenAPI, browser) and the bench
share: the local service (devtools.local.LocalService, what `make run` runs) on free loopback
ports with a clean embedded moto, and what it did, seen from outside (leads stored, emails
SES accepted). The process environment is restored afterwards (LocalService points
AWS_ENDPOINT_URL at its emulator)."""

from __future__ import annotations

import email
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from devtools.local import LocalOptions, LocalService

REGION = "us-east-1"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
}
# Live tests and the bench send more inquiries (and acknowledgements) than visitors would;
# the limits themselves are tested in process.
HIGH_RATE_LIMITS = {
    "RATE_LIMIT_PER_IP_PER_HOUR": "100000",
    "RATE_LIMIT_PER_EMAIL_PER_HOUR": "100000",
    "AUTOREPLY_MAX_PER_HOUR": "100000",
}


def reset_emulator() -> None:
    """Forget every table, stack and sent message of the in-process moto."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@contextmanager
def running_service(
    env: Mapping[str, str] | None = None,
    hooks: tuple[Any, ...] = (),
    outbox: Path | None = None,
) -> Iterator[LocalService]:
    """A started LocalService (API, demo site, embedded moto) on free loopback ports, with
    fake credentials and no endpoint or profile of the caller's; stopped and cleaned up after.
    `outbox`: where SES's emails are copied (default: a temporary folder, removed after)."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    os.environ.update(FAKE_AWS)
    reset_emulator()
    with ExitStack() as cleanup:
        if outbox is None:
            temporary = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="vigor-outbox-"))
            outbox = Path(temporary)
        service = LocalService(
            LocalOptions(
                host="127.0.0.1",
                api_port=0,
                site_port=0,
                moto_port=0,
                outbox=outbox,
                quiet=True,
                env=dict(env or {}),
                hooks=hooks,
            )
        )
        try:
            service.start()
            yield service
        finally:
            service.stop()
            reset_emulator()
            os.environ.clear()
            os.environ.update(saved)


def outbox_messages(outbox: Path) -> list[tuple[Path, EmailMessage]]:
    """Every email the local SES accepted, parsed as a mail client would, oldest first."""
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        messages.append((path, parsed))
    return messages


class Observer:
    """What the service did, seen from outside: stored leads (a Scan: tools may scan, request
    paths never do) and the emails SES accepted (the outbox copies)."""

    def __init__(self, service: LocalService) -> None:
        import boto3

        if service.runtime is None:
            raise RuntimeError("the service is not started")
        self.service = service
        self.leads_table = service.runtime.settings.leads_table
        self.sales = service.runtime.settings.sales_emails
        self.db = boto3.client(
            "dynamodb",
            endpoint_url=service.endpoint_url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def leads(self) -> list[dict[str, Any]]:
        from chalicelib.dynamo import from_item
        from chalicelib.leads.dynamodb import is_lead_item

        items: list[dict[str, Any]] = []
        for page in self.db.get_paginator("scan").paginate(TableName=self.leads_table):
            items += [from_item(item) for item in page["Items"]]
        return [item for item in items if is_lead_item(item)]

    def email_files(self) -> list[Path]:
        return sorted(Path(self.service.options.outbox).glob("*.eml"))

    def emails(self, skip: frozenset[Path] = frozenset()) -> list[EmailMessage]:
        """Every message in the outbox (but those in `skip`), parsed as a mail client would."""
        outbox = Path(self.service.options.outbox)
        return [message for path, message in outbox_messages(outbox) if path not in skip]

    def sales_emails(self) -> list[EmailMessage]:
        return [m for m in self.emails() if str(m["To"]) in self.sales]

    def acknowledgements(self) -> list[EmailMessage]:
        return [m for m in self.emails() if m["Auto-Submitted"] == "auto-replied"]

    def ses_accepted(self) -> int:
        """How many messages moto's SES accepted (must match the outbox)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
