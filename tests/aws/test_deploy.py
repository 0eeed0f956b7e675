"""The deploy path of docs/deploy.md: the merged SAM template, and the whole walkthrough
followed end to end against the emulator (a moto server): every command of its `sh`
blocks, `aws`, `chalice` and `python manage.py` alike, in order, from `aws configure` to
the tear-down, but those NOT_RUN names with its reason."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admin.stages import stage_environment
from manage import main
from tests.conftest import REGION
from tests.deploying import Emulator, Run, copy_project, emulator

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


# ---- the walkthrough, end to end ------------------------------------------------------

# What the test does not run, and why (the doc's introduction says the same).
NOT_RUN = {
    "make test": "the test suite itself",
    "curl": "moto cannot run a Lambda function without Docker; the API's answers are what"
    " tests/aws and tests/live test",
    "aws cloudformation deploy": "moto has no AWS::Serverless transform; cfn-lint checks the"
    " template (test_the_merged_template_passes_cfn_lint)",
    "aws cloudformation describe-stacks --stack-name vigor-leads-prod-app": "that stack was"
    " not deployed (the line above)",
}
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"


def doc_steps() -> list[tuple[str, str, str]]:
    """The doc in order: (kind, text, the paragraph before it); kind "sh" (one command,
    continuation lines joined) or "file" (a code block the doc says to save as a file)."""
    steps: list[tuple[str, str, str]] = []
    position = 0
    block = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", flags=re.DOTALL | re.MULTILINE)
    for match in block.finditer(DOC):
        before = DOC[position : match.start()].strip().split("\n\n")[-1]
        position = match.end()
        indent, kind, body = match.group(1), match.group(2), match.group(3)
        text = "\n".join(line[len(indent) :] for line in body.splitlines()) + "\n"
        if kind == "markdown":
            steps.append(("file", text, before))
        elif kind == "sh":
            for command in text.replace("\\\n", " ").splitlines():
                if command.strip():
                    steps.append(("sh", " ".join(command.split()), before))
    return steps


@pytest.fixture
def admin_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Emulator, Path, dict[str, str]]]:
    """The admin's machine: a checkout (copy) to work in, a home for `aws configure`, a
    shell environment with nothing but PATH (the venv's first: `. .venv/bin/activate`),
    HOME and the emulator's endpoint; this process (manage.py runs in it) sees the same."""
    with emulator() as aws:
        project = copy_project(tmp_path / "vigor-leads")
        home = tmp_path / "home"
        home.mkdir()
        venv_bin = str(Path(sys.executable).parent)
        shell = {
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "AWS_ENDPOINT_URL": aws.url,
        }
        for name in list(os.environ):
            if name.startswith("AWS_"):
                monkeypatch.delenv(name)
        for name, value in shell.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr("admin.stages.CONFIG", project / ".chalice" / "config.json")
        monkeypatch.chdir(project)
        yield aws, project, shell


def test_docs_deploy_md_followed_end_to_end_on_the_emulator(
    admin_shell: tuple[Emulator, Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws, project, shell = admin_shell
    steps = doc_steps()
    ran: list[str] = []
    outputs: dict[str, list[Run]] = {}
    for kind, text, before in steps:
        if kind == "file":
            (name,) = re.findall(r"`([\w/.-]+\.md)`", before)
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text, encoding="utf-8")
            continue
        words = shlex.split(text, comments=True)
        if not words or any(text.startswith(skipped) for skipped in NOT_RUN):
            continue
        if words[0] == ".":  # . .venv/bin/activate: the venv's bin is first on PATH already
            continue
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                shell[name] = value
                monkeypatch.setenv(name, value)
            continue
        if words[:2] == ["python", "manage.py"]:
            if words[2] != "stage":  # every other command names its stage: prod
                assert "--stage" in words and words[words.index("--stage") + 1] == "prod"
            capsys.readouterr()
            code = main(words[2:])
            captured = capsys.readouterr()
            result = Run(code, captured.out, captured.err)
        else:
            answers = (
                f"{ACCESS_KEY}\nsecret\neu-central-1\njson\n"
                if words[1:2] == ["configure"]
                else None
            )
            done = subprocess.run(
                words,
                cwd=project,
                env=shell,
                input=answers,
                capture_output=True,
                text=True,
                timeout=300,
            )
            result = Run(done.returncode, done.stdout, done.stderr)
        assert result.code == 0, (text, result.out, result.err)
        ran.append(text)
        outputs.setdefault(" ".join(words[:3]), []).append(result)
        check_step(aws, project, text, result)
    # Every kind of command ran: the doc cannot lose one without this test noticing.
    for needed in (
        "aws configure --profile vigor",
        "aws sts get-caller-identity",
        "aws sesv2 put-account-details",
        "aws sesv2 create-email-identity",
        "python manage.py stage add staging",
        "python manage.py provision --stage prod",
        "python manage.py check --stage prod",
        "chalice deploy --stage prod",
        "chalice url --stage prod",
        "chalice logs --stage prod",
        "python manage.py news publish articles/new-catalogue.md --stage prod",
        "chalice delete --stage prod",
        "aws cloudformation delete-stack",
        "aws dynamodb delete-table",
        "chalice package --stage prod --merge-template",
        "aws cloudformation package",
    ):
        assert any(command.startswith(needed) for command in ran), needed
    assert len([c for c in ran if c.startswith("python manage.py")]) >= 15
    checks = outputs["python manage.py check"]
    assert len(checks) == 2  # before and after the deploy


def check_step(aws: Emulator, project: Path, command: str, result: Run) -> None:
    """What the doc says each command shows, checked where it matters."""
    if command == "aws sts get-caller-identity":
        assert json.loads(result.out)["Account"] == "123456789012"
    elif command.startswith("python manage.py provision"):
        assert "stage prod · account 123456789012 · region eu-central-1" in result.err
        assert "LeadsTableName: vigor-leads-prod-leads" in result.out
        assert "AlertTopicArn: arn:aws:sns:eu-central-1:123456789012:vigor-leads-prod-alerts" in (
            result.out
        )
        assert "alarms: sales@vigorautomobile.com subscribed" in result.out
        assert "recipient sales@vigorautomobile.com: verified" in result.out  # the sandbox
    elif command == "python manage.py check --stage prod":
        assert "✗" not in result.out
        deployed = (project / ".chalice" / "deployed" / "prod.json").exists()
        app = "✓ app: vigor-leads-prod deployed" if deployed else "– app: not deployed yet"
        assert app in result.out, result.out
        assert "✓ alarms: sales@vigorautomobile.com subscribed and confirmed" in result.out
    elif command == "chalice deploy --stage prod":
        last = result.out.strip().splitlines()[-1]
        assert last.startswith("  - Rest API URL: https://") and last.endswith("/api/")
        assert result.out.count("Lambda ARN: arn:aws:lambda:eu-central-1:") == 2
    elif command == "chalice delete --stage prod":
        assert aws.client("lambda").list_functions()["Functions"] == []
    elif command.startswith("python manage.py leads export"):
        assert not list(project.glob(".*.partial"))
    elif (
        command
        == "aws cloudformation wait stack-delete-complete --stack-name vigor-leads-prod-data"
    ):
        # The leads table survives its stack (Retain) until the next command deletes it.
        assert aws.client("dynamodb").list_tables()["TableNames"] == ["vigor-leads-prod-leads"]
        assert aws.client("sesv2").list_configuration_sets()["ConfigurationSets"] == []
        for name in ("leads.csv", "leads-prod.csv", "leads-prod.jsonl"):
            assert (project / name).exists(), name
        assert (project / "leads.csv").read_bytes().startswith(b"\xef\xbb\xbfid,received_at")
    elif command.startswith("aws dynamodb delete-table"):
        assert aws.client("dynamodb").list_tables()["TableNames"] == []
    elif command.startswith("python manage.py stage add staging"):
        config = json.loads((project / ".chalice" / "config.json").read_text(encoding="utf-8"))
        assert "staging" in config["stages"]
        assert (project / ".chalice" / "policy-staging.json").exists()
    elif command.startswith("aws cloudformation package"):
        assert (project / "out" / "packaged.json").exists()


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
