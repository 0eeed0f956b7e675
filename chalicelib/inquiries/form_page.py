"""HTML answers for the plain form post (a browser without JavaScript), never raw JSON.

A browser that posts the site's form without JavaScript asks for `text/html`. When such a
post is refused, the API answers with a small page in the visitor's language (the form's
`locale`, else Accept-Language): for a validation error (422) the form again, with every
typed value kept, each error next to its field and linked from a summary at the top, ready
to send again; for the other refusals (429, 503, ...) what happened and what to do. Every
page links back to the page the form was on when that is on the company's site.

The page is built with the standard library (`html.escape` for every value), no template
engine, so the inquiry path loads nothing more. Re-sending comes from the API's own origin:
routes.py accepts an `Origin` equal to the request's own host for that reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

from chalice.app import Response

from chalicelib.leads.model import SOURCE_FIELDS

COMPANY = "Wenzhou Vigor Automobile Parts Co., Ltd"

LABELS = {
    "en": {
        "name": "Name",
        "email": "Email",
        "company": "Company",
        "country": "Country",
        "phone": "Phone",
        "quantity": "Quantity",
        "product": "Part name or OE number",
        "whatsapp": "WhatsApp",
        "wechat": "WeChat ID",
        "incoterm": "Incoterm (e.g. FOB)",
        "destination_port": "Destination port",
        "item": "Item {n}",
        "part_number": "Part number (OE)",
        "description": "Description",
        "unit": "Unit",
        "target_price": "Target price",
        "currency": "Currency",
        "message": "Message",
        "required": "(required)",
        "optional": "(optional)",
        "submit": "Send inquiry",
        "back": "Back to the inquiry form",
        "honeypot": "Leave this field empty",
        "invalid.title": "Please check your inquiry",
        "invalid.intro": "Some fields need attention. Your inquiry has not been sent yet:"
        " correct the fields below and send it again.",
        "other": "Other problems:",
        "rate_limited.title": "Too many inquiries",
        "rate_limited.text": "Too many inquiries were sent from your network in a short time."
        " Please try again in {minutes} minutes.",
        "service_unavailable.title": "Please try again later",
        "service_unavailable.text": "We could not take your inquiry right now. Please try"
        " again in a few minutes, or email us directly.",
        "refused.title": "Your inquiry could not be sent",
        "received.title": "Thank you",
        "received.text": "We received your inquiry. Our sales team will answer you by email.",
        "reference": "Your reference:",
    },
    "zh": {
        "name": "姓名",
        "email": "邮箱",
        "company": "公司",
        "country": "国家/地区",
        "phone": "电话",
        "quantity": "数量",
        "product": "配件名称或 OE 号",
        "whatsapp": "WhatsApp 号码",
        "wechat": "微信号",
        "incoterm": "贸易术语（如 FOB）",
        "destination_port": "目的港",
        "item": "第 {n} 行",
        "part_number": "零件号（OE 号）",
        "description": "描述",
        "unit": "单位",
        "target_price": "目标价格",
        "currency": "币种",
        "message": "留言",
        "required": "（必填）",
        "optional": "（选填）",
        "submit": "发送询价",
        "back": "返回询价页面",
        "honeypot": "请勿填写此项",
        "invalid.title": "请检查您的询价",
        "invalid.intro": "部分内容需要修改，询价尚未发送：请修改下面标出的内容后再次发送。",
        "other": "其他问题：",
        "rate_limited.title": "询价过于频繁",
        "rate_limited.text": "短时间内从您的网络发送的询价过多，请在 {minutes} 分钟后重试。",
        "service_unavailable.title": "请稍后再试",
        "service_unavailable.text": "我们暂时无法接收您的询价。"
        "请几分钟后重试，或直接发邮件给我们。",
        "refused.title": "询价未能发送",
        "received.title": "谢谢",
        "received.text": "我们已收到您的询价，销售团队会通过邮件回复您。",
        "reference": "您的询价编号：",
    },
}
# (name, input type, required, multi-line) in the order of the site's form
FIELDS = [
    ("name", "text", True, False),
    ("email", "email", True, False),
    ("company", "text", False, False),
    ("country", "text", False, False),
    ("phone", "tel", False, False),
    ("whatsapp", "tel", False, False),
    ("wechat", "text", False, False),
    ("quantity", "text", False, False),
    ("product", "text", False, False),
    ("incoterm", "text", False, False),
    ("destination_port", "text", False, False),
    ("message", "textarea", True, True),
]
# The line items typed (items[N].field), shown again as rows numbered from 0.
ROW_INPUTS = ("part_number", "description", "quantity", "unit", "target_price", "currency")
_ROW_KEY = re.compile(r"items\[(0|[1-9][0-9]?)\]\.(\w+)\Z")
CARRIED = ("page", "redirect", "locale")  # hidden fields sent again as they came
# Sent again too unless refused (a hidden value the visitor cannot correct would fail again):
# where the visitor came from, and the ids of the files the site's script uploaded.
CARRIED_IF_VALID = SOURCE_FIELDS
ATTACHMENTS = "attachments"

STYLE = """
body{margin:0;font-family:Arial,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
color:#1f2937;background:#f3f4f6;line-height:1.5}
header{background:#0b3d91;color:#fff;padding:10px 16px}header p{margin:0;font-weight:bold}
main{max-width:760px;margin:16px auto;background:#fff;border:1px solid #d1d5db;
padding:8px 20px 24px}
h1{font-size:1.5rem;color:#082c69;margin:12px 0}
.alert{border-left:4px solid #b91c1c;background:#fef2f2;color:#b91c1c;padding:10px 14px}
.alert a{color:#b91c1c}.field{display:flex;flex-direction:column;margin:12px 0}
label{font-weight:bold}input,textarea{font:inherit;padding:8px;border:1px solid #6b7280;
border-radius:4px}[aria-invalid=true]{border:2px solid #b91c1c}
.error{color:#b91c1c;margin:4px 0 0}.hp{position:absolute;left:-10000px;width:1px;height:1px;
overflow:hidden}button{font:inherit;font-weight:bold;background:#0b3d91;color:#fff;border:0;
border-radius:4px;padding:11px 22px}a{color:#0b3d91}
:focus-visible{outline:3px solid #b45309;outline-offset:2px}
""".strip()


def wants_html(headers: Mapping[str, str]) -> bool:
    """A plain form post from a browser: urlencoded, and text/html among what it accepts."""
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    accept = (headers.get("Accept") or "").lower()
    return kind == "application/x-www-form-urlencoded" and "text/html" in accept


def invalid_page(
    locale: str,
    errors: Mapping[str, str],
    values: Mapping[str, Any],
    back: str | None,
    honeypot: str,
    origins: tuple[str, ...],
) -> Response:
    """The form again, as typed, with the errors; `origins` (the site's) may receive the
    redirect that follows a successful post."""
    t = LABELS[locale]
    rows = _typed_rows(values)
    # (field name as sent, its input's id) in the order of the form
    order = [(name, name) for name, *_ in FIELDS[:-1]]
    for k, (index, _) in enumerate(rows):
        order += [(f"items[{index}].{f}", f"items-{k}-{f}") for f in ROW_INPUTS]
    order.append((FIELDS[-1][0], FIELDS[-1][0]))
    known = {name for name, _ in order}
    summary = [
        f'<li><a href="#f-{anchor}">{escape(errors[name])}</a></li>'
        for name, anchor in order
        if name in errors
    ]
    other = [f"<li>{escape(m)}</li>" for name, m in errors.items() if name not in known]
    parts = [
        f"<h1>{escape(t['invalid.title'])}</h1>",
        '<div class="alert" id="form-error" role="alert">',
        f"<p>{escape(t['invalid.intro'])}</p>",
        f'<ul id="error-summary">{"".join(summary)}</ul>' if summary else "",
        (f"<p>{escape(t['other'])}</p><ul>{''.join(other)}</ul>" if other else ""),
        "</div>",
        '<form id="inquiry-form" action="inquiries" method="post"'
        ' enctype="application/x-www-form-urlencoded" accept-charset="utf-8" novalidate>',
    ]
    for name, kind, required, multi_line in FIELDS:
        if multi_line:  # the message comes after the rows
            for k, (index, typed) in enumerate(rows):
                parts.append(f"<fieldset><legend>{escape(t['item'].format(n=k + 1))}</legend>")
                for field in ROW_INPUTS:
                    error = errors.get(f"items[{index}].{field}")
                    parts += _input(
                        f"items[{k}].{field}",
                        f"items-{k}-{field}",
                        t[field],
                        "",
                        "text",
                        typed.get(field, ""),
                        error,
                        False,
                    )
                parts.append("</fieldset>")
        marker = t["required"] if required else t["optional"]
        parts += _input(
            name,
            name,
            t[name],
            marker,
            kind,
            _text(values.get(name)),
            errors.get(name),
            multi_line,
        )
    parts.append(
        f'<div class="hp" aria-hidden="true"><label for="f-website">{escape(t["honeypot"])}</label>'
        f'<input id="f-website" name="website" type="text" tabindex="-1" autocomplete="off"'
        f' value="{escape(honeypot)}"></div>'
    )
    for name, value in _hidden(values, errors):
        parts.append(f'<input type="hidden" name="{name}" value="{escape(value)}">')
    parts.append(f'<button type="submit">{escape(t["submit"])}</button></form>')
    parts.append(_back(t, back))
    return _page(422, locale, t["invalid.title"], "".join(parts), form_targets=origins)


def _input(
    name: str,
    anchor: str,
    label: str,
    marker: str,
    kind: str,
    value: str,
    error: str | None,
    multi_line: bool,
) -> list[str]:
    """One labelled field, its error next to it."""
    described = f' aria-invalid="true" aria-describedby="f-{anchor}-error"' if error else ""
    marked = f" <span>{escape(marker)}</span>" if marker else ""
    parts = ['<div class="field">', f'<label for="f-{anchor}">{escape(label)}{marked}</label>']
    if multi_line:
        parts.append(
            f'<textarea id="f-{anchor}" name="{escape(name)}" rows="6"{described}>'
            f"{escape(value)}</textarea>"
        )
    else:
        parts.append(
            f'<input id="f-{anchor}" name="{escape(name)}" type="{kind}"'
            f' value="{escape(value)}"{described}>'
        )
    if error:
        parts.append(f'<p id="f-{anchor}-error" class="error">{escape(error)}</p>')
    parts.append("</div>")
    return parts


def _hidden(values: Mapping[str, Any], errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, value) of each hidden field the form sends again; `attachments` once per id."""
    hidden = [(name, _text(values.get(name))) for name in CARRIED]
    hidden += [(name, _text(values.get(name))) for name in CARRIED_IF_VALID if name not in errors]
    ids = values.get(ATTACHMENTS)
    if isinstance(ids, list) and ATTACHMENTS not in errors:
        hidden += [
            (ATTACHMENTS, upload_id)
            for index, upload_id in enumerate(ids)
            if isinstance(upload_id, str) and f"{ATTACHMENTS}[{index}]" not in errors
        ]
    return [(name, value) for name, value in hidden if value]


def _typed_rows(values: Mapping[str, Any]) -> list[tuple[int, dict[str, str]]]:
    """(index as sent, the row's values) for each items[N].field row, in index order."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in values.items():
        match = _ROW_KEY.match(key)
        if match and int(match.group(1)) < 50 and match.group(2) in ROW_INPUTS:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = _text(value)
    return sorted(rows.items())


def message_page(
    status: int,
    code: str,
    locale: str,
    message: str,
    back: str | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Any other refusal: what happened, in the visitor's language where we know the case."""
    t = LABELS[locale]
    if code == "rate_limited":
        retry = (headers or {}).get("Retry-After", "3600")
        minutes = max(1, -(-int(retry) // 60)) if retry.isdigit() else 60
        title, text = t["rate_limited.title"], t["rate_limited.text"].format(minutes=minutes)
    elif code == "service_unavailable":
        title, text = t["service_unavailable.title"], t["service_unavailable.text"]
    else:
        title, text = t["refused.title"], message
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<div class="alert" role="alert"><p>{escape(text)}</p></div>{_back(t, back)}'
    )
    return _page(status, locale, title, body, headers)


def received_page(locale: str, lead_id: str, back: str | None) -> Response:
    """A form post without a `redirect`: the thanks, as a page."""
    t = LABELS[locale]
    body = (
        f"<h1>{escape(t['received.title'])}</h1><p>{escape(t['received.text'])}</p>"
        f"<p>{escape(t['reference'])} <strong>{escape(lead_id)}</strong></p>{_back(t, back)}"
    )
    return _page(201, locale, t["received.title"], body, {"X-Inquiry-Id": lead_id})


def _back(t: Mapping[str, str], back: str | None) -> str:
    if not back:
        return ""
    return f'<p><a href="{escape(back)}">{escape(t["back"])}</a></p>'


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _page(
    status: int,
    locale: str,
    title: str,
    body: str,
    headers: Mapping[str, str] | None = None,
    form_targets: tuple[str, ...] = (),
) -> Response:
    lang = "zh-CN" if locale == "zh" else "en"
    targets = " ".join(["'self'", *form_targets])
    document = (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)} — {escape(COMPANY)}</title><style>{STYLE}</style></head>"
        f'<body><header><p lang="en">{escape(COMPANY)}</p></header>'
        f'<main id="main">{body}</main></body></html>\n'
    )
    return Response(
        body=document,
        status_code=status,
        headers={
            **(headers or {}),
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            # form-action also governs where the post's 303 may lead: the site's thanks page
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';"
            f" form-action {targets}; base-uri 'none';"
            " frame-ancestors 'none'",
        },
    )
