"""GET and POST /leads/{lead_id}/actions/{action}: the action links of the sales email.

GET never changes anything (mail scanners and link previews open links): it shows the
confirmation page, whose button POSTs to the same URL. The POST applies the action,
idempotently, and answers with the lead's state: a page, or JSON for Accept:
application/json. A POST must come from that page (an Origin of the API's own host) or
from no browser at all (no Origin): a page elsewhere cannot make a salesperson's browser
act (CSRF). Without an HTML Accept every answer, refusals included, is JSON.

The chat alert's link (links.CHAT_ACTION, "mail_me") is signed for no one: its GET asks for
the clicker's sales address, its POST mails the lead to that address (when the service
mails leads to it, or it owns the lead) with action links of its own, counted against the
per-IP hourly limit (a POST sends mail, and tells a team address from another).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Request, Response

if TYPE_CHECKING:
    from chalicelib.actions.links import Link
    from chalicelib.leads.model import Lead
    from chalicelib.runtime import Runtime

log = logging.getLogger(__name__)
PATH = "/leads/{lead_id}/actions/{action}"
# An HTML form posts urlencoded; an API client may post JSON (the body is not needed).
POST_TYPES = ["application/x-www-form-urlencoded", "application/json"]


def actions_blueprint(runtime: Runtime) -> Blueprint:
    routes = Blueprint(__name__)

    @routes.route(PATH, methods=["GET"], name="action_confirm")
    def confirm(lead_id: str, action: str) -> Response:
        return handle(runtime, routes.current_request, lead_id, action, apply=False)

    @routes.route(PATH, methods=["POST"], name="action_apply", content_types=POST_TYPES)
    def apply(lead_id: str, action: str) -> Response:
        return handle(runtime, routes.current_request, lead_id, action, apply=True)

    return routes


def handle(runtime: Runtime, request: Request, lead_id: str, action: str, apply: bool) -> Response:
    from chalicelib.actions.links import CHAT_ACTION, LinkRefused

    html = _wants_html(request)
    locale = _locale(request.headers.get("Accept-Language"))
    try:
        links = runtime.action_links
        if links is None:
            raise LinkRefused(404, "not_found", "Action links are not enabled on this service.")
        if apply and not _same_origin(request):
            raise LinkRefused(403, "origin_not_allowed", "Use the button on the link's own page.")
        link = links.check(lead_id, action, dict(request.query_params or {}))
        sent_to = None
        if link.action == CHAT_ACTION:
            lead = _lead(runtime, link.lead_id)
            sent_to = _mail_me(runtime, lead, request) if apply else None
        else:
            lead = _act(runtime, link, request) if apply else _lead_for(runtime, link)
    except Exception as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        if not html:
            from chalicelib.http import error_response

            extra = {"Retry-After": "60"} if refusal.status == 503 else None
            return error_response(refusal.status, refusal.code, refusal.message, headers=extra)
        from chalicelib.actions.pages import refused_page

        known = lead_id if refusal.status not in (400, 404) else None
        return refused_page(
            refusal.status, refusal.code, refusal.message, locale or "en", known, refusal.zh
        )
    locale = locale or (lead.inquiry.locale if lead.inquiry.locale in ("en", "zh") else "en")
    if link.action == CHAT_ACTION:
        return _mail_me_answer(lead, sent_to, locale, html)
    if not apply:
        from chalicelib.actions.pages import confirm_page

        return confirm_page(lead, action, locale)
    if html:
        from chalicelib.actions.pages import done_page

        return done_page(lead, action, locale)
    from chalicelib.http import json_response

    body = {"id": lead.id, "sales_status": str(lead.sales_status), "owner": lead.owner}
    return json_response(body, 200, {"Cache-Control": "no-store"})


def _lead(runtime: Runtime, lead_id: str) -> Lead:
    from chalicelib.actions.links import LinkRefused

    lead = runtime.leads.get(lead_id)
    if lead is None:
        raise LinkRefused(404, "not_found", "This lead no longer exists (it was erased).")
    return lead


def _lead_for(runtime: Runtime, link: Link) -> Lead:
    """The link's lead, when the link's recipient may act on it."""
    lead = _lead(runtime, link.lead_id)
    if not _may_act(runtime, link.recipient, lead):
        raise _wrong_recipient()
    return lead


def _act(runtime: Runtime, link: Link, request: Request) -> Lead:
    from chalicelib.actions.links import ACTIONS

    if not _may_act(runtime, link.recipient, None):
        _lead_for(runtime, link)  # the lead's owner may act too (assigned by hand)
    now = int(runtime.clock())
    recipient = runtime.settings.as_configured(link.recipient)
    status = ACTIONS[link.action]
    if status is None:
        return runtime.leads.assign(link.lead_id, recipient, recipient, now)
    return runtime.leads.set_sales_status(link.lead_id, status, recipient, _note(request), now)


def _mail_me(runtime: Runtime, lead: Lead, request: Request) -> str:
    """Mail the lead to the address the chat link's form names; the address it went to."""
    from chalicelib.actions.links import LinkRefused
    from chalicelib.followup.reminders import follow_up_email
    from chalicelib.inquiries.routes import client_ip
    from chalicelib.leads.store import StoreUnavailable
    from chalicelib.mail import MailError

    try:  # first: guessing which addresses are the team's costs a request each
        runtime.leads.count_request(client_ip(request), runtime.settings.rate_limit_per_ip_per_hour)
    except StoreUnavailable as exc:  # the counter is down: only the team can receive anyway
        log.warning("action rate counter unavailable (%s): request allowed", exc)
    address = str(_form(request).get("email") or "").strip()
    if len(address) > 254 or not _may_act(runtime, address, lead):
        raise LinkRefused(
            403,
            "wrong_recipient",
            "This address does not receive leads here: enter your sales email address.",
            zh="此地址不接收询价：请输入您的销售邮箱地址。",
        )
    owner = lead.owner or ""
    to = owner if owner.lower() == address.lower() else runtime.settings.as_configured(address)
    banner = "Sent at your request from the chat alert. Reply to the buyer, then press an action."
    email = follow_up_email(
        lead,
        runtime.settings,
        runtime.templates,
        runtime.action_links,
        ("[From chat]", banner, (to,)),
    )
    try:
        runtime.mailer.send(email)
    except Exception as exc:  # SES refused it (MailError) or, a bug, it could not be written
        reason = exc if isinstance(exc, MailError) else type(exc).__name__
        log.warning("lead %s: chat link email not sent (%s)", lead.id, reason)
        raise LinkRefused(
            503,
            "service_unavailable",
            "The email could not be sent just now: please try again in a minute.",
            zh="邮件暂时无法发送：请一分钟后再试。",
        ) from None
    return to


