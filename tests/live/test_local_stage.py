"""`manage.py ... --stage local` against a running `make run` (issue 14, trap 7): the
developer trying the product lists the lead they just sent, without typing the emulator's
port. `make run` publishes how to reach it (devtools/local.py `publish_local_stage`, here
to a temporary file instead of build/local-stage.json, so that a developer's own running
`make run` is left alone)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.http import buyer, post_json
from devtools.live import running_service
from devtools.local import publish_local_stage


@pytest.fixture(scope="module")
def service() -> Iterator[Any]:
    with running_service() as running:
        yield running


@pytest.fixture
def published(service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "local-stage.json"
    monkeypatch.setattr("admin.stages.LOCAL_STAGE_FILE", path)
    # The admin's shell: no endpoint, no emulator credentials (the command finds them).
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    yield publish_local_stage(service, path)  # monkeypatch restores the environment after


def test_leads_list_stage_local_shows_the_lead_just_sent_to_make_run(
    service: Any, published: Path, manage: Any
) -> None:
    answer = post_json(service.api_url, buyer(7))
    assert answer.status == 201
    lead_id = answer.json()["id"]
    listed = manage("leads", "list", "--stage", "local")
    assert listed.code == 0, listed.err
    assert lead_id in listed.out
    assert f"stage local · the `make run` emulator at {service.endpoint_url}" in listed.err
    shown = manage("leads", "show", lead_id, "--stage", "local")
    assert shown.code == 0 and "status: sent" in shown.out
    assert manage("contact", "show", "--stage", "local").code == 0
    checked = manage("check", "--stage", "local")
    assert checked.code == 0, checked.out
    assert "✓ table vigor-leads-local-leads" in checked.out


def test_stage_local_without_make_run_says_to_start_it(
    service: Any, published: Path, manage: Any
) -> None:
    child = subprocess.Popen(["true"])  # `make run` killed: its process is gone
    child.wait()
    text = published.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {child.pid}')
    published.write_text(text)
    stale = manage("leads", "list", "--stage", "local")
    assert stale.code == 2
    assert "has stopped: start `make run` again" in stale.err
    published.unlink()
    missing = manage("leads", "list", "--stage", "local")
    assert missing.code == 2
    assert "none is running: start `make run` in another terminal first" in missing.err
