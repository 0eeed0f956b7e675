"""The admin's path without traps (issue 14): each test is named after what the admin sees.

Traps 4 (exports), 5 (the stage, times, SES's reason) and 6 (articles, the contact cache,
a new stage's files) against moto; the deploy traps (1-3) are in test_chalice_deploy.py,
`--stage local` (7) in tests/live/test_local_stage.py, the alarms (8) in test_alarms.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import boto3
import pytest

from admin.stages import expected_policy, policy_text, stage_environment
from chalicelib.inquiries.service import Submitted
from chalicelib.leads.dynamodb import LeadsTable
from chalicelib.leads.model import Inquiry
from chalicelib.runtime import Runtime
from chalicelib.settings import Settings
from tests.conftest import REGION
from tests.deploying import copy_project

STAGE = "dev"
ENV = stage_environment(STAGE)


def take(n: int, spam: bool = False, **env: str) -> str:
    runtime = Runtime(Settings.from_env({**ENV, **env}))
    inquiry = Inquiry(name=f"Buyer {n}", email=f"b{n}@example.com", message="Quote?", locale="en")
    lead_id: str = runtime.inquiries.submit(
        inquiry, Submitted("198.51.100.9", honeypot_filled=spam)
    )
    return lead_id


def sender_unverified() -> None:
    boto3.client("sesv2", region_name=REGION).delete_email_identity(
        EmailIdentity=parseaddr(ENV["SENDER_EMAIL"])[1]
    )


# ---- trap 4: exports ------------------------------------------------------------------


def test_a_failed_export_leaves_no_file_and_keeps_the_earlier_one(
    dev: None, manage: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    for n in range(3):
        take(n)
    target = tmp_path / "leads-prod.csv"
    first = manage("leads", "export", "-o", str(target), "--stage", STAGE)
    assert first.code == 0
    before = target.read_bytes()
    assert before.count(b"\r\n") == 4  # the header and three leads

    def failing_pages(self: LeadsTable, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield "2026-11", []
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}
        raise ClientError(error, "Query")  # type: ignore[arg-type]

    monkeypatch.setattr(LeadsTable, "pages", failing_pages)
    failed = manage("leads", "export", "-o", str(target), "--stage", STAGE)
    assert failed.code == 1
    assert f"export failed: {target} not written" in failed.err
    assert target.read_bytes() == before  # not a header-only file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads-prod.csv"]  # no leftovers
    fresh = tmp_path / "new.jsonl"
    assert manage("leads", "export", "--format", "jsonl", "-o", str(fresh), "--stage", STAGE).code
    assert not fresh.exists()


def test_the_default_export_and_list_say_how_many_spam_leads_they_left_out(
    dev: None, manage: Any, tmp_path: Path
) -> None:
    take(1)
    take(2, spam=True)
    take(3, spam=True)
    exported = manage("leads", "export", "-o", str(tmp_path / "x.csv"), "--stage", STAGE)
    assert "exported 1 lead" in exported.err
    assert "not exported: 2 leads marked spam (--spam include to add them)" in exported.err
    everything = manage("leads", "export", "--spam", "include", "-o", str(tmp_path / "y.csv"),
                        "--stage", STAGE)  # fmt: skip
    assert "exported 3 leads" in everything.err and "not exported" not in everything.err
    listed = manage("leads", "list", "--stage", STAGE)
    assert "not shown: 2 leads marked spam (--spam include to add them)" in listed.err


# ---- trap 5: the stage, times, what SES said ------------------------------------------


def test_a_command_without_stage_asks_which_instead_of_acting_on_dev(manage: Any) -> None:
    result = manage("leads", "list")
    assert result.code == 2
    assert "which stage? add --stage dev|prod|local" in result.err


def test_every_command_names_the_stage_and_account_it_acts_on(dev: None, manage: Any) -> None:
    for argv in (["leads", "list"], ["contact", "show"], ["news", "list"], ["check"]):
        result = manage(*argv, "--stage", STAGE)
        first = result.err.splitlines()[0]
        assert first == "stage dev · account 123456789012 · region us-east-1", (argv, first)


def test_a_setting_from_the_shell_is_named_in_that_line(
    dev: None, manage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_EMAILS", "someone@example.com")
    result = manage("leads", "list", "--stage", STAGE)
    assert "· from your shell: SALES_EMAILS" in result.err.splitlines()[0]


def test_resend_of_a_sent_lead_names_the_time_not_an_epoch(dev: None, manage: Any) -> None:
    lead_id = take(1)
    refused = manage("leads", "resend", lead_id, "--stage", STAGE)
    assert refused.code == 2
    when = re.search(r"already emailed to sales at (\S+);", refused.err)
    assert when is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when.group(1))


def test_a_rejected_resend_shows_what_ses_said_and_the_log_does_not(
    dev: None, manage: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sender_unverified()
    lead_id = take(1)
    result = manage("leads", "resend", lead_id, "--stage", STAGE)
    assert result.code == 1
    assert "(MessageRejected) - SES said: " in result.err
    said = result.err.split("SES said: ", 1)[1]
    assert "Did not have authority to send from email leads@vigorautomobile.com" in said
    shown = manage("leads", "show", lead_id, "--stage", STAGE)
    assert "SES said: " in shown.out
    assert not [r for r in caplog.records if "SES said" in r.getMessage()]


# ---- trap 6: articles, the contact cache, a new stage ---------------------------------


def test_publishing_an_article_that_is_not_there_says_so_instead_of_blaming_utf8(
    dev: None, manage: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = manage("news", "publish", "articles/new-catalogue.md", "--stage", STAGE)
    assert result.code == 2
    assert "articles/new-catalogue.md: no such file" in result.err
    assert "UTF-8" not in result.err
    (tmp_path / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n".encode("latin-1"))
    latin = manage("news", "publish", "latin1.md", "--stage", STAGE)
    assert "latin1.md: is not UTF-8 text" in latin.err


def test_contact_set_says_when_the_page_shows_the_change(dev: None, manage: Any) -> None:
    result = manage("contact", "set", "wechat", "vigor-wz", "--stage", STAGE)
    assert result.code == 0
    assert "within 6 minutes" in result.out
    assert "60 s" in result.out and "max-age=300" in result.out


def test_stage_add_writes_the_config_and_the_policy_a_new_stage_needs(
    tmp_path: Path, manage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    config_path = project / ".chalice" / "config.json"
    monkeypatch.setattr("admin.stages.CONFIG", config_path)
    result = manage("stage", "add", "staging")
    assert result.code == 0, result.err
    assert "settings copied from prod" in result.out
    assert "python manage.py provision --stage staging" in result.out
    config = json.loads(config_path.read_text(encoding="utf-8"))
    staging = config["stages"]["staging"]
    env = staging["environment_variables"]
    assert (env["CONTENT_TABLE"], env["LEADS_TABLE"], env["SES_CONFIGURATION_SET"]) == (
        "vigor-leads-staging-content",
        "vigor-leads-staging-leads",
        "vigor-leads-staging",
    )
    prod = config["stages"]["prod"]["environment_variables"]
    assert env["SENDER_EMAIL"] == prod["SENDER_EMAIL"]
    assert staging["iam_policy_file"] == "policy-staging.json"
    policy = (project / ".chalice" / "policy-staging.json").read_text(encoding="utf-8")
    assert policy == policy_text(expected_policy("staging", stage_environment("staging")))
    assert "table/vigor-leads-staging-leads" in policy and "vigor-leads-prod" not in policy
    for argv, message in (
        (["stage", "add", "staging"], "exists already"),
        (["stage", "add", "Prod_2"], "lowercase letters, digits and '-'"),
        (["stage", "add", "local"], "'local' is the stage of `make run`"),
        (["stage", "add", "qa", "--from", "nope"], "unknown stage 'nope'"),
    ):
        refused = manage(*argv)
        assert refused.code == 2 and message in refused.err, (argv, refused.err)


def test_the_committed_policy_files_are_what_stage_policy_derives(manage: Any) -> None:
    root = Path(__file__).resolve().parents[2]
    for stage in ("dev", "prod"):
        result = manage("stage", "policy", stage)
        assert result.code == 0
        assert result.out == (root / ".chalice" / f"policy-{stage}.json").read_text()
