"""The stages: their settings as the deployed function sees them (.chalice/config.json),
their IAM policy files, a new stage made from an existing one, and `local`, the service
`make run` is running on this machine.

A stage's names all derive from it: the tables and the SES configuration set from
infra/resources.json, the functions and log groups from Chalice (`vigor-leads-<stage>`).
"""

from __future__ import annotations

import json
import os
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"
TEMPLATE = ROOT / "infra" / "resources.json"
# Written by `make run` (devtools/local.py) while it runs: how to reach its emulator.
LOCAL_STAGE_FILE = ROOT / "build" / "local-stage.json"
LOCAL = "local"
# The settings whose values name the stage's own resources (the template derives them).
NAMED_BY_STAGE = {
    "CONTENT_TABLE": "ContentTable",
    "LEADS_TABLE": "LeadsTable",
    "SES_CONFIGURATION_SET": "MailConfigurationSet",
    "UPLOADS_BUCKET": "UploadsBucket",
}


class UnknownStage(ValueError):
    pass


class StageError(ValueError):
    """A stage that cannot be added, or a local stage that is not running."""


def config_file(config_path: Path | None = None) -> Path:
    """config.json: the one given, else the repository's (read at call time, so a test
    can point every command at a copy)."""
    return config_path or CONFIG


def template_file(template_path: Path | None = None) -> Path:
    return template_path or TEMPLATE


def load_config(config_path: Path | None = None) -> dict[str, Any]:
    return dict(json.loads(config_file(config_path).read_text(encoding="utf-8")))


def known_stages(config_path: Path | None = None) -> list[str]:
    return sorted(load_config(config_path).get("stages", {}))


def stage_config(stage: str, config_path: Path | None = None) -> dict[str, Any]:
    """The stage's block of config.json; UnknownStage names the known ones."""
    stages = load_config(config_path).get("stages", {})
    if stage not in stages:
        raise UnknownStage(
            f"unknown stage {stage!r}; .chalice/config.json has: {', '.join(sorted(stages))}"
            f" (`python manage.py stage add {stage}` creates it)"
        )
    return dict(stages[stage])


def stage_environment(stage: str, config_path: Path | None = None) -> dict[str, str]:
    config = load_config(config_path)
    stage_config(stage, config_path)  # UnknownStage
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def policy_path(stage: str, config_path: Path | None = None) -> Path | None:
    """The stage's IAM policy file (None when config.json names none)."""
    name = stage_config(stage, config_path).get("iam_policy_file")
    return None if not name else config_file(config_path).parent / str(name)


def template_names(stage: str, template_path: Path | None = None) -> dict[str, str]:
    """setting -> the name infra/resources.json gives that resource in this stage."""
    resources = json.loads(template_file(template_path).read_text(encoding="utf-8"))["Resources"]
    names = {}
    for setting, logical_id in NAMED_BY_STAGE.items():
        properties = resources[logical_id]["Properties"]
        name = properties.get("TableName") or properties.get("Name") or properties["BucketName"]
        names[setting] = str(name["Fn::Sub"]).replace("${Stage}", stage)
    return names


def template_indexes(logical_id: str, template_path: Path | None = None) -> list[str]:
    resources = json.loads(template_file(template_path).read_text(encoding="utf-8"))["Resources"]
    properties = resources[logical_id]["Properties"]
    return [index["IndexName"] for index in properties.get("GlobalSecondaryIndexes", [])]


def stage_pattern(template_path: Path | None = None) -> str:
    template = json.loads(template_file(template_path).read_text(encoding="utf-8"))
    return str(template["Parameters"]["Stage"]["AllowedPattern"])


# ---- the function's IAM policy ------------------------------------------------------


def expected_policy(
    stage: str,
    env: dict[str, str],
    app_name: str = "vigor-leads",
    template_path: Path | None = None,
) -> dict[str, Any]:
    """The least-privilege policy of the stage's functions (docs/deploy.md, section 8),
    derived from the template's names and indexes and the stage's SES settings."""
    names = template_names(stage, template_path)
    content = f"arn:aws:dynamodb:*:*:table/{names['CONTENT_TABLE']}"
    leads = f"arn:aws:dynamodb:*:*:table/{names['LEADS_TABLE']}"
    sender = parseaddr(env.get("SENDER_EMAIL", ""))[1]
    identities = [sender, sender.rpartition("@")[2]]
    recipients = ("SALES_EMAILS", "ESCALATION_EMAILS", "DIGEST_EMAILS")  # the sandbox checks them
    for address in [a for name in recipients for a in _addresses(env.get(name, ""))]:
        if address not in identities:
            identities.append(address)
    ses = [f"arn:aws:ses:*:*:identity/{identity}" for identity in identities if identity]
    ses.append(f"arn:aws:ses:*:*:configuration-set/{names['SES_CONFIGURATION_SET']}")

    def allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}

    return {
        "Version": "2012-10-17",
        "Statement": [
            allow(
                "ReadContactCategoriesArticles", ["dynamodb:GetItem", "dynamodb:Query"], [content]
            ),
            allow(
                "ReadNewsFeeds",
                ["dynamodb:Query"],
                [f"{content}/index/{i}" for i in template_indexes("ContentTable", template_path)],
            ),
            allow(
                "TakeAndTrackLeads",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [leads],
            ),
            allow("FindLeadsDueForRetry", ["dynamodb:Query"], [f"{leads}/index/pending"]),
            # reminders (follow_up), the daily digest's yesterday (by_month)
            allow(
                "FollowUpLeads",
                ["dynamodb:Query"],
                [f"{leads}/index/follow_up", f"{leads}/index/by_month"],
            ),
            allow("SendMailAsTheSender", ["ses:SendEmail", "ses:SendRawEmail"], ses),
            *_uploads_statements(env),
            *_secret_statements(env),
            allow(
                "WriteOwnLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [f"arn:aws:logs:*:*:log-group:/aws/lambda/{app_name}-{stage}*"],
            ),
        ],
    }


