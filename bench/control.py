"""A control for the flat-cost figure: does the emulator's O(n) work alone slow the app side?

    python -m bench.control

Two stacks of 10 items each, no table-size difference at all. On one, every AWS call first
walks ~1 GB-worth of Python objects for 0.6 s (about what moto spends walking 100,000 items
per Query) inside the call, i.e. inside the time the bench subtracts. If the app side of that
stack comes out slower, the difference the flat-cost section shows for the routes that are
O(n) in moto is the emulator evicting the app's working set from the CPU caches, not work the
app does per item.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench import flat_cost


def main() -> None:
    plain = flat_cost.Stack("bench-small", 10, 10)
    walked = flat_cost.Stack("bench-control", 10, 10)
    objects = [str(i) * 3 for i in range(3_000_000)]
    random.shuffle(objects)

    def walk(**_: Any) -> None:
        started = time.perf_counter()
        while time.perf_counter() - started < 0.6:
            total = 0
            for text in objects[:1_000_000]:
                total += len(text)

    stacks = {plain.name: 10, walked.name: 10}
    with flat_cost.emulator(stacks, print) as info:
        flat_cost.attach(plain, info)
        flat_cost.attach(walked, info, walk)
        for stack in (plain, walked):
            stack.cursor = stack.client.http.get("/news?limit=4").json_body["next_cursor"]
        for route in flat_cost.routes(1.0):
            if route.label not in ("GET /news?cursor=", "GET /news/{slug}"):
                continue
            result = flat_cost.measure_route(
                flat_cost.Route(route.label, 20, route.request), plain, walked
            )
            print(
                f"{route.label:<20} app p50 {result['small']['app_p50_ms']:.3f} ms plain,"
                f" {result['large']['app_p50_ms']:.3f} ms after a 0.6 s memory walk inside each"
                f" call: ratio {result['app_p50_ratio']:.2f}"
            )


if __name__ == "__main__":
    main()
