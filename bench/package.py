"""The deployment package: `chalice package --stage prod` (the venv's chalice), as deployed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    """`chalice package --stage prod OUT` with this venv's chalice; the deployment zip's path.
    (tests/test_package.py inspects the same zip.)"""
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    result = subprocess.run(
        [str(chalice), "package", "--stage", "prod", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chalice package failed:\n{result.stderr}")
    return out / "deployment.zip"


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vigor-package-") as out:
        archive = build(Path(out))
        names = zipfile.ZipFile(archive).namelist()
        size = archive.stat().st_size
    templates = sorted(p.name for p in (ROOT / "templates").iterdir() if p.is_file())
    packaged = {name.removeprefix("templates/") for name in names if name.startswith("templates/")}
    top = sorted({name.split("/")[0] for name in names})
    return {
        "zip_bytes": size,
        "zip_mb": round(size / 2**20, 3),
        "files": len(names),
        "top_level": top,
        "boto_files": [n for n in names if n.split("/")[0].startswith(("boto3", "botocore"))],
        "templates_expected": templates,
        "templates_missing": [t for t in templates if t not in packaged],
        "templates_html_txt": sorted(t for t in packaged if t.endswith((".html", ".txt"))),
    }
