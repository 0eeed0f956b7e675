"""The deployment package: `chalice package --stage prod` (devtools.package.build), measured:
its size, what each top-level package in it weighs (zipped), no boto3/botocore, every
template inside."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from devtools.package import ROOT, build


def measure() -> dict[str, Any]:
    libraries: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="vigor-package-") as out:
        archive = build(Path(out))
        infos = zipfile.ZipFile(archive).infolist()
        names = [info.filename for info in infos]
        size = archive.stat().st_size
    for info in infos:  # what each top-level package costs, by its dist-info too
        top = info.filename.split("/")[0].split("-")[0].lower().removesuffix(".py")
        top = {"dnspython": "dns"}.get(top, top)
        entry = libraries.setdefault(top, {"files": 0, "bytes": 0, "zipped_bytes": 0})
        entry["files"] += 1
        entry["bytes"] += info.file_size
        entry["zipped_bytes"] += info.compress_size
    templates = sorted(p.name for p in (ROOT / "templates").iterdir() if p.is_file())
    packaged = {name.removeprefix("templates/") for name in names if name.startswith("templates/")}
    top = sorted({name.split("/")[0] for name in names})
    return {
        "zip_bytes": size,
        "zip_mb": round(size / 2**20, 3),
        "files": len(names),
        "top_level": top,
        "libraries": libraries,
        "boto_files": [n for n in names if n.split("/")[0].startswith(("boto3", "botocore"))],
        "templates_expected": templates,
        "templates_missing": [t for t in templates if t not in packaged],
        "templates_html_txt": sorted(t for t in packaged if t.endswith((".html", ".txt"))),
    }
