"""`manage.py check --stage S`: everything a live stage needs, one ✓/✗ line each, the fix
beside every ✗; exit 1 on any ✗. Run it before and after every deploy.

Checked: config.json (the stage's settings complete and valid on their own, none
overridden from the admin's shell, the names the template gives the stage), the IAM
policy file (present, granting exactly what the stage needs), the tables (indexes, TTL,
point-in-time recovery), SES (the sender verified; in the sandbox every recipient,
each unverified one named; the configuration set), the alarms' topic and its confirmed
subscriptions (ALERT_EMAILS), and the deployed app (functions with the settings of
config.json, the schedule, and Chalice's record of them). A stage not deployed yet is
not an error (`–`): check runs before the first deploy too.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TextIO

from chalicelib.aws import error_code

OK, BAD, NOTE = "✓", "✗", "–"
APP_NAME = "vigor-leads"
SWEEP = "retry_pending_leads"


@dataclass(frozen=True)
class Line:
    mark: str
    text: str
    fix: str = ""


def run_check(stage: str, clients: Any, out: TextIO | None = None) -> int:
    """Print the lines; 0 when nothing is ✗, else 1."""
    out = out or sys.stdout
    lines = check(stage, clients)
    for line in lines:
        print(f"{line.mark} {line.text}", file=out)
        if line.fix:
            print(f"    fix: {line.fix}", file=out)
    problems = sum(line.mark == BAD for line in lines)
    if problems:
        print(
            f"{problems} problem{'s' if problems != 1 else ''}: stage {stage} is not ready",
            file=out,
        )
        return 1
    print(f"stage {stage}: everything checked is in place", file=out)
    return 0


def check(stage: str, clients: Any) -> list[Line]:
    from admin.stages import LOCAL

    if stage == LOCAL:
        return _check_local(clients)
    lines, settings = _check_config(stage)
    if settings is None:
        return lines
    lines += _check_policy(stage)
    lines += _check_tables(clients, settings, stage)
    lines += _check_ses(clients, settings, stage)
    lines += _check_ssm(clients, stage)
    if settings.link_key and not settings.public_api_url:
        lines.append(
            Line(
                NOTE,
                "sales emails go without action and download links: PUBLIC_API_URL is not set",
                "set it in .chalice/config.json to the URL `chalice deploy` printed, deploy again",
            )
        )
    lines += _check_alerts(clients, settings, stage)
    lines += _check_app(clients, stage)
    return lines


# ---- config.json and the policy file ------------------------------------------------


def _check_config(stage: str) -> tuple[list[Line], Any]:
    from admin.command import settings_overrides
    from admin.stages import UnknownStage, stage_environment, template_names
    from chalicelib.settings import Settings, SettingsError

    where = f".chalice/config.json (stages.{stage}.environment_variables)"
    try:
        env = stage_environment(stage)
    except UnknownStage as exc:
        return [Line(BAD, str(exc), f"python manage.py stage add {stage}")], None
    lines = []
    try:
        settings = Settings.from_env(env)
        lines.append(Line(OK, f"config.json: stage {stage}, every setting present and valid"))
    except SettingsError as exc:
        lines.append(Line(BAD, f"config.json: {exc}", f"set it in {where}"))
        settings = None
    for name, value in sorted(settings_overrides().items()):
        state = "differs from" if env.get(name, "") != value else "repeats"
        lines.append(
            Line(
                BAD,
                f"{name} is set in your shell and {state} config.json: manage.py would use it,"
                " the deployed function never sees it",
                f"unset {name} (and put the value in {where} if it is the right one)",
            )
        )
    for name, expected in template_names(stage).items():
        if env.get(name) != expected:
            lines.append(
                Line(
                    BAD,
                    f"config.json: {name}={env.get(name)!r}, but the data stack of stage"
                    f" {stage} names it {expected!r}",
                    f'set "{name}": "{expected}" in {where}',
                )
            )
    if settings is not None and not settings.alert_emails:
        lines.append(
            Line(
                BAD,
                "ALERT_EMAILS is not set: the alarms would wake nobody",
                f"set ALERT_EMAILS (who gets the alarms) in {where}, then provision",
            )
        )
    return lines, settings


def _check_policy(stage: str) -> list[Line]:
    from admin.stages import expected_policy, grants, load_config, policy_path, stage_environment

    path = policy_path(stage)
    fix = f"python manage.py stage policy {stage} --write"
    if path is None:
        return [Line(BAD, f"config.json names no iam_policy_file for stage {stage}", fix)]
    if not path.is_file():
        return [Line(BAD, f"the IAM policy file .chalice/{path.name} is missing", fix)]
    try:
        granted = grants(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        return [Line(BAD, f".chalice/{path.name} is not JSON ({exc})", fix)]
    app_name = str(load_config().get("app_name", APP_NAME))
    needed = grants(expected_policy(stage, stage_environment(stage), app_name))
    missing, extra = needed - granted, granted - needed
    if not missing and not extra:
        return [Line(OK, f".chalice/{path.name}: exactly what stage {stage} needs")]
    parts = []
    if missing:
        parts.append("lacks " + ", ".join(f"{a} on {r}" for a, r in sorted(missing)))
    if extra:
        parts.append("grants beyond need " + ", ".join(f"{a} on {r}" for a, r in sorted(extra)))
    return [Line(BAD, f".chalice/{path.name} {'; '.join(parts)}", fix + ", then chalice deploy")]


# ---- the data stack -----------------------------------------------------------------


def _check_tables(clients: Any, settings: Any, stage: str) -> list[Line]:
    from admin.stages import template_indexes

    dynamodb = clients.client("dynamodb")
    provision = f"python manage.py provision --stage {stage}"
    lines = []
    for table, logical_id, ttl in (
        (settings.content_table, "ContentTable", None),
        (settings.leads_table, "LeadsTable", "expires_at"),
    ):
        try:
            described = dynamodb.describe_table(TableName=table)["Table"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            lines.append(Line(BAD, f"table {table} does not exist", provision))
            continue
        problems = []
        present = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        lacking = [i for i in template_indexes(logical_id) if i not in present]
        if lacking:
            problems.append(
                f"lacks the index{'es' if len(lacking) > 1 else ''} {', '.join(lacking)}"
            )
        backups = dynamodb.describe_continuous_backups(TableName=table)
        recovery = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
            problems.append("point-in-time recovery is off")
        if ttl is not None:
            described_ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if described_ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or (
                described_ttl.get("AttributeName") != ttl
            ):
                problems.append(f"TTL on {ttl} is off")
        if problems:
            lines.append(Line(BAD, f"table {table}: {'; '.join(problems)}", provision))
        else:
            extra = f", TTL on {ttl}" if ttl else ""
            lines.append(
                Line(
                    OK,
                    f"table {table}: indexes {', '.join(sorted(present))}, PITR on{extra}",
                )
            )
    return lines


def _check_ses(clients: Any, settings: Any, stage: str) -> list[Line]:
    from admin.provision import identity_status, ses_account

    sesv2 = clients.client("sesv2")
    lines = []
    sender = parseaddr(settings.sender_email)[1]
    status = identity_status(sesv2, sender)
    if status.startswith("verified"):
        lines.append(Line(OK, f"SES sender {sender}: {status}"))
    else:
        lines.append(
            Line(
                BAD,
                f"SES sender {sender}: not verified, SES refuses every email from it",
                f"python manage.py provision --stage {stage} (SES mails {sender} a link to"
                " click), or verify the domain with DKIM in the SES console",
            )
        )
    account = ses_account(sesv2)
    if account is None:
        lines.append(Line(NOTE, "SES account: its sandbox state could not be read (GetAccount)"))
    elif account.get("ProductionAccessEnabled"):
        lines.append(Line(OK, "SES account: production access"))
    else:
        lines.append(Line(NOTE, "SES account: in the sandbox, so every recipient must be verified"))
        recipients = list(settings.sales_emails)
        for rule in settings.routing_rules:
            recipients += [a for a in rule.to if a not in recipients]
        for address in recipients:
            status = identity_status(sesv2, address)
            if status.startswith("verified"):
                lines.append(Line(OK, f"SES recipient {address}: {status}"))
            else:
                lines.append(
                    Line(
                        BAD,
                        f"SES recipient {address}: not verified; in the sandbox SES refuses to"
                        " deliver to it",
                        f"python manage.py provision --stage {stage} asks SES to verify it:"
                        f" click the link SES mails to {address}",
                    )
                )
    if settings.ses_configuration_set:
        try:
            sesv2.get_configuration_set(ConfigurationSetName=settings.ses_configuration_set)
            lines.append(Line(OK, f"SES configuration set {settings.ses_configuration_set}"))
        except Exception as exc:
            if error_code(exc) != "NotFoundException":
                raise
            lines.append(
                Line(
                    BAD,
                    f"SES configuration set {settings.ses_configuration_set} does not exist:"
                    " every send would fail",
                    f"python manage.py provision --stage {stage}",
                )
            )
    return lines


def _check_ssm(clients: Any, stage: str) -> list[Line]:
    """Each SSM parameter a setting names (ssm:/path) exists, as a SecureString."""
    from admin.stages import ssm_parameters, stage_environment

    lines = []
    for setting, parameter in ssm_parameters(stage_environment(stage)).items():
        put = (
            f"python manage.py provision --stage {stage}"  # it creates the link key
            if setting == "LINK_KEY"
            else f"aws ssm put-parameter --name {parameter} --type SecureString --overwrite"
            " --value 'THE-SECRET'"
        )
        try:
            found = clients.client("ssm").get_parameter(Name=parameter)["Parameter"]
        except Exception as exc:
            if error_code(exc) != "ParameterNotFound":
                raise
            lines.append(Line(BAD, f"SSM parameter {parameter} ({setting}) does not exist", put))
            continue
        if found.get("Type") != "SecureString":
            lines.append(
                Line(
                    BAD,
                    f"SSM parameter {parameter} ({setting}) is a plain {found.get('Type')}",
                    put,
                )
            )
        else:
            lines.append(Line(OK, f"SSM parameter {parameter} ({setting}): a SecureString"))
    return lines


def _check_alerts(clients: Any, settings: Any, stage: str) -> list[Line]:
    from admin.provision import alert_topic_arn, subscriptions

    provision = f"python manage.py provision --stage {stage}"
    arn = alert_topic_arn(clients.client("cloudformation"), stage)
    if arn is None:
        return [Line(BAD, "the alarms' SNS topic does not exist", provision)]
    lines = []
    subscribed = subscriptions(clients.client("sns"), arn)
    for address in settings.alert_emails:
        state = subscribed.get(address.lower())
        if state is None:
            lines.append(Line(BAD, f"alarms: {address} is not subscribed", provision))
        elif state == "pending":
            lines.append(
                Line(
                    BAD,
                    f"alarms: {address} has not confirmed the subscription",
                    f"click 'Confirm subscription' in the email AWS sent to {address}"
                    f" (it expires after 3 days; {provision} sends a new one)",
                )
            )
        else:
            lines.append(Line(OK, f"alarms: {address} subscribed and confirmed"))
    return lines


# ---- the deployed app ---------------------------------------------------------------


def _check_app(clients: Any, stage: str) -> list[Line]:
    from admin.stages import config_file, stage_environment

    functions = {"API": f"{APP_NAME}-{stage}", "sweep": f"{APP_NAME}-{stage}-{SWEEP}"}
    lambda_ = clients.client("lambda")
    found: dict[str, dict[str, Any]] = {}
    for role, name in functions.items():
        try:
            found[role] = lambda_.get_function_configuration(FunctionName=name)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
    record = _deployed_record(config_file().parent / "deployed" / f"{stage}.json")
    deploy = f"chalice deploy --stage {stage}"
    if not found:
        if record:
            return [
                Line(
                    BAD,
                    f".chalice/deployed/{stage}.json records a deployment, but its functions"
                    " are gone",
                    deploy,
                )
            ]
        return [Line(NOTE, f"app: not deployed yet ({deploy})")]
    lines = []
    if not record:
        lines.append(
            Line(
                BAD,
                f"app: {', '.join(f['FunctionName'] for f in found.values())} exist, but Chalice"
                f" has no record of them (.chalice/deployed/{stage}.json): a deploy failed half"
                " way, and `chalice delete` would leave them behind",
                f"{deploy} again: it takes them over by name and records them"
                " (docs/deploy.md, 'A deploy that failed half way')",
            )
        )
    expected = stage_environment(stage)
    for role, name in functions.items():
        configuration = found.get(role)
        if configuration is None:
            lines.append(Line(BAD, f"app: the {role} function {name} is missing", deploy))
            continue
        deployed = configuration.get("Environment", {}).get("Variables", {})
        if deployed != expected:
            changed = sorted(
                key
                for key in set(deployed) | set(expected)
                if deployed.get(key) != expected.get(key)
            )
            lines.append(
                Line(
                    BAD,
                    f"app: {name} runs with other settings than config.json ({', '.join(changed)})",
                    deploy,
                )
            )
        else:
            lines.append(Line(OK, f"app: {name} deployed with config.json's settings"))
    lines += _check_schedule(clients, stage, deploy)
    return lines


def _check_schedule(clients: Any, stage: str, deploy: str) -> list[Line]:
    events = clients.client("events")
    rule = f"{APP_NAME}-{stage}-{SWEEP}-event"
    try:
        described = events.describe_rule(Name=rule)
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return [Line(BAD, f"app: the retry schedule {rule} is missing: pending leads wait", deploy)]
    if described.get("State") != "ENABLED":
        return [Line(BAD, f"app: the retry schedule {rule} is disabled", deploy)]
    return [Line(OK, f"app: retry schedule {described.get('ScheduleExpression')}")]


def _deployed_record(path: Path) -> list[Any]:
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("resources") or [])
    except (OSError, ValueError):
        return []


# ---- local ----------------------------------------------------------------------------


def _check_local(clients: Any) -> list[Line]:
    """`make run`'s stage: its tables and SES sender (no policy, alarms or deployed app)."""
    from chalicelib.settings import Settings

    settings = Settings.from_env(_local_env())
    lines = [Line(OK, "stage local: the `make run` service on this machine")]
    lines += _check_tables(clients, settings, "local")
    lines += _check_ses(clients, settings, "local")[:1]
    lines.append(Line(NOTE, "local: no IAM policy, alarms or deployed functions to check"))
    return lines


def _local_env() -> dict[str, str]:
    from admin.stages import local_stage

    return {str(k): str(v) for k, v in dict(local_stage()["env"]).items()}
