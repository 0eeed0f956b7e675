"""Create or update a stage's data stack from infra/resources.json, verify the SES sender."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Any

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
