"""Create or update a stage's data stack from infra/resources.json, verify the SES sender.

The stack holds the content and leads tables and the SES configuration set (suppression
of bounced and complaining addresses, reputation metrics); its names all derive from the
stage, and .chalice/config.json must name the same (`provision` checks that).
"""

from __future__ import annotations

import sys
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TextIO

from chalicelib.aws import error_code
from chalicelib.settings import ssm_parameter

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"


def stack_name(stage: str) -> str:
    return f"vigor-leads-{stage}-data"


def table_names(stage: str) -> dict[str, str]:
    """The names the template derives from the stage (CONTENT_TABLE / LEADS_TABLE)."""
    return {
        "CONTENT_TABLE": f"vigor-leads-{stage}-content",
        "LEADS_TABLE": f"vigor-leads-{stage}-leads",
    }


def configuration_set_name(stage: str) -> str:
    """The SES configuration set the template creates (SES_CONFIGURATION_SET)."""
    return f"vigor-leads-{stage}"


ALERT_TOPIC_OUTPUT = "AlertTopicArn"
# stack output -> the setting in .chalice/config.json that must name the same thing
SETTING_OF_OUTPUT = {
    "ContentTableName": ("CONTENT_TABLE", "content_table"),
    "LeadsTableName": ("LEADS_TABLE", "leads_table"),
    "ConfigurationSetName": ("SES_CONFIGURATION_SET", "ses_configuration_set"),
    "UploadsBucketName": ("UPLOADS_BUCKET", "uploads_bucket"),
}

SANDBOX_HELP = """\
  The SES sandbox: a new AWS account (per region) may only send to verified addresses,
  at most 200 messages per 24 hours and 1 per second. Until production access is granted:
  verify every SALES_EMAILS address (or their domain), and expect acknowledgements to
  visitors to fail (their leads are still stored and sent to sales). Request production
  access in the SES console (Account dashboard > Request production access); see
  docs/deploy.md, step 2."""


def provision(runtime: Any, stage: str, cloudformation: Any, out: TextIO | None = None) -> int:
    """`manage.py provision`: deploy the stack, check config.json, verify the sender,
    report the SES account's sandbox status and quota. Safe to run again and again."""
    out = out or sys.stdout
    settings = runtime.settings
    print(f"deploying stack {stack_name(stage)} from infra/resources.json ...", file=out)
    out.flush()
    outputs = deploy_stack(
        cloudformation,
        stage,
        allowed_origins=settings.allowed_origins,
        attachment_retention_days=settings.lead_retention_days + 1,
    )
    for key, value in sorted(outputs.items()):
        print(f"  {key}: {value}", file=out)
    problems = 0
    for output, (setting, attribute) in SETTING_OF_OUTPUT.items():
        configured = getattr(settings, attribute)
        if output in outputs and configured != outputs[output]:
            problems += 1
            print(
                f"warning: .chalice/config.json stage {stage} has {setting}={configured!r},"
                f" but the stack created {outputs[output]!r}: the function would not use it",
                file=sys.stderr,
            )
    sesv2 = runtime.clients.sesv2()
    status = verify_sender(sesv2, settings.sender_email)
    print(f"SES sender {settings.sender_email}: {status}", file=out)
    if status != "SUCCESS":
        print(
            "  SES sent a verification email to that address: open it and click the link"
            " (or verify the whole domain with DKIM in the SES console).",
            file=out,
        )
    link_key = ssm_parameter(settings.link_key)
    if link_key is not None:
        from admin.keys import ensure_link_key

        done = ensure_link_key(runtime.clients.client("ssm"), link_key)
        print(f"link key {link_key}: {done}", file=out)
    account = ses_account(sesv2)
    if account is None:
        print("SES account status: unknown (GetAccount not answered)", file=out)
        print(SANDBOX_HELP, file=out)
    else:
        quota = account.get("SendQuota") or {}
        limits = (
            f"{_number(quota.get('Max24HourSend'))} messages per 24 hours,"
            f" {_number(quota.get('MaxSendRate'))} per second"
        )
        if account.get("ProductionAccessEnabled"):
            print(f"SES account: production access, {limits}", file=out)
        else:
            print(f"SES account: IN THE SANDBOX, {limits}", file=out)
            print(SANDBOX_HELP, file=out)
            for address in _recipients(settings):
                print(f"  recipient {address}: {verify_recipient(sesv2, address)}", file=out)
    topic = outputs.get(ALERT_TOPIC_OUTPUT)
    if topic is not None:
        subscribe_alerts(runtime.clients.client("sns"), topic, settings.alert_emails, out)
    return 1 if problems else 0


def _recipients(settings: Any) -> list[str]:
    """Everyone the function mails on its own: SALES_EMAILS, the routing rules' `to`, the
    escalations' and the digest's recipients."""
    recipients = list(settings.sales_emails)
    for group in (*(rule.to for rule in settings.routing_rules), settings.escalation_emails):
        recipients += [address for address in group if address not in recipients]
    recipients += [a for a in settings.digest_emails if a not in recipients]
    return recipients


def verify_recipient(sesv2: Any, address: str) -> str:
    """In the sandbox SES delivers only to verified identities: ask SES to verify an
    unverified recipient (SES mails it a link) and say so."""
    status = identity_status(sesv2, address)
    if status.startswith("verified"):
        return status
    try:
        sesv2.create_email_identity(EmailIdentity=address)
    except Exception as exc:
        if error_code(exc) != "AlreadyExistsException":
            raise
    status = identity_status(sesv2, address)
    if status.startswith("verified"):
        return status
    return (
        "NOT verified yet: SES has mailed it a verification link; until someone clicks it,"
        " SES refuses to deliver to it while in the sandbox"
    )


