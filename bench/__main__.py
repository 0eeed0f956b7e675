"""`make bench` (python -m bench): the budgets of docs/architecture.md, measured in one run.

Prints a table — each figure beside its budget, PASS or MISS — and writes bench/results.json
with every raw number. `--quick` is a smoke run (smaller tables, fewer samples); the
figures of record come from the full run. Sections: cold, calls+flat, throughput, package.
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

from bench import cold_start, flat_cost, package, throughput

RESULTS = Path(__file__).resolve().parent / "results.json"
SECTIONS = ("cold", "flat", "throughput", "package")

# The bench's limits for the budgets of docs/architecture.md
COLD_START_RATIO = 1.15
FLAT_RATIO = 1.2
ZIP_BYTES = 2 * 1024 * 1024
CALL_BUDGETS = {  # route -> (max calls, what the budget says)
    "GET /news": (1, "1"),
    "GET /news/{slug}": (2, "<= 2"),
    "GET /contact (cold)": (1, "<= 1"),
    "GET /contact (warm)": (0, "0"),
    "POST /inquiries": (4, "<= 4"),
}


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
    started = time.perf_counter()
    results: dict[str, Any] = {"meta": meta(args.quick, large)}

    if "cold" in sections:
        say("cold start: fresh interpreters, `import app` vs `import boto3, chalice` ...")
        results["cold_start"] = cold_start.measure(pairs=3 if args.quick else 9).as_dict()
    if "flat" in sections:
        say(f"AWS calls and warm latency with 10 and {large:,} items (moto in its own process) ...")
        results["flat_cost"] = flat_cost.measure(10, large, 0.3 if args.quick else 1.0, say)
    if "throughput" in sections:
        runs = (
            [(120, 10, False), (200, 20, True)]
            if args.quick
            else [
                (200, 10, False),
                (500, 20, True),
            ]
        )
        results["throughput"] = []
        for requests, clients, cheap in runs:
            label = "cheap rollback" if cheap else "stock moto"
            say(f"throughput: {requests} POST /inquiries from {clients} clients ({label}) ...")
            results["throughput"].append(throughput.measure(requests, clients, cheap, label))
    if "package" in sections:
        say("deployment package: chalice package --stage prod ...")
        results["package"] = package.measure()

    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    verdicts = report(results)
    results["verdicts"] = verdicts
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nraw figures: {args.output}   ({results['meta']['seconds']} s)")
    return 0 if all(v["verdict"] != "MISS" for v in verdicts) else 1


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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


# ---- the table ---------------------------------------------------------------------------


def report(results: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def row(what: str, measured: str, budget: str, verdict: str) -> None:
        rows.append({"what": what, "measured": measured, "budget": budget, "verdict": verdict})

    def ok(passed: bool) -> str:
        return "PASS" if passed else "MISS"

    m = results["meta"]
    print()
    print(
        f"Vigor Leads - make bench   {m['when']}   Python {m['python']}, {m['cpus']} CPUs,"
        f" chalice {m['versions']['chalice']}, moto {m['versions']['moto']}"
        + ("   (QUICK: not the figures of record)" if m["quick"] else "")
    )

    cold = results.get("cold_start")
    if cold:
        row(
            "Cold start: import app / import boto3, chalice",
            f"{cold['median_ratio']:.2f}  ({cold['median_import_app_ms']:.0f} ms /"
            f" {cold['median_import_boto3_chalice_ms']:.0f} ms, median of {cold['pairs']} pairs)",
            f"<= {COLD_START_RATIO}",
            ok(cold["median_ratio"] <= COLD_START_RATIO),
        )
        row(
            "Cold start: import app, boto3 / import boto3, chalice",
            f"{cold['median_ratio_import_app_and_boto3']:.2f}  (app leaves boto3 to the first"
            " request; this counts it)",
            f"<= {COLD_START_RATIO}",
            ok(cold["median_ratio_import_app_and_boto3"] <= COLD_START_RATIO),
        )
        loaded = cold["mail_libraries_loaded_by_import_app"]
        row(
            "Cold start: jinja2 / email_validator loaded by import app",
            ", ".join(loaded) or "none",
            "none",
            ok(not loaded),
        )

    flat = results.get("flat_cost")
    if flat:
        calls = flat["calls"]["bench-small"]
        for route, (limit, budget) in CALL_BUDGETS.items():
            made = calls[route]
            row(
                f"AWS calls: {route}",
                f"{len(made)}  ({', '.join(c.split('.', 1)[1] for c in made) or 'cached'})",
                budget,
                ok(len(made) <= limit),
            )
        for route in ("GET /news/categories (cold)", "GET /news/categories (warm)"):
            made = calls[route]
            row(f"AWS calls: {route}", f"{len(made)}", "(none)", "INFO")
        same = flat["calls"]["bench-small"] == flat["calls"]["bench-large"]
        row(
            f"AWS calls: every route, 10 vs {flat['sizes']['large']:,} items",
            "identical" if same else "DIFFERENT",
            "identical",
            ok(same),
        )
    print_rows(rows)

    if flat:
        print_flat(flat, rows)
    for run in results.get("throughput", []):
        rows.append(
            {
                "what": f"Throughput POST /inquiries ({run['emulator']})",
                "measured": f"{run['requests_per_second']} req/s",
                "budget": "0 errors, all stored+mailed",
                "verdict": ok(
                    run["errors"] == 0
                    and run["stored"] == run["requests"] == run["stored_sent"]
                    and run["sales_emails"] == run["requests"]
                ),
            }
        )
    if results.get("throughput"):
        print_throughput(results["throughput"])

    pkg = results.get("package")
    if pkg:
        package_rows = [
            {
                "what": "Deployment zip (chalice package --stage prod)",
                "measured": f"{pkg['zip_mb']:.2f} MB ({pkg['zip_bytes']:,} bytes)",
                "budget": "<= 2 MB",
                "verdict": ok(pkg["zip_bytes"] <= ZIP_BYTES),
            },
            {
                "what": "Deployment zip: boto3 / botocore files",
                "measured": str(len(pkg["boto_files"])),
                "budget": "0",
                "verdict": ok(not pkg["boto_files"]),
            },
            {
                "what": "Deployment zip: templates/*.html and *.txt",
                "measured": f"{len(pkg['templates_html_txt'])} of "
                f"{len(pkg['templates_expected'])} ({', '.join(pkg['templates_missing']) or 'none'}"
                " missing)",
                "budget": "all",
                "verdict": ok(not pkg["templates_missing"] and bool(pkg["templates_html_txt"])),
            },
        ]
        print()
        print_rows(package_rows)
        rows += package_rows
    misses = [r["what"] for r in rows if r["verdict"] == "MISS"]
    print()
    print("All budgets met." if not misses else "MISSED: " + "; ".join(misses))
    return rows


def print_rows(rows: list[dict[str, str]]) -> None:
    print(f"{'':2}{'Budget (docs/architecture.md)':<58} {'Measured':<60} {'Budget':<10} Verdict")
    for r in rows:
        print(f"{'':2}{r['what']:<58} {r['measured']:<60} {r['budget']:<10} {r['verdict']}")


def print_flat(flat: dict[str, Any], rows: list[dict[str, str]]) -> None:
    large = f"{flat['sizes']['large']:,}"
    print()
    print(
        f"  Flat cost, 10 vs {large} items, warm requests in this process, moto server in another"
        " (chalice.test.Client;"
    )
    print(
        "  BUDGET FIGURE: app-side p50 ratio (request time minus time inside AWS calls) <= 1.2,"
        " with identical AWS calls and"
    )
    print(
        "  DynamoDB reads bounded by one page. End-to-end times include moto, whose index Query"
        " and TransactWriteItems are"
    )
    print(
        "  O(table size) where DynamoDB's are not: information only (see bench/flat_cost.py;"
        " `python -m bench.control`"
    )
    print(
        "  shows that O(n) emulator work inside a call alone adds ~8 % app-side, through the"
        " CPU caches)."
    )
    header = (
        f"  {'Route':<22} {'AWS calls (both sizes)':<50} {'reads':>9}"
        f" {'app p50/p95 ms @10':>19} {'@' + large:>14} {'ratio':>6}"
        f" {'end-to-end p50 ms @10':>22} {'@' + large:>10} {'ratio':>7}  Verdict"
    )
    print(header)
    for route, r in flat["routes"].items():
        small, big = r["small"], r["large"]
        calls = small["aws_calls"][0].replace("dynamodb.", "").replace("sesv2.", "") or "(cached)"
        reads = f"{small['items_read'][0]}/{big['items_read'][0]}"
        passed = r["app_p50_ratio"] <= FLAT_RATIO and r["same_calls"] and r["items_read_bounded"]
        verdict = "PASS" if passed else "MISS"
        print(
            f"  {route:<22} {calls:<50} {reads:>9}"
            f" {small['app_p50_ms']:>9.3f}/{small['app_p95_ms']:<9.3f}"
            f" {big['app_p50_ms']:>7.3f}/{big['app_p95_ms']:<7.3f}"
            f" {r['app_p50_ratio']:>5.2f}"
            f" {small['p50_ms']:>22.2f} {big['p50_ms']:>10.2f} {r['end_to_end_p50_ratio']:>7.1f}"
            f"  {verdict}"
        )
        rows.append(
            {
                "what": f"Flat cost: {route} app-side p50 ratio 10 vs {large}",
                "measured": f"{r['app_p50_ratio']:.2f} (calls same: {r['same_calls']})",
                "budget": f"<= {FLAT_RATIO}",
                "verdict": verdict,
            }
        )


def print_throughput(runs: list[dict[str, Any]]) -> None:
    print()
    print(
        "  Throughput, POST /inquiries against the local service (chalice local + moto server,"
        " one process, 2 CPUs):"
    )
    for run in runs:
        verdict = (
            "PASS"
            if run["errors"] == 0
            and run["stored"] == run["requests"] == run["stored_sent"]
            and run["sales_emails"] == run["requests"]
            else "MISS"
        )
        print(
            f"  {run['emulator']:<34} {run['requests']} requests, {run['clients']} clients:"
            f" {run['requests_per_second']:>6} req/s, p50 {run['latency_p50_ms']} ms,"
            f" p95 {run['latency_p95_ms']} ms; answers {run['statuses']}, stored"
            f" {run['stored']} ({run['stored_sent']} sent), sales emails {run['sales_emails']}"
            f"  {verdict}"
        )


if __name__ == "__main__":
    sys.exit(main())
