"""A secret setting may name an SSM SecureString parameter (`ssm:/path/name`) instead of
holding the secret in .chalice/config.json: the function reads it once per instance, its
policy may read exactly that parameter, and `check` verifies it exists as a SecureString."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from admin.stages import expected_policy, grants, stage_environment
from chalicelib.settings import Settings, SettingsError
from manage import main
from tests.conftest import REGION, lead_items, post_json, settings_env
from tests.data import BUYER
from tests.deploying import copy_project
from tests.fakes import FakeTurnstile

PARAMETER = "/vigor-leads/test/turnstile-secret"


def test_the_turnstile_secret_is_read_from_ssm_once_per_instance(
    make_client: Any, verifier: str, counter: Any
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="s3cr3t", Type="SecureString")
    api = make_client(TURNSTILE_SECRET=f"ssm:{PARAMETER}", TURNSTILE_VERIFY_URL=verifier)
    for n in range(2):
        body = {**BUYER, "email": f"b{n}@example.com", "cf-turnstile-response": "good"}
        assert post_json(api, body).status_code == 201
    assert [form["secret"] for form in FakeTurnstile.seen] == [["s3cr3t"], ["s3cr3t"]]
    assert counter.calls.count("ssm.GetParameter") == 1


def test_an_unreadable_ssm_secret_keeps_the_lead_as_unverified(
    make_client: Any, verifier: str, settings: Any
) -> None:
    api = make_client(TURNSTILE_SECRET=f"ssm:{PARAMETER}", TURNSTILE_VERIFY_URL=verifier)
    body = {**BUYER, "cf-turnstile-response": "good"}
    assert post_json(api, body).status_code == 201  # the lead is never lost to SSM
    (lead,) = lead_items(settings)
    assert lead["captcha"] == "unverified"
    assert FakeTurnstile.seen == []


def test_a_malformed_ssm_reference_is_a_settings_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="TURNSTILE_SECRET names an SSM parameter"):
        Settings.from_env(settings_env(TURNSTILE_SECRET="ssm:not a name"))


@pytest.mark.parametrize("setting", ["TURNSTILE_SECRET", "CHAT_WEBHOOKS"])
def test_the_policy_may_read_exactly_the_named_parameter(setting: str) -> None:
    env = {**stage_environment("prod"), setting: f"ssm:{PARAMETER}"}
    added = grants(expected_policy("prod", env)) - grants(
        expected_policy("prod", stage_environment("prod"))
    )
    assert added == {("ssm:GetParameter", f"arn:aws:ssm:*:*:parameter{PARAMETER}")}


def test_check_names_a_missing_or_plain_ssm_parameter_and_passes_a_secure_one(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path / "project")
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["stages"]["dev"]["environment_variables"]["TURNSTILE_SECRET"] = f"ssm:{PARAMETER}"
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    monkeypatch.setattr("admin.stages.CONFIG", config_path)
    ssm = boto3.client("ssm", region_name=REGION)

    def check() -> str:
        capsys.readouterr()
        main(["check", "--stage", "dev"])
        return capsys.readouterr().out

    assert f"✗ SSM parameter {PARAMETER} (TURNSTILE_SECRET) does not exist" in check()
    assert f"fix: aws ssm put-parameter --name {PARAMETER} --type SecureString" in check()
    ssm.put_parameter(Name=PARAMETER, Value="plain", Type="String")
    assert f"✗ SSM parameter {PARAMETER} (TURNSTILE_SECRET) is a plain String" in check()
    ssm.put_parameter(Name=PARAMETER, Value="s3cr3t", Type="SecureString", Overwrite=True)
    assert f"✓ SSM parameter {PARAMETER} (TURNSTILE_SECRET): a SecureString" in check()
