"""The deployment package: `chalice package --stage prod` (devtools.package.build), measured."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from devtools.package import ROOT, build


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