def alert_topic_arn(cloudformation: Any, stage: str) -> str | None:
    """The alarms' SNS topic (an output of the data stack), None when there is no stack."""
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name(stage))["Stacks"][0]
    except Exception as exc:
        if error_code(exc) != "ValidationError":
            raise
        return None
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == ALERT_TOPIC_OUTPUT:
            return str(output["OutputValue"])
    return None


def subscriptions(sns: Any, topic_arn: str) -> dict[str, str]:
    """email address (lower case) -> "confirmed" or "pending", for the topic's email
    subscriptions."""
    found: dict[str, str] = {}
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for subscription in page["Subscriptions"]:
            if subscription.get("Protocol") != "email":
                continue
            pending = subscription.get("SubscriptionArn") == "PendingConfirmation"
            address = str(subscription.get("Endpoint", "")).lower()
            if found.get(address) != "confirmed":
                found[address] = "pending" if pending else "confirmed"
    return found


def subscribe_alerts(sns: Any, topic_arn: str, addresses: tuple[str, ...], out: TextIO) -> None:
    """Subscribe every ALERT_EMAILS address to the alarms' topic (once: running provision
    again changes nothing), and say which still have to confirm."""
    if not addresses:
        print(
            "alarms: ALERT_EMAILS is not set, nobody gets them (set it in config.json,"
            " provision again)",
            file=out,
        )
        return
    known = subscriptions(sns, topic_arn)
    for address in addresses:
        state = known.get(address.lower())
        if state is None:
            sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
            state = subscriptions(sns, topic_arn).get(address.lower(), "pending")
        if state == "confirmed":
            print(f"alarms: {address} subscribed", file=out)
        else:
            print(
                f"alarms: {address} must confirm: AWS sent it an email, click"
                " 'Confirm subscription' (no alarm reaches it before that)",
                file=out,
            )
    wanted = {address.lower() for address in addresses}
    for address in sorted(set(known) - wanted):
        print(
            f"alarms: {address} is subscribed but not in ALERT_EMAILS; remove it with"
            f" aws sns list-subscriptions-by-topic --topic-arn {topic_arn} and"
            " aws sns unsubscribe --subscription-arn ARN",
            file=out,
        )


def ses_account(sesv2: Any) -> dict[str, Any] | None:
    """SES GetAccount (sandbox or production, quota), or None when it cannot be read."""
    try:
        account: dict[str, Any] = sesv2.get_account()
    except Exception:  # no permission, or an emulator without GetAccount
        return None
    return account


def identity_status(sesv2: Any, address: str) -> str:
    """Whether SES may deliver to this address in the sandbox: it or its domain verified."""
    for identity in (address, address.rpartition("@")[2]):
        try:
            found = sesv2.get_email_identity(EmailIdentity=identity)
        except Exception as exc:
            if error_code(exc) == "NotFoundException":
                continue
            return "unknown"
        if found.get("VerificationStatus") == "SUCCESS" or found.get("VerifiedForSendingStatus"):
            return f"verified ({identity})"
    return "NOT verified: SES will refuse to deliver to it while in the sandbox"


def deploy_stack(
    cloudformation: Any,
    stage: str,
    template: Path = TEMPLATE,
    allowed_origins: tuple[str, ...] = (),
    attachment_retention_days: int | None = None,
) -> dict[str, str]:
    """Create the stack, or update it when it exists; waits; returns its outputs. The
    stage's ALLOWED_ORIGINS become the uploads bucket's CORS origins (the template's
    default when none are given), LEAD_RETENTION_DAYS + 1 its attached files' life."""
    name = stack_name(stage)
    parameters = [{"ParameterKey": "Stage", "ParameterValue": stage}]
    if allowed_origins:
        origins = ",".join(allowed_origins)
        parameters.append({"ParameterKey": "AllowedOrigins", "ParameterValue": origins})
    if attachment_retention_days is not None:
        days = str(attachment_retention_days)
        parameters.append({"ParameterKey": "AttachmentRetentionDays", "ParameterValue": days})
    args = {
        "StackName": name,
        "TemplateBody": template.read_text(encoding="utf-8"),
        "Parameters": parameters,
    }
    try:
        cloudformation.describe_stacks(StackName=name)
        exists = True
    except Exception as exc:
        if error_code(exc) != "ValidationError":
            raise
        exists = False
    if not exists:
        cloudformation.create_stack(**args)
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
        )
    else:
        try:
            cloudformation.update_stack(**args)
            cloudformation.get_waiter("stack_update_complete").wait(
                StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
            )
        except Exception as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def verify_sender(sesv2: Any, sender: str) -> str:
    """Ask SES to verify the sender address; returns its verification status."""
    address = parseaddr(sender)[1]
    try:
        identity = sesv2.get_email_identity(EmailIdentity=address)
    except Exception as exc:
        if error_code(exc) != "NotFoundException":
            raise
        sesv2.create_email_identity(EmailIdentity=address)
        identity = sesv2.get_email_identity(EmailIdentity=address)
    return str(identity.get("VerificationStatus") or "PENDING")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "?"
