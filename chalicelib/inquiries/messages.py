"""The emails a lead causes: the notification to sales (rich, or plain when the rich one
cannot be built), the visitor's acknowledgement, and the hourly summary of held-back leads.
Each is rendered from a Lead."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.leads.model import Inquiry, Lead
from chalicelib.mail import Email, MailFile, Templates
from chalicelib.origins import url_on_allowed_origin
from chalicelib.settings import RoutingRule, Settings

if TYPE_CHECKING:
    from chalicelib.attachments.files import Enclosure

# Product and quantity are a row of the items table (Inquiry.rows).
DETAIL_FIELDS = (
    ("Company", "company"),
    ("Country", "country"),
    ("Phone", "phone"),
    ("WhatsApp", "whatsapp"),
    ("WeChat", "wechat"),
    ("Incoterm", "incoterm"),
    ("Port", "destination_port"),
    ("Language", "locale"),
)
ACK_SUBJECTS = {
    "en": "We received your inquiry ({reference})",
    "zh": "我们已收到您的询价（{reference}）",
}
MAX_SUBJECT = 180
# Unicode's explicit embeddings, overrides and isolates: in a one-line Subject, a visitor's
# U+202E would reverse everything after it (their part number, the quantity, "and 2 more
# parts"). The body shows the value as typed, each in its own cell or line.
TEXT_DIRECTION_CONTROLS = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def recipients(
    lead: Lead, default: tuple[str, ...], rules: tuple[RoutingRule, ...]
) -> tuple[str, ...]:
    """Routing rules pick recipients by country or product (any row's part number or
    description); no match -> the default list."""
    chosen: list[str] = []
    for rule in rules:
        if matches(rule, lead.inquiry):
            chosen.extend(address for address in rule.to if address not in chosen)
    return tuple(chosen) or default


def matches(rule: RoutingRule, inquiry: Inquiry) -> bool:
    """Does the inquiry's field contain the rule's text (case-insensitive)? `product` is
    any row's part number or description (a single product is a row too)."""
    if rule.field == "product":
        values = [v for row in inquiry.rows for v in (row.part_number, row.description) if v]
    else:
        values = [str(getattr(inquiry, rule.field) or "")]
    return any(rule.match.lower() in value.lower() for value in values)


def owner_for(inquiry: Inquiry, lead_id: str, settings: Settings) -> str:
    """Who owns a new lead: the first address of the first routing rule it matches, else
    one of SALES_EMAILS chosen by the lead id (a hash of it: an even share without a
    counter, so taking a lead costs no extra AWS call, and the same lead always gets the
    same owner, also when its admission is retried)."""
    for rule in settings.routing_rules:
        if matches(rule, inquiry):  # as recipients() reads it: RFQ rows included
            return rule.to[0]
    digest = hashlib.sha256(lead_id.encode("ascii", "replace")).digest()
    return settings.sales_emails[int.from_bytes(digest[:8], "big") % len(settings.sales_emails)]


def sales_subject(lead: Lead) -> str:
    """Who and what at a glance: the score, name, company, country, the first part and how
    many more."""
    inquiry = lead.inquiry
    who = ", ".join(str(v) for v in (inquiry.name, inquiry.company, inquiry.country) if v)
    subject = (f"[{lead.score}] " if lead.score else "") + f"Inquiry from {who}"
    rows = inquiry.rows
    if rows and rows[0].label:
        subject += f": {rows[0].label}"
        if rows[0].quantity:
            subject += f" × {rows[0].quantity}"
    subject = subject.translate(TEXT_DIRECTION_CONTROLS)
    more = f" and {len(rows) - 1} more part{'s' if len(rows) > 2 else ''}" if len(rows) > 1 else ""
    if len(subject) + len(more) > MAX_SUBJECT:  # the count of parts is never cut off
        subject = subject[: MAX_SUBJECT - len(more) - 1] + "…"
    return subject + more


def template_view(lead: Lead) -> dict[str, Any]:
    """The lead as templates see it: id, received_at (ISO) and every inquiry field."""
    view: dict[str, Any] = dict(lead.inquiry.__dict__)
    view.update(id=lead.id, received_at=lead.received_iso)
    return view


