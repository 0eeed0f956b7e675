"""The bench's table: each figure of results.json beside its budget, PASS / MISS / INFO.

    python -m bench.report          # print the table of bench/results.json
    python -m bench.report --docs   # and write it into README.md and docs/performance.md

The budgets are those of docs/architecture.md ("Budgets"); the limits are below.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"

LATENCY_RATIO = 1.10  # p50 and p95, Vigor Leads / baseline, each route that calls AWS
FROM_MEMORY_MS = 0.1  # a route answered from memory: p50 within this of the baseline's
OWN_CPU_POST_MS = 1.5  # own CPU per POST /inquiries ...
OWN_CPU_POST_RATIO = 2.5  # ... or at most this many times the baseline's
COLD_RATIO = 1.10  # new process: import + first request, Vigor Leads / baseline
FLAT_RATIO = 1.2  # own CPU with the answers of 100,000 items / of 10
ZIP_BYTES = 2 * 1024 * 1024
AWS_ROUTES = ("GET /news", "GET /news?category=", "GET /news?cursor=", "GET /news/{slug}")
CALL_BUDGETS = {  # label in the calls record -> (max calls, as the budget says it)
    "GET /news": (1, "1"),
    "GET /news?category=": (1, "1"),
    "GET /news?cursor=": (1, "1"),
    "GET /news/{slug}": (1, "1"),
    "GET /contact (cold)": (1, "<= 1"),
    "GET /contact (warm)": (0, "0"),
    "POST /inquiries": (4, "<= 4"),
}


def rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """Every row of the table, in order: what, measured, budget, verdict."""
    table: list[dict[str, str]] = []

    def row(what: str, measured: str, budget: str, verdict: str | bool) -> None:
        if isinstance(verdict, bool):
            verdict = "PASS" if verdict else "MISS"
        table.append({"what": what, "measured": measured, "budget": budget, "verdict": verdict})

    live = results.get("aws")
    if live:
        latency = live["latency"]
        for label in (*AWS_ROUTES, "POST /inquiries"):
            r = latency[label]
            v, b = r["vigor"], r["baseline"]
            row(
                f"Latency {label}, p50 / p95 vs baseline",
                f"{r['p50_ratio']:.2f} / {r['p95_ratio']:.2f}  ({v['p50_ms']:.2f} vs"
                f" {b['p50_ms']:.2f} ms; p95 {v['p95_ms']:.2f} vs {b['p95_ms']:.2f})",
                f"<= {LATENCY_RATIO:.2f}",
                max(r["p50_ratio"], r["p95_ratio"]) <= LATENCY_RATIO,
            )
        for label in ("GET /contact", "GET /news/categories"):
            r = latency[label]
            v, b = r["vigor"], r["baseline"]
            refreshed = v["cache_refreshes"] + b["cache_refreshes"]
            row(
                f"From memory: {label} (warm), p50 vs baseline",
                f"{r['p50_difference_ms']:+.3f} ms  ({v['p50_ms']:.3f} vs {b['p50_ms']:.3f} ms"
                + (f"; {refreshed} cache refreshes left out" if refreshed else "")
                + ")",
                f"<= +{FROM_MEMORY_MS} ms",
                r["p50_difference_ms"] <= FROM_MEMORY_MS,
            )
    cpu = results.get("own_cpu")
    if cpu:
        post = cpu["own_cpu"]["POST /inquiries"]
        mine, base = post["vigor"]["cpu_p50_ms"], post["baseline"]["cpu_p50_ms"]
        row(
            "Own CPU per POST /inquiries (recorded answers), p50",
            f"{mine:.2f} ms  (baseline {base:.2f} ms: {post['cpu_p50_ratio']:.2f}x)",
            f"<= {OWN_CPU_POST_MS} ms or <= {OWN_CPU_POST_RATIO}x",
            mine <= OWN_CPU_POST_MS or post["cpu_p50_ratio"] <= OWN_CPU_POST_RATIO,
        )
    cold = results.get("cold_start")
    if cold:
        for label, r in cold["routes"].items():
            v, b = r["vigor"], r["baseline"]
            row(
                f"Cold: import + first {label} vs baseline",
                f"{r['ratio']:.2f}  ({v['total_ms']:.0f} vs {b['total_ms']:.0f} ms;"
                f" CPU {r['cpu_ratio']:.2f}; fastest runs {r.get('fastest_ratio', 0):.2f})",
                f"<= {COLD_RATIO:.2f}",
                r["ratio"] <= COLD_RATIO,
            )
        row(
            "Cold, reference: import boto3, chalice (the old yardstick)",
            f"{cold['import_boto3_chalice_ms']:.0f} ms",
            "",
            "INFO",
        )
        row(
            "Cold, CHECK_DELIVERABILITY=true (prod): first POST also imports dnspython",
            f"+{cold['dnspython_import_ms']:.0f} ms (email-validator itself:"
            f" {cold['email_validator_import_ms']:.0f} ms)",
            "",
            "INFO",
        )
    if live:
        calls = live["calls"]["vigor bench-small"]
        for label, (limit, budget) in CALL_BUDGETS.items():
            made = calls[label]
            names = ", ".join(call.split(".", 1)[1] for call in made) or "cached"
            row(f"AWS calls: {label}", f"{len(made)}  ({names})", budget, len(made) <= limit)
        for label in ("GET /news/categories (cold)", "GET /news/categories (warm)"):
            row(f"AWS calls: {label}", str(len(calls[label])), "", "INFO")
        large = f"{live['sizes']['bench-large']:,}"
        row(
            f"AWS calls: every route, 10 vs {large} items",
            "identical" if live["same_calls_both_sizes"] else "DIFFERENT",
            "identical",
            live["same_calls_both_sizes"],
        )
        row(
            "AWS calls: items read per request (either size)",
            f"at most {max(max(v.values()) for v in live['items_read'].values())}",
            "<= one page (11)",
            live["reads_bounded"],
        )
        row(
            "Baseline makes the same AWS calls per route",
            "yes" if live["baseline_makes_the_same_calls"] else "NO",
            "yes",
            live["baseline_makes_the_same_calls"],
        )
    if cpu:
        large = f"{live['sizes']['bench-large']:,}" if live else "100,000"
        for label, r in cpu["flat_cost"].items():
            row(
                f"Flat cost: {label}, own CPU {large} / 10 items",
                f"{r['cpu_p50_ratio']:.2f}  ({r['large']['cpu_p50_ms']:.3f} vs"
                f" {r['small']['cpu_p50_ms']:.3f} ms)",
                f"<= {FLAT_RATIO}",
                r["cpu_p50_ratio"] <= FLAT_RATIO,
            )
    pkg = results.get("package")
    if pkg:
        row(
            "Deployment zip (chalice package --stage prod)",
            f"{pkg['zip_mb']:.2f} MB ({pkg['zip_bytes']:,} bytes)",
            "<= 2 MB",
            pkg["zip_bytes"] <= ZIP_BYTES,
        )
        row(
            "Deployment zip: boto3 / botocore files",
            str(len(pkg["boto_files"])),
            "0",
            not pkg["boto_files"],
        )
        row(
            "Deployment zip: templates/*.html and *.txt",
            f"{len(pkg['templates_html_txt'])} of {len(pkg['templates_expected'])}",
            "all",
            not pkg["templates_missing"] and bool(pkg["templates_html_txt"]),
        )
        dns = pkg["libraries"].get("dns", {})
        row(
            "Deployment zip: dnspython (email-validator's DNS checks)",
            f"{dns.get('zipped_bytes', 0) / 1024:.0f} KB of the zip"
            f" ({dns.get('zipped_bytes', 0) / pkg['zip_bytes']:.0%})",
            "",
            "INFO",
        )
    for run in results.get("throughput", []):
        row(
            f"Throughput POST /inquiries, {run['emulator']}",
            f"{run['requests_per_second']} req/s, {run['requests']} requests from"
            f" {run['clients']} clients, {run['errors']} errors",
            "0 errors, all stored + mailed",
            run["errors"] == 0
            and run["stored"] == run["requests"] == run["stored_sent"]
            and run["sales_emails"] == run["requests"],
        )
    return table


def header(results: dict[str, Any]) -> str:
    m = results["meta"]
    load = m.get("load", {})
    return (
        f"Vigor Leads - make bench   {m['when']}   Python {m['python']}, {m['cpus']} CPUs,"
        f" chalice {m['versions']['chalice']}, moto {m['versions']['moto']};"
        f" {m.get('seconds', '?')} s; load average {load.get('start', '?')} at the start,"
        f" {load.get('end', '?')} at the end (highest seen {load.get('highest', '?')})"
        + ("   (QUICK: not the figures of record)" if m["quick"] else "")
    )


def text_table(results: dict[str, Any]) -> list[str]:
    table = rows(results)
    out = [header(results), ""]
    width = max(len(r["what"]) for r in table) + 2
    measured = max(len(r["measured"]) for r in table) + 2
    out.append(f"  {'Figure':<{width}}{'Measured':<{measured}}{'Budget':<32}Verdict")
    for r in table:
        out.append(
            f"  {r['what']:<{width}}{r['measured']:<{measured}}{r['budget']:<32}{r['verdict']}"
        )
    misses = [r["what"] for r in table if r["verdict"] == "MISS"]
    out.append("")
    out.append("All budgets met." if not misses else "MISSED: " + "; ".join(misses))
    return out


def markdown_table(results: dict[str, Any]) -> list[str]:
    out = [
        f"`make bench` of {results['meta']['when']} ({results['meta']['seconds']} s, load average"
        f" {results['meta']['load']['start']} → {results['meta']['load']['end']},"
        f" highest {results['meta']['load']['highest']}, {results['meta']['cpus']} CPUs):",
        "",
        "| figure | measured | budget | verdict |",
        "|---|---|---|---|",
    ]
    table = rows(results)
    for r in table:
        cells = [r["what"], r["measured"], r["budget"] or "—", r["verdict"]]
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    misses = [r["what"] for r in table if r["verdict"] == "MISS"]
    out += ["", "All budgets met." if not misses else "Missed: " + "; ".join(misses) + "."]
    return out


def write_between(path: Path, marker: str, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    begin, end = f"<!-- {marker}: begin -->", f"<!-- {marker}: end -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no {begin} ... {end} block to replace")
    block = "\n".join([begin, *lines, end])
    path.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--docs", action="store_true", help="write README.md, docs/performance.md")
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    table = text_table(results)
    print("\n".join(table))
    if args.docs:
        if results["meta"]["quick"] or args.results != RESULTS:
            raise SystemExit("only bench/results.json of a full run goes into the docs")
        write_between(ROOT / "README.md", "bench table", markdown_table(results))
        write_between(ROOT / "docs" / "performance.md", "bench run", ["```", *table, "```"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
