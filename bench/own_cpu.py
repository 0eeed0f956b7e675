"""Own CPU per request: every AWS call answered from a recording, so only the app's code runs.

A botocore before-call hook (bench.harness.Replay) answers each call with the parsed answer
bench.live recorded from the emulator for that route: no HTTP, no signing, no response
parsing. What is left is the app itself — Chalice's routing, the middleware, parsing and
validating the request, building the items and the emails, shaping the answer — plus
botocore's validation and serialisation of the app's requests (which the baseline pays for
its own requests too). The figure is the thread's CPU time (time.thread_time) per request,
minus the time the hook spends copying its answer; wall time is reported beside it.

* Own CPU, Vigor Leads vs the baseline: both apps on the small stack's recordings,
  requests alternating.
* Flat cost: Vigor Leads on the recordings of the 10-item stack against Vigor Leads on those
  of the 100,000-item stack, alternating. The emulator's own O(table size) work (moto's
  index Query sorts every item) is out of the figure by construction: what remains is what
  the app does with answers from a small and from a large table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.harness import CACHED, ROUTES, Instance, Site, event, instance, ms, percentile
from bench.stacks import aws_env, without_aws


def measure(live: dict[str, Any], scale: float, say: Callable[[str], None]) -> dict[str, Any]:
    import os

    saved = dict(os.environ)
    os.environ.clear()  # no emulator now, and no real account: nothing may leave the process
    os.environ.update({**without_aws(saved), **aws_env("http://127.0.0.1:9")})
    try:
        sites = {name: Site(**site) for name, site in live["sites"].items()}
        small, large = "bench-small", "bench-large"
        say("  own CPU: both apps, recorded answers, alternating ...")
        own: dict[str, Any] = {}
        pair = {
            "vigor": instance("vigor", small, replay=True),
            "baseline": instance("baseline", small, replay=True),
        }
        answers = {kind: live["answers"][f"{kind} {small}"] for kind in pair}
        for label in ROUTES:
            own[label] = compare(
                label, pair, answers, {"vigor": sites[small], "baseline": sites[small]}, scale
            )
        say("  flat cost: Vigor Leads on the 10-item and the 100,000-item recordings ...")
        flat: dict[str, Any] = {}
        sizes = {
            "small": instance("vigor", small, replay=True),
            "large": instance("vigor", large, replay=True),
        }
        size_answers = {
            "small": live["answers"][f"vigor {small}"],
            "large": live["answers"][f"vigor {large}"],
        }
        for label in ROUTES:
            flat[label] = compare(
                label, sizes, size_answers, {"large": sites[large], "small": sites[small]}, scale
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"own_cpu": own, "flat_cost": flat}


def samples_for(label: str, scale: float) -> int:
    base = 300 if label == "POST /inquiries" else 1000
    return max(10, int(base * scale))


def route_answers(answers: dict[str, Any], label: str) -> dict[str, Any]:
    """The recorded answers a route's request may need (a cached route's cold answer serves
    its refreshes)."""
    if label in CACHED:
        return answers[f"{label} (cold)"]
    return answers[label]


def compare(
    label: str,
    apps: dict[str, Instance],
    answers: dict[str, dict[str, Any]],
    sites: dict[str, Site],
    scale: float,
) -> dict[str, Any]:
    """The two apps named in `sites` (first / second: the ratio), alternating."""
    names = tuple(sites)
    for name in names:
        replay = apps[name].replay
        assert replay is not None
        replay.load(route_answers(answers[name], label))
        for number in range(5):  # warm: first-use imports, caches
            apps[name].call(event(label, sites[name], 700_000 + number, f"cpu-warm-{name}"))
    samples = samples_for(label, scale)
    seen: dict[str, list[tuple[float, float, int]]] = {name: [] for name in names}
    for number in range(samples):
        for name in names if number % 2 == 0 else names[::-1]:
            app = apps[name]
            replay = app.replay
            assert replay is not None
            request = event(label, sites[name], number, f"cpu-{name}")
            app.probe.reset()
            replay.copy_cpu = replay.copy_wall = 0.0
            cpu, wall = time.thread_time(), time.perf_counter()
            app.call(request)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            seen[name].append(
                (cpu - replay.copy_cpu, wall - replay.copy_wall, len(app.probe.calls))
            )
    result: dict[str, Any] = {"samples": samples}
    for name in names:
        rows = seen[name]
        if label in CACHED:
            rows = [row for row in rows if not row[2]] or rows
        cpu = [row[0] for row in rows]
        wall = [row[1] for row in rows]
        result[name] = {
            "cpu_p50_ms": ms(statistics.median(cpu)),
            "cpu_p95_ms": ms(percentile(cpu, 0.95)),
            "wall_p50_ms": ms(statistics.median(wall)),
            "calls": len(apps[name].probe.calls),
            "counted": len(rows),
        }
    first, second = result[names[0]], result[names[1]]
    result["cpu_p50_ratio"] = round(first["cpu_p50_ms"] / second["cpu_p50_ms"], 3)
    return result
