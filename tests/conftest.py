"""Shared fixtures: moto, the tables from the project's CloudFormation template, the app."""

from __future__ import annotations

import copy
import email
import os
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, ClassVar

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict

from admin.provision import deploy_stack, table_names, verify_sender
from admin.seed import load_seed
from chalicelib.settings import Settings
from tests.data import REGION, SALES, SENDER, SITE, STAGE

__all__ = ["REGION", "SALES", "SENDER", "SITE", "STAGE"]  # re-exported for the tests


def settings_env(**overrides: str) -> dict[str, str]:
    env = {
        **table_names(STAGE),
        "ALLOWED_ORIGINS": f"{SITE},http://127.0.0.1:8001",
        "SENDER_EMAIL": SENDER,
        "SALES_EMAILS": SALES,
        "AUTOREPLY_ENABLED": "false",
        "UPLOADS_BUCKET": f"vigor-leads-{STAGE}-uploads",
    }
    env.update(overrides)
    return env


@pytest.fixture(autouse=True, scope="session")
def _moto_with_dynamodb_isolation() -> None:
    from devtools.emulator import serialize_moto_dynamodb_writes

    serialize_moto_dynamodb_writes()


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_aws_credentials(monkeypatch)


def use_fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no endpoint override: nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            monkeypatch.delenv(name)


# moto's state right after a stage's stack was deployed, per stage (one test process).
_DEPLOYED: dict[str, list[tuple[BackendDict[Any], dict[str, Any]]]] = {}


@contextmanager
def moto_with_stack(stage: str, sender: str) -> Iterator[None]:
    """A fresh moto holding the stage's data stack, created by CloudFormation from
    infra/resources.json, and the verified SES sender.

    The first test of a process deploys it; later tests get a copy of the state that deploy
    left (a few ms instead of ~0.3 s of moto's CloudFormation per test). One copy of all the
    services at once, so references between them (the stack's resources) stay shared."""
    with mock_aws():
        if stage in _DEPLOYED:
            memo: dict[int, Any] = {}
            for backends, state in _DEPLOYED[stage]:
                backends.update(copy.deepcopy(state, memo))
                if backends not in BackendDict._instances:
                    BackendDict._instances.append(backends)
        else:
            deploy_stack(boto3.client("cloudformation", region_name=REGION), stage)
            verify_sender(boto3.client("sesv2", region_name=REGION), sender)
            memo = {}
            _DEPLOYED[stage] = [
                (backends, copy.deepcopy(dict(backends), memo))
                for backends in BackendDict._instances
            ]
        yield


@pytest.fixture
def aws() -> Iterator[None]:
    """moto with the data stack created by CloudFormation from infra/resources.json."""
    with moto_with_stack(STAGE, SENDER):
        yield


@pytest.fixture
def dev() -> Iterator[None]:
    """moto with the dev stage's data stack (from the template) and its SES sender: what the
    admin commands act on with --stage dev."""
    from admin.stages import stage_environment

    with moto_with_stack("dev", stage_environment("dev")["SENDER_EMAIL"]):
        yield


@pytest.fixture
def settings(aws: None) -> Settings:
    return Settings.from_env(settings_env())


@pytest.fixture
def seeded(aws: None, settings: Settings) -> None:
    from chalicelib.content.repository import ContentRepository

    load_seed(
        ContentRepository(boto3.client("dynamodb", region_name=REGION), settings.content_table)
    )


def sent_emails() -> list[EmailMessage]:
    """Every message moto's SES accepted, parsed as a mail client would."""
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    messages = []
    for sent in backend.sent_messages:
        raw = getattr(sent, "raw_data", None)
        if raw is not None:
            messages.append(email.message_from_string(raw, policy=default_policy))
    return messages  # type: ignore[return-value]


def body_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


