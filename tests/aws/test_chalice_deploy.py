"""`chalice deploy` against the emulator: provision, check, deploy, redeploy, delete; and the
traps an admin new to Chalice fell into (issue 14): deploying before provisioning, an
unknown stage, a setting only in the admin's shell, a deploy that failed half way.

One moto server for the module (tests/deploying.py), reset before each test; the chalice
command line runs as the admin types it, in a copy of the repository, so Chalice's record
(.chalice/deployed/) never lands in the developer's checkout. moto creates Lambda
functions without running them (that would need Docker): the tests check what was
deployed, not requests through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admin.stages import expected_policy, stage_environment
from tests.deploying import ACCOUNT, Emulator, Run, chalice, copy_project, emulator

STAGE = "dev"
FUNCTIONS = {"vigor-leads-dev", "vigor-leads-dev-retry_pending_leads"}
ROLES = {"vigor-leads-dev-api_handler", "vigor-leads-dev-retry_pending_leads"}
RULE = "vigor-leads-dev-retry_pending_leads-event"
ROUTES = {
    "/contact": {"GET", "OPTIONS"},
    "/news": {"GET", "OPTIONS"},
    "/news/categories": {"GET", "OPTIONS"},
    "/news/{slug}": {"GET", "OPTIONS"},
    "/inquiries": {"POST", "OPTIONS"},
}


@pytest.fixture(scope="module")
def moto_server() -> Iterator[Emulator]:
    with emulator() as running:
        yield running


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def aws(moto_server: Emulator, project: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A fresh emulator, this process pointed at it (manage.py runs in process), and no
    deployment record left by an earlier test."""
    moto_server.reset()
    for name, value in moto_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setattr("admin.stages.CONFIG", project / ".chalice" / "config.json")
    (project / ".chalice" / "deployed" / f"{STAGE}.json").unlink(missing_ok=True)
    return moto_server


def deploy(aws: Emulator, project: Path, stage: str = STAGE) -> Run:
    return chalice(project, aws.env, "deploy", "--stage", stage)


def function_names(aws: Emulator) -> set[str]:
    return {f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]}


def what_is_left(aws: Emulator) -> dict[str, set[str]]:
    return {
        "functions": function_names(aws),
        "roles": {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]},
        "rules": {r["Name"] for r in aws.client("events").list_rules()["Rules"]},
        "apis": {a["id"] for a in aws.client("apigateway").get_rest_apis()["items"]},
    }


NOTHING = {"functions": set(), "roles": set(), "rules": set(), "apis": set()}


def one_clear_line(run: Run) -> str:
    """A refusal: exit code not 0, no traceback, exactly one line, starting with error:."""
    assert run.code != 0, run.out
    assert "Traceback" not in run.err, run.err
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


# ---- the traps ------------------------------------------------------------------------


def test_chalice_deploy_before_provision_refuses_and_says_to_provision_first(
    aws: Emulator, project: Path
) -> None:
    line = one_clear_line(deploy(aws, project))
    assert "stage dev" in line and "not provisioned" in line
    assert "vigor-leads-dev-content" in line
    assert "python manage.py provision --stage dev" in line
    assert what_is_left(aws) == NOTHING  # nothing went live


def test_chalice_deploy_of_an_unknown_stage_says_so_in_one_line(
    aws: Emulator, project: Path
) -> None:
    line = one_clear_line(deploy(aws, project, "production"))
    assert "unknown stage 'production'" in line
    assert "dev, prod" in line and "python manage.py stage add production" in line
    assert what_is_left(aws) == NOTHING


def test_a_setting_only_in_the_admins_shell_stops_the_deploy(
    aws: Emulator, tmp_path: Path, manage: Any
) -> None:
    copy = copy_project(tmp_path / "project")
    config_path = copy / ".chalice" / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    del config["stages"]["dev"]["environment_variables"]["SALES_EMAILS"]
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    assert manage("provision", "--stage", STAGE).code == 0  # the tables are there
    shell = {**aws.env, "SALES_EMAILS": "sales@vigorautomobile.com"}
    line = one_clear_line(chalice(copy, shell, "deploy", "--stage", STAGE))
    assert "stage dev: SALES_EMAILS is required but not set" in line
    assert "config.json" in line and "your shell sets it" in line
    assert function_names(aws) == set()


