"""The two emails a lead causes: the notification to sales and the visitor's acknowledgement."""

from __future__ import annotations

from email.headerregistry import Address
from typing import Any

from chalicelib.mail import Email, Templates
from chalicelib.settings import RoutingRule, Settings

DETAIL_FIELDS = (
    ("Company", "company"),
    ("Country", "country"),
    ("Phone", "phone"),
    ("Product", "product"),
    ("Quantity", "quantity"),
    ("Language", "locale"),
)
# Every field a template may show; absent ones render as empty, never as an error.
TEMPLATE_FIELDS = (
    "id",
    "received_at",
    "name",
    "email",
    "message",
    "page",
    *dict(DETAIL_FIELDS).values(),
)
ACK_SUBJECTS = {
    "en": "We received your inquiry ({reference})",
    "zh": "我们已收到您的询价（{reference}）",
}
MAX_SUBJECT = 180


def recipients(
    lead: dict[str, Any], default: tuple[str, ...], rules: tuple[RoutingRule, ...]
) -> tuple[str, ...]:
    """Routing rules pick recipients by country or product; no match -> the default list."""
    chosen: list[str] = []
    for rule in rules:
        value = str(lead.get(rule.field) or "")
        if rule.match.lower() in value.lower():
            chosen.extend(address for address in rule.to if address not in chosen)
    return tuple(chosen) or default


def sales_subject(lead: dict[str, Any]) -> str:
    """Who and what at a glance: name, company, country, product."""
    who = ", ".join(str(lead[k]) for k in ("name", "company", "country") if lead.get(k))
    subject = f"Inquiry from {who}"
    if lead.get("product"):
        subject += f": {lead['product']}"
        if lead.get("quantity"):
            subject += f" × {lead['quantity']}"
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1] + "…"
    return subject


def sales_notification(
    lead: dict[str, Any], settings: Settings, templates: Templates, stored: bool = True
) -> Email:
    details = [(label, lead[key]) for label, key in DETAIL_FIELDS if lead.get(key)]
    subject = sales_subject(lead)
    context = {
        "lead": {**dict.fromkeys(TEMPLATE_FIELDS), **lead},
        "details": details,
        "stored": stored,
        "reply_subject": f"Re: your inquiry {lead['id']}",
    }
    return Email(
        sender=settings.sender_email,
        to=recipients(lead, settings.sales_emails, settings.routing_rules),
        subject=subject if stored else f"[NOT STORED] {subject}",
        text=templates.render("sales_notification.txt", **context),
        html=templates.render("sales_notification.html", **context),
        reply_to=Address(display_name=lead["name"], addr_spec=lead["email"]),
        headers=(("X-Vigor-Lead-Id", lead["id"]),),
    )


def acknowledgement(lead: dict[str, Any], settings: Settings, templates: Templates) -> Email:
    """Server-side text only: nothing the visitor typed but their (escaped) name."""
    locale = str(lead.get("locale")) if lead.get("locale") in ACK_SUBJECTS else "en"
    context = {"name": lead["name"], "reference": lead["id"]}
    return Email(
        sender=settings.sender_email,
        to=(lead["email"],),
        subject=ACK_SUBJECTS[locale].format(reference=lead["id"]),
        text=templates.render(f"acknowledgement.{locale}.txt", **context),
        html=templates.render(f"acknowledgement.{locale}.html", **context),
        headers=(("X-Vigor-Lead-Id", lead["id"]), ("Auto-Submitted", "auto-replied")),
    )
