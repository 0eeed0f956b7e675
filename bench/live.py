"""Against the emulator: the AWS calls of every route, their recorded answers, and latency.

One moto server in its own process (bench.emulator_process) holds two stacks built from
infra/resources.json: "small" (10 articles, 10 leads) and "large" (100,000 of each).

* AWS calls: a fresh instance of each app on each stack answers every route once cold and
  (for the cached routes) once warm; botocore's before-call / after-call hooks record each
  call exactly, the items it read, and its parsed answer. Vigor Leads' calls must be the same
  at both sizes and the same as the baseline's (else the baseline would not be a baseline).
  The answers are what bench.own_cpu replays.
* Latency, p50 and p95 per route: Vigor Leads and the baseline on the small stack, requests
  alternating (A B B A ...) and the routes in turn, round after round, so that machine noise
  hits both apps and every route alike, each through `app(event, context)`. No collection
  is forced between samples: the garbage collector's cost is part of the app's. A cached
  route's figure counts only the requests answered from memory (the cache lives 60 s; a
  refresh is one more call, reported), so it holds however slow the machine is.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.harness import (
    CACHED,
    PAGE_READ_BOUND,
    ROUTES,
    Instance,
    Site,
    event,
    instance,
    ms,
    percentile,
)

SMALL, LARGE = "bench-small", "bench-large"
KINDS = ("vigor", "baseline")


def measure(info: dict[str, Any], scale: float, say: Callable[[str], None]) -> dict[str, Any]:
    """`info`: the running emulator's (bench.stacks.emulator) with the stacks SMALL, LARGE."""
    sites = {name: site_of(loaded) for name, loaded in info["stacks"].items()}
    say("  AWS calls of every route, cold and warm, both apps, both stacks ...")
    calls: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    reads: dict[str, Any] = {}
    for stage in (SMALL, LARGE):
        for kind in KINDS:
            recorded = record_calls(instance(kind, stage, record=True), sites[stage])
            calls[f"{kind} {stage}"] = {k: v["operations"] for k, v in recorded.items()}
            answers[f"{kind} {stage}"] = {k: v["answers"] for k, v in recorded.items()}
            reads[f"{kind} {stage}"] = {k: v["items_read"] for k, v in recorded.items()}
    say("  latency: both apps on the small stack, requests alternating ...")
    apps = {kind: instance(kind, SMALL) for kind in KINDS}
    latency = measure_latency(apps, sites[SMALL], {r: samples_for(r, scale) for r in ROUTES})
    for label, result in latency.items():
        say(
            f"    {label:<22} {result['samples']} each: p50"
            f" {result['vigor']['p50_ms']:.2f} / {result['baseline']['p50_ms']:.2f} ms"
        )
    return {
        "sizes": {name: loaded["articles"] for name, loaded in info["stacks"].items()},
        "sites": {name: site.__dict__ for name, site in sites.items()},
        "calls": calls,
        "items_read": reads,
        "same_calls_both_sizes": calls[f"vigor {SMALL}"] == calls[f"vigor {LARGE}"],
        "baseline_makes_the_same_calls": calls[f"vigor {SMALL}"] == calls[f"baseline {SMALL}"],
        "reads_bounded": all(
            count <= PAGE_READ_BOUND for counts in reads.values() for count in counts.values()
        ),
        "answers": answers,
        "latency": latency,
    }


def site_of(loaded: dict[str, Any]) -> Site:
    return Site(slug=loaded["middle_slug"], category=loaded["category"])


def samples_for(label: str, scale: float) -> int:
    base = 150 if label == "POST /inquiries" else 300
    return max(5, int(base * scale))


# ---- calls -------------------------------------------------------------------------------


