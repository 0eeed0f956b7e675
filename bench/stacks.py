"""The bench's data stacks in a moto server of their own (bench.emulator_process).

Each stack is created by CloudFormation from infra/resources.json and filled with articles in
exactly the shape ContentRepository.publish writes them (keys, feed/category index
attributes, previous/next links) and leads in the shape the inquiry service stores them,
loaded with BatchWriteItem semantics straight into moto's backend (25 puts per batch, the
backend call moto's own BatchWriteItem handler makes): only HTTP and (de)serialization are
skipped, so 200,000 items load in about half a minute.

The emulator runs in its own process: walking 100,000 items inside a call would otherwise
evict the measured app's working set from the CPU caches and fill its collector's heap. On
AWS the table is in another service too.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
SITE = "https://www.vigorautomobile.com"
SENDER = "Vigor Leads <leads@vigorautomobile.com>"
SALES = "sales@vigorautomobile.com"
BATCH = 25
FEED_START = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def settings_env(stage: str) -> dict[str, str]:
    """The app's settings for a stack (the baseline reads the same variables)."""
    from admin.provision import table_names

    return {
        **table_names(stage),
        "ALLOWED_ORIGINS": SITE,
        "SENDER_EMAIL": SENDER,
        "SALES_EMAILS": SALES,
        "AUTOREPLY_ENABLED": "true",  # as in production: the happy path sends two emails
        "RATE_LIMIT_PER_IP_PER_HOUR": "1000000",
        "RATE_LIMIT_PER_EMAIL_PER_HOUR": "1000000",
        "AUTOREPLY_MAX_PER_HOUR": "1000000",
    }


def aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
    }


def without_aws(env: dict[str, str] | None = None) -> dict[str, str]:
    """An environment (this process's by default) without any AWS_ variable."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k[:4] != "AWS_"}


@contextmanager
def emulator(stacks: dict[str, int], say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """bench.emulator_process serving these stacks; AWS_* variables point at it meanwhile."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator_process", json.dumps(stacks)],
        cwd=ROOT,
        env=without_aws(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    saved = dict(os.environ)
    try:
        assert child.stdout is not None
        line = ""
        for line in child.stdout:
            if line.startswith("READY "):
                break
        else:
            raise RuntimeError(f"the emulator process ended early (exit {child.wait()})")
        info: dict[str, Any] = json.loads(line.removeprefix("READY "))
        for name, stack in info["stacks"].items():
            say(
                f"  {name}: {stack['articles']:,} articles + {stack['leads']:,} leads"
                f" loaded in {stack['load_seconds']} s"
            )
        os.environ.clear()
        os.environ.update({**without_aws(saved), **aws_env(info["endpoint"])})
        yield info
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# ---- filling a stack (runs inside bench.emulator_process) ------------------------------


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def batch_write(table: str, items: Iterator[dict[str, Any]]) -> int:
    """BatchWriteItem, 25 puts a batch, straight into moto's backend (no HTTP, no JSON)."""
    from chalicelib.dynamo import to_item

    backend = _backend()
    written = 0
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append({"PutRequest": {"Item": to_item(item)}})
        if len(batch) == BATCH:
            written += _write_batch(backend, table, batch)
            batch = []
    if batch:
        written += _write_batch(backend, table, batch)
    return written


def _write_batch(backend: Any, table: str, batch: list[dict[str, Any]]) -> int:
    # What moto's BatchWriteItem handler does with each PutRequest of the batch.
    for request in batch:
        backend.put_item(table, request["PutRequest"]["Item"])
    return len(batch)


def article_slug(number: int) -> str:
    return f"bench-article-{number:06d}"


def write_articles(table: str, count: int, categories: list[dict[str, str]]) -> list[str]:
    """`count` articles, one a minute, newest first; each linked to its neighbours."""

    def published(number: int) -> str:
        return (FEED_START - datetime.timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def link(number: int) -> dict[str, str] | None:
        if not 0 <= number < count:
            return None
        return {"slug": article_slug(number), "title": f"Bench article {number}"}

    def items() -> Iterator[dict[str, Any]]:
        for number in range(count):  # 0 is the newest
            slug = article_slug(number)
            category = categories[number % len(categories)]
            yield {
                "pk": f"ARTICLE#{slug}",
                "sk": "ARTICLE",
                "feed_pk": "NEWS",
                "category_pk": f"NEWS#{category['slug']}",
                "feed_sk": f"{published(number)}#{slug}",
                "slug": slug,
                "title": f"Bench article {number}",
                "category": category["slug"],
                "category_name": category["name"],
                "published_at": published(number),
                "summary": "Brake pads, filters and wipers: what changed this week in parts.",
                "source": "Gasgoo" if number % 2 else None,
                "body": "Wenzhou Vigor Automobile Parts news. " * 20,
                "previous": link(number + 1),  # older
                "next": link(number - 1),  # newer
            }

    batch_write(table, items())
    return [article_slug(number) for number in range(count)]


def write_leads(table: str, count: int) -> None:
    """`count` leads as the service stores them once sales got the email, one a minute."""
    from devtools.sample_leads import sent_lead_items

    batch_write(table, sent_lead_items(count, time.time(), every_seconds=60))
