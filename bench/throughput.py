"""Throughput of POST /inquiries against the running local service (`make run`'s stack).

devtools.local.LocalService on free loopback ports (API served by `chalice local`, embedded moto
server, outbox in a temporary folder), rate limits raised; concurrent clients (threads with
urllib) each send their own inquiries. Afterwards the bench counts, from outside: answers
(every one must be 201), leads stored (a Scan of the leads table: the bench may scan, request
paths never do) and sales emails SES accepted (the outbox).

Everything — clients, API server, emulator — shares this process and its GIL on a 2-core
machine, so the figure is a floor for a laptop demo, not a production capacity. It is taken
twice: with stock moto, whose TransactWriteItems copies the whole leads table (its cost grows
with every lead taken), and with devtools.emulator.cheap_transaction_rollback (the same semantics,
copying only the items a transaction names), which is closer to what the app itself costs.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

from devtools.emulator import cheap_transaction_rollback
from devtools.http import Answer, buyer, post_json
from devtools.live import HIGH_RATE_LIMITS, Observer, running_service


def measure(requests: int, clients: int, cheap_rollback: bool, label: str) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto warns about every stack resource it only pretends to create (the alarms)
    logging.getLogger("moto").setLevel(logging.ERROR)
    patch: AbstractContextManager[Any] = (
        cheap_transaction_rollback() if cheap_rollback else contextlib.nullcontext()
    )
    # The outbox prints a line per email; keep the bench's own output readable.
    with (
        patch,
        contextlib.redirect_stdout(io.StringIO()),
        running_service({**HIGH_RATE_LIMITS, "AUTOREPLY_ENABLED": "true"}) as service,
    ):
        for number in range(5):  # warm up: first-use imports, clients, templates
            post_json(service.api_url, buyer(10_000_000 + number))
        seen = Observer(service)
        before_leads, before_sales = len(seen.leads()), len(seen.sales_emails())

        def submit(number: int) -> tuple[Answer | None, float]:
            started = time.perf_counter()
            try:
                answer = post_json(service.api_url, buyer(number), timeout=60)
            except OSError:
                answer = None
            return answer, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(submit, range(requests)))
        elapsed = time.perf_counter() - started
        statuses = Counter(a.status if a is not None else "no answer" for a, _ in results)
        ids = {a.json()["id"] for a, _ in results if a is not None and a.status == 201}
        stored = [lead for lead in seen.leads() if lead["id"] in ids]
        sales = [m for m in seen.sales_emails() if str(m["X-Vigor-Lead-Id"]) in ids]
        latencies = sorted(seconds for _, seconds in results)
        return {
            "label": label,
            "emulator": "moto + cheap_transaction_rollback" if cheap_rollback else "stock moto",
            "requests": requests,
            "clients": clients,
            "seconds": round(elapsed, 2),
            "requests_per_second": round(requests / elapsed, 1),
            "latency_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "latency_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
            "statuses": {str(k): v for k, v in statuses.items()},
            "errors": requests - statuses.get(201, 0),
            "stored": len(stored),
            "stored_total": len(seen.leads()) - before_leads,
            "stored_sent": sum(1 for lead in stored if lead["status"] == "sent"),
            "sales_emails": len(sales),
            "sales_emails_total": len(seen.sales_emails()) - before_sales,
            "distinct_ids": len(ids),
        }