class CallCounter:
    """Counts AWS API calls through botocore's event hooks (exact, unlike timings)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, event_name: str, **_: Any) -> None:
        # event_name: before-call.<service>.<Operation>
        _, service, operation = event_name.split(".", 2)
        self.calls.append(f"{service}.{operation}")

    def reset(self) -> None:
        self.calls.clear()

    @property
    def count(self) -> int:
        return len(self.calls)


@pytest.fixture
def counter() -> CallCounter:
    return CallCounter()


def make_runtime(settings: Settings, *hooks: Any, **kwargs: Any) -> Any:
    """A Runtime whose boto3 session calls each hook before every AWS API call."""
    from chalicelib.aws import AwsClients
    from chalicelib.runtime import Runtime

    session = boto3.session.Session(region_name=REGION)
    for hook in hooks:
        session.events.register("before-call", hook)
    return Runtime(settings, AwsClients(session), **kwargs)


@pytest.fixture
def runtime(settings: Settings, counter: CallCounter, faults: Any, clock: Any) -> Any:
    return make_runtime(settings, counter, faults, clock=clock)


@pytest.fixture
def client(runtime: Any, seeded: None) -> Iterator[Any]:
    from chalice.test import Client

    from chalicelib.bootstrap import create_app

    with Client(create_app(runtime)) as test_client:
        yield test_client


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:  # 2026-11-18
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Faults:
    """Fault injection through botocore's before-call hook: make chosen operations fail.

    fail("sesv2.SendEmail", "throttle") answers as SES would when throttling;
    "reject" as for a rejected message; "unreachable" as when the endpoint is down.
    """

    ERRORS: ClassVar[dict[str, tuple[int, str, str]]] = {
        "throttle": (429, "TooManyRequestsException", "Maximum sending rate exceeded."),
        "reject": (400, "MessageRejected", "Email address is not verified."),
        "server": (500, "InternalServerError", "Internal server error"),
    }

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}

    def fail(self, operation: str, kind: str) -> None:
        self.failing[operation] = kind

    def heal(self) -> None:
        self.failing.clear()

    def __call__(self, event_name: str, **_: Any) -> Any:
        _, service, operation = event_name.split(".", 2)
        kind = self.failing.get(f"{service}.{operation}") or self.failing.get(f"{service}.*")
        return None if kind is None else self.answer(service, kind)

    def answer(self, service: str, kind: str) -> Any:
        """Raise or return what botocore would see for this kind of failure."""
        if kind == "unreachable":
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url=f"https://{service}.{REGION}.amazonaws.com")
        status, code, message = self.ERRORS[kind]

        class _Http:
            status_code = status
            headers: ClassVar[dict[str, str]] = {}

        return _Http(), {"Error": {"Code": code, "Message": message}}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def faults() -> Faults:
    return Faults()


def post_json(client: Any, body: Any, **headers: str) -> Any:
    import json

    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.post(
        "/inquiries", body=data, headers={"Content-Type": "application/json", **headers}
    )


def post_form(client: Any, fields: Any, **headers: str) -> Any:
    from urllib.parse import urlencode

    data = fields if isinstance(fields, (bytes, str)) else urlencode(fields)
    return client.http.post(
        "/inquiries",
        body=data,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


def lead_items(settings: Settings) -> list[dict[str, Any]]:
    """Every stored lead as stored (a test may scan; request paths never do)."""
    from chalicelib.dynamo import from_item
    from chalicelib.leads.dynamodb import is_lead_item

    db = boto3.client("dynamodb", region_name=REGION)
    items = []
    for page in db.get_paginator("scan").paginate(TableName=settings.leads_table):
        items += [from_item(i) for i in page["Items"]]
    return [item for item in items if is_lead_item(item)]


def stored_lead(settings: Settings, lead_id: str) -> Any:
    """The lead as the leads table reads it back (a Lead)."""
    from chalicelib.leads.dynamodb import LeadsTable

    return LeadsTable(boto3.client("dynamodb", region_name=REGION), settings.leads_table).find(
        lead_id
    )


@pytest.fixture
def make_client(aws: None, counter: CallCounter, faults: Faults, clock: FakeClock) -> Iterator[Any]:
    """make_client(**env) -> a test client for an app built with those settings."""
    from chalice.test import Client

    from chalicelib.bootstrap import create_app

    clients: list[Any] = []

    def build(**env: str) -> Any:
        runtime = make_runtime(Settings.from_env(settings_env(**env)), counter, faults, clock=clock)
        test_client = Client(create_app(runtime))
        test_client.runtime = runtime
        clients.append(test_client)
        return test_client

    yield build
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def manage(capsys: pytest.CaptureFixture[str]) -> Any:
    """manage("leads", "list", "--stage", S) -> Run: the exit code and what it printed."""
    from manage import main
    from tests.deploying import Run

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def verifier() -> Iterator[str]:
    """A fake Cloudflare Turnstile on a free port: its siteverify URL."""
    import http.server
    import threading

    from tests.fakes import FakeTurnstile

    FakeTurnstile.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeTurnstile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    server.shutdown()
    server.server_close()


@pytest.fixture
def chat() -> Iterator[str]:
    """A fake chat service (tests/fakes.py FakeChat) on a free port: its base URL."""
    import http.server
    import threading

    from tests.fakes import FakeChat

    FakeChat.seen, FakeChat.answers = [], []
    FakeChat.release = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    FakeChat.release.set()
    server.shutdown()
    server.server_close()
