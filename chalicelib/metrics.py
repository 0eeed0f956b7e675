"""CloudWatch metrics as embedded-metric-format (EMF) lines: one JSON line on standard
output, which Lambda sends to CloudWatch Logs, which turns it into metrics. No AWS call.

Namespace `VigorLeads`, one dimension `LeadsTable` (the stage's leads table, so dev and
prod in one account stay apart, whichever way the stage was deployed). The alarms on
these metrics are in infra/resources.json:

* `NotificationsFailed` (Count): a lead's sales email failed for good (service.py);
* `ServerErrors` (Count): the API answered 5xx (bootstrap.py's middleware);
* `PendingLeads` (Count) and `OldestPendingLeadAgeSeconds` (Seconds): the retry backlog,
  reported by every run of the scheduled sweep (retry.py), 0 when there is none.

Written with print, not logging: Lambda's log handler prefixes every logging record with
its level and request id, and CloudWatch only reads a line that is JSON from its start.
"""

from __future__ import annotations

import json
import sys
import time

NAMESPACE = "VigorLeads"
UNITS = {"OldestPendingLeadAgeSeconds": "Seconds"}  # every other metric: Count


def emf_line(leads_table: str, values: dict[str, float], now: float | None = None) -> str:
    """The EMF document for these metric values, as one line."""
    document = {
        "_aws": {
            "Timestamp": int((time.time() if now is None else now) * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["LeadsTable"]],
                    "Metrics": [
                        {"Name": name, "Unit": UNITS.get(name, "Count")} for name in values
                    ],
                }
            ],
        },
        "LeadsTable": leads_table,
        **values,
    }
    return json.dumps(document, separators=(",", ":"))


def emit(leads_table: str, **values: float) -> None:
    """Write one EMF line to standard output (never raises: a metric must not fail a request)."""
    try:
        sys.stdout.write(emf_line(leads_table, values) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
