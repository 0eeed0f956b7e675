"""Least privilege: each stage's IAM policy grants exactly what the function uses.

The expected permissions are derived, not copied: table and configuration-set names from
infra/resources.json with the stage substituted (and they must equal what
.chalice/config.json gives the function), the indexes from the template, the SES
identities from SENDER_EMAIL and SALES_EMAILS. A second test runs the app's real traffic
in moto, records every AWS call and checks each is allowed — and that every DynamoDB grant
is used by some call.

DynamoDB transactions: there is no IAM action for TransactWriteItems itself. Each element
is authorized as its item action — Put as dynamodb:PutItem, Update as dynamodb:UpdateItem,
Delete as dynamodb:DeleteItem, ConditionCheck as dynamodb:ConditionCheckItem — on the
element's table ("Using IAM with DynamoDB transactions", DynamoDB developer guide). The
function's transactions only Put and Update, so ConditionCheckItem/DeleteItem are not
granted. SES: sending raw MIME through the SES v2 SendEmail API is authorized as
ses:SendEmail and, in practice, as ses:SendRawEmail too (IAM denials for v2 raw sends name
ses:SendRawEmail), on the sending identity and the configuration set; while the account is
in the SES sandbox, the recipients' identities are checked as well — hence SALES_EMAILS.
"""

from __future__ import annotations

import base64
import fnmatch
import json
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from admin.stages import stage_environment

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text(encoding="utf-8"))
STAGES = sorted(CONFIG["stages"])
RESOURCES = TEMPLATE["Resources"]
REGION, ACCOUNT = "us-east-1", "123456789012"


def policy(stage: str) -> dict[str, Any]:
    name = CONFIG["stages"][stage]["iam_policy_file"]
    return dict(json.loads((ROOT / ".chalice" / name).read_text(encoding="utf-8")))


