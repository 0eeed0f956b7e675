"""What every section of the bench shares: the routes as Lambda events, the two apps, and the
botocore hooks that watch (Probe) or answer (Replay) their AWS calls.

Both apps are entered exactly as the Lambda runtime enters them: `app(event, context)` with
an API Gateway (REST, proxy) event, so Chalice's routing, the middleware and the response
shaping are all inside every figure. Events are built before the clock starts.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.stacks import REGION, SITE, settings_env
from chalicelib.aws import AwsClients

SOURCE_IP = "198.51.100.7"
PAGE_READ_BOUND = 11  # the largest Query Limit a public route asks for (default page + 1)

# label -> (method, API Gateway resource); the query or path parameters come from the stack
ROUTES: dict[str, tuple[str, str]] = {
    "GET /contact": ("GET", "/contact"),
    "GET /news/categories": ("GET", "/news/categories"),
    "GET /news": ("GET", "/news"),
    "GET /news?category=": ("GET", "/news"),
    "GET /news?cursor=": ("GET", "/news"),
    "GET /news/{slug}": ("GET", "/news/{slug}"),
    "POST /inquiries": ("POST", "/inquiries"),
}
# Routes answered from memory once warm (the first request of an instance makes one call).
CACHED = ("GET /contact", "GET /news/categories")


@dataclass
class Site:
    """What a stack's requests need: an article, a category, a cursor."""

    slug: str
    category: str
    cursor: str = ""


class Context:
    """The Lambda context object, as much of it as Chalice reads."""

    function_name = "bench"
    memory_limit_in_mb = 1024
    aws_request_id = "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def event(label: str, site: Site, number: int, tag: str) -> dict[str, Any]:
    """The API Gateway proxy event for request `number` of a route; `tag` keeps the
    inquiries of different apps and stacks apart (own address, own idempotency key)."""
    method, resource = ROUTES[label]
    query: dict[str, str] = {}
    path_parameters = None
    path = resource
    headers = {"Accept": "application/json", "Host": "api.example.com"}
    body = None
    if label == "GET /news?category=":
        query = {"category": site.category, "limit": "3"}
    elif label == "GET /news?cursor=":
        query = {"limit": "4", "cursor": site.cursor}
    elif label == "GET /news/{slug}":
        path_parameters = {"slug": site.slug}
        path = f"/news/{site.slug}"
    elif label == "POST /inquiries":
        import json

        from devtools.http import buyer

        headers.update(
            {
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{tag}-{number}",
                "Origin": SITE,
            }
        )
        body = json.dumps(
            buyer(
                number,
                email=f"bench{number}-{tag}@example.com",
                phone="+49 40 1234567",
                page=f"{SITE}/contact.html",
            )
        )
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": f"bench-{tag}-{number}",
            "identity": {"sourceIp": SOURCE_IP},
        },
        "body": body,
        "isBase64Encoded": False,
    }


# ---- hooks --------------------------------------------------------------------------------


@dataclass
class Call:
    operation: str
    seconds: float
    items_read: int
    parsed: Any = None


class Probe:
    """botocore before-call / after-call hooks: each call, the time inside it, what it read,
    and (when recording) its parsed answer."""

    def __init__(self, record: bool = False) -> None:
        self.calls: list[Call] = []
        self.record = record
        self._started: list[float] = []

    def before(self, **_: Any) -> None:
        self._started.append(time.perf_counter())

    def after(self, event_name: str, parsed: Any = None, **_: Any) -> None:
        seconds = time.perf_counter() - self._started.pop()
        operation = event_name.split(".", 1)[1]
        kept = copy.deepcopy(parsed) if self.record else None
        self.calls.append(Call(operation, seconds, items_read(operation, parsed), kept))

    def reset(self) -> None:
        self.calls.clear()
        self._started.clear()

    @property
    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    @property
    def aws_seconds(self) -> float:
        return sum(call.seconds for call in self.calls)


def items_read(operation: str, parsed: Any) -> int:
    if not isinstance(parsed, dict):
        return 0
    if operation.endswith(".Query"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation.endswith(".GetItem"):
        return 1 if "Item" in parsed else 0
    return 0


class _Ok:
    status_code = 200
    headers: dict[str, str] = {}  # noqa: RUF012 - read only, as botocore reads it


class Replay:
    """A before-call hook that answers every call from a recording: no HTTP, no signing, no
    parsing, so only the app's own code (and botocore's serialisation of its request) runs.
    Each answer is a fresh deep copy; the time the copy takes is kept, to be subtracted."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.copy_cpu = 0.0
        self.copy_wall = 0.0

    def load(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def __call__(self, event_name: str, **_: Any) -> tuple[Any, Any]:
        cpu, wall = time.thread_time(), time.perf_counter()
        operation = event_name.split(".", 1)[1]
        if operation not in self.answers:
            raise RuntimeError(f"no recorded answer for {operation}")
        parsed = copy.deepcopy(self.answers[operation])
        self.copy_cpu += time.thread_time() - cpu
        self.copy_wall += time.perf_counter() - wall
        return _Ok(), parsed


# ---- the apps -----------------------------------------------------------------------------

App = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class Instance:
    """One app (Vigor Leads or the baseline) on one stack, with its hooks."""

    kind: str  # "vigor" | "baseline"
    stage: str
    app: App
    probe: Probe
    replay: Replay | None = None
    answered: list[dict[str, Any]] = field(default_factory=list)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        response = self.app(request, Context())
        if response["statusCode"] >= 400:
            raise RuntimeError(f"{self.kind} on {self.stage}: {response}")
        return response


def session(probe: Probe, replay: Replay | None = None) -> Any:
    import boto3

    made = boto3.session.Session(region_name=REGION)
    made.events.register("before-call", probe.before)
    if replay is not None:  # after the probe's: the probe sees the call start first
        made.events.register("before-call", replay)
    made.events.register("after-call", probe.after)
    return made


def instance(kind: str, stage: str, record: bool = False, replay: bool = False) -> Instance:
    """An app on a stack. `record`: keep each call's answer, and let Vigor Leads wait as long
    as the baseline's boto3 defaults do (60 s) instead of its own 3 s: on the 100,000-item
    stack moto's O(table size) transaction can take longer than 3 s on a loaded machine, and
    what is recorded there is the calls and their answers, not their time."""
    probe = Probe(record)
    answers = Replay() if replay else None
    boto_session = session(probe, answers)
    env = settings_env(stage)
    app: Any
    if kind == "vigor":
        from chalicelib.bootstrap import create_app
        from chalicelib.runtime import Runtime
        from chalicelib.settings import Settings

        clients = PatientClients(boto_session) if record else AwsClients(boto_session)
        app = create_app(Runtime(Settings.from_env(env), clients))
    else:
        from bench.baseline import create_app as create_baseline

        app = create_baseline(boto_session, env)
    return Instance(kind, stage, app, probe, answers)


class PatientClients(AwsClients):
    """The app's own clients (its retries, its connect timeout), waiting up to 60 s for an
    answer instead of 3 s."""

    def _create(self, service: str) -> Any:
        from botocore.config import Config

        config = super()._create(service).meta.config.merge(Config(read_timeout=60))
        return self._session.client(service, config=config)


# ---- figures ------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 4)
