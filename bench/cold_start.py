"""Cold start: `import app` in a fresh interpreter against `import boto3, chalice` alone.

Each probe is a new `python -c` process (as a new Lambda sandbox would be): it times its own
import with perf_counter and reports which mail libraries the import pulled in. The two kinds
alternate so that drifting machine load hits both alike; the budget figure is the median of
the per-pair ratios. PYTHONDONTWRITEBYTECODE=1 as in the Lambda runtime, whose code directory
is read-only (the standard library and site-packages come precompiled either way).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MAIL_LIBRARIES = ("jinja2", "email_validator", "markupsafe")
DUMMY_SETTINGS = {
    "CONTENT_TABLE": "vigor-leads-bench-content",
    "LEADS_TABLE": "vigor-leads-bench-leads",
    "ALLOWED_ORIGINS": "https://www.vigorautomobile.com",
    "SENDER_EMAIL": "Vigor Leads <leads@vigorautomobile.com>",
    "SALES_EMAILS": "sales@vigorautomobile.com",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PROBE = """
import json, sys, time
started = time.perf_counter()
import {modules}
elapsed = time.perf_counter() - started
print(json.dumps({{
    "seconds": elapsed,
    "modules": len(sys.modules),
    "loaded": sorted(m for m in {mail!r} if m in sys.modules),
}}))
"""


@dataclass
class ColdStart:
    app_seconds: list[float]
    baseline_seconds: list[float]
    ratios: list[float]
    app_modules: int
    baseline_modules: int
    loaded_by_app: list[str]
    # `import app` leaves boto3 to the first request; `import app, boto3` is what a new
    # instance imports before it can answer anything: the stricter, honest comparison.
    with_boto3_ratios: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": len(self.ratios),
            "import_app_ms": [round(s * 1000, 1) for s in self.app_seconds],
            "import_boto3_chalice_ms": [round(s * 1000, 1) for s in self.baseline_seconds],
            "median_import_app_ms": round(statistics.median(self.app_seconds) * 1000, 1),
            "median_import_boto3_chalice_ms": round(
                statistics.median(self.baseline_seconds) * 1000, 1
            ),
            "pair_ratios": [round(r, 3) for r in self.ratios],
            "median_ratio": round(self.ratio, 3),
            "modules_after_import_app": self.app_modules,
            "modules_after_import_boto3_chalice": self.baseline_modules,
            "mail_libraries_loaded_by_import_app": self.loaded_by_app,
            "median_ratio_import_app_and_boto3": round(
                statistics.median(self.with_boto3_ratios), 3
            ),
        }


def probe(modules: str) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **DUMMY_SETTINGS,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=modules, mail=MAIL_LIBRARIES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`import {modules}` failed:\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def measure(pairs: int = 9) -> ColdStart:
    probe("app")  # warm the OS file cache; not counted
    probe("boto3, chalice")
    app_runs, base_runs, ratios, with_boto3 = [], [], [], []
    loaded: set[str] = set()
    app_modules = base_modules = 0
    for index in range(pairs):
        # alternate which goes first, so neither always runs right after the other
        order = ("app", "boto3, chalice") if index % 2 == 0 else ("boto3, chalice", "app")
        runs = {modules: probe(modules) for modules in order}
        app, base = runs["app"], runs["boto3, chalice"]
        app_runs.append(app["seconds"])
        base_runs.append(base["seconds"])
        ratios.append(app["seconds"] / base["seconds"])
        with_boto3.append(probe("app, boto3")["seconds"] / base["seconds"])
        loaded.update(app["loaded"])
        app_modules, base_modules = app["modules"], base["modules"]
    return ColdStart(
        app_runs, base_runs, ratios, app_modules, base_modules, sorted(loaded), with_boto3
    )