def record_calls(app: Instance, site: Site) -> dict[str, dict[str, Any]]:
    """Each route once on a fresh instance (the cached ones cold, then warm)."""
    plan: list[tuple[str, str]] = []
    for label in ROUTES:
        if label in CACHED:
            plan += [(f"{label} (cold)", label), (f"{label} (warm)", label)]
        elif label == "POST /inquiries":
            plan += [("POST /inquiries (first)", label), (label, label)]
        else:
            plan.append((label, label))
    recorded: dict[str, dict[str, Any]] = {}
    for number, (name, label) in enumerate(plan):
        if label == "GET /news?cursor=" and not site.cursor:
            site.cursor = cursor_of(app, site)
        app.probe.reset()
        app.call(event(label, site, 900_000 + number, f"calls-{app.kind}-{app.stage}"))
        recorded[name] = {
            "operations": app.probe.operations,
            "items_read": sum(call.items_read for call in app.probe.calls),
            "answers": {call.operation: call.parsed for call in app.probe.calls},
        }
    return recorded


def cursor_of(app: Instance, site: Site) -> str:
    import json

    request = event("GET /news", site, 0, "cursor")
    request["queryStringParameters"] = {"limit": "4"}
    request["multiValueQueryStringParameters"] = {"limit": ["4"]}
    cursor = json.loads(app.call(request)["body"])["next_cursor"]
    return str(cursor)


# ---- latency ------------------------------------------------------------------------------


def measure_latency(
    apps: dict[str, Instance], site: Site, samples: dict[str, int]
) -> dict[str, Any]:
    """Every route's samples spread over the whole phase, round after round, and within a
    round the two apps in turn (A B, then B A): a slow spell hits every route and both apps
    alike instead of one route's block."""
    for label in samples:
        for number in range(3):  # warm: clients, caches, first-use imports
            for kind in KINDS:
                apps[kind].call(event(label, site, 800_000 + number, f"warm-{kind}"))
    rounds = max(samples.values())
    seen: dict[str, dict[str, list[tuple[float, float, int]]]] = {
        label: {kind: [] for kind in KINDS} for label in samples
    }
    for number in range(rounds):
        for label, wanted in samples.items():
            if number * wanted // rounds == (number + 1) * wanted // rounds:
                continue  # this route's samples are spread evenly over the rounds
            order = KINDS if number % 2 == 0 else KINDS[::-1]
            for kind in order:
                app = apps[kind]
                request = event(label, site, number, f"latency-{kind}")
                app.probe.reset()
                started = time.perf_counter()
                app.call(request)
                total = time.perf_counter() - started
                seen[label][kind].append((total, app.probe.aws_seconds, len(app.probe.calls)))
    return {label: summarize(label, seen[label]) for label in samples}


def summarize(label: str, seen: dict[str, list[tuple[float, float, int]]]) -> dict[str, Any]:
    result: dict[str, Any] = {"samples": len(seen["vigor"])}
    for kind in KINDS:
        rows = seen[kind]
        if label in CACHED:  # from memory only; a cache refresh is reported, not counted
            refreshes = sum(1 for row in rows if row[2])
            rows = [row for row in rows if not row[2]] or rows
        else:
            refreshes = 0
        totals = [row[0] for row in rows]
        apps_side = [row[0] - row[1] for row in rows]
        result[kind] = {
            "p50_ms": ms(statistics.median(totals)),
            "p95_ms": ms(percentile(totals, 0.95)),
            "app_side_p50_ms": ms(statistics.median(apps_side)),
            "aws_p50_ms": ms(statistics.median(row[1] for row in rows)),
            "counted": len(rows),
            "cache_refreshes": refreshes,
        }
    vigor, base = result["vigor"], result["baseline"]
    # p50: the median of the per-pair ratios (the two requests of a pair ran back to back,
    # on the same machine state); p95: the ratio of the two p95s.
    pairs = [v[0] / b[0] for v, b in zip(seen["vigor"], seen["baseline"], strict=True)]
    result["p50_ratio"] = round(statistics.median(pairs), 3)
    result["p50_ratio_of_medians"] = round(vigor["p50_ms"] / base["p50_ms"], 3)
    result["p95_ratio"] = round(vigor["p95_ms"] / base["p95_ms"], 3)
    result["p50_difference_ms"] = round(vigor["p50_ms"] - base["p50_ms"], 4)
    return result