def grants(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs the policy allows."""
    pairs = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                pairs.add((action, resource))
    return pairs


def name_in_template(logical_id: str, stage: str) -> str:
    """The physical name the template gives a resource in this stage (Fn::Sub on Stage)."""
    properties = RESOURCES[logical_id]["Properties"]
    name = properties.get("TableName") or properties.get("Name") or properties["BucketName"]
    return str(name["Fn::Sub"]).replace("${Stage}", stage)


def indexes(logical_id: str) -> list[str]:
    return [
        index["IndexName"]
        for index in RESOURCES[logical_id]["Properties"]["GlobalSecondaryIndexes"]
    ]


def table_arn(table: str) -> str:
    return f"arn:aws:dynamodb:*:*:table/{table}"


def expected(stage: str) -> set[tuple[str, str]]:
    env = stage_environment(stage)
    content = table_arn(name_in_template("ContentTable", stage))
    leads = table_arn(name_in_template("LeadsTable", stage))
    pairs = {("dynamodb:GetItem", content), ("dynamodb:Query", content)}
    # the news feeds: every content index; of the leads indexes the retry queue, the
    # follow-ups (reminders) and by_month (the daily digest reads yesterday's leads)
    pairs |= {("dynamodb:Query", f"{content}/index/{i}") for i in indexes("ContentTable")}
    pairs |= {(f"dynamodb:{a}", leads) for a in ("GetItem", "PutItem", "UpdateItem")}
    pairs |= {
        ("dynamodb:Query", f"{leads}/index/{i}") for i in ("pending", "follow_up", "by_month")
    }
    sender = parseaddr(env["SENDER_EMAIL"])[1]
    identities = {sender, sender.rpartition("@")[2]}
    for name in ("SALES_EMAILS", "ESCALATION_EMAILS", "DIGEST_EMAILS"):  # whom it mails
        identities |= {a.strip() for a in env.get(name, "").split(",") if a.strip()}
    ses = [f"arn:aws:ses:*:*:identity/{identity}" for identity in identities]
    ses.append(
        f"arn:aws:ses:*:*:configuration-set/{name_in_template('MailConfigurationSet', stage)}"
    )
    pairs |= {(action, arn) for action in ("ses:SendEmail", "ses:SendRawEmail") for arn in ses}
    # the uploads bucket: presigned POSTs into uploads/, checks, copies into leads/, reads
    bucket = name_in_template("UploadsBucket", stage)
    for prefix in ("uploads", "leads"):
        objects = f"arn:aws:s3:::{bucket}/{prefix}/*"
        pairs |= {(action, objects) for action in ("s3:GetObject", "s3:PutObject")}
    link_key = env.get("LINK_KEY", "").removeprefix("ssm:")
    if link_key:  # the action links' key and, during a rotation, the previous one
        for name in (link_key, link_key + "-previous"):
            pairs.add(("ssm:GetParameters", f"arn:aws:ssm:*:*:parameter{name}"))
    logs = f"arn:aws:logs:*:*:log-group:/aws/lambda/{CONFIG['app_name']}-{stage}*"
    pairs |= {(f"logs:{a}", logs) for a in ("CreateLogGroup", "CreateLogStream", "PutLogEvents")}
    return pairs


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_its_own_policy_file_and_no_generated_policy(stage: str) -> None:
    assert CONFIG["autogen_policy"] is False
    assert CONFIG["stages"][stage]["iam_policy_file"] == f"policy-{stage}.json"
    assert policy(stage)["Version"] == "2012-10-17"


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_actions_and_no_wildcard_resources_except_logs(stage: str) -> None:
    for action, resource in grants(policy(stage)):
        assert "*" not in action and "?" not in action, action
        assert resource != "*"
        arn, partition, service, region, account, rest = resource.split(":", 5)
        assert (arn, partition) == ("arn", "aws")
        assert service == action.split(":")[0], (action, resource)
        if service == "s3":  # bucket names are global: no region, no account in the ARN
            assert (region, account) == ("", ""), resource
            bucket = name_in_template("UploadsBucket", stage)
            assert rest in (f"{bucket}/uploads/*", f"{bucket}/leads/*"), resource
            continue
        # Region and account are the deploying account's: the only place a * may stand.
        assert region == "*" and account == "*"
        if service == "logs":
            assert rest == f"log-group:/aws/lambda/vigor-leads-{stage}*", resource
        else:
            assert "*" not in rest and "?" not in rest, resource


@pytest.mark.parametrize("stage", STAGES)
def test_config_json_names_what_the_template_creates(stage: str) -> None:
    env = stage_environment(stage)
    assert env["CONTENT_TABLE"] == name_in_template("ContentTable", stage)
    assert env["LEADS_TABLE"] == name_in_template("LeadsTable", stage)
    assert env["SES_CONFIGURATION_SET"] == name_in_template("MailConfigurationSet", stage)
    assert env["UPLOADS_BUCKET"] == name_in_template("UploadsBucket", stage)


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_grants_exactly_what_the_function_needs(stage: str) -> None:
    granted = grants(policy(stage))
    assert granted - expected(stage) == set(), "granted but not needed"
    assert expected(stage) - granted == set(), "needed but not granted"


def test_admin_only_indexes_and_writes_are_not_granted() -> None:  # by_email, Scan, Delete
    for stage in STAGES:
        granted = grants(policy(stage))
        resources = {resource for _, resource in granted}
        assert not [r for r in resources if r.endswith("/index/by_email")]
        assert not [a for a, _ in granted if a in ("dynamodb:Scan", "dynamodb:DeleteItem")]
        content = table_arn(name_in_template("ContentTable", stage))
        assert {a for a, r in granted if r == content} == {"dynamodb:GetItem", "dynamodb:Query"}


# ---- the policy against the calls the app really makes -------------------------------


class Recorder:
    """Every API call with its parameters (botocore's before-parameter-build event)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        self.calls.append((service, operation, dict(params)))


ITEM_ACTION = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
ITEM_ACTION["ConditionCheck"] = "ConditionCheckItem"


def needed(service: str, operation: str, params: dict[str, Any]) -> list[set[tuple[str, str]]]:
    """What IAM checks for one call: a list of alternatives, each of which must be allowed
    by at least one of its (action, resource) pairs."""
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            checks = []
            for element in params["TransactItems"]:
                ((kind, body),) = element.items()
                checks.append({(f"dynamodb:{ITEM_ACTION[kind]}", arn + body["TableName"])})
            return checks
        resource = arn + params["TableName"]
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [{(f"dynamodb:{operation}", resource)}]
    if service == "s3":
        if operation == "GetObject":
            return [{("s3:GetObject", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")}]
        assert operation == "CopyObject", operation
        source = params["CopySource"]  # "bucket/key" by now (botocore's own handler)
        return [
            {("s3:GetObject", f"arn:aws:s3:::{unquote(source)}")},
            {("s3:PutObject", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")},
        ]
    assert (service, operation) == ("sesv2", "SendEmail"), (service, operation)
    sender = parseaddr(params["FromEmailAddress"])[1]
    actions = ["ses:SendEmail"] + (["ses:SendRawEmail"] if "Raw" in params["Content"] else [])
    checks = []
    for action in actions:
        ses = f"arn:aws:ses:{REGION}:{ACCOUNT}:"
        checks.append(
            {
                (action, f"{ses}identity/{sender}"),
                (action, f"{ses}identity/{sender.rpartition('@')[2]}"),
            }
        )
        if params.get("ConfigurationSetName"):
            checks.append({(action, f"{ses}configuration-set/{params['ConfigurationSetName']}")})
    return checks


def allowed(check: set[tuple[str, str]], granted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The grants that allow one of the check's alternatives."""
    return {
        (action, pattern)
        for action, pattern in granted
        for wanted, resource in check
        if action == wanted and fnmatch.fnmatchcase(resource, pattern)
    }


def test_every_call_the_app_makes_is_allowed_and_every_dynamodb_grant_is_used(
    aws: None, faults: Any, clock: Any
) -> None:
    import boto3
    from chalice.test import Client

    from admin.provision import deploy_stack, verify_sender
    from admin.seed import load_seed
    from chalicelib.aws import AwsClients
    from chalicelib.bootstrap import create_app
    from chalicelib.content.repository import ContentRepository
    from chalicelib.followup.sweeps import run_follow_ups
    from chalicelib.inquiries.retry import retry_pending
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings
    from tests.aws.test_attachments import upload_file
    from tests.conftest import SITE, post_json

    env = {**stage_environment("dev"), "ALLOWED_ORIGINS": SITE, "AUTOREPLY_ENABLED": "true"}
    deploy_stack(boto3.client("cloudformation", region_name=REGION), "dev")
    verify_sender(boto3.client("sesv2", region_name=REGION), env["SENDER_EMAIL"])
    load_seed(ContentRepository(boto3.client("dynamodb", region_name=REGION), env["CONTENT_TABLE"]))
    recorder = Recorder()
    session = boto3.session.Session(region_name=REGION)
    session.events.register("before-call", faults)
    session.events.register("before-parameter-build", recorder)
    runtime = Runtime(Settings.from_env(env), AwsClients(session), clock=clock)
    buyer = {"name": "Li Na", "email": "li.na@example.com", "message": "Quote 200 pcs, please."}
    with Client(create_app(runtime)) as api:
        for path in ("/contact", "/news/categories", "/news", "/news?category=car-care"):
            assert api.http.get(path).status_code == 200
        assert api.http.get("/news/how-to-adjust-the-car-mirror").status_code == 200
        assert post_json(api, buyer, **{"Idempotency-Key": "k-1"}).status_code == 201
        assert post_json(api, buyer, **{"Idempotency-Key": "k-1"}).status_code == 201
        assert post_json(api, {**buyer, "website": "http://spam.example"}).status_code == 201
        # a file: its presigned POST (authorized as the function's s3:PutObject), the
        # check, the copy under the lead; the retry below reads it back for the email
        calls_before = len(recorder.calls)
        upload = upload_file(api, "drawing.pdf", b"%PDF-1.7\n" + b"0" * 100)
        # botocore builds a presigned POST from the CreateBucket operation's model: it signs
        # it locally and sends nothing (the call counts show no call); not a call to allow
        signing = ("s3", "CreateBucket")
        assert [c[:2] for c in recorder.calls[calls_before:]] == [
            ("dynamodb", "UpdateItem"),
            signing,
        ]
        recorder.calls.pop()
        policy_document = json.loads(base64.b64decode(upload["upload"]["fields"]["policy"]))
        assert {"key": f"uploads/{upload['id']}"} in policy_document["conditions"]
        faults.fail("sesv2.SendEmail", "throttle")
        with_file = {**buyer, "email": "wang@example.com", "attachments": [upload["id"]]}
        assert post_json(api, with_file).status_code == 201
        faults.heal()
        clock.advance(3600)
        assert retry_pending(runtime.leads, runtime.inquiries, runtime.clock).sent == 1
        clock.advance(2 * 86400)  # a reminder is due, and the daily digest
        assert run_follow_ups(runtime)["reminded"] >= 1
    granted = grants(policy("dev"))
    used: set[tuple[str, str]] = set()
    operations = {(service, operation) for service, operation, _ in recorder.calls}
    assert ("dynamodb", "TransactWriteItems") in operations and ("sesv2", "SendEmail") in operations
    assert {("s3", "GetObject"), ("s3", "CopyObject")} <= operations
    # the presigned POST: what S3 checks when the browser uploads with it
    bucket = env["UPLOADS_BUCKET"]
    assert allowed({("s3:PutObject", f"arn:aws:s3:::{bucket}/uploads/x")}, granted)
    for service, operation, params in recorder.calls:
        for check in needed(service, operation, params):
            allowing = allowed(check, granted)
            assert allowing, f"{service}.{operation} needs one of {sorted(check)}"
            used |= allowing
    unused = {(a, r) for a, r in granted if a.startswith("dynamodb:")} - used
    assert unused == set(), "DynamoDB permissions no request or retry uses"