def test_after_a_half_failed_deploy_deploying_again_takes_over_and_delete_removes_all(
    aws: Emulator, project: Path, manage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.apigateway.models import APIGatewayBackend

    assert manage("provision", "--stage", STAGE).code == 0
    refused = APIGatewayBackend.import_rest_api

    def throttled(*args: Any, **kwargs: Any) -> Any:
        from moto.apigateway.exceptions import BadRequestException

        raise BadRequestException("Too many requests")

    monkeypatch.setattr(APIGatewayBackend, "import_rest_api", throttled)
    failed = deploy(aws, project)
    assert failed.code != 0
    # What the admin found: functions, roles and the rule are there, Chalice recorded none
    # of them, and `chalice delete` removes nothing.
    left = what_is_left(aws)
    assert left["functions"] == FUNCTIONS and left["roles"] == ROLES and left["rules"] == {RULE}
    assert chalice(project, aws.env, "delete", "--stage", STAGE).code == 0
    assert what_is_left(aws) == left
    # `check` names the leftovers and the way out.
    checked = manage("check", "--stage", STAGE)
    assert checked.code == 1
    assert "Chalice has no record of them" in checked.out
    assert "chalice deploy --stage dev again" in checked.out
    # The way out (docs/deploy.md): deploy again once the cause is gone ...
    monkeypatch.setattr(APIGatewayBackend, "import_rest_api", refused)
    again = deploy(aws, project)
    assert again.code == 0, again.err
    assert "Updating lambda function: vigor-leads-dev" in again.out  # taken over by name
    # ... and now `chalice delete` removes everything.
    deleted = chalice(project, aws.env, "delete", "--stage", STAGE)
    assert deleted.code == 0, deleted.err
    assert what_is_left(aws) == NOTHING


# ---- the whole path -------------------------------------------------------------------


def test_check_deploy_redeploy_and_delete_on_the_emulator(
    aws: Emulator, project: Path, manage: Any
) -> None:
    """`check --stage dev`: non-zero with a clear list before provision, zero after
    provision and again after the deploy; then redeploy (the same API) and delete."""
    before = manage("check", "--stage", STAGE)
    assert before.code == 1
    assert "stage dev · account 123456789012 · region eu-central-1" in before.err
    for missing in (
        "✗ table vigor-leads-dev-content does not exist",
        "✗ table vigor-leads-dev-leads does not exist",
        "✗ SES sender leads@vigorautomobile.com: not verified",
        "✗ SES recipient sales@vigorautomobile.com: not verified",
        "✗ SES configuration set vigor-leads-dev does not exist",
        "✗ the alarms' SNS topic does not exist",
    ):
        assert missing in before.out, before.out
    assert "fix: python manage.py provision --stage dev" in before.out
    assert "– app: not deployed yet (chalice deploy --stage dev)" in before.out

    provisioned = manage("provision", "--stage", STAGE)
    assert provisioned.code == 0, provisioned.err
    assert "alarms: sales@vigorautomobile.com subscribed" in provisioned.out
    assert manage("check", "--stage", STAGE).code == 0  # ready to deploy

    first = deploy(aws, project)
    assert first.code == 0, first.err
    # What deploy prints: two functions, then the API's URL last (docs/deploy.md, step 4).
    report = first.out[first.out.index("Resources deployed:") :].splitlines()
    arn = f"arn:aws:lambda:eu-central-1:{ACCOUNT}:function"
    assert report[1:] == [
        f"  - Lambda ARN: {arn}:vigor-leads-dev-retry_pending_leads",
        f"  - Lambda ARN: {arn}:vigor-leads-dev",
        report[3],
    ]
    assert report[3].startswith("  - Rest API URL: https://") and report[3].endswith("/api/")
    assert_deployed(aws)
    after = manage("check", "--stage", STAGE)
    assert after.code == 0, after.out
    assert "✓ app: vigor-leads-dev deployed with config.json's settings" in after.out
    assert "✓ app: retry schedule rate(5 minutes)" in after.out
    assert "✗" not in after.out
    api_id = single_api(aws)

    again = deploy(aws, project)
    assert again.code == 0, again.err
    assert "Updating lambda function: vigor-leads-dev" in again.out
    assert "Updating rest API" in again.out
    assert single_api(aws) == api_id  # the same API: the URL stays
    assert_deployed(aws)

    url = chalice(project, aws.env, "url", "--stage", STAGE)
    assert url.out.strip() == report[3].split("URL: ")[1]
    deleted = chalice(project, aws.env, "delete", "--stage", STAGE)
    assert deleted.code == 0, deleted.err
    assert what_is_left(aws) == NOTHING
    # The data stays: the tables are the data stack's, not the app's.
    tables = aws.client("dynamodb").list_tables()["TableNames"]
    assert sorted(tables) == ["vigor-leads-dev-content", "vigor-leads-dev-leads"]


def single_api(aws: Emulator) -> str:
    (api,) = aws.client("apigateway").get_rest_apis()["items"]
    return str(api["id"])


def assert_deployed(aws: Emulator) -> None:
    """The functions with the stage's settings, their roles with exactly the stage's
    policy, the 5-minute schedule on the sweep, the REST API's routes on the API function."""
    lambda_, iam = aws.client("lambda"), aws.client("iam")
    assert function_names(aws) == FUNCTIONS
    env = stage_environment(STAGE)
    policy = expected_policy(STAGE, env)
    roles = set()
    for name in FUNCTIONS:
        configuration = lambda_.get_function_configuration(FunctionName=name)
        assert configuration["Environment"]["Variables"] == env
        assert configuration["Runtime"] == "python3.11" and configuration["Timeout"] == 30
        role = configuration["Role"].rsplit("/", 1)[1]
        roles.add(role)
        (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        assert document == policy
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    assert roles == ROLES
    events = aws.client("events")
    rule = events.describe_rule(Name=RULE)
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["Arn"].endswith(":function:vigor-leads-dev-retry_pending_leads")
    gateway = aws.client("apigateway")
    api = single_api(aws)
    resources = gateway.get_resources(restApiId=api, limit=500)["items"]
    routes = {r["path"]: set(r.get("resourceMethods", {})) for r in resources}
    assert {path: routes.get(path) for path in ROUTES} == ROUTES
    for resource in resources:
        for method in resource.get("resourceMethods", {}):
            integration = gateway.get_integration(
                restApiId=api, resourceId=resource["id"], httpMethod=method
            )
            assert integration["type"].upper() == "AWS_PROXY"
            assert ":function:vigor-leads-dev/invocations" in integration["uri"]
    assert [s["stageName"] for s in gateway.get_stages(restApiId=api)["item"]] == ["api"]
