"""The deployment package as `chalice deploy` builds it, for the package tests and the bench."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    """`chalice package --stage prod OUT` with this venv's chalice; the deployment zip's path.
    (tests/aws/test_package.py inspects it, bench/package.py measures it.)"""
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