def rows_view(lead: Lead) -> list[dict[str, Any]]:
    """The items table: every cell as text ("" when empty), and the row as one line."""
    return [
        {
            "n": n,
            "part_number": row.part_number or "",
            "description": row.description or "",
            "quantity": "" if row.quantity is None else str(row.quantity),
            "unit": row.unit or "",
            "price": f"{row.target_price} {row.currency}" if row.target_price else "",
            "line": f"{n:>2}. {row.summary()}",
        }
        for n, row in enumerate(lead.inquiry.rows, 1)
    ]


def details_of(lead: Lead) -> list[tuple[str, Any]]:
    return [
        (label, getattr(lead.inquiry, key))
        for label, key in DETAIL_FIELDS
        if getattr(lead.inquiry, key)
    ]


def files_view(enclosures: Sequence[Enclosure]) -> list[dict[str, Any]]:
    """The lead's files as the templates show them: name, type, size, attached or a link."""
    return [
        {
            "name": e.file.filename,
            "type": e.file.content_type,
            "size": readable_size(e.file.size),
            "attached": e.data is not None,
            "url": e.url or "",
        }
        for e in enclosures
    ]


def files_detail(lead: Lead) -> list[tuple[str, Any]]:
    """A held-back lead's files as one detail row: named, kept with the lead (the summary
    carries no files: `manage.py leads show` lists them, the bucket keeps them)."""
    if not lead.attachments:
        return []
    named = "; ".join(
        f"{a.filename} ({a.content_type}, {readable_size(a.size)})" for a in lead.attachments
    )
    return [("Files", f"{named} (kept with the lead)")]


def readable_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def mail_files(enclosures: Sequence[Enclosure]) -> tuple[MailFile, ...]:
    return tuple(
        MailFile(e.file.filename, e.file.content_type, e.data)
        for e in enclosures
        if e.data is not None
    )


def source_line(lead: Lead) -> str:
    """Where the buyer came from, in one line ("utm_source=google · gclid=…"); "" if unknown."""
    return " · ".join(f"{name}={value}" for name, value in lead.source.items())


def addressees(lead: Lead, settings: Settings) -> tuple[str, ...]:
    """The lead's owner alone (the links in the email are signed for them: one SendEmail,
    one set of links); a lead without one (stored before owners) as routing says."""
    if lead.owner:
        return (lead.owner,)
    return recipients(lead, settings.sales_emails, settings.routing_rules)


def sales_notification(
    lead: Lead,
    settings: Settings,
    templates: Templates,
    stored: bool = True,
    enclosures: Sequence[Enclosure] = (),
    actions: list[tuple[str, str]] | None = None,
    follow_up: tuple[str, str, tuple[str, ...]] | None = None,
) -> Email:
    """`actions`: (action, signed URL) for the recipient (chalicelib/actions/links.py).
    `follow_up` (subject tag, banner, recipients): a reminder or an escalation of the sales
    email (chalicelib/followup/reminders.py): the same lead, the same actions."""
    from chalicelib.actions.links import LABELS

    details = details_of(lead)
    subject = sales_subject(lead) if follow_up is None else f"{follow_up[0]} {sales_subject(lead)}"
    page = lead.inquiry.page
    context = {
        "lead": template_view(lead),
        "details": details,
        "rows": rows_view(lead),
        "stored": stored,
        "reply_subject": f"Re: your inquiry {lead.id}",
        # Only the site's own pages are links; any other URL is shown as text, so a
        # look-alike (https://www.site.com@evil.example/login) is never one click away.
        "page_is_ours": bool(page) and url_on_allowed_origin(str(page), settings.allowed_origins),
        "files": files_view(enclosures),
        "score": lead.score or "",
        "score_reasons": ", ".join(lead.score_reasons) or "none of the rules",
        "source": source_line(lead),
        "owner": lead.owner or "",
        "actions": [(LABELS["en"][action], url) for action, url in actions or ()],
        "follow_up": follow_up[1] if follow_up else None,
    }
    return Email(
        sender=settings.sender_email,
        to=follow_up[2] if follow_up else addressees(lead, settings),
        subject=subject if stored else f"[NOT STORED] {subject}",
        text=templates.render("sales_notification.txt", **context),
        html=templates.render("sales_notification.html", **context),
        reply_to=(lead.inquiry.name, lead.inquiry.email),
        headers=(("X-Vigor-Lead-Id", lead.id),),
        attachments=mail_files(enclosures),
    )