def _mail_me_answer(lead: Lead, sent_to: str | None, locale: str, html: bool) -> Response:
    from chalicelib.actions.pages import mail_me_page, sent_page

    if sent_to is None:
        return mail_me_page(lead, locale)
    if html:
        return sent_page(lead, sent_to, locale)
    from chalicelib.http import json_response

    body = {"id": lead.id, "sales_status": str(lead.sales_status), "owner": lead.owner}
    return json_response({**body, "sent_to": sent_to}, 200, {"Cache-Control": "no-store"})


def _may_act(runtime: Runtime, recipient: str, lead: Lead | None) -> bool:
    """A link works for whoever the service mails leads to, and for the lead's owner."""
    team = {a.lower() for a in runtime.settings.team}
    if lead is not None and lead.owner:
        team.add(lead.owner.lower())
    return recipient.lower() in team


def _wrong_recipient() -> Exception:
    from chalicelib.actions.links import LinkRefused

    return LinkRefused(
        403,
        "wrong_recipient",
        "This link was made for an address that no longer handles this lead.",
    )


def _refusal(exc: Exception) -> Any:
    """The LinkRefused for each way an action is refused; None: not a refusal."""
    from chalicelib.actions.links import LinkRefused
    from chalicelib.leads.model import TransitionRefused
    from chalicelib.leads.store import LeadNotFound, RateLimited

    if isinstance(exc, LinkRefused):
        return exc
    if isinstance(exc, LeadNotFound):
        return LinkRefused(404, "not_found", "This lead no longer exists (it was erased).")
    if isinstance(exc, TransitionRefused):
        return LinkRefused(409, "transition_refused", f"Not changed: {exc}.")
    if isinstance(exc, RateLimited):
        minutes = max(1, exc.retry_after // 60)
        return LinkRefused(
            429,
            "rate_limited",
            f"Too many requests from your network: please try again in {minutes} minutes.",
            zh=f"您的网络请求过多：请在 {minutes} 分钟后重试。",
        )
    return None


def _form(request: Request) -> dict[str, object]:
    """The POST's fields: the confirmation form's (urlencoded) or a JSON object's."""
    import json
    from urllib.parse import parse_qsl

    body = request.raw_body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    kind = request.headers.get("Content-Type") or ""
    if kind.startswith("application/x-www-form"):
        return dict(parse_qsl(text[:4096], keep_blank_values=True))
    if kind.startswith("application/json"):
        try:
            values = json.loads(text[:4096])
        except ValueError:
            return {}
        return values if isinstance(values, dict) else {}
    return {}


def _note(request: Request) -> str | None:
    """The optional note of the confirmation form (urlencoded body)."""
    if not (request.headers.get("Content-Type") or "").startswith("application/x-www-form"):
        return None
    note = _form(request).get("note")
    return note if isinstance(note, str) else None


def _same_origin(request: Request) -> bool:
    """No Origin (not a browser), or the API's own: the confirmation page."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    from chalicelib.inquiries.routes import _own_origin

    return _own_origin(origin, request.headers.get("Host"))


def _wants_html(request: Request) -> bool:
    accept = (request.headers.get("Accept") or "").lower()
    return "text/html" in accept and "application/json" not in accept


def _locale(accept_language: str | None) -> str | None:
    """en or zh when Accept-Language names one of them, else None (the lead's then)."""
    from chalicelib.inquiries.fields import locale_from_accept_language

    if not accept_language or not any(
        tag.strip().lower()[:2] in ("en", "zh") for tag in accept_language.split(",")
    ):
        return None
    return locale_from_accept_language(accept_language)
