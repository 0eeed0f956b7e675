"""The deploy path of docs/deploy.md: the merged SAM template, and the walkthrough's
commands run in order against moto."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from admin.stages import stage_environment
from manage import main
from tests.conftest import REGION

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text(encoding="utf-8"))
POLICY = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text(encoding="utf-8"))
PACKAGE_COMMAND = "chalice package --stage prod --merge-template infra/resources.json out/"


def commands_in_doc(prefix: str) -> list[str]:
    """Every line of the doc's shell blocks that starts with `prefix`, in order."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", DOC, flags=re.DOTALL):
        for line in block.splitlines():
            if line.strip().startswith(prefix):
                lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def sam(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the doc's `chalice package ... --merge-template` command builds."""
    assert PACKAGE_COMMAND in commands_in_doc("chalice package")
    out = tmp_path_factory.mktemp("out")
    argv = [*shlex.split(PACKAGE_COMMAND)[1:-1], str(out)]
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [str(chalice), *argv],
        cwd=ROOT,
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (out / "deployment.zip").is_file()
    return dict(json.loads((out / "sam.json").read_text(encoding="utf-8")))


def test_the_merged_template_passes_cfn_lint(sam: dict[str, Any]) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(sam), config=ManualArgs(regions=[REGION]))
    problems = [f"{m.rule.id} {m.rule.severity}: {m.message}" for m in matches]
    assert [p for p in problems if " error:" in p] == []
    assert problems == []  # no warnings either


def test_the_merged_template_holds_the_app_and_the_data_stack(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    for logical_id, resource in TEMPLATE["Resources"].items():
        assert resources[logical_id] == resource
    assert resources["LeadsTable"]["DeletionPolicy"] == "Retain"
    types = {r["Type"] for r in resources.values()}
    assert {"AWS::Serverless::Function", "AWS::Serverless::Api"} <= types
    assert {"EndpointURL", "ContentTableName", "LeadsTableName", "ConfigurationSetName"} <= set(
        sam["Outputs"]
    )


def test_the_stage_parameter_must_be_given_and_names_what_the_function_uses(
    sam: dict[str, Any],
) -> None:
    stage = sam["Parameters"]["Stage"]
    assert "Default" not in stage  # a forgotten Stage fails, never points prod at dev
    assert re.fullmatch(stage["AllowedPattern"], "prod")
    names = {
        "CONTENT_TABLE": "ContentTable",
        "LEADS_TABLE": "LeadsTable",
        "SES_CONFIGURATION_SET": "MailConfigurationSet",
    }
    functions = [r for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) == 2  # the API and the retry sweep
    for function in functions:
        env = function["Properties"]["Environment"]["Variables"]
        assert env == stage_environment("prod")
        for setting, logical_id in names.items():
            properties = sam["Resources"][logical_id]["Properties"]
            name = (properties.get("TableName") or properties.get("Name"))["Fn::Sub"]
            assert env[setting] == name.replace("${Stage}", "prod")


def test_the_functions_roles_carry_exactly_the_stage_policy(sam: dict[str, Any]) -> None:
    roles = [r for r in sam["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 2
    for role in roles:
        (policy,) = role["Properties"]["Policies"]
        assert policy["PolicyDocument"] == POLICY
        assert "ManagedPolicyArns" not in role["Properties"]


# ---- the walkthrough, command by command ----------------------------------------------

ARTICLE = """---
slug: new-catalogue
title: Our 2026 catalogue is out
category: company-news
date: 2026-03-02
---
Download the new catalogue from the products page.
"""


def test_every_manage_command_of_the_walkthrough_runs_against_moto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = commands_in_doc("python manage.py")
    assert len(commands) >= 12
    monkeypatch.chdir(tmp_path)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "new-catalogue.md").write_text(ARTICLE, encoding="utf-8")
    with mock_aws():
        for command in commands:
            argv = shlex.split(command, comments=True)[2:]
            assert "--stage" in argv and argv[argv.index("--stage") + 1] == "prod", command
            code = main(argv)
            captured = capsys.readouterr()
            assert code == 0, (command, captured.err)
            if argv[:1] == ["provision"]:
                assert "LeadsTableName: vigor-leads-prod-leads" in captured.out
        for name in ("leads.csv", "leads-prod.csv", "leads-prod.jsonl"):
            assert (tmp_path / name).exists(), name
        assert (tmp_path / "leads.csv").read_bytes().startswith(b"\xef\xbb\xbfid,received_at")
        # Section 7: `aws cloudformation delete-stack` keeps the leads table (Retain) ...
        assert "aws cloudformation delete-stack --stack-name vigor-leads-prod-data" in DOC
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.delete_stack(StackName="vigor-leads-prod-data")
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        assert dynamodb.list_tables()["TableNames"] == ["vigor-leads-prod-leads"]
        ses = boto3.client("sesv2", region_name=REGION)
        assert ses.list_configuration_sets()["ConfigurationSets"] == []
        # ... until `aws dynamodb delete-table` removes it explicitly.
        assert "aws dynamodb delete-table --table-name vigor-leads-prod-leads" in DOC
        dynamodb.delete_table(TableName="vigor-leads-prod-leads")
        assert dynamodb.list_tables()["TableNames"] == []


def test_the_doc_names_the_commands_an_admin_needs() -> None:
    for command in (
        "chalice deploy --stage prod",
        "chalice url --stage prod",
        "chalice delete --stage prod",
        "python manage.py provision --stage prod",
    ):
        assert command in DOC, command
    for words in ("sandbox", "production access", "sending limits", "DeletionPolicy"):
        assert words.lower() in DOC.lower(), words
