"""A salesperson clicks an action link in the sales email, confirms on the page, and the
lead's sales status has changed where the admin looks (`manage.py leads show`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from devtools.local import publish_local_stage
from tests.e2e.harness import sales_email, screenshot
from tests.e2e.screenshots import EXAMPLE, _submit


@pytest.fixture
def local_stage(service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`manage.py ... --stage local` reaches this running service."""
    path = tmp_path / "local-stage.json"
    monkeypatch.setattr("admin.stages.LOCAL_STAGE_FILE", path)
    yield publish_local_stage(service, path)


def test_a_click_and_a_confirmation_mark_the_lead_quoted(
    pages: Any, service: Any, outbox: Path, local_stage: Path, manage: Any
) -> None:
    lead_id = _submit(service, EXAMPLE)
    _, message = sales_email(outbox, lead_id, "sales@")
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (link,) = re.findall(r"Quoted: (http://\S+)", text)

    page = pages.open(java_script_enabled=False)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Mark lead {lead_id} as “Quoted”?")
    assert "sales_status: new" in manage("leads", "show", lead_id, "--stage", "local").out
    page.get_by_label("Note (optional, one line)").fill("sent price list")
    page.get_by_role("button", name="Quoted").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Lead {lead_id} is now “Quoted”.")
    screenshot(page, "sales-action-done")

    shown = manage("leads", "show", lead_id, "--stage", "local").out
    assert "sales_status: quoted" in shown
    assert "status new -> quoted (sent price list)" in shown
