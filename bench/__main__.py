"""`make bench` (python -m bench): the budgets of docs/architecture.md, measured in one run.

Vigor Leads against a minimal baseline app (bench/baseline.py: the same AWS calls, nothing
else) in the same run, on the same emulator, requests alternating. Prints the table — each
figure beside its budget, PASS, MISS or INFO — and, for a full run, writes every raw number to
bench/results.json with the machine's load and the run time. `--quick` is a smoke run
(smaller tables, fewer samples), `--only` runs some sections; neither touches results.json.
`python -m bench.report --docs` then writes the table into README.md and docs/performance.md.

Sections: aws (AWS calls, latency, own CPU, flat cost), cold, throughput, package.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import report

RESULTS = report.RESULTS
SECTIONS = ("aws", "cold", "throughput", "package")
SMALL, LARGE = "bench-small", "bench-large"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: small and fast")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these")
    parser.add_argument(
        "--output", type=Path, help="default: bench/results.json for a full run, else a temp file"
    )
    args = parser.parse_args(argv)
    if args.output is None:
        # Only a full run may replace the figures of record.
        full = not args.quick and not args.only
        args.output = RESULTS if full else Path(tempfile.gettempdir()) / "vigor-bench.json"
    sections = args.only or list(SECTIONS)
    large = 10_000 if args.quick else 100_000
    scale = 0.25 if args.quick else 1.0
    started = time.perf_counter()
    load = Load()
    results: dict[str, Any] = {"meta": meta(args.quick, large)}

    if "aws" in sections or "cold" in sections:
        from bench import cold_start, live
        from bench.stacks import emulator

        stacks = {SMALL: 10, **({LARGE: large} if "aws" in sections else {})}
        say(f"emulator: a moto server in its own process, stacks {stacks} ...")
        with emulator(stacks, say) as info:
            load.sample()
            if "aws" in sections:
                say("aws: calls, recorded answers and latency, Vigor Leads and the baseline ...")
                results["aws"] = live.measure(info, scale, say)
                load.sample()
            if "cold" in sections:
                say("cold: fresh processes, the deployment zip (chalicelib precompiled) ...")
                site = live.site_of(info["stacks"][SMALL])
                with tempfile.TemporaryDirectory(prefix="vigor-cold-") as workdir:
                    results["cold_start"] = cold_start.measure(
                        site, SMALL, 3 if args.quick else 15, Path(workdir), say
                    )
                load.sample()
    if "aws" in sections:
        from bench import own_cpu

        say("own CPU: every AWS call answered from the recordings ...")
        results["own_cpu"] = own_cpu.measure(results["aws"], scale, say)
        load.sample()
    if "throughput" in sections:
        from bench import throughput

        runs = (
            [(120, 10, False), (200, 20, True)]
            if args.quick
            else [(200, 10, False), (500, 20, True)]
        )
        results["throughput"] = []
        for requests, clients, cheap in runs:
            label = "cheap rollback" if cheap else "stock moto"
            say(f"throughput: {requests} POST /inquiries from {clients} clients ({label}) ...")
            results["throughput"].append(throughput.measure(requests, clients, cheap, label))
            load.sample()
    if "package" in sections:
        from bench import package

        say("package: chalice package --stage prod ...")
        results["package"] = package.measure()

    load.sample()
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["load"] = load.summary()
    if "aws" in results:  # the recordings are inputs, not results: keep the file readable
        results["aws"] = {k: v for k, v in results["aws"].items() if k != "answers"}
    table = report.rows(results)
    results["verdicts"] = table
    print()
    print("\n".join(report.text_table(results)))
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nraw figures: {args.output}   ({results['meta']['seconds']} s)")
    return 0 if all(r["verdict"] != "MISS" for r in table) else 1


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Load:
    """The 1-minute load average at the start, at each section's end, and at the end."""

    def __init__(self) -> None:
        self.seen = [os.getloadavg()[0]]

    def sample(self) -> None:
        self.seen.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        return {
            "start": round(self.seen[0], 2),
            "end": round(self.seen[-1], 2),
            "highest": round(max(self.seen), 2),
            "samples": len(self.seen),
        }


def meta(quick: bool, large: int) -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "quick": quick,
        "large_items": large,
        "versions": {name: version(name) for name in ("chalice", "boto3", "moto")},
    }


if __name__ == "__main__":
    sys.exit(main())