def plain_sales_notification(
    lead: Lead, settings: Settings, stored: bool = True, enclosures: Sequence[Enclosure] = ()
) -> Email:
    """The degraded notification, used when the rich one cannot be built (a template or
    header bug): plain text, every header ours and ASCII, no Reply-To, and the values the
    visitor typed written out as text. Built without Jinja2 or the header registry, so a
    stored lead always has an email that can reach sales."""
    values = lead.inquiry.as_dict()
    values.pop("items", None)  # one line each, below
    if "source" in values:
        values["source"] = source_line(lead)
    if lead.score:
        values["score"] = f"{lead.score} ({', '.join(lead.score_reasons) or '-'})"
    lines = [
        f"New inquiry {lead.id} (plain copy: the formatted email could not be built)",
        "" if stored else "!! The lead database was unavailable: this email is the only copy.",
        "",
        *(f"{key}: {value}" for key, value in values.items() if value != ""),
        *(f"item {n}: {row.summary()}" for n, row in enumerate(lead.inquiry.items, 1)),
        *(
            f"file: {f['name']} ({f['type']}, {f['size']}) "
            + ("attached" if f["attached"] else f["url"] or "kept with the lead")
            for f in files_view(enclosures)
        ),
        "",
        f"Reference: {lead.id} · received {lead.received_iso} (UTC)",
        "Reply by writing to the address above yourself (no Reply-To on this copy).",
    ]
    text = "\n".join(lines).encode("utf-8", "backslashreplace").decode("utf-8")
    subject = f"Inquiry {lead.id} (plain copy)"
    return Email(
        sender=settings.sender_email,
        to=addressees(lead, settings),
        subject=subject if stored else f"[NOT STORED] {subject}",
        text=text,
        html=None,
        headers=(("X-Vigor-Lead-Id", lead.id),),
        attachments=mail_files(enclosures),
    )


def acknowledgement(lead: Lead, settings: Settings, templates: Templates) -> Email:
    """Server-side text and the reference only: nothing the visitor typed, not even the
    name, so the acknowledgement cannot carry someone's text (or link) to a stranger."""
    locale = lead.inquiry.locale if lead.inquiry.locale in ACK_SUBJECTS else "en"
    context = {"reference": lead.id}
    return Email(
        sender=settings.sender_email,
        to=(lead.inquiry.email,),
        subject=ACK_SUBJECTS[locale].format(reference=lead.id),
        text=templates.render(f"acknowledgement.{locale}.txt", **context),
        html=templates.render(f"acknowledgement.{locale}.html", **context),
        headers=(("X-Vigor-Lead-Id", lead.id), ("Auto-Submitted", "auto-replied")),
    )


def held_back_summary(leads: list[Lead], settings: Settings, templates: Templates) -> Email:
    """One email for the leads held back by the per-address hourly limit: each in full."""
    context = {
        "leads": [
            {
                "lead": template_view(lead),
                "details": details_of(lead) + files_detail(lead),
                "rows": rows_view(lead),
            }
            for lead in leads
        ],
        "limit": settings.rate_limit_per_email_per_hour,
    }
    count = len(leads)
    return Email(
        sender=settings.sender_email,
        to=settings.sales_emails,
        subject=f"{count} inquir{'y' if count == 1 else 'ies'} over the per-address hourly limit",
        text=templates.render("held_back_summary.txt", **context),
        html=templates.render("held_back_summary.html", **context),
        headers=(("X-Vigor-Lead-Ids", " ".join(lead.id for lead in leads)),),
    )
