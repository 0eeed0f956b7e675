"""The bench's AWS: a moto server in its own process, holding the bench's data stacks.

    python -m bench.emulator_process '{"bench-small": 10, "bench-large": 100000}'

Creates each stack's tables with CloudFormation from infra/resources.json, verifies the SES
sender, fills the tables (bench.stacks.write_articles / write_leads, BatchWriteItem
semantics straight into moto's backend), prints `READY {"endpoint": ..., ...}` and serves
until its stdin closes. The tables live here, not in the measured app's process: the app's
heap, garbage collector and CPU caches see no more of 100,000 items than a Lambda function
sees of a DynamoDB table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def main() -> None:
    stacks: dict[str, int] = json.loads(sys.argv[1])
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto warns about every stack resource it only pretends to create (the alarms)
    logging.getLogger("moto").setLevel(logging.ERROR)
    from devtools.emulator import cheap_transaction_rollback, start_moto_server

    rollback = cheap_transaction_rollback()  # see devtools/emulator.py: stock moto leaks a
    rollback.__enter__()  # table copy per transaction; kept for this process's whole life
    server, endpoint = start_moto_server()
    info: dict[str, Any] = {"endpoint": endpoint, "stacks": {}}
    for name, count in stacks.items():
        started = time.perf_counter()
        info["stacks"][name] = load(endpoint, name, count)
        info["stacks"][name]["load_seconds"] = round(time.perf_counter() - started, 1)
    import gc

    gc.collect()
    gc.freeze()  # the loaded items are long-lived; keep the collector off them
    print("READY " + json.dumps(info), flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    server.stop()


def load(endpoint: str, stage: str, count: int) -> dict[str, Any]:
    import boto3

    from admin.provision import deploy_stack, table_names, verify_sender
    from admin.seed import SEED_DIR
    from bench.stacks import SENDER, write_articles, write_leads
    from chalicelib.content.repository import ContentRepository

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")

    deploy_stack(client("cloudformation"), stage)
    verify_sender(client("sesv2"), SENDER)
    tables = table_names(stage)
    categories = json.loads((SEED_DIR / "categories.json").read_text(encoding="utf-8"))
    contact = json.loads((SEED_DIR / "contact.json").read_text(encoding="utf-8"))
    content = ContentRepository(client("dynamodb"), tables["CONTENT_TABLE"])
    content.put_contact(contact)
    for position, category in enumerate(categories):
        content.put_category(category["slug"], category["name"], position)
    slugs = write_articles(tables["CONTENT_TABLE"], count, categories)
    write_leads(tables["LEADS_TABLE"], count)
    return {
        "articles": len(slugs),
        "leads": count,
        "middle_slug": slugs[len(slugs) // 2],
        "first_slug": slugs[0],
        "category": categories[0]["slug"],
    }


if __name__ == "__main__":
    main()
