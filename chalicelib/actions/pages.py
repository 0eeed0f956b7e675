"""The pages an action link shows (en/zh): the confirmation (GET: a form whose button
POSTs to the same URL, no JavaScript), the result, and why a link cannot be used; for the
chat alert's link, the form that asks for a sales address and the "sent" page.

Only what sales already saw in the email, and less: the reference, when the lead came, its
score, sales status and owner; nothing the visitor typed. Every value is HTML-escaped."""

from __future__ import annotations

from html import escape

from chalice.app import Response

from chalicelib.actions.links import LABELS
from chalicelib.inquiries import form_page
from chalicelib.leads.model import MAX_NOTE, Lead

TEXTS = {
    "en": {
        "confirm.status": "Mark lead {id} as “{action}”?",
        "confirm.take": "Take lead {id}? You become its owner.",
        "note": "Note (optional, one line)",
        "done.status": "Lead {id} is now “{status}”.",
        "done.take": "Lead {id} is yours now.",
        "reference": "Reference",
        "received": "Received (UTC)",
        "score": "Score",
        "status": "Sales status",
        "owner": "Owner",
        "refused": "This link cannot be used",
        "hint": "Nothing was changed and the lead is safe: answer the buyer from the email as"
        " usual; your admin can record the step for reference {id}.",
        "mail_me": "Send lead {id} to your mailbox?",
        "mail_me.email": "Your sales email address",
        "mail_me.button": "Send me this lead",
        "mail_me.sent": "Sent to {address}",
        "mail_me.note": "The lead's email, with your own action links, is on its way.",
    },
    "zh": {
        "confirm.status": "将询价 {id} 标记为“{action}”？",
        "confirm.take": "由您跟进询价 {id}？您将成为负责人。",
        "note": "备注（选填，一行）",
        "done.status": "询价 {id} 现在是“{status}”。",
        "done.take": "询价 {id} 现在由您负责。",
        "reference": "编号",
        "received": "收到时间（UTC）",
        "score": "评分",
        "status": "销售状态",
        "owner": "负责人",
        "refused": "此链接无法使用",
        "hint": "未做任何更改，询价本身不受影响：请照常从邮件回复买家；"
        "管理员可为编号 {id} 记录这一步。",
        "mail_me": "将询价 {id} 发到您的邮箱？",
        "mail_me.email": "您的销售邮箱地址",
        "mail_me.button": "把这条询价发给我",
        "mail_me.sent": "已发送至 {address}",
        "mail_me.note": "询价邮件（带有您自己的操作链接）正在发送。",
    },
}
STATUS_LABELS = {
    "en": {"new": "New", **LABELS["en"]},
    "zh": {"new": "新询价", **LABELS["zh"]},
}


def _facts(lead: Lead, locale: str) -> str:
    t = TEXTS[locale]
    rows = (
        (t["reference"], lead.id),
        (t["received"], lead.received_iso.replace("T", " ").rstrip("Z")),
        (t["score"], lead.score or "-"),
        (t["status"], STATUS_LABELS[locale].get(lead.sales_status, lead.sales_status)),
        (t["owner"], lead.owner or "-"),
    )
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows)
    return f"<dl>{cells}</dl>"


def confirm_page(lead: Lead, action: str, locale: str) -> Response:
    t = TEXTS[locale]
    label = LABELS[locale][action]
    key = "confirm.take" if action == "take" else "confirm.status"
    title = t[key].format(id=lead.id, action=label)
    note = (
        ""
        if action == "take"
        else f'<p><label for="note">{escape(t["note"])}</label><br>'
        f'<input id="note" name="note" maxlength="{MAX_NOTE}" size="40"></p>'
    )
    # No action attribute: the form posts to this very URL, query (the signed link) included.
    body = (
        f"<h1>{escape(title)}</h1>{_facts(lead, locale)}"
        f'<form method="post">{note}<p><button type="submit">{escape(label)}</button></p></form>'
    )
    return form_page._page(200, locale, title, body, _private())


def done_page(lead: Lead, action: str, locale: str) -> Response:
    t = TEXTS[locale]
    status = STATUS_LABELS[locale].get(lead.sales_status, lead.sales_status)
    key = "done.take" if action == "take" else "done.status"
    title = t[key].format(id=lead.id, status=status)
    body = f'<h1>{escape(title)}</h1><div role="status">{_facts(lead, locale)}</div>'
    return form_page._page(200, locale, title, body, _private())


def mail_me_page(lead: Lead, locale: str) -> Response:
    """The chat link's form: which salesperson should get the lead by email."""
    t = TEXTS[locale]
    title = t["mail_me"].format(id=lead.id)
    # No action attribute: the form posts to this very URL, query (the signed link) included.
    body = (
        f"<h1>{escape(title)}</h1>{_facts(lead, locale)}"
        f'<form method="post"><p><label for="email">{escape(t["mail_me.email"])}</label><br>'
        '<input id="email" name="email" type="email" required maxlength="254" size="40"'
        ' autocomplete="email"></p>'
        f'<p><button type="submit">{escape(t["mail_me.button"])}</button></p></form>'
    )
    return form_page._page(200, locale, title, body, _private())


def sent_page(lead: Lead, address: str, locale: str) -> Response:
    t = TEXTS[locale]
    title = t["mail_me.sent"].format(address=address)
    body = (
        f'<h1>{escape(title)}</h1><div role="status"><p>{escape(t["mail_me.note"])}</p>'
        f"{_facts(lead, locale)}</div>"
    )
    return form_page._page(200, locale, title, body, _private())


# (status, code) -> the refusal in Chinese; in English the route's own sentence is shown
REFUSALS_ZH = {
    (400, "link_invalid"): "链接不完整：请从邮件中打开。",
    (403, "link_invalid"): "链接无效：它被改动过。",
    (403, "wrong_recipient"): "此链接的收件人已不再负责这条询价。",
    (403, "origin_not_allowed"): "请使用链接页面上的按钮。",
    (404, "not_found"): "没有这个链接或询价（可能已被删除）。",
    (409, "transition_refused"): "未更改：当前销售状态不允许这一步。",
    (410, "link_expired"): "链接已过期（链接有效期为 30 天）。",
    (503, "service_unavailable"): "请一分钟后再试。",
}


def refused_page(
    status: int, code: str, message: str, locale: str, lead_id: str | None, zh: str | None = None
) -> Response:
    t = TEXTS[locale]
    if locale == "zh":
        message = zh or REFUSALS_ZH.get((status, code), message)
    hint = f"<p>{escape(t['hint'].format(id=lead_id))}</p>" if lead_id else ""
    body = (
        f"<h1>{escape(t['refused'])}</h1>"
        f'<div class="alert" role="alert"><p>{escape(message)}</p></div>{hint}'
    )
    return form_page._page(status, locale, t["refused"], body, _private())


def _private() -> dict[str, str]:
    """The URL carries the signature: never sent on as a Referer, never indexed."""
    # (same-origin, not no-referrer: with no-referrer browsers send the form post "Origin: null")
    return {"Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex"}
