"""The deployment zip `chalice package` builds holds what the function needs, nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.package import build

ROOT = Path(__file__).resolve().parents[2]
MAX_ZIP_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    build(out)
    return out


def test_zip_is_within_budget_and_has_no_boto(package: Path) -> None:
    archive = package / "deployment.zip"
    assert archive.stat().st_size <= MAX_ZIP_BYTES
    names = zipfile.ZipFile(archive).namelist()
    assert not [n for n in names if n.split("/")[0].startswith(("boto3", "botocore"))]


def test_zip_holds_the_app_the_templates_and_the_runtime_libraries(package: Path) -> None:
    names = set(zipfile.ZipFile(package / "deployment.zip").namelist())
    assert {"app.py", "chalicelib/bootstrap.py", "chalicelib/mail.py"} <= names
    templates = {p.name for p in (ROOT / "templates").iterdir()}
    assert templates and {f"templates/{t}" for t in templates} <= names
    assert "email_validator/__init__.py" in names
    # The templates are rendered by chalicelib/templating.py: Jinja2 is a test tool only.
    assert not [n for n in names if n.split("/")[0] in ("jinja2", "markupsafe")]


def test_every_module_of_the_app_is_precompiled_against_its_source(package: Path) -> None:
    """Lambda cannot write .pyc files: the zip brings them, checked-hash, so a cold start
    does not compile chalicelib and a stale one is never used (admin/predeploy.py)."""
    import importlib.util

    archive = zipfile.ZipFile(package / "deployment.zip")
    names = set(archive.namelist())
    tag = sys.implementation.cache_tag
    modules = [n for n in names if n.startswith("chalicelib/") and n.endswith(".py")]
    assert len(modules) > 20
    for module in modules:
        folder, _, file = module.rpartition("/")
        compiled = archive.read(f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc")
        flags = int.from_bytes(compiled[4:8], "little")
        assert flags == 0b11, module  # hash-based (1) and checked (2)
        assert compiled[8:16] == importlib.util.source_hash(archive.read(module)), module


RENDER_EVERY_TEMPLATE = """
from chalicelib.mail import Templates, TEMPLATES_DIR
from chalicelib.inquiries.messages import acknowledgement, held_back_summary, sales_notification
from chalicelib.followup.digest import Digest, digest_email
from chalicelib.settings import Settings
from chalicelib.leads.model import Inquiry, Lead
import dataclasses, sys
assert str(TEMPLATES_DIR).startswith(PACKAGE), TEMPLATES_DIR
settings = Settings.from_env({
    "CONTENT_TABLE": "c", "LEADS_TABLE": "l", "ALLOWED_ORIGINS": "https://a.example",
    "SENDER_EMAIL": "s@example.com", "SALES_EMAILS": "t@example.com"})
inquiry = Inquiry(name="Zhang <b>", email="z@example.com", message="hi", locale="zh")
lead = Lead.new(inquiry, "01ABC", 1767225600, spam=False, retention_days=1)
used = set()
class Recording(Templates):
    def render(self, template, **context):
        used.add(template)
        return super().render(template, **context)
templates = Recording()
rendered = [sales_notification(lead, settings, templates)]
rendered.append(held_back_summary([lead], settings, templates))
digest = Digest("2026-01-02", "2026-01-01", "Asia/Shanghai", 1767225600, 1)
digest.unanswered = digest.failed = digest.failed_alerts = [lead]
rendered.append(digest_email(digest, settings, templates))
for locale in ("en", "zh"):
    ack_lead = dataclasses.replace(lead, inquiry=dataclasses.replace(inquiry, locale=locale))
    rendered.append(acknowledgement(ack_lead, settings, templates))
for message in rendered:
    assert message.raw and message.html and message.text
assert "jinja2" not in sys.modules
names = {p.name for p in TEMPLATES_DIR.iterdir()}
assert used == names, (used, names)
print(len(used))
"""


def test_packaged_function_renders_every_email_template(package: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "function"
    zipfile.ZipFile(package / "deployment.zip").extractall(unpacked)
    # -S: no site-packages, so only what is inside the zip can be imported (like Lambda,
    # minus boto3, which these modules do not need).
    result = subprocess.run(
        [sys.executable, "-S", "-c", f"PACKAGE = {str(unpacked)!r}\n" + RENDER_EVERY_TEMPLATE],
        cwd=unpacked,
        env={"PYTHONPATH": str(unpacked), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == len(list((ROOT / "templates").iterdir()))
