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


# stack output -> the setting in .chalice/config.json that must name the same thing
SETTING_OF_OUTPUT = {
    "ContentTableName": ("CONTENT_TABLE", "content_table"),
    "LeadsTableName": ("LEADS_TABLE", "leads_table"),
    "ConfigurationSetName": ("SES_CONFIGURATION_SET", "ses_configuration_set"),
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
    outputs = deploy_stack(cloudformation, stage)
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
            for address in settings.sales_emails:
                print(f"  recipient {address}: {identity_status(sesv2, address)}", file=out)
    return 1 if problems else 0


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


def deploy_stack(cloudformation: Any, stage: str, template: Path = TEMPLATE) -> dict[str, str]:
    """Create the stack, or update it when it exists; waits; returns its outputs."""
    name = stack_name(stage)
    args = {
        "StackName": name,
        "TemplateBody": template.read_text(encoding="utf-8"),
        "Parameters": [{"ParameterKey": "Stage", "ParameterValue": stage}],
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
