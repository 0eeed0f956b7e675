"""Cold start: a new process imports the app and answers its first request, as Lambda does.

The Lambda runtime runs the deployment zip, whose code directory is read-only (Python cannot
cache what it compiles): the app's own modules come precompiled (`chalice deploy` and
`package` run admin/predeploy.compile_for_lambda, checked-hash .pyc in chalicelib), the
libraries packaged with them (Chalice's runtime, email-validator, ...) are compiled from
source at each cold start; the standard library and boto3/botocore come with the runtime,
precompiled.
The bench does the same: it builds the zip with `chalice package` (devtools.package.build),
unpacks it, and runs each probe in a fresh interpreter whose working directory is the
unpacked function, with PYTHONDONTWRITEBYTECODE=1 and the venv's precompiled boto3. The
baseline (bench/baseline.py) is packed the same way, beside the same Chalice runtime.

Each probe times, inside the new process, `import app` and then the first
`app.app(event, context)` of one route against the emulator (creating the boto3 clients,
making the route's AWS calls). Per route the two apps alternate, pair after pair; the
figure is the median of the per-pair ratios. For reference the bench also times
`import boto3, chalice` alone (the old yardstick) and what dnspython adds when
CHECK_DELIVERABILITY is on (production): email-validator then imports it on the first POST.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Site, event
from bench.stacks import settings_env, without_aws

ROOT = Path(__file__).resolve().parent.parent
COLD_ROUTES = (
    "GET /contact",
    "GET /news/categories",
    "GET /news",
    "GET /news/{slug}",
    "POST /inquiries",
)
WATCHED = ("jinja2", "markupsafe", "email_validator", "idna", "dns", "email.message")
PROBE = """
import time
class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    aws_request_id = "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    def get_remaining_time_in_millis(self):
        return 30000
cpu, started = time.process_time(), time.perf_counter()
import app
imported = time.perf_counter()
response = app.app({event!r}, Context())
answered, cpu = time.perf_counter(), time.process_time() - cpu
import json, sys
print(json.dumps({{
    "import_ms": (imported - started) * 1000,
    "first_request_ms": (answered - imported) * 1000,
    "total_ms": (answered - started) * 1000,
    "cpu_ms": cpu * 1000,
    "status": response["statusCode"],
    "modules": len(sys.modules),
    "loaded": sorted(m for m in {watched!r} if m in sys.modules),
}}))
"""
IMPORT_ONLY = """
import time
started = time.perf_counter()
import {modules}
elapsed = time.perf_counter() - started
import json, sys
print(json.dumps({{"total_ms": elapsed * 1000, "modules": len(sys.modules)}}))
"""


def unpack(workdir: Path) -> dict[str, Path]:
    """The deployment zip unpacked (vigor) and the baseline packed beside the same Chalice."""
    from devtools.package import build

    archive = build(workdir / "zip")
    vigor = workdir / "vigor"
    zipfile.ZipFile(archive).extractall(vigor)
    baseline = workdir / "baseline"
    shutil.copytree(vigor / "chalice", baseline / "chalice")
    shutil.copy(ROOT / "bench" / "baseline.py", baseline / "baseline.py")
    (baseline / "app.py").write_text("from baseline import create_app\n\napp = create_app()\n")
    return {"vigor": vigor, "baseline": baseline}


def run(directory: Path, source: str, stage: str) -> dict[str, Any]:
    env = {
        **without_aws(),
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},  # the emulator's
        **settings_env(stage),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-c", source],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cold-start probe failed in {directory}:\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def measure(
    site: Site, stage: str, pairs: int, workdir: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    dirs = unpack(workdir)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        label: {"vigor": [], "baseline": []} for label in COLD_ROUTES
    }
    # Pair after pair, every route in turn: a slow spell of the machine hits all alike.
    for number in range(pairs + 1):  # pair 0 warms the OS file cache and is not counted
        for index, label in enumerate(COLD_ROUTES):
            first = "vigor" if (number + index) % 2 else "baseline"
            for kind in (first, "baseline" if first == "vigor" else "vigor"):
                request = event(label, site, number, f"cold-{kind}")
                probe = run(dirs[kind], PROBE.format(event=request, watched=WATCHED), stage)
                if probe["status"] >= 400:
                    raise RuntimeError(f"cold {kind} {label}: status {probe['status']}")
                if number:
                    runs[label][kind].append(probe)
    routes = {label: summary(runs[label]) for label in COLD_ROUTES}
    for label, route in routes.items():
        say(
            f"    {label:<22} import + first request: {route['vigor']['total_ms']:.0f}"
            f" / {route['baseline']['total_ms']:.0f} ms, ratio {route['ratio']:.2f}"
            f" (CPU {route['cpu_ratio']:.2f})"
        )
    source = IMPORT_ONLY.format(modules="boto3, chalice")
    reference = [run(dirs["vigor"], source, stage) for _ in range(3)]
    validator, deliverability = [], []
    for _ in range(5):
        source = IMPORT_ONLY.format(modules="email_validator")
        validator.append(run(dirs["vigor"], source, stage)["total_ms"])
        source = IMPORT_ONLY.format(modules="email_validator, email_validator.deliverability")
        deliverability.append(run(dirs["vigor"], source, stage)["total_ms"])
    return {
        "method": "deployment zip unpacked (chalicelib precompiled), fresh process",
        "pairs": pairs,
        "routes": routes,
        "import_boto3_chalice_ms": round(statistics.median(r["total_ms"] for r in reference), 1),
        "email_validator_import_ms": round(statistics.median(validator), 1),
        "dnspython_import_ms": round(
            statistics.median(deliverability) - statistics.median(validator), 1
        ),
    }


def summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kind, probes in runs.items():
        result[kind] = {
            "import_ms": round(statistics.median(p["import_ms"] for p in probes), 1),
            "first_request_ms": round(statistics.median(p["first_request_ms"] for p in probes), 1),
            "total_ms": round(statistics.median(p["total_ms"] for p in probes), 1),
            "cpu_ms": round(statistics.median(p["cpu_ms"] for p in probes), 1),
            "totals_ms": [round(p["total_ms"], 1) for p in probes],
            "modules": probes[-1]["modules"],
            "loaded": probes[-1]["loaded"],
        }
    ratios = [
        v["total_ms"] / b["total_ms"] for v, b in zip(runs["vigor"], runs["baseline"], strict=True)
    ]
    result["pair_ratios"] = [round(r, 3) for r in ratios]
    result["ratio"] = round(statistics.median(ratios), 3)
    cpu_ratios = [
        v["cpu_ms"] / b["cpu_ms"] for v, b in zip(runs["vigor"], runs["baseline"], strict=True)
    ]
    result["cpu_ratio"] = round(statistics.median(cpu_ratios), 3)
    # Noise only ever adds time: the fastest run of each is the least disturbed view.
    fastest = min(p["total_ms"] for p in runs["vigor"]) / min(
        p["total_ms"] for p in runs["baseline"]
    )
    result["fastest_ratio"] = round(fastest, 3)
    return result