def _uploads_statements(env: dict[str, str]) -> list[dict[str, Any]]:
    """The uploads bucket (chalicelib/attachments/bucket.py), when UPLOADS_BUCKET is set:
    browsers PUT into uploads/ through the function's presigned POSTs (authorized as the
    function's s3:PutObject); the function reads uploads (checks), copies them to leads/
    (s3:GetObject on the source, s3:PutObject on the target) and reads leads/ (a retry's
    email, the download links' presigned GETs). Deleting is the admin's (leads erase)."""
    bucket = env.get("UPLOADS_BUCKET", "").strip()
    if not bucket:
        return []
    objects = [f"arn:aws:s3:::{bucket}/uploads/*", f"arn:aws:s3:::{bucket}/leads/*"]
    return [
        {
            "Sid": "ReceiveCheckAndAttachUploads",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": objects,
        }
    ]


def ssm_parameters(env: dict[str, str]) -> dict[str, str]:
    """setting -> the SSM parameter it names (secrets given as ssm:/path/name)."""
    from chalicelib.settings import SECRET_SETTINGS, ssm_parameter

    found = {}
    for name in SECRET_SETTINGS:
        parameter = ssm_parameter(env.get(name, "").strip() or None)
        if parameter is not None:
            found[name] = parameter
    return found


def _secret_statements(env: dict[str, str]) -> list[dict[str, Any]]:
    """Read the SSM parameters the settings name (SecureString with the account's default
    key, aws/ssm, whose key policy lets SSM decrypt for the account: no KMS grant)."""
    from chalicelib.signing import PREVIOUS_SUFFIX

    def arn(parameter: str) -> str:
        return f"arn:aws:ssm:*:*:parameter/{parameter.lstrip('/')}"

    parameters = ssm_parameters(env)
    link_key = parameters.pop("LINK_KEY", None)
    statements = []
    if parameters:
        statements.append(
            {
                "Sid": "ReadSecretParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": sorted(arn(p) for p in parameters.values()),
            }
        )
    if link_key is not None:  # the current and the previous key, in one GetParameters
        statements.append(
            {
                "Sid": "ReadLinkKeys",
                "Effect": "Allow",
                "Action": ["ssm:GetParameters"],
                "Resource": [arn(link_key), arn(link_key + PREVIOUS_SUFFIX)],
            }
        )
    return statements


def grants(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs a policy document allows."""
    pairs = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions, resources = statement.get("Action", []), statement.get("Resource", [])
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                pairs.add((action, resource))
    return pairs


def policy_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


# ---- a new stage --------------------------------------------------------------------


def add_stage(
    name: str, source: str, config_path: Path | None = None, template_path: Path | None = None
) -> list[Path]:
    """Write stage `name` into config.json as a copy of `source` with its own names, and its
    policy file; returns the files written. StageError when the name cannot be used."""
    config_path = config_file(config_path)
    pattern = stage_pattern(template_path)
    if name == LOCAL:
        raise StageError("'local' is the stage of `make run` on this machine; choose another name")
    if not re.fullmatch(pattern, name):
        raise StageError(
            f"a stage name is lowercase letters, digits and '-', starting with a letter,"
            f" at most 21 characters (the template's {pattern}); got {name!r}"
        )
    config = load_config(config_path)
    stages = config.setdefault("stages", {})
    if name in stages:
        raise StageError(f"stage {name!r} exists already in {config_path.name}")
    block = json.loads(json.dumps(stage_config(source, config_path)))
    env = block.setdefault("environment_variables", {})
    env.update(template_names(name, template_path))
    block["iam_policy_file"] = f"policy-{name}.json"
    stages[name] = block
    policy_file = config_path.parent / block["iam_policy_file"]
    if policy_file.exists():
        raise StageError(f"{policy_file} exists already: remove it or choose another name")
    full_env = {**config.get("environment_variables", {}), **env}
    document = expected_policy(name, full_env, str(config.get("app_name")), template_path)
    policy_file.write_text(policy_text(document), encoding="utf-8")
    _write_atomically(config_path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return [config_path, policy_file]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _addresses(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# ---- local: the service `make run` is running ---------------------------------------


def local_stage(path: Path | None = None) -> dict[str, Any]:
    """What `make run` published about itself: endpoint_url, region, api_url, env.
    StageError when no `make run` is running on this machine."""
    path = path or LOCAL_STAGE_FILE
    try:
        published = dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        raise StageError(
            "stage local is the service `make run` runs on this machine, and none is running:"
            " start `make run` in another terminal first"
        ) from None
    if not _alive(int(published.get("pid", 0))):
        raise StageError(
            "stage local: the `make run` that wrote build/local-stage.json has stopped:"
            " start `make run` again"
        )
    return published


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
